// The backward engine. One call is one graph task: find the nodes reachable from the roots and
// count, for each, the edges that lead into it; seed the roots' gradients; then repeatedly run the
// ready node (all its incoming gradients arrived) with the highest sequence number, so nodes run
// in reverse tape order, and route what it returns along its next edges.
#include "autograd/engine.h"

#include <algorithm>
#include <queue>
#include <unordered_map>

#include "autograd/anomaly.h"
#include "autograd/grad_mode.h"
#include "autograd/meta.h"
#include "autograd/node.h"
#include "tensor/ops/factory.h"

namespace anvil::autograd {

namespace {

struct NodeState {
  int dependencies = 0;        // incoming edges from nodes that have not run yet
  bool needed = true;          // its gradients reach something wanted (a leaf or a captured input)
  std::vector<Tensor> buffer;  // the gradients flowing into each of its inputs, summed
  std::vector<std::pair<uint32_t, size_t>> captures;  // (input_nr, result index) for grad()
};

// A gradient `grad` produced by `node` for its next edge `index` must match the input it flows
// into: same shape; dtype and device are converted as the forward would have.
Tensor validate(const Node& node, size_t index, Tensor grad, const InputMeta& meta) {
  if (grad.shape() != meta.shape) {
    throw ValueError(
        fmt::format("backward: {} returned a gradient of shape {} for its input {}, "
                    "which has shape {}",
                    node.name(), shape_str(grad.shape()), index, shape_str(meta.shape)));
  }
  if (grad.dtype() != meta.dtype || grad.device() != meta.device) {
    grad = grad.to(meta.device, meta.dtype);
  }
  return grad;
}

void add_to(Tensor& slot, Tensor grad) {
  slot = slot.defined() ? add_gradients(slot, grad) : std::move(grad);
}

class GraphTask {
 public:
  GraphTask(bool retain_graph, bool accumulate)
      : retain_graph_(retain_graph), accumulate_(accumulate) {}

  // Visits every node reachable from the roots and counts its dependencies.
  void discover(const std::vector<Edge>& roots) {
    std::vector<Node*> stack;
    for (const Edge& e : roots) {
      if (visit(e.fn.get())) stack.push_back(e.fn.get());
    }
    while (!stack.empty()) {
      Node* node = stack.back();
      stack.pop_back();
      for (const Edge& e : node->next_edges()) {
        if (!e.valid()) continue;
        if (visit(e.fn.get())) stack.push_back(e.fn.get());
        ++states_.at(e.fn.get()).dependencies;
      }
    }
  }

  // grad(): only nodes whose gradients reach a captured input run. A node's inputs come from
  // nodes recorded earlier, so ascending sequence numbers visit children first (accumulators,
  // which have no children, go first).
  void mark_needed(const std::vector<Edge>& targets) {
    for (size_t i = 0; i < targets.size(); ++i) {
      auto it = states_.find(targets[i].fn.get());
      if (it != states_.end()) it->second.captures.emplace_back(targets[i].input_nr, i);
    }
    std::vector<Node*> order;
    order.reserve(states_.size());
    for (auto& [node, state] : states_) order.push_back(node);
    auto key = [](const Node* n) { return n->num_outputs() == 0 ? 0 : n->sequence_nr() + 1; };
    std::sort(order.begin(), order.end(), [&](Node* a, Node* b) { return key(a) < key(b); });
    for (Node* node : order) {
      NodeState& s = states_.at(node);
      s.needed = !s.captures.empty();
      for (const Edge& e : node->next_edges()) {
        if (e.valid() && states_.at(e.fn.get()).needed) s.needed = true;
      }
    }
  }

  void seed(const Edge& root, Tensor grad) {
    NodeState& s = states_.at(root.fn.get());
    add_to(buffer_slot(root.fn.get(), s, root.input_nr), std::move(grad));
  }

  void run(std::vector<Tensor>* captured) {
    GradModeGuard grad_mode(false);  // backward itself records nothing (no create_graph)
    for (auto& [node, state] : states_) {
      if (state.dependencies == 0 && state.needed) ready_.push(node);
    }
    while (!ready_.empty()) {
      Node* node = ready_.top();
      ready_.pop();
      NodeState& s = states_.at(node);
      std::vector<Tensor> inputs = std::move(s.buffer);
      inputs.resize(node->num_inputs());
      for (uint32_t i = 0; i < inputs.size(); ++i) node->run_tensor_hooks(i, inputs[i]);
      for (auto [input_nr, index] : s.captures) (*captured)[index] = inputs[input_nr];
      if (!executes(*node)) continue;
      route(*node, evaluate(*node, std::move(inputs)));
    }
  }

 private:
  bool visit(Node* node) { return states_.try_emplace(node).second; }

  Tensor& buffer_slot(Node* node, NodeState& s, uint32_t input_nr) {
    if (s.buffer.empty()) s.buffer.resize(node->num_inputs());
    return s.buffer[input_nr];
  }

  // Whether running the node's backward is useful: it feeds a needed node, or it is a leaf's
  // accumulator in backward().
  bool executes(const Node& node) const {
    if (node.num_outputs() == 0) return accumulate_;
    for (const Edge& e : node.next_edges()) {
      if (e.valid() && states_.at(e.fn.get()).needed) return true;
    }
    return false;
  }

  std::vector<Tensor> evaluate(Node& node, std::vector<Tensor>&& inputs) {
    const bool any_defined =
        std::any_of(inputs.begin(), inputs.end(), [](const Tensor& g) { return g.defined(); });
    std::vector<Tensor> outputs;
    if (any_defined) {
      // Backward functions may assume defined gradients: a missing one is zero.
      for (size_t i = 0; i < inputs.size(); ++i) {
        if (inputs[i].defined()) continue;
        const InputMeta& m = node.input_meta()[i];
        inputs[i] = zeros(m.shape, TensorOptions(m.dtype, m.device));
      }
      for (const NodePreHook& hook : node.pre_hooks()) hook(inputs);
      std::vector<Tensor> grad_outputs;
      if (!node.post_hooks().empty()) grad_outputs = inputs;
      outputs = node.apply(std::move(inputs));
      if (outputs.size() != node.num_outputs()) {
        throw InternalError(fmt::format("backward: {} returned {} gradients for {} inputs",
                                        node.name(), outputs.size(), node.num_outputs()));
      }
      for (const NodePostHook& hook : node.post_hooks()) hook(outputs, grad_outputs);
    } else {
      outputs.resize(node.num_outputs());  // nothing flowed in: nothing flows out
    }
    if (!retain_graph_) node.release_variables();
    return outputs;
  }

  void route(const Node& node, std::vector<Tensor>&& outputs) {
    const bool check_finite = AnomalyMode::is_enabled();
    for (size_t i = 0; i < outputs.size(); ++i) {
      const Edge& e = node.next_edge(i);
      if (!e.valid()) continue;
      NodeState& next = states_.at(e.fn.get());
      if (!next.needed) continue;
      if (outputs[i].defined()) {
        if (check_finite) check_gradient_finite(node, i, outputs[i]);
        add_to(buffer_slot(e.fn.get(), next, e.input_nr),
               validate(node, i, std::move(outputs[i]), e.fn->input_meta()[e.input_nr]));
      }
      if (--next.dependencies == 0) ready_.push(e.fn.get());
    }
  }

  struct LaterFirst {
    bool operator()(const Node* a, const Node* b) const {
      return a->sequence_nr() < b->sequence_nr();
    }
  };

  bool retain_graph_;
  bool accumulate_;
  std::unordered_map<Node*, NodeState> states_;
  std::priority_queue<Node*, std::vector<Node*>, LaterFirst> ready_;
};

// The roots' edges and seed gradients, checked.
std::vector<Tensor> root_gradients(const char* op, const std::vector<Tensor>& roots,
                                   const std::vector<Tensor>& grad_outputs,
                                   std::vector<Edge>& edges) {
  ANVIL_CHECK(grad_outputs.empty() || grad_outputs.size() == roots.size(),
              "{}: got {} grad_outputs for {} outputs", op, grad_outputs.size(), roots.size());
  std::vector<Tensor> grads;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& root = roots[i];
    ANVIL_CHECK(root.defined(), "{}: output {} is undefined", op, i);
    Edge edge = gradient_edge(root);
    ANVIL_CHECK(edge.valid(), "{}: output {} {} does not require grad and has no grad_fn", op, i,
                root.describe());
    Tensor g = grad_outputs.empty() ? Tensor() : grad_outputs[i];
    if (!g.defined()) {
      ANVIL_CHECK(
          root.numel() == 1,
          "{}: grad can be implicitly created only for scalar outputs, but output {} is {}; "
          "pass a grad_output of its shape",
          op, i, root.describe());
      g = ones_like(root);
    } else {
      ANVIL_CHECK(g.shape() == root.shape(),
                  "{}: grad_output {} {} does not match the shape of output {} {}", op, i,
                  g.describe(), i, root.describe());
      g = g.to(root.device(), root.dtype());
    }
    edges.push_back(std::move(edge));
    grads.push_back(std::move(g));
  }
  return grads;
}

}  // namespace

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_outputs,
              bool retain_graph, bool create_graph) {
  ANVIL_CHECK(!create_graph, "backward: create_graph=true is not supported yet");
  std::vector<Edge> edges;
  std::vector<Tensor> grads = root_gradients("backward", roots, grad_outputs, edges);
  GraphTask task(retain_graph, /*accumulate=*/true);
  task.discover(edges);
  for (size_t i = 0; i < edges.size(); ++i) task.seed(edges[i], std::move(grads[i]));
  task.run(nullptr);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph,
                         bool allow_unused) {
  std::vector<Edge> edges;
  std::vector<Tensor> grads = root_gradients("grad", outputs, grad_outputs, edges);
  std::vector<Edge> targets;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ANVIL_CHECK(inputs[i].defined() && inputs[i].requires_grad(),
                "grad: input {} {} does not require grad", i, inputs[i].describe());
    targets.push_back(gradient_edge(inputs[i]));
  }
  GraphTask task(retain_graph, /*accumulate=*/false);
  task.discover(edges);
  task.mark_needed(targets);
  for (size_t i = 0; i < edges.size(); ++i) task.seed(edges[i], std::move(grads[i]));
  std::vector<Tensor> result(inputs.size());
  task.run(&result);
  for (size_t i = 0; i < result.size(); ++i) {
    ANVIL_CHECK(allow_unused || result[i].defined(),
                "grad: input {} {} was not used to compute the outputs; pass allow_unused=true to "
                "get an undefined gradient for it",
                i, inputs[i].describe());
  }
  return result;
}

}  // namespace anvil::autograd
