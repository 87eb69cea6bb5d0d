// The nodes of the autograd tape. A differentiable op that records makes one Node: it maps the
// gradients of the op's outputs to the gradients of its inputs, and its next edges point at the
// nodes that produced those inputs. Outputs own their node; a node owns the nodes behind it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace anvil::autograd {

class Node;
struct AutogradMeta;

// Where the gradient of one input goes: input `input_nr` of node `fn` (null: the input does not
// require grad).
struct Edge {
  std::shared_ptr<Node> fn;
  uint32_t input_nr = 0;
  bool valid() const { return fn != nullptr; }
};

// What a gradient flowing into a node must look like (the forward output it belongs to).
struct InputMeta {
  Shape shape;
  DType dtype = DType::f32;
  Device device = Device::cpu();
};

// A gradient hook of a tensor: returns the replacement gradient, or an undefined tensor to keep it.
using TensorHook = std::function<Tensor(const Tensor&)>;
using PostAccumulateHook = std::function<void(Tensor&)>;
// Node hooks: a pre-hook may change the incoming gradients, a post-hook the outgoing ones.
using NodePreHook = std::function<void(std::vector<Tensor>& grad_outputs)>;
using NodePostHook =
    std::function<void(std::vector<Tensor>& grad_inputs, const std::vector<Tensor>& grad_outputs)>;

struct TensorHookEntry {
  uint32_t input_nr;
  uint64_t id;
  TensorHook fn;
};

// Ids for hook handles, unique in the process.
uint64_t next_hook_id();

class Node {
 public:
  // Tape order: every node takes the next number; AccumulateGrad runs as early as it can.
  static constexpr uint64_t kMaxSequenceNr = std::numeric_limits<uint64_t>::max();
  explicit Node(uint64_t sequence_nr = next_sequence_nr());
  // Frees the chain of nodes only this one owns iteratively: a deep graph (a long loop of ops)
  // would otherwise recurse once per node and overflow the stack.
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Gradients of the forward outputs in, gradients of the forward inputs out (one per next edge;
  // undefined where an edge is invalid). The engine passes every incoming gradient defined.
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grad_outputs) = 0;
  virtual std::string name() const = 0;
  // Drops saved tensors after a backward without retain_graph.
  virtual void release_variables() {}
  // Runs the gradient hooks of the tensor that is input `input_nr`; may replace `grad`.
  virtual void run_tensor_hooks(uint32_t input_nr, Tensor& grad);

  uint64_t sequence_nr() const { return sequence_nr_; }
  static uint64_t next_sequence_nr() { return counter_.fetch_add(1, std::memory_order_relaxed); }

  const std::vector<Edge>& next_edges() const { return next_edges_; }
  std::vector<Edge>& mutable_next_edges() { return next_edges_; }
  const Edge& next_edge(size_t i) const { return next_edges_[i]; }
  size_t num_outputs() const { return next_edges_.size(); }
  // Whether the gradient of forward input `i` is wanted.
  bool needs_input_grad(size_t i) const { return i < next_edges_.size() && next_edges_[i].valid(); }

  uint32_t add_input_meta(const Tensor& t);
  const std::vector<InputMeta>& input_meta() const { return input_meta_; }
  size_t num_inputs() const { return input_meta_.size(); }

  uint64_t add_tensor_hook(uint32_t input_nr, TensorHook fn);
  bool remove_tensor_hook(uint64_t id);
  // retain_grad(): stores the gradient of input `input_nr` into `meta` (held weakly, so the node
  // keeps no tensor alive); runs after the other hooks.
  void set_retains_grad(uint32_t input_nr, std::weak_ptr<AutogradMeta> meta);

  void add_pre_hook(NodePreHook fn) { pre_hooks_.push_back(std::move(fn)); }
  void add_post_hook(NodePostHook fn) { post_hooks_.push_back(std::move(fn)); }
  const std::vector<NodePreHook>& pre_hooks() const { return pre_hooks_; }
  const std::vector<NodePostHook>& post_hooks() const { return post_hooks_; }

  // Anomaly mode: where the node was created ("" when anomaly mode was off).
  const std::string& creation_context() const { return creation_context_; }
  void set_creation_context(std::string context) { creation_context_ = std::move(context); }

 protected:
  std::vector<Edge> next_edges_;
  std::vector<InputMeta> input_meta_;

 private:
  static inline std::atomic<uint64_t> counter_{0};
  uint64_t sequence_nr_;
  std::vector<TensorHookEntry> tensor_hooks_;
  std::vector<std::pair<uint32_t, std::weak_ptr<AutogradMeta>>> retained_;
  std::vector<NodePreHook> pre_hooks_;
  std::vector<NodePostHook> post_hooks_;
  std::string creation_context_;
};

// The sink of a leaf: adds the incoming gradient to leaf.grad() (a new tensor, never in place on
// one the user may hold) and runs the leaf's post-accumulate hooks. The leaf's meta points back
// to it weakly, so the leaf does not keep its graph alive.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(Tensor leaf);
  std::vector<Tensor> apply(std::vector<Tensor>&& grad_outputs) override;
  std::string name() const override { return "AccumulateGrad"; }
  void run_tensor_hooks(uint32_t input_nr, Tensor& grad) override;
  const Tensor& leaf() const { return leaf_; }

 private:
  Tensor leaf_;
};

// a + b for two gradients of the same shape, dtype and device.
Tensor add_gradients(const Tensor& a, const Tensor& b);

}  // namespace anvil::autograd
