// Losses with torch.nn.functional's semantics: cross_entropy (one fused log-softmax + loss kernel
// forward, one fused kernel backward), nll_loss, and the elementwise losses mse_loss, l1_loss,
// smooth_l1_loss, huber_loss, binary_cross_entropy and binary_cross_entropy_with_logits (one
// kernel each way, shared by all six).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "tensor/tensor.h"

namespace anvil {

// How a loss reduces its per-element values: kept as they are (none), averaged (mean) or summed.
enum class Reduction : uint8_t { none, mean, sum };

// F.cross_entropy's options, with its defaults.
struct CrossEntropyOptions {
  std::optional<Tensor> weight;  // [C]: the weight of each class (a constant: no gradient)
  int64_t ignore_index = -100;   // class-index targets equal to it count for nothing
  Reduction reduction = Reduction::mean;
  double label_smoothing = 0.0;  // in [0, 1]: the target mixed with the uniform distribution
};

// F.nll_loss's options, with its defaults.
struct NllLossOptions {
  std::optional<Tensor> weight;  // [C]
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::mean;
};

// F.binary_cross_entropy's options.
struct BinaryCrossEntropyOptions {
  std::optional<Tensor> weight;  // broadcast to the input's shape
  Reduction reduction = Reduction::mean;
};

// F.binary_cross_entropy_with_logits's options.
struct BinaryCrossEntropyWithLogitsOptions {
  std::optional<Tensor> weight;  // broadcast to the input's shape
  Reduction reduction = Reduction::mean;
  // The weight of the positive term, broadcast to the input's shape: a [C] pos_weight weighs
  // class c of the last dim.
  std::optional<Tensor> pos_weight;
};

namespace ops {

#include "tensor/ops/loss.inc"  // IWYU pragma: export

// ---- the raw forward and backward ops the autograd nodes call (not public API) --------------

// cross_entropy's fused forward: the loss, the log-sum-exp of every row of logits (shape: the
// loss's with reduction none; f32, or f64 for f64 logits) and the total weight that a mean
// divides by (0-d, same dtype).
struct CrossEntropyForward {
  Tensor loss, lse, total_weight;
};
CrossEntropyForward cross_entropy_forward(const Tensor& input, const Tensor& target,
                                          const CrossEntropyOptions& options = {});
// The gradients of the logits and (probability targets only) of the target, each computed only
// when asked for (else undefined), from the forward's lse and total_weight and the loss's grad.
std::pair<Tensor, Tensor> cross_entropy_backward(const Tensor& grad, const Tensor& input,
                                                 const Tensor& target, const Tensor& lse,
                                                 const Tensor& total_weight,
                                                 const CrossEntropyOptions& options,
                                                 bool input_grad = true, bool target_grad = false);

// nll_loss: (the loss, the total weight a mean divides by), and the input's gradient.
std::pair<Tensor, Tensor> nll_loss_forward(const Tensor& input, const Tensor& target,
                                           const NllLossOptions& options = {});
Tensor nll_loss_backward(const Tensor& grad, const Tensor& input, const Tensor& target,
                         const Tensor& total_weight, const NllLossOptions& options);

// The elementwise losses, one kernel for all.
enum class PointwiseLoss : uint8_t { mse, l1, smooth_l1, huber, bce, bce_with_logits };
// An elementwise loss's operands and parameters. weight and pos_weight may be undefined;
// param is smooth_l1's beta or huber's delta.
struct PointwiseLossInputs {
  PointwiseLoss kind = PointwiseLoss::mse;
  Reduction reduction = Reduction::mean;
  double param = 0;
  Tensor weight, pos_weight;
};
// The operands of one elementwise loss: checks its parameter (beta >= 0, delta > 0) and, as
// F.smooth_l1_loss does, makes smooth_l1 with beta = 0 the l1 loss.
PointwiseLossInputs pointwise_loss_inputs(PointwiseLoss kind, Reduction reduction, double param = 0,
                                          const std::optional<Tensor>& weight = std::nullopt,
                                          const std::optional<Tensor>& pos_weight = std::nullopt);
Tensor pointwise_loss(const Tensor& input, const Tensor& target, const PointwiseLossInputs& args);
// The gradients of input and target, in the shape the operands broadcast to (the caller sums
// them down to each operand's shape), each computed only when asked for (else undefined).
std::pair<Tensor, Tensor> pointwise_loss_backward(const Tensor& grad, const Tensor& input,
                                                  const Tensor& target,
                                                  const PointwiseLossInputs& args, bool input_grad,
                                                  bool target_grad);

}  // namespace ops

// ---- kernels --------------------------------------------------------------------------------
// Class-dim losses see their logits / log-probabilities as [N, S, C] (class dim last, any
// strides: a K-dimensional input [N, C, d1, ...] is viewed as [N, d1*..., C]), class-index
// targets as i64 [N, S], probability targets as [N, S, C] of the logits' dtype, weights as
// contiguous [C] of that dtype (undefined when absent). `out` is [N, S] (reduction none,
// contiguous) or 0-d; lse [N, S] and total_weight (0-d) are contiguous, of the "stats" dtype
// (f32, or f64 for f64 logits). Targets outside [0, C) other than ignore_index are an IndexError
// naming the op, the value and C, thrown after the kernel's parallel loop.
struct CrossEntropyArgs {
  Reduction reduction = Reduction::mean;
  int64_t ignore_index = -100;
  double label_smoothing = 0;
};
using CrossEntropyKernel = void (*)(const Tensor& out, const Tensor& lse,
                                    const Tensor& total_weight, const Tensor& logits,
                                    const Tensor& target, const Tensor& weight,
                                    const CrossEntropyArgs& args);
// Writes grad_logits (and grad_target for probability targets, when defined), both [N, S, C],
// from grad_out ([N, S] for reduction none, else 0-d).
using CrossEntropyBackwardKernel = void (*)(const Tensor& grad_logits, const Tensor& grad_target,
                                            const Tensor& grad_out, const Tensor& logits,
                                            const Tensor& lse, const Tensor& target,
                                            const Tensor& weight, const Tensor& total_weight,
                                            const CrossEntropyArgs& args);
// nll_loss: forward from log-probabilities [N, S, C]; backward writes every element of
// grad_input [N, S, C] (zero but at the targets).
using NllLossKernel = void (*)(const Tensor& out, const Tensor& total_weight, const Tensor& input,
                               const Tensor& target, const Tensor& weight,
                               const CrossEntropyArgs& args);
using NllLossBackwardKernel = void (*)(const Tensor& grad_input, const Tensor& grad_out,
                                       const Tensor& target, const Tensor& weight,
                                       const Tensor& total_weight, const CrossEntropyArgs& args);

// Elementwise losses: input, target, weight and pos_weight (the last two may be undefined) all
// have one shape (broadcast operands are stride-0 views) and one floating dtype; `out` has that
// shape (reduction none) or is 0-d. binary_cross_entropy's inputs outside [0, 1] are a
// ValueError thrown after the parallel loop.
struct PointwiseLossArgs {
  ops::PointwiseLoss kind = ops::PointwiseLoss::mse;
  Reduction reduction = Reduction::mean;
  double param = 0;
};
using PointwiseLossKernel = void (*)(const Tensor& out, const Tensor& input, const Tensor& target,
                                     const Tensor& weight, const Tensor& pos_weight,
                                     const PointwiseLossArgs& args);
// Writes grad_input and grad_target where defined (the shape of input), from grad_out (that
// shape, a stride-0 expansion of the 0-d gradient of a reduced loss).
using PointwiseLossBackwardKernel = void (*)(const Tensor& grad_input, const Tensor& grad_target,
                                             const Tensor& grad_out, const Tensor& input,
                                             const Tensor& target, const Tensor& weight,
                                             const Tensor& pos_weight,
                                             const PointwiseLossArgs& args);

#define ANVIL_LOSS_OPS(X)                               \
  X(cross_entropy, CrossEntropyKernel)                  \
  X(cross_entropy_backward, CrossEntropyBackwardKernel) \
  X(nll_loss, NllLossKernel)                            \
  X(nll_loss_backward, NllLossBackwardKernel)           \
  X(pointwise_loss, PointwiseLossKernel)                \
  X(pointwise_loss_backward, PointwiseLossBackwardKernel)

}  // namespace anvil
