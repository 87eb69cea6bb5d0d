// Normalization: batch_norm (training with running statistics, eval), layer_norm, group_norm,
// rms_norm, with their backward kernels.
#pragma once

#include <array>
#include <optional>
#include <tuple>
#include <utility>

#include "tensor/tensor.h"

namespace anvil {

// torch.nn.functional.batch_norm's options, with its defaults.
struct BatchNormOptions {
  bool training = false;
  double momentum = 0.1;
  double eps = 1e-5;
};

namespace ops {

#include "tensor/ops/norm.inc"  // IWYU pragma: export

// The raw forward and backward ops the autograd layer records (not public API). The forward
// forms also return the statistics that backward reuses instead of recomputing them; these are
// in the statistics dtype (f64 for f64 inputs, else f32), as are the weight and bias gradients,
// which have the weight's and bias's shapes. An output_mask entry that is false leaves that
// gradient undefined (and uncomputed).

// (output, mean [C], invstd [C]): the batch statistics in training, the running ones in eval
// (invstd = 1 / sqrt(var + eps)).
std::tuple<Tensor, Tensor, Tensor> batch_norm_forward(const Tensor& input,
                                                      const std::optional<Tensor>& running_mean,
                                                      const std::optional<Tensor>& running_var,
                                                      const std::optional<Tensor>& weight,
                                                      const std::optional<Tensor>& bias,
                                                      const BatchNormOptions& options);
// (grad_input, grad_weight, grad_bias) from the forward's mean and invstd. training = false
// differentiates the eval form: grad_input is the affine map grad_out * invstd * weight.
std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& grad_out, const Tensor& input,
                                                       const std::optional<Tensor>& weight,
                                                       const Tensor& mean, const Tensor& invstd,
                                                       bool training,
                                                       std::array<bool, 3> output_mask);

// (output, mean [M], rstd [M]) over the M = input.numel() / prod(normalized_shape) rows.
std::tuple<Tensor, Tensor, Tensor> layer_norm_forward(const Tensor& input,
                                                      const Shape& normalized_shape,
                                                      const std::optional<Tensor>& weight,
                                                      const std::optional<Tensor>& bias,
                                                      double eps);
std::tuple<Tensor, Tensor, Tensor> layer_norm_backward(const Tensor& grad_out, const Tensor& input,
                                                       const Shape& normalized_shape,
                                                       const Tensor& mean, const Tensor& rstd,
                                                       const std::optional<Tensor>& weight,
                                                       std::array<bool, 3> output_mask);

// (output, mean [N, G], rstd [N, G]).
std::tuple<Tensor, Tensor, Tensor> group_norm_forward(const Tensor& input, int64_t num_groups,
                                                      const std::optional<Tensor>& weight,
                                                      const std::optional<Tensor>& bias,
                                                      double eps);
std::tuple<Tensor, Tensor, Tensor> group_norm_backward(const Tensor& grad_out, const Tensor& input,
                                                       int64_t num_groups, const Tensor& mean,
                                                       const Tensor& rstd,
                                                       const std::optional<Tensor>& weight,
                                                       std::array<bool, 3> output_mask);

// (output, rstd [M]).
std::pair<Tensor, Tensor> rms_norm_forward(const Tensor& input, const Shape& normalized_shape,
                                           const std::optional<Tensor>& weight,
                                           std::optional<double> eps);
// (grad_input, grad_weight).
std::pair<Tensor, Tensor> rms_norm_backward(const Tensor& grad_out, const Tensor& input,
                                            const Shape& normalized_shape, const Tensor& rstd,
                                            const std::optional<Tensor>& weight,
                                            std::array<bool, 2> output_mask);

}  // namespace ops

// Kernels. Per-channel, per-row and per-group vectors (mean, invstd/rstd, var, weight, bias and
// their gradients) are contiguous and in the statistics dtype; weight, bias and any output a
// caller does not want are undefined tensors. Counts are never zero (front-ends skip empty
// inputs).
//
// Batch norm sees the input as x [N, C, S] (S: the spatial dims flattened), laid out with unit
// stride along S (S > 1; NCHW) or along C (channels-last, and [N, C] inputs); y, grad_out and
// grad_input have the same layout, each with its own N and C/S strides.
// Training: each channel's mean, invstd = 1 / sqrt(var + eps), var (the biased variance, when
// defined) and y = (x - mean) * invstd * weight + bias.
using BatchNormTrainKernel = void (*)(const Tensor& y, const Tensor& mean, const Tensor& invstd,
                                      const Tensor& var, const Tensor& x, const Tensor& weight,
                                      const Tensor& bias, double eps);
// y = (x - mean) * invstd * weight + bias with given statistics (eval).
using BatchNormApplyKernel = void (*)(const Tensor& y, const Tensor& x, const Tensor& mean,
                                      const Tensor& invstd, const Tensor& weight,
                                      const Tensor& bias);
// training = false: grad_input = grad_out * invstd * weight (the statistics are constants).
using BatchNormBackwardKernel = void (*)(const Tensor& grad_input, const Tensor& grad_weight,
                                         const Tensor& grad_bias, const Tensor& grad_out,
                                         const Tensor& x, const Tensor& mean, const Tensor& invstd,
                                         const Tensor& weight, bool training);
// Layer norm: x, y, grad_out, grad_input [M, K] contiguous; mean, rstd [M]; weight, bias [K].
// Group norm: the same kernel types with x [N, C, S] contiguous, mean, rstd [N, G] (G groups of
// C / G channels), weight, bias [C].
using NormKernel = void (*)(const Tensor& y, const Tensor& mean, const Tensor& rstd,
                            const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);
using NormBackwardKernel = void (*)(const Tensor& grad_input, const Tensor& grad_weight,
                                    const Tensor& grad_bias, const Tensor& grad_out,
                                    const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                    const Tensor& weight);
// RMS norm over rows: x, y [M, K] contiguous, rstd [M], weight [K].
using RmsNormKernel = void (*)(const Tensor& y, const Tensor& rstd, const Tensor& x,
                               const Tensor& weight, double eps);
using RmsNormBackwardKernel = void (*)(const Tensor& grad_input, const Tensor& grad_weight,
                                       const Tensor& grad_out, const Tensor& x, const Tensor& rstd,
                                       const Tensor& weight);

#define ANVIL_NORM_OPS(X)                         \
  X(batch_norm_train, BatchNormTrainKernel)       \
  X(batch_norm_apply, BatchNormApplyKernel)       \
  X(batch_norm_backward, BatchNormBackwardKernel) \
  X(layer_norm_forward, NormKernel)               \
  X(layer_norm_backward, NormBackwardKernel)      \
  X(group_norm_forward, NormKernel)               \
  X(group_norm_backward, NormBackwardKernel)      \
  X(rms_norm_forward, RmsNormKernel)              \
  X(rms_norm_backward, RmsNormBackwardKernel)

}  // namespace anvil
