#include "nn/init.h"

#include <cmath>

#include "anvil.h"

namespace anvil::nn::init {

double calculate_gain(const std::string& nonlinearity, double param) {
  if (nonlinearity == "linear" || nonlinearity == "sigmoid" || nonlinearity.rfind("conv", 0) == 0) {
    return 1;
  }
  if (nonlinearity == "tanh") return 5.0 / 3;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1 + param * param));
  if (nonlinearity == "selu") return 0.75;
  throw ValueError(fmt::format(
      "calculate_gain: unsupported nonlinearity \"{}\" (expected linear, conv1d, conv2d, "
      "conv_transpose2d, sigmoid, tanh, relu, leaky_relu or selu)",
      nonlinearity));
}

std::pair<int64_t, int64_t> fans(const Tensor& weight) {
  ANVIL_CHECK(weight.dim() >= 2,
              "init: fan in and fan out need a tensor of at least 2 dims, got {}",
              weight.describe());
  const int64_t receptive = weight.numel() / std::max<int64_t>(1, weight.size(0) * weight.size(1));
  return {weight.size(1) * receptive, weight.size(0) * receptive};
}

Tensor& uniform_(Tensor& t, double a, double b) {
  NoGradGuard no_grad;
  return t.uniform_(a, b);
}

Tensor& normal_(Tensor& t, double mean, double std) {
  NoGradGuard no_grad;
  return t.normal_(mean, std);
}

Tensor& trunc_normal_(Tensor& t, double mean, double std, double a, double b) {
  ANVIL_CHECK(a < b, "trunc_normal_: expected a < b, got [{}, {}]", a, b);
  NoGradGuard no_grad;
  Tensor values = randn(t.shape(), TensorOptions(DType::f64)) * std + mean;
  // Redraw what falls outside; each round keeps most of the rest, so this ends quickly for any
  // interval that holds a reasonable share of the distribution.
  for (int round = 0; round < 1000; ++round) {
    const Tensor outside = logical_or(lt(values, a), gt(values, b));
    if (!any(outside).item<bool>()) break;
    values = where(outside, randn(t.shape(), TensorOptions(DType::f64)) * std + mean, values);
  }
  t.copy_(clamp(values, a, b));
  return t;
}

Tensor& constant_(Tensor& t, double value) {
  NoGradGuard no_grad;
  return t.fill_(value);
}

Tensor& zeros_(Tensor& t) {
  return constant_(t, 0);
}

Tensor& ones_(Tensor& t) {
  return constant_(t, 1);
}

Tensor& xavier_uniform_(Tensor& t, double gain) {
  const auto [fan_in, fan_out] = fans(t);
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  return uniform_(t, -bound, bound);
}

Tensor& xavier_normal_(Tensor& t, double gain) {
  const auto [fan_in, fan_out] = fans(t);
  return normal_(t, 0, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)));
}

namespace {

double kaiming_std(const Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  const auto [fan_in, fan_out] = fans(t);
  const int64_t fan = mode == FanMode::fan_in ? fan_in : fan_out;
  ANVIL_CHECK(fan > 0, "kaiming init: {} has a zero fan", t.describe());
  return calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
}

}  // namespace

Tensor& kaiming_uniform_(Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  const double bound = std::sqrt(3.0) * kaiming_std(t, a, mode, nonlinearity);
  return uniform_(t, -bound, bound);
}

Tensor& kaiming_normal_(Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  return normal_(t, 0, kaiming_std(t, a, mode, nonlinearity));
}

}  // namespace anvil::nn::init
