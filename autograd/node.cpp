// Nodes, leaf accumulation and the per-tensor autograd state.
#include "autograd/node.h"

#include <algorithm>

#include "autograd/anomaly.h"
#include "autograd/function.h"
#include "autograd/meta.h"
#include "tensor/ops/binary.h"
#include "tensor/ops/factory.h"

namespace anvil::autograd {

uint64_t next_hook_id() {
  static std::atomic<uint64_t> counter{1};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

// ---- Node -------------------------------------------------------------------------------------

Node::Node(uint64_t sequence_nr) : sequence_nr_(sequence_nr) {}

Node::~Node() {
  std::vector<std::shared_ptr<Node>> owned;
  for (Edge& e : next_edges_) {
    if (e.fn) owned.push_back(std::move(e.fn));
  }
  while (!owned.empty()) {
    std::shared_ptr<Node> node = std::move(owned.back());
    owned.pop_back();
    if (node.use_count() != 1) continue;  // someone else keeps it (and what is behind it)
    for (Edge& e : node->next_edges_) {
      if (e.fn) owned.push_back(std::move(e.fn));
    }
  }  // each node dies with its edges already taken: no recursion
}

uint32_t Node::add_input_meta(const Tensor& t) {
  input_meta_.push_back(InputMeta{t.shape(), t.dtype(), t.device()});
  return static_cast<uint32_t>(input_meta_.size() - 1);
}

uint64_t Node::add_tensor_hook(uint32_t input_nr, TensorHook fn) {
  const uint64_t id = next_hook_id();
  tensor_hooks_.push_back({input_nr, id, std::move(fn)});
  return id;
}

bool Node::remove_tensor_hook(uint64_t id) {
  return std::erase_if(tensor_hooks_, [id](const TensorHookEntry& h) { return h.id == id; }) > 0;
}

void Node::set_retains_grad(uint32_t input_nr, std::weak_ptr<AutogradMeta> meta) {
  retained_.emplace_back(input_nr, std::move(meta));
}

namespace {

// Runs `hooks` that watch `input_nr` in registration order; each may replace the gradient.
void run_hooks(const std::vector<TensorHookEntry>& hooks, uint32_t input_nr, Tensor& grad) {
  for (const TensorHookEntry& h : hooks) {
    if (h.input_nr != input_nr || !grad.defined()) continue;
    Tensor replaced = h.fn(grad);
    if (replaced.defined()) grad = std::move(replaced);
  }
}

// .grad() of a leaf or a retained non-leaf: grad on first use, then grad + new (a new tensor,
// never an in-place update of one the user may hold). The first gradient is stored as is only
// when nothing else references it (`steal`: the engine hands it over), else as a copy, so that
// .grad() never aliases a tensor another node or hook still sees.
void accumulate_into(AutogradMeta& meta, const Tensor& grad, bool steal) {
  if (meta.grad.defined()) {
    meta.grad = add_gradients(meta.grad, grad);
  } else {
    const bool sole_owner = grad.impl_ptr().use_count() == 1 && grad.storage().use_count() == 1;
    // A non-contiguous gradient (an expanded one from sum or mean) is copied too: .grad() must
    // be dense and writable in place (optimizers, clipping).
    meta.grad = steal && sole_owner && grad.is_contiguous() ? grad : grad.clone();
  }
}

}  // namespace

void Node::run_tensor_hooks(uint32_t input_nr, Tensor& grad) {
  run_hooks(tensor_hooks_, input_nr, grad);
  for (auto& [nr, weak_meta] : retained_) {
    if (nr != input_nr || !grad.defined()) continue;
    if (auto meta = weak_meta.lock()) accumulate_into(*meta, grad, false);
  }
}

// ---- AccumulateGrad ---------------------------------------------------------------------------

AccumulateGrad::AccumulateGrad(Tensor leaf) : Node(kMaxSequenceNr), leaf_(std::move(leaf)) {
  add_input_meta(leaf_);
}

void AccumulateGrad::run_tensor_hooks(uint32_t input_nr, Tensor& grad) {
  run_hooks(ensure_meta(leaf_).hooks, input_nr, grad);
}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>&& grad_outputs) {
  AutogradMeta& meta = ensure_meta(leaf_);
  accumulate_into(meta, grad_outputs[0], true);
  for (auto& [id, hook] : meta.post_accumulate_hooks) hook(leaf_);
  return {};
}

Tensor add_gradients(const Tensor& a, const Tensor& b) {
  ANVIL_INTERNAL_ASSERT(a.shape() == b.shape() && a.dtype() == b.dtype() &&
                        a.device() == b.device());
  return ops::add(a, b);
}

// ---- per-tensor state -------------------------------------------------------------------------

AutogradMeta& ensure_meta(const Tensor& t) {
  auto& slot = t.impl().autograd_meta;
  if (!slot) slot = std::make_shared<AutogradMeta>();
  return static_cast<AutogradMeta&>(*slot);
}

Edge gradient_edge(const Tensor& t) {
  AutogradMeta* meta = meta_of(t);
  if (!meta) return {};
  if (meta->grad_fn) {
    if (t.impl().is_view && t.version() != meta->view_version) {
      throw NotSupportedError(fmt::format(
          "{} is a view made by {} whose base was modified in place afterwards (version {} -> "
          "{}); its recorded history no longer describes its values. Take the view again after "
          "the in-place op",
          t.describe(), meta->grad_fn->name(), meta->view_version, t.version()));
    }
    return {meta->grad_fn, meta->output_nr};
  }
  if (!meta->requires_grad) return {};
  std::shared_ptr<AccumulateGrad> acc = meta->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t);
    meta->grad_accumulator = acc;
  }
  return {std::move(acc), 0};
}

namespace {

// Makes `node` the grad_fn of `t`, its next output.
void attach(const Tensor& t, const std::shared_ptr<Node>& node) {
  const uint32_t nr = node->add_input_meta(t);
  if (!is_floating(t.dtype())) return;  // integer and bool outputs never require grad
  AutogradMeta& meta = ensure_meta(t);
  meta.grad_fn = node;
  meta.output_nr = nr;
  meta.view_version = t.version();
}

}  // namespace

void set_history(const Tensor& t, const std::shared_ptr<Node>& node) {
  // An op that returns one of its inputs (or any tensor with a history) must record a fresh
  // alias of it (detach()), or it would rewrite that tensor's history.
  const AutogradMeta* existing = meta_of(t);
  ANVIL_INTERNAL_ASSERT(!existing || (!existing->grad_fn && !existing->requires_grad));
  attach(t, node);
}

bool should_record_inplace(const char* op, const Tensor& self, TensorRefs others) {
  if (!GradMode::is_enabled()) return false;
  const bool self_requires = requires_grad(self);
  if (!self_requires && !any_requires_grad(others)) return false;
  if (self_requires && self.is_leaf()) {
    throw ValueError(fmt::format(
        "{}: a leaf tensor that requires grad ({}) is being used in an in-place operation; "
        "modify it under NoGradGuard (as optimizers do) or work on a clone",
        op, self.describe()));
  }
  if (self.impl().is_view) {
    throw NotSupportedError(fmt::format(
        "{}: in-place operation on a view {} while gradients are recorded; its base would not "
        "see the new history. Build the result out of place (cat, stack, scatter, where) or "
        "modify the base tensor",
        op, self.describe()));
  }
  return true;
}

void rebase_history(const Tensor& self, const std::shared_ptr<Node>& node) {
  attach(self, node);
}

}  // namespace anvil::autograd
