#include "nn/modules/conv.h"

#include <cmath>
#include <tuple>

#include "anvil.h"
#include "nn/fusion.h"
#include "nn/init.h"

namespace anvil::nn {

namespace {

std::string pair_str(const ConvPair& p) {
  return fmt::format("({}, {})", p.h, p.w);
}

template <class Padding>
std::string padding_str(const Padding& p, const std::string& numbers) {
  return p.mode.empty() ? numbers : p.mode;
}

// torch.nn's _ConvNd.reset_parameters: kaiming_uniform_(a = sqrt(5)) for the weight (uniform in
// +-1/sqrt(fan_in)) and the same bound for the bias.
void reset_conv(Tensor& weight, Tensor& bias) {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const int64_t fan_in = init::fans(weight).first;
    const double bound = fan_in > 0 ? 1 / std::sqrt(static_cast<double>(fan_in)) : 0;
    init::uniform_(bias, -bound, bound);
  }
}

// torch.nn's _ConvNd parameters: weight of `weight_shape` and, when wanted, bias [out_channels],
// both initialised.
std::pair<Tensor, Tensor> conv_parameters(Module& m, const Shape& weight_shape,
                                          int64_t out_channels, bool with_bias,
                                          const TensorOptions& t) {
  Tensor weight = m.register_parameter("weight", empty(weight_shape, t));
  Tensor bias = m.register_parameter("bias", with_bias ? empty({out_channels}, t) : Tensor());
  reset_conv(weight, bias);
  return {weight, bias};
}

void check_channels(const char* layer, int64_t in, int64_t out, int64_t groups) {
  ANVIL_CHECK(groups > 0 && in % groups == 0 && out % groups == 0,
              "{}: in_channels {} and out_channels {} must be divisible by groups {}", layer, in,
              out, groups);
}

}  // namespace

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, ConvPair kernel_size,
               const Conv2dOptions& options)
    : in_channels(in_channels),
      out_channels(out_channels),
      kernel_size(kernel_size),
      options(options) {
  check_channels("Conv2d", in_channels, out_channels, options.groups);
  std::tie(weight, bias) = conv_parameters(
      *this, {out_channels, in_channels / options.groups, kernel_size.h, kernel_size.w},
      out_channels, options.bias, TensorOptions(options.dtype, options.device));
}

void Conv2d::reset_parameters() {
  reset_conv(weight, bias);
}

Tensor Conv2d::forward(const Tensor& input) {
  return fusion ? fusion->conv_forward(input) : conv_forward(input, weight, optional(bias));
}

Tensor Conv2d::conv_forward(const Tensor& input, const Tensor& weight,
                            const std::optional<Tensor>& bias) const {
  return conv2d(input, weight, bias,
                {.stride = options.stride,
                 .padding = options.padding,
                 .dilation = options.dilation,
                 .groups = options.groups});
}

std::string Conv2d::extra_repr() const {
  std::string s = fmt::format("{}, {}, kernel_size={}, stride={}", in_channels, out_channels,
                              pair_str(kernel_size), pair_str(options.stride));
  if (!options.padding.mode.empty() || options.padding.size != ConvPair(0)) {
    s += ", padding=" + padding_str(options.padding, pair_str(options.padding.size));
  }
  if (options.dilation != ConvPair(1)) s += ", dilation=" + pair_str(options.dilation);
  if (options.groups != 1) s += fmt::format(", groups={}", options.groups);
  if (!bias.defined()) s += ", bias=False";
  return s;
}

Conv1d::Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
               const Conv1dOptions& options)
    : in_channels(in_channels),
      out_channels(out_channels),
      kernel_size(kernel_size),
      options(options) {
  check_channels("Conv1d", in_channels, out_channels, options.groups);
  std::tie(weight, bias) =
      conv_parameters(*this, {out_channels, in_channels / options.groups, kernel_size},
                      out_channels, options.bias, TensorOptions(options.dtype, options.device));
}

Tensor Conv1d::forward(const Tensor& input) {
  return conv1d(input, weight, optional(bias),
                {.stride = options.stride,
                 .padding = options.padding,
                 .dilation = options.dilation,
                 .groups = options.groups});
}

std::string Conv1d::extra_repr() const {
  std::string s = fmt::format("{}, {}, kernel_size=({},), stride=({},)", in_channels, out_channels,
                              kernel_size, options.stride);
  if (!options.padding.mode.empty() || options.padding.size != 0) {
    s += ", padding=" + padding_str(options.padding, fmt::format("({},)", options.padding.size));
  }
  if (options.dilation != 1) s += fmt::format(", dilation=({},)", options.dilation);
  if (options.groups != 1) s += fmt::format(", groups={}", options.groups);
  if (!bias.defined()) s += ", bias=False";
  return s;
}

ConvTranspose2d::ConvTranspose2d(int64_t in_channels, int64_t out_channels, ConvPair kernel_size,
                                 const ConvTranspose2dOptions& options)
    : in_channels(in_channels),
      out_channels(out_channels),
      kernel_size(kernel_size),
      options(options) {
  check_channels("ConvTranspose2d", in_channels, out_channels, options.groups);
  // [in, out / groups, kH, kW]: fan_in (dim 1) is out / groups * kH * kW, as torch.nn computes.
  std::tie(weight, bias) = conv_parameters(
      *this, {in_channels, out_channels / options.groups, kernel_size.h, kernel_size.w},
      out_channels, options.bias, TensorOptions(options.dtype, options.device));
}

Tensor ConvTranspose2d::forward(const Tensor& input) {
  return conv_transpose2d(input, weight, optional(bias),
                          {.stride = options.stride,
                           .padding = options.padding,
                           .output_padding = options.output_padding,
                           .groups = options.groups,
                           .dilation = options.dilation});
}

std::string ConvTranspose2d::extra_repr() const {
  std::string s = fmt::format("{}, {}, kernel_size={}, stride={}", in_channels, out_channels,
                              pair_str(kernel_size), pair_str(options.stride));
  if (options.padding != ConvPair(0)) s += ", padding=" + pair_str(options.padding);
  if (options.dilation != ConvPair(1)) s += ", dilation=" + pair_str(options.dilation);
  if (options.output_padding != ConvPair(0)) {
    s += ", output_padding=" + pair_str(options.output_padding);
  }
  if (options.groups != 1) s += fmt::format(", groups={}", options.groups);
  if (!bias.defined()) s += ", bias=False";
  return s;
}

}  // namespace anvil::nn
