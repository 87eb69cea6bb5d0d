// The losses with their derivatives. cross_entropy and nll_loss call their own backward
// kernels (cross_entropy's fused softmax-minus-target, from the saved logits and row
// log-sum-exp); the elementwise losses share one node over ops::pointwise_loss_backward, whose
// formulas are PyTorch's (FunctionsManual.cpp: binary_cross_entropy's input gradient divides by
// max(x (1 - x), 1e-12), its target gradient is -logit(x)). Weights are constants: a weight that
// requires grad fails at backward, as in PyTorch.
#include "autograd/functions/loss.h"

#include "autograd/autocast.h"
#include "autograd/function.h"
#include "autograd/functions/grad_utils.h"
#include "autograd/saved_tensor.h"

namespace anvil {

namespace {

using autograd::SavedTensor;

SavedTensor save_if_defined(const Tensor& t) {
  return t.defined() ? SavedTensor(t) : SavedTensor();
}

void check_constant(const autograd::Node& node, size_t input, const char* op, const char* what) {
  if (node.needs_input_grad(input)) {
    throw NotSupportedError(
        fmt::format("{}: the derivative for {} is not implemented ({} is a constant of the loss)",
                    op, what, what));
  }
}

// Inputs: logits, target, weight.
struct CrossEntropyBackward final : autograd::Node {
  SavedTensor input, target, weight, lse, total_weight;
  CrossEntropyOptions options;  // its weight is the saved one
  std::string name() const override { return "CrossEntropyBackward"; }
  void release_variables() override {
    input.release();
    target.release();
    weight.release();
    lse.release();
    total_weight.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    check_constant(*this, 2, "cross_entropy", "weight");
    CrossEntropyOptions o = options;
    if (weight.defined()) o.weight = weight.unpack(name());
    auto [gi, gt] = ops::cross_entropy_backward(g[0], input.unpack(name()), target.unpack(name()),
                                                lse.unpack(name()), total_weight.unpack(name()), o,
                                                needs_input_grad(0), needs_input_grad(1));
    return {gi, gt, Tensor()};
  }
};

// Inputs: log-probabilities, target, weight.
struct NllLossBackward final : autograd::Node {
  SavedTensor input, target, weight, total_weight;
  NllLossOptions options;
  std::string name() const override { return "NllLossBackward"; }
  void release_variables() override {
    input.release();
    target.release();
    weight.release();
    total_weight.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    check_constant(*this, 2, "nll_loss", "weight");
    NllLossOptions o = options;
    if (weight.defined()) o.weight = weight.unpack(name());
    return {ops::nll_loss_backward(g[0], input.unpack(name()), target.unpack(name()),
                                   total_weight.unpack(name()), o),
            Tensor(), Tensor()};
  }
};

const char* pointwise_node_name(ops::PointwiseLoss kind) {
  switch (kind) {
    case ops::PointwiseLoss::mse:
      return "MseLossBackward";
    case ops::PointwiseLoss::l1:
      return "L1LossBackward";
    case ops::PointwiseLoss::smooth_l1:
      return "SmoothL1LossBackward";
    case ops::PointwiseLoss::huber:
      return "HuberLossBackward";
    case ops::PointwiseLoss::bce:
      return "BinaryCrossEntropyBackward";
    case ops::PointwiseLoss::bce_with_logits:
      return "BinaryCrossEntropyWithLogitsBackward";
  }
  return "LossBackward";
}

// Inputs: input, target, weight, pos_weight. Input and target may have broadcast.
struct PointwiseLossBackward final : autograd::Node {
  SavedTensor input, target, weight, pos_weight;
  ops::PointwiseLossInputs args;  // its weights are the saved ones
  Shape input_shape, target_shape;
  std::string name() const override { return pointwise_node_name(args.kind); }
  void release_variables() override {
    input.release();
    target.release();
    weight.release();
    pos_weight.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    check_constant(*this, 2, name().c_str(), "weight");
    check_constant(*this, 3, name().c_str(), "pos_weight");
    ops::PointwiseLossInputs a = args;
    a.weight = weight.unpack(name());
    a.pos_weight = pos_weight.unpack(name());
    auto [gi, gt] = ops::pointwise_loss_backward(g[0], input.unpack(name()), target.unpack(name()),
                                                 a, needs_input_grad(0), needs_input_grad(1));
    if (gi.defined()) gi = autograd::sum_to(gi, input_shape);
    if (gt.defined()) gt = autograd::sum_to(gt, target_shape);
    return {gi, gt, Tensor(), Tensor()};
  }
};

Tensor pointwise(const Tensor& input, const Tensor& target, const ops::PointwiseLossInputs& args) {
  if (const autocast::Cast cast{autocast::Rule::fp32, input, target, args.weight,
                                args.pos_weight}) {
    ops::PointwiseLossInputs cast_args = args;
    cast_args.weight = cast(args.weight);
    cast_args.pos_weight = cast(args.pos_weight);
    return pointwise(cast(input), cast(target), cast_args);
  }
  Tensor out = autograd::raw([&] { return ops::pointwise_loss(input, target, args); });
  if (auto node = autograd::record<PointwiseLossBackward>(
          {input, target, args.weight, args.pos_weight}, {out})) {
    node->input = SavedTensor(input);
    node->target = SavedTensor(target);
    node->weight = save_if_defined(args.weight);
    node->pos_weight = save_if_defined(args.pos_weight);
    node->args = args;
    node->args.weight = Tensor();
    node->args.pos_weight = Tensor();
    node->input_shape = input.shape();
    node->target_shape = target.shape();
  }
  return out;
}

}  // namespace

Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     const CrossEntropyOptions& options) {
  if (const autocast::Cast cast{autocast::Rule::fp32, input, target, options.weight}) {
    CrossEntropyOptions cast_options = options;
    cast_options.weight = cast(options.weight);
    return cross_entropy(cast(input), cast(target), cast_options);
  }
  ops::CrossEntropyForward r =
      autograd::raw([&] { return ops::cross_entropy_forward(input, target, options); });
  const Tensor weight = options.weight.value_or(Tensor());
  if (auto node = autograd::record<CrossEntropyBackward>({input, target, weight}, {r.loss})) {
    node->input = SavedTensor(input);
    node->target = SavedTensor(target);
    node->weight = save_if_defined(weight);
    node->lse = SavedTensor(r.lse);
    node->total_weight = SavedTensor(r.total_weight);
    node->options = options;
    node->options.weight.reset();
  }
  return r.loss;
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const NllLossOptions& options) {
  if (const autocast::Cast cast{autocast::Rule::fp32, input, options.weight}) {
    NllLossOptions cast_options = options;
    cast_options.weight = cast(options.weight);
    return nll_loss(cast(input), target, cast_options);
  }
  auto [loss, total_weight] =
      autograd::raw([&] { return ops::nll_loss_forward(input, target, options); });
  const Tensor weight = options.weight.value_or(Tensor());
  if (auto node = autograd::record<NllLossBackward>({input, target, weight}, {loss})) {
    node->input = SavedTensor(input);
    node->target = SavedTensor(target);
    node->weight = save_if_defined(weight);
    node->total_weight = SavedTensor(total_weight);
    node->options = options;
    node->options.weight.reset();
  }
  return loss;
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return pointwise(input, target, ops::pointwise_loss_inputs(ops::PointwiseLoss::mse, reduction));
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return pointwise(input, target, ops::pointwise_loss_inputs(ops::PointwiseLoss::l1, reduction));
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  return pointwise(input, target,
                   ops::pointwise_loss_inputs(ops::PointwiseLoss::smooth_l1, reduction, beta));
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  return pointwise(input, target,
                   ops::pointwise_loss_inputs(ops::PointwiseLoss::huber, reduction, delta));
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            const BinaryCrossEntropyOptions& options) {
  return pointwise(
      input, target,
      ops::pointwise_loss_inputs(ops::PointwiseLoss::bce, options.reduction, 0, options.weight));
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BinaryCrossEntropyWithLogitsOptions& options) {
  return pointwise(
      input, target,
      ops::pointwise_loss_inputs(ops::PointwiseLoss::bce_with_logits, options.reduction, 0,
                                 options.weight, options.pos_weight));
}

}  // namespace anvil
