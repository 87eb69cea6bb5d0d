// Convolutions: conv2d (stride, padding incl. "same"/"valid", dilation, groups, bias), conv1d
// through it, conv_transpose2d, and the backward-data / backward-weight kernels that conv2d's
// derivative and conv_transpose2d share (a transposed convolution is a convolution's
// backward-data pass).
#pragma once

#include <array>
#include <concepts>
#include <optional>
#include <string>
#include <utility>

#include "tensor/tensor.h"

namespace anvil {

// A (height, width) pair of a 2-D convolution's options; one number sets both, as in PyTorch.
struct ConvPair {
  int64_t h = 0, w = 0;
  ConvPair(int64_t v) : h(v), w(v) {}  // NOLINT: `.stride = 2` reads as in PyTorch
  ConvPair(int64_t h, int64_t w) : h(h), w(w) {}
  bool operator==(const ConvPair&) const = default;
};

// A convolution's padding: numbers (zeros on both sides of each spatial dim), or PyTorch's
// strings "valid" (no padding) and "same" (the output as large as the input; stride 1 only; an
// odd total padding puts the extra zero at the end). `Size` is int64_t (conv1d) or ConvPair
// (conv2d). The string is checked by the op, which names itself in the error.
template <class Size>
struct ConvPadding {
  Size size = 0;
  std::string mode;                    // empty when the padding is given as numbers
  ConvPadding(int64_t p) : size(p) {}  // NOLINT
  ConvPadding(int64_t h, int64_t w) requires std::same_as<Size, ConvPair> : size(h, w) {}
  template <size_t N>
  ConvPadding(const char (&m)[N]) : mode(m) {}        // NOLINT: `.padding = "same"`
  ConvPadding(std::string m) : mode(std::move(m)) {}  // NOLINT
};

// torch.nn.functional.conv2d's options, with its defaults.
struct Conv2dOptions {
  ConvPair stride = 1;
  ConvPadding<ConvPair> padding = 0;
  ConvPair dilation = 1;
  int64_t groups = 1;
};

// torch.nn.functional.conv1d's options, with its defaults.
struct Conv1dOptions {
  int64_t stride = 1;
  ConvPadding<int64_t> padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
};

// torch.nn.functional.conv_transpose2d's options, in its order and with its defaults.
struct ConvTranspose2dOptions {
  ConvPair stride = 1;
  ConvPair padding = 0;
  ConvPair output_padding = 0;
  int64_t groups = 1;
  ConvPair dilation = 1;
};

// The geometry of a 2-D convolution as its kernels see it (index 0: height, 1: width): the
// padding resolved into zeros before and after each spatial dim. For input [N,C,H,W] and weight
// [O, C/groups, kH, kW] the output is [N,O,Ho,Wo] with
//   Ho = (H + pad_begin[0] + pad_end[0] - dilation[0] * (kH - 1) - 1) / stride[0] + 1,
// and out[n,o,y,x] = sum over c of the group of o, i, j of
//   input[n, c, y*stride[0] - pad_begin[0] + i*dilation[0], x*stride[1] - pad_begin[1] + ...]
//   * weight[o, c, i, j]   (zero outside the input).
// The front-ends may produce a negative pad_end (conv_transpose2d's output_padding); kernels only
// ever see pads >= 0.
struct Conv2dParams {
  std::array<int64_t, 2> stride{1, 1}, dilation{1, 1}, pad_begin{0, 0}, pad_end{0, 0};
  int64_t groups = 1;
  bool operator==(const Conv2dParams&) const = default;
};

namespace ops {

#include "tensor/ops/conv.inc"  // IWYU pragma: export

// The checked geometry of the public ops, and the 4-D shapes their operands take in the kernels'
// form (an unbatched input gets N = 1, conv1d's tensors get H = 1). The errors name the op.
struct ConvProblem {
  Conv2dParams params;
  Shape input4, weight4, output4;  // output4: conv_transpose2d's result shape (unused for conv)
};
ConvProblem conv2d_problem(const Tensor& input, const Tensor& weight,
                           const std::optional<Tensor>& bias, const Conv2dOptions& options);
ConvProblem conv1d_problem(const Tensor& input, const Tensor& weight,
                           const std::optional<Tensor>& bias, const Conv1dOptions& options);
// In the convolution view: params of the convolution whose backward-data pass this is, input4
// its grad_output (the transposed convolution's input), output4 its input's shape.
ConvProblem conv_transpose2d_problem(const Tensor& input, const Tensor& weight,
                                     const std::optional<Tensor>& bias,
                                     const ConvTranspose2dOptions& options);

// The convolution on 4-D operands with resolved geometry: input [N,C,H,W], weight
// [O, C/groups, kH, kW], bias [O] or undefined; any strides.
Tensor conv2d_forward(const Tensor& input, const Tensor& weight, const Tensor& bias,
                      const Conv2dParams& params);
// Raw backward ops (not public API; conv2d's and conv_transpose2d's derivatives call them).
// grad_input [N,C,H,W] = d conv2d_forward(input, weight) / d input, for an input of
// `input_shape` (needed: several input sizes give one output size).
Tensor conv2d_backward_input(const Tensor& grad_output, const Tensor& weight,
                             const Shape& input_shape, const Conv2dParams& params);
// {grad_weight of `weight_shape`, grad_bias [O] (summed over N, H, W; undefined unless `bias`)}.
std::pair<Tensor, Tensor> conv2d_backward_weight(const Tensor& grad_output, const Tensor& input,
                                                 const Shape& weight_shape,
                                                 const Conv2dParams& params, bool bias);

}  // namespace ops

// Kernels. Operands are 4-D ([N,C,H,W], weight [O, C/groups, kH, kW]) of one dtype with any
// strides; outputs are contiguous; pads are >= 0; N, C, O, H, W and kernel sizes are > 0.
// out = conv(input, weight) + bias (bias undefined: none).
using Conv2dKernel = void (*)(const Tensor& out, const Tensor& input, const Tensor& weight,
                              const Tensor& bias, const Conv2dParams& params);
// grad_input = the convolution's adjoint applied to grad_output.
using Conv2dBackwardInputKernel = void (*)(const Tensor& grad_input, const Tensor& grad_output,
                                           const Tensor& weight, const Conv2dParams& params);
// grad_weight, and grad_bias unless undefined.
using Conv2dBackwardWeightKernel = void (*)(const Tensor& grad_weight, const Tensor& grad_bias,
                                            const Tensor& grad_output, const Tensor& input,
                                            const Conv2dParams& params);

#define ANVIL_CONV_OPS(X)                             \
  X(conv2d, Conv2dKernel)                             \
  X(conv2d_backward_input, Conv2dBackwardInputKernel) \
  X(conv2d_backward_weight, Conv2dBackwardWeightKernel)

}  // namespace anvil
