#include "autograd/saved_tensor.h"

#include "tensor/error.h"

namespace anvil::autograd {

SavedTensor::SavedTensor(const Tensor& t) {
  if (!t.defined()) return;
  data_ = t.detach();
  version_ = t.version();
}

Tensor SavedTensor::unpack(std::string_view node_name) const {
  if (released_) {
    throw Error(fmt::format(
        "{}: trying to backward through the graph a second time (or to use its saved tensors after "
        "they were freed): the saved tensors are freed after a backward; specify "
        "retain_graph=true on the first backward (or autograd::grad) to backward through the graph "
        "again",
        node_name));
  }
  if (data_.defined() && data_.version() != version_) {
    throw Error(fmt::format(
        "one of the variables needed for gradient computation has been modified by an inplace "
        "operation: {} saved {} at version {}, now {}; make a copy (clone()) before modifying it "
        "in place, or modify it after backward",
        node_name, data_.describe(), version_, data_.version()));
  }
  return data_;
}

void SavedTensor::release() {
  data_ = Tensor();
  released_ = true;
}

}  // namespace anvil::autograd
