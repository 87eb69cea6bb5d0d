// A tensor a node keeps for its backward. It holds a data-only alias (a new TensorImpl over the
// same storage, without autograd meta, so that saving an op's own output makes no cycle) and the
// storage version at save time, to detect in-place writes made before backward.
#pragma once

#include <cstdint>
#include <string_view>

#include "tensor/tensor.h"

namespace anvil::autograd {

class SavedTensor {
 public:
  SavedTensor() = default;  // nothing saved: unpack() gives an undefined tensor
  explicit SavedTensor(const Tensor& t);

  // The saved data. Throws when the storage was modified in place since it was saved or when
  // the graph was already freed; `node_name` names the op in the message.
  Tensor unpack(std::string_view node_name) const;
  void release();
  bool defined() const { return data_.defined(); }

 private:
  Tensor data_;
  uint64_t version_ = 0;
  bool released_ = false;
};

}  // namespace anvil::autograd
