// The autograd state of a tensor, attached lazily to TensorImpl::autograd_meta: a tensor that
// never met autograd carries none.
#pragma once

#include <memory>
#include <vector>

#include "autograd/node.h"
#include "tensor/tensor.h"

namespace anvil::autograd {

struct AutogradMeta final : AutogradMetaBase {
  Tensor grad;
  bool requires_grad = false;  // set by requires_grad_() on leaves
  bool retains_grad = false;
  std::shared_ptr<Node> grad_fn;  // null for leaves
  uint32_t output_nr = 0;         // which output of grad_fn this tensor is
  // A view with a history: the storage version when it was made. A later in-place write to its
  // base changes the view's values behind the back of that history (see gradient_edge).
  uint64_t view_version = 0;
  std::weak_ptr<AccumulateGrad> grad_accumulator;
  // Leaf hooks live here (the accumulator comes and goes with the graph); a non-leaf's live on
  // its grad_fn.
  std::vector<TensorHookEntry> hooks;
  std::vector<std::pair<uint64_t, PostAccumulateHook>> post_accumulate_hooks;
};

// The tensor's meta, or null.
inline AutogradMeta* meta_of(const Tensor& t) {
  return static_cast<AutogradMeta*>(t.impl().autograd_meta.get());
}
// The tensor's meta, created when missing.
AutogradMeta& ensure_meta(const Tensor& t);

inline bool requires_grad(const Tensor& t) {
  const AutogradMeta* m = meta_of(t);
  return m && (m->requires_grad || m->grad_fn);
}

// Where the gradient of `t` goes: its grad_fn, or the accumulator of a leaf that requires grad
// (created on first use), or an invalid edge.
Edge gradient_edge(const Tensor& t);

}  // namespace anvil::autograd
