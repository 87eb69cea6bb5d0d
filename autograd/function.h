// Recording a differentiable op. After computing its outputs, an op calls
//
//   if (auto node = autograd::record<MulBackward>({a, b}, {out})) {
//     node->a = SavedTensor(a);  // what backward needs
//   }
//
// which, when grad mode is on and an input requires grad, makes the node, points its edges at the
// inputs' grad_fn (or leaf accumulator), and makes the node the outputs' grad_fn. Integer and bool
// outputs never require grad. Otherwise it returns null and costs a few loads.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <utility>

#include "autograd/anomaly.h"
#include "autograd/grad_mode.h"
#include "autograd/meta.h"
#include "autograd/node.h"

namespace anvil::autograd {

using TensorRefs = std::initializer_list<std::reference_wrapper<const Tensor>>;

template <class Range>
bool any_requires_grad(const Range& tensors) {
  for (const Tensor& t : tensors) {
    if (t.defined() && requires_grad(t)) return true;
  }
  return false;
}

// Whether an op on these inputs records a node.
template <class Range>
bool should_record(const Range& inputs) {
  return GradMode::is_enabled() && any_requires_grad(inputs);
}

// Makes `node` the grad_fn of `t` (its output `output_nr`); `t` must be a fresh output.
void set_history(const Tensor& t, const std::shared_ptr<Node>& node);

template <class Range>
void collect_next_edges(Node& node, const Range& inputs) {
  std::vector<Edge>& edges = node.mutable_next_edges();
  edges.reserve(std::size(inputs));
  for (const Tensor& t : inputs) edges.push_back(t.defined() ? gradient_edge(t) : Edge{});
}

// Connects an already made node between `inputs` and `outputs` (for a caller that decided with
// should_record()).
template <class InRange, class OutRange>
void connect(const std::shared_ptr<Node>& node, const InRange& inputs, const OutRange& outputs) {
  collect_next_edges(*node, inputs);
  for (const Tensor& t : outputs) set_history(t, node);
  if (AnomalyMode::is_enabled()) node->set_creation_context(describe_creation(*node));
}

template <class NodeT, class InRange, class OutRange, class... Args>
std::shared_ptr<NodeT> record_range(const InRange& inputs, const OutRange& outputs,
                                    Args&&... args) {
  if (!should_record(inputs)) return nullptr;
  auto node = std::make_shared<NodeT>(std::forward<Args>(args)...);
  connect(node, inputs, outputs);
  return node;
}

// The usual form: a fixed list of inputs and outputs; extra arguments go to NodeT's constructor.
template <class NodeT, class... Args>
std::shared_ptr<NodeT> record(TensorRefs inputs, TensorRefs outputs, Args&&... args) {
  return record_range<NodeT>(inputs, outputs, std::forward<Args>(args)...);
}

// Runs `f`, a raw tensor-layer op, with recording off: whatever it calls internally (Tensor
// methods, operators) belongs to the op that the caller records as a whole.
template <class F>
decltype(auto) raw(F&& f) {
  GradModeGuard grad_mode(false);
  return f();
}

// In-place ops. Before the op writes: whether it records (grad mode on and `self` or one of
// `others` requires grad), after checking that `self` may then be modified: not a leaf that
// requires grad (its .grad would no longer describe the tensor the user holds) and not a view
// (its base would not see the new history; anvil does not rebase views, so build such results out
// of place with cat, stack, scatter or where).
bool should_record_inplace(const char* op, const Tensor& self, TensorRefs others);

// The in-place form of record(): makes a node whose first edge is `self`'s current history,
// followed by `others`, when should_record_inplace() says so. Call it before the op writes (the
// node may need to save self's old value), then rebase_history() after.
template <class NodeT, class... Args>
std::shared_ptr<NodeT> record_inplace(const char* op, const Tensor& self, TensorRefs others,
                                      Args&&... args) {
  if (!should_record_inplace(op, self, others)) return nullptr;
  auto node = std::make_shared<NodeT>(std::forward<Args>(args)...);
  node->mutable_next_edges().push_back(gradient_edge(self));
  connect(node, others, TensorRefs{});  // self is attached after the write (rebase_history)
  return node;
}

// Makes `node` (from record_inplace) the grad_fn of `self`, which the op has just modified.
void rebase_history(const Tensor& self, const std::shared_ptr<Node>& node);

}  // namespace anvil::autograd
