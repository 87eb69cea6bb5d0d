// The unary ops with their derivatives.
#include "autograd/functions/unary.h"

#include "autograd/function.h"

namespace anvil {

Tensor neg(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::neg(x); });
}

Tensor abs(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::abs(x); });
}

Tensor sign(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::sign(x); });
}

Tensor exp(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::exp(x); });
}

Tensor expm1(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::expm1(x); });
}

Tensor log(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::log(x); });
}

Tensor log1p(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::log1p(x); });
}

Tensor log2(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::log2(x); });
}

Tensor sqrt(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::sqrt(x); });
}

Tensor rsqrt(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::rsqrt(x); });
}

Tensor reciprocal(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::reciprocal(x); });
}

Tensor square(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::square(x); });
}

Tensor sin(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::sin(x); });
}

Tensor cos(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::cos(x); });
}

Tensor tanh(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::tanh(x); });
}

Tensor sigmoid(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::sigmoid(x); });
}

Tensor relu(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::relu(x); });
}

Tensor relu6(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::relu6(x); });
}

Tensor leaky_relu(const Tensor& x, const Scalar& negative_slope) {
  return autograd::raw([&]() -> Tensor { return ops::leaky_relu(x, negative_slope); });
}

Tensor elu(const Tensor& x, const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  return autograd::raw([&]() -> Tensor { return ops::elu(x, alpha, scale, input_scale); });
}

Tensor gelu(const Tensor& x, GeluApprox approximate) {
  return autograd::raw([&]() -> Tensor { return ops::gelu(x, approximate); });
}

Tensor silu(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::silu(x); });
}

Tensor softplus(const Tensor& x, const Scalar& beta, const Scalar& threshold) {
  return autograd::raw([&]() -> Tensor { return ops::softplus(x, beta, threshold); });
}

Tensor hardswish(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::hardswish(x); });
}

Tensor erf(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::erf(x); });
}

Tensor floor(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::floor(x); });
}

Tensor ceil(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::ceil(x); });
}

Tensor round(const Tensor& x, int64_t decimals) {
  return autograd::raw([&]() -> Tensor { return ops::round(x, decimals); });
}

Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  return autograd::raw([&]() -> Tensor { return ops::clamp(x, std::move(min), std::move(max)); });
}

Tensor pow(const Tensor& x, const Scalar& exponent) {
  return autograd::raw([&]() -> Tensor { return ops::pow(x, exponent); });
}

Tensor pow(const Scalar& base, const Tensor& exponent) {
  return autograd::raw([&]() -> Tensor { return ops::pow(base, exponent); });
}

Tensor nan_to_num(const Tensor& x, std::optional<double> nan, std::optional<double> posinf,
                  std::optional<double> neginf) {
  return autograd::raw([&]() -> Tensor { return ops::nan_to_num(x, nan, posinf, neginf); });
}

Tensor& neg_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::neg_(x); });
}

Tensor& abs_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::abs_(x); });
}

Tensor& sign_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::sign_(x); });
}

Tensor& exp_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::exp_(x); });
}

Tensor& expm1_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::expm1_(x); });
}

Tensor& log_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::log_(x); });
}

Tensor& log1p_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::log1p_(x); });
}

Tensor& log2_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::log2_(x); });
}

Tensor& sqrt_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::sqrt_(x); });
}

Tensor& rsqrt_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::rsqrt_(x); });
}

Tensor& reciprocal_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::reciprocal_(x); });
}

Tensor& square_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::square_(x); });
}

Tensor& sin_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::sin_(x); });
}

Tensor& cos_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::cos_(x); });
}

Tensor& tanh_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::tanh_(x); });
}

Tensor& sigmoid_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::sigmoid_(x); });
}

Tensor& relu_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::relu_(x); });
}

Tensor& relu6_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::relu6_(x); });
}

Tensor& leaky_relu_(Tensor& x, const Scalar& negative_slope) {
  return autograd::raw([&]() -> Tensor& { return ops::leaky_relu_(x, negative_slope); });
}

Tensor& elu_(Tensor& x, const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  return autograd::raw([&]() -> Tensor& { return ops::elu_(x, alpha, scale, input_scale); });
}

Tensor& gelu_(Tensor& x, GeluApprox approximate) {
  return autograd::raw([&]() -> Tensor& { return ops::gelu_(x, approximate); });
}

Tensor& silu_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::silu_(x); });
}

Tensor& hardswish_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::hardswish_(x); });
}

Tensor& erf_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::erf_(x); });
}

Tensor& floor_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::floor_(x); });
}

Tensor& ceil_(Tensor& x) {
  return autograd::raw([&]() -> Tensor& { return ops::ceil_(x); });
}

Tensor& round_(Tensor& x, int64_t decimals) {
  return autograd::raw([&]() -> Tensor& { return ops::round_(x, decimals); });
}

Tensor& clamp_(Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  return autograd::raw([&]() -> Tensor& { return ops::clamp_(x, std::move(min), std::move(max)); });
}

Tensor& pow_(Tensor& x, const Scalar& exponent) {
  return autograd::raw([&]() -> Tensor& { return ops::pow_(x, exponent); });
}

Tensor& nan_to_num_(Tensor& x, std::optional<double> nan, std::optional<double> posinf,
                    std::optional<double> neginf) {
  return autograd::raw([&]() -> Tensor& { return ops::nan_to_num_(x, nan, posinf, neginf); });
}

// ---- Tensor methods -------------------------------------------------------------------------

Tensor& Tensor::neg_() {
  return anvil::neg_(*this);
}
Tensor& Tensor::abs_() {
  return anvil::abs_(*this);
}
Tensor& Tensor::exp_() {
  return anvil::exp_(*this);
}
Tensor& Tensor::log_() {
  return anvil::log_(*this);
}
Tensor& Tensor::sqrt_() {
  return anvil::sqrt_(*this);
}
Tensor& Tensor::sigmoid_() {
  return anvil::sigmoid_(*this);
}
Tensor& Tensor::tanh_() {
  return anvil::tanh_(*this);
}
Tensor& Tensor::relu_() {
  return anvil::relu_(*this);
}
Tensor& Tensor::clamp_(std::optional<Scalar> min, std::optional<Scalar> max) {
  return anvil::clamp_(*this, std::move(min), std::move(max));
}
Tensor& Tensor::pow_(const Scalar& exponent) {
  return anvil::pow_(*this, exponent);
}
Tensor Tensor::neg() const {
  return anvil::neg(*this);
}
Tensor Tensor::abs() const {
  return anvil::abs(*this);
}
Tensor Tensor::exp() const {
  return anvil::exp(*this);
}
Tensor Tensor::log() const {
  return anvil::log(*this);
}
Tensor Tensor::sqrt() const {
  return anvil::sqrt(*this);
}
Tensor Tensor::square() const {
  return anvil::square(*this);
}
Tensor Tensor::sigmoid() const {
  return anvil::sigmoid(*this);
}
Tensor Tensor::tanh() const {
  return anvil::tanh(*this);
}
Tensor Tensor::relu() const {
  return anvil::relu(*this);
}
Tensor Tensor::clamp(std::optional<Scalar> min, std::optional<Scalar> max) const {
  return anvil::clamp(*this, std::move(min), std::move(max));
}
Tensor Tensor::pow(const Scalar& exponent) const {
  return anvil::pow(*this, exponent);
}
Tensor operator-(const Tensor& a) {
  return neg(a);
}

}  // namespace anvil
