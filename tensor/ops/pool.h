// Pooling and resampling: max_pool2d (with indices), avg_pool2d, adaptive_avg_pool2d,
// adaptive_max_pool2d, interpolate (nearest, nearest-exact, linear, bilinear, area), and their
// backward kernels; embedding and dropout.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "tensor/generator.h"
#include "tensor/tensor.h"

namespace anvil {

// ---- options: torch.nn.functional's arguments, with its defaults --------------------------------
// A size list holds one value (used for both H and W) or two (H, W), like PyTorch's int-or-tuple.

struct MaxPool2dOptions {
  std::vector<int64_t> stride = {};  // empty: kernel_size
  std::vector<int64_t> padding = {0};
  std::vector<int64_t> dilation = {1};
  bool ceil_mode = false;
};

struct AvgPool2dOptions {
  std::vector<int64_t> stride = {};  // empty: kernel_size
  std::vector<int64_t> padding = {0};
  bool ceil_mode = false;
  bool count_include_pad = true;
  std::optional<int64_t> divisor_override = std::nullopt;  // nonzero when given
};

// PyTorch's mode strings: "nearest", "nearest-exact", "linear" (3-D input), "bilinear" (4-D
// input), "area" (adaptive average pooling).
enum class InterpolateMode : uint8_t { nearest, nearest_exact, linear, bilinear, area };

struct InterpolateOptions {
  std::vector<int64_t> size = {};         // the output's spatial size; exclusive with scale_factor
  std::vector<double> scale_factor = {};  // output size = floor(input size * scale_factor)
  InterpolateMode mode = InterpolateMode::nearest;
  std::optional<bool> align_corners = std::nullopt;  // linear/bilinear only; unset is false
  // True: the source index uses input/output sizes, not the given scale_factor.
  std::optional<bool> recompute_scale_factor = std::nullopt;
};

struct EmbeddingOptions {
  // A row whose gradient stays zero; negative counts from the end (F.embedding's rule).
  std::optional<int64_t> padding_idx = std::nullopt;
  // Rows looked up with a norm_type-norm above max_norm are rescaled in the weight, in place.
  std::optional<double> max_norm = std::nullopt;
  double norm_type = 2;
  // Each row's gradient is divided by how often its index occurs in the batch.
  bool scale_grad_by_freq = false;
};

namespace ops {

#include "tensor/ops/pool.inc"  // IWYU pragma: export

// ---- backward ops (not public API: the autograd nodes call them) ------------------------------

// Max pooling (also adaptive): the gradient of each output added at its index into zeros of
// input_shape ([N,C,H,W] or [C,H,W]); indices as max_pool2d_with_indices returned them.
Tensor max_pool2d_backward(const Tensor& grad_output, const Tensor& indices,
                           const Shape& input_shape);
Tensor avg_pool2d_backward(const Tensor& grad_output, const Shape& input_shape,
                           const std::vector<int64_t>& kernel_size,
                           const AvgPool2dOptions& options = {});
Tensor adaptive_avg_pool2d_backward(const Tensor& grad_output, const Shape& input_shape);
// The same options as the forward call that produced grad_output's shape.
Tensor interpolate_backward(const Tensor& grad_output, const Shape& input_shape,
                            const InterpolateOptions& options);
// [num_weights, D]: the gradient rows added at their indices (padding_idx's row zero).
Tensor embedding_backward(const Tensor& grad_output, const Tensor& indices, int64_t num_weights,
                          const EmbeddingOptions& options = {});
// dropout's training form and its bool mask (the elements kept): (x * mask / (1 - p), mask);
// 0 <= p <= 1. The in-place form writes into x and returns the mask.
std::pair<Tensor, Tensor> native_dropout(const Tensor& x, double p);
Tensor native_dropout_(Tensor& x, double p);
// grad_output * mask / (1 - p) (zeros for p = 1), mask being what native_dropout returned.
Tensor dropout_backward(const Tensor& grad_output, const Tensor& mask, double p);

}  // namespace ops

// ---- kernels ----------------------------------------------------------------------------------
// Pooling and upsampling kernels get contiguous [N,C,H,W] inputs and contiguous outputs (the
// front-end adds the batch dim of unbatched inputs); backward kernels write all of grad_input.

// A resolved pooling window along H and W: kernel, stride, padding, dilation.
struct Pool2dWindow {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
};

// out [N,C,OH,OW]; indices: i64 of out's shape (index into each H*W plane), or undefined when
// the caller needs none. NaN wins; ties keep the first element in row-major window order.
using MaxPool2dKernel = void (*)(const Tensor& out, const Tensor& indices, const Tensor& x,
                                 const Pool2dWindow& w);
// grad_input [N,C,H,W] = 0, then grad_input.plane[indices[i]] += grad_output[i] per plane.
using MaxPool2dBackwardKernel = void (*)(const Tensor& grad_input, const Tensor& grad_output,
                                         const Tensor& indices);

struct AvgPool2dParams {
  Pool2dWindow window;  // dilation 1
  bool count_include_pad;
  int64_t divisor_override;  // 0: none
};
using AvgPool2dKernel = void (*)(const Tensor& out, const Tensor& x, const AvgPool2dParams& p);
using AvgPool2dBackwardKernel = void (*)(const Tensor& grad_input, const Tensor& grad_output,
                                         const AvgPool2dParams& p);

// Output (oh, ow) covers rows [floor(oh*H/OH), ceil((oh+1)*H/OH)) and the same for columns.
using AdaptiveAvgPool2dKernel = void (*)(const Tensor& out, const Tensor& x);
using AdaptiveAvgPool2dBackwardKernel = void (*)(const Tensor& grad_input,
                                                 const Tensor& grad_output);
using AdaptiveMaxPool2dKernel = void (*)(const Tensor& out, const Tensor& indices, const Tensor& x);

// mode: nearest, nearest_exact or bilinear (linear runs as bilinear with H = 1). scale_h/w: the
// scale_factor the user gave for that dim, or 0 (the source index then uses input/output).
struct Upsample2dParams {
  InterpolateMode mode;
  bool align_corners;
  double scale_h, scale_w;
};
using Upsample2dKernel = void (*)(const Tensor& out, const Tensor& x, const Upsample2dParams& p);
using Upsample2dBackwardKernel = void (*)(const Tensor& grad_input, const Tensor& grad_output,
                                          const Upsample2dParams& p);

// Contiguous operands of one shape. Element i is kept when the 24 high bits of 32-bit word i of
// the Philox stream at `state`, as a fraction of 2^24, are below 1 - p: mask[i] (bool) says so,
// and out[i] = x[i] * (kept ? 1 / (1 - p) : 0). 0 < p < 1.
using DropoutKernel = void (*)(const Tensor& out, const Tensor& mask, const Tensor& x, double p,
                               PhiloxState state);
// out[i] = x[i] * (mask[i] ? scale : 0); contiguous operands of one shape.
using MaskedScaleKernel = void (*)(const Tensor& out, const Tensor& x, const Tensor& mask,
                                   double scale);

#define ANVIL_POOL_OPS(X)                                          \
  X(max_pool2d, MaxPool2dKernel)                                   \
  X(max_pool2d_backward, MaxPool2dBackwardKernel)                  \
  X(avg_pool2d, AvgPool2dKernel)                                   \
  X(avg_pool2d_backward, AvgPool2dBackwardKernel)                  \
  X(adaptive_avg_pool2d, AdaptiveAvgPool2dKernel)                  \
  X(adaptive_avg_pool2d_backward, AdaptiveAvgPool2dBackwardKernel) \
  X(adaptive_max_pool2d, AdaptiveMaxPool2dKernel)                  \
  X(upsample2d, Upsample2dKernel)                                  \
  X(upsample2d_backward, Upsample2dBackwardKernel)                 \
  X(dropout, DropoutKernel)                                        \
  X(masked_scale, MaskedScaleKernel)

}  // namespace anvil
