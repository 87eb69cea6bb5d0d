// The unary ops with their derivatives (formulas as in PyTorch's derivatives.yaml and
// FunctionsManual.cpp, including its choices at kinks: abs'(0) = 0, relu'(0) = 0, ...).
//
// Every op has a gradient formula F (a small struct next to the op) and records a
// UnaryBackward<F>, the out-of-place op and its in-place form alike. F says what its backward
// needs (F::saves): nothing, the input or the output. An in-place op keeps the output as it is
// (self after the write); it has to copy the input before the write, or keep what F's optional
// before_write(x) makes of it instead (a mask, smaller than a copy).
#include "autograd/functions/unary.h"

#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

#include "autograd/autocast.h"
#include "autograd/function.h"
#include "autograd/functions/binary.h"
#include "autograd/saved_tensor.h"
#include "tensor/ops/factory.h"

namespace anvil {

namespace {

using autograd::SavedTensor;

enum class Saves : uint8_t { nothing, input, output };

// y = f(x) elementwise. F, the op's formula (with the op's parameters), gives the node's `name`,
// what it `saves` (nothing, x or y) and operator()(grad_y, saved) = grad_x.
template <class F>
struct UnaryBackward final : autograd::Node {
  F f;
  SavedTensor saved;
  explicit UnaryBackward(F formula) : f(std::move(formula)) {}
  std::string name() const override { return f.name; }
  void release_variables() override { saved.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {f(g[0], saved.unpack(name()))};
  }
};

// Runs the raw op `op` and records F's node on its result.
template <class F, class Op>
Tensor unary(const Tensor& x, F f, Op&& op) {
  Tensor out = autograd::raw(std::forward<Op>(op));
  if (auto node = autograd::record<UnaryBackward<F>>({x}, {out}, std::move(f))) {
    if (node->f.saves == Saves::input) node->saved = SavedTensor(x);
    if (node->f.saves == Saves::output) node->saved = SavedTensor(out);
  }
  return out;
}

// The in-place form: `op` writes the result into x.
template <class F, class Op>
Tensor& unary_(const char* name, Tensor& x, F f, Op&& op) {
  auto node = autograd::record_inplace<UnaryBackward<F>>(name, x, {}, std::move(f));
  if (node && node->f.saves == Saves::input) {  // x is about to be overwritten
    node->saved = SavedTensor(autograd::raw([&] {
      if constexpr (requires(const F& formula, const Tensor& t) { formula.before_write(t); }) {
        return node->f.before_write(x);
      } else {
        return x.clone();
      }
    }));
  }
  autograd::raw(std::forward<Op>(op));
  if (node) {
    if (node->f.saves == Saves::output) node->saved = SavedTensor(x);
    autograd::rebase_history(x, node);
  }
  return x;
}

// For the formulas: the gradient where `mask`, 0 elsewhere.
Tensor masked(const Tensor& mask, const Tensor& g) {
  return where(mask, g, 0.0);
}

}  // namespace

// ---- neg, abs -----------------------------------------------------------------------------------

namespace {

struct NegGrad {
  const char* name = "NegBackward";
  Saves saves = Saves::nothing;
  Tensor operator()(const Tensor& g, const Tensor&) const { return neg(g); }
};

// abs'(x) = sign(x), 0 at 0.
struct AbsGrad {
  const char* name = "AbsBackward";
  Saves saves = Saves::input;
  Tensor operator()(const Tensor& g, const Tensor& x) const { return mul(g, sign(x)); }
};

}  // namespace

Tensor neg(const Tensor& x) {
  return unary(x, NegGrad{}, [&] { return ops::neg(x); });
}
Tensor& neg_(Tensor& x) {
  return unary_("neg_", x, NegGrad{}, [&] { ops::neg_(x); });
}
Tensor abs(const Tensor& x) {
  return unary(x, AbsGrad{}, [&] { return ops::abs(x); });
}
Tensor& abs_(Tensor& x) {
  return unary_("abs_", x, AbsGrad{}, [&] { ops::abs_(x); });
}

// ---- exp and log --------------------------------------------------------------------------------

namespace {

struct ExpGrad {
  const char* name = "ExpBackward";
  Saves saves = Saves::output;
  Tensor operator()(const Tensor& g, const Tensor& y) const { return mul(g, y); }
};

// (e^x - 1)' = y + 1.
struct Expm1Grad {
  const char* name = "Expm1Backward";
  Saves saves = Saves::output;
  Tensor operator()(const Tensor& g, const Tensor& y) const { return mul(g, add(y, 1)); }
};

struct LogGrad {
  const char* name = "LogBackward";
  Saves saves = Saves::input;
  Tensor operator()(const Tensor& g, const Tensor& x) const { return div(g, x); }
};

struct Log1pGrad {
  const char* name = "Log1pBackward";
  Saves saves = Saves::input;
  Tensor operator()(const Tensor& g, const Tensor& x) const { return div(g, add(x, 1)); }
};

struct Log2Grad {
  const char* name = "Log2Backward";
  Saves saves = Saves::input;
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    return div(g, mul(x, std::numbers::ln2));
  }
};

}  // namespace

Tensor exp(const Tensor& x) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, x}) return exp(cast(x));
  return unary(x, ExpGrad{}, [&] { return ops::exp(x); });
}
Tensor& exp_(Tensor& x) {
  return unary_("exp_", x, ExpGrad{}, [&] { ops::exp_(x); });
}
Tensor expm1(const Tensor& x) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, x}) return expm1(cast(x));
  return unary(x, Expm1Grad{}, [&] { return ops::expm1(x); });
}
Tensor& expm1_(Tensor& x) {
  return unary_("expm1_", x, Expm1Grad{}, [&] { ops::expm1_(x); });
}
Tensor log(const Tensor& x) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, x}) return log(cast(x));
  return unary(x, LogGrad{}, [&] { return ops::log(x); });
}
Tensor& log_(Tensor& x) {
  return unary_("log_", x, LogGrad{}, [&] { ops::log_(x); });
}
Tensor log1p(const Tensor& x) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, x}) return log1p(cast(x));
  return unary(x, Log1pGrad{}, [&] { return ops::log1p(x); });
}
Tensor& log1p_(Tensor& x) {
  return unary_("log1p_", x, Log1pGrad{}, [&] { ops::log1p_(x); });
}
Tensor log2(const Tensor& x) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, x}) return log2(cast(x));
  return unary(x, Log2Grad{}, [&] { return ops::log2(x); });
}
Tensor& log2_(Tensor& x) {
  return unary_("log2_", x, Log2Grad{}, [&] { ops::log2_(x); });
}

// ---- roots, reciprocal, square ------------------------------------------------------------------

namespace {

// sqrt'(x) = 1 / (2 y).
struct SqrtGrad {
  const char* name = "SqrtBackward";
  Saves saves = Saves::output;
  Tensor operator()(const Tensor& g, const Tensor& y) const { return div(g, mul(y, 2)); }
};

// (x^-1/2)' = -y^3 / 2.
struct RsqrtGrad {
  const char* name = "RsqrtBackward";
  Saves saves = Saves::output;
  Tensor operator()(const Tensor& g, const Tensor& y) const { return mul(g, mul(pow(y, 3), -0.5)); }
};

// (1/x)' = -y^2.
struct ReciprocalGrad {
  const char* name = "ReciprocalBackward";
  Saves saves = Saves::output;
  Tensor operator()(const Tensor& g, const Tensor& y) const { return mul(g, neg(square(y))); }
};

struct SquareGrad {
  const char* name = "SquareBackward";
  Saves saves = Saves::input;
  Tensor operator()(const Tensor& g, const Tensor& x) const { return mul(g, mul(x, 2)); }
};

}  // namespace

Tensor sqrt(const Tensor& x) {
  return unary(x, SqrtGrad{}, [&] { return ops::sqrt(x); });
}
Tensor& sqrt_(Tensor& x) {
  return unary_("sqrt_", x, SqrtGrad{}, [&] { ops::sqrt_(x); });
}
Tensor rsqrt(const Tensor& x) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, x}) return rsqrt(cast(x));
  return unary(x, RsqrtGrad{}, [&] { return ops::rsqrt(x); });
}
Tensor& rsqrt_(Tensor& x) {
  return unary_("rsqrt_", x, RsqrtGrad{}, [&] { ops::rsqrt_(x); });
}
Tensor reciprocal(const Tensor& x) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, x}) return reciprocal(cast(x));
  return unary(x, ReciprocalGrad{}, [&] { return ops::reciprocal(x); });
}
Tensor& reciprocal_(Tensor& x) {
  return unary_("reciprocal_", x, ReciprocalGrad{}, [&] { ops::reciprocal_(x); });
}
Tensor square(const Tensor& x) {
  return unary(x, SquareGrad{}, [&] { return ops::square(x); });
}
Tensor& square_(Tensor& x) {
  return unary_("square_", x, SquareGrad{}, [&] { ops::square_(x); });
}

// ---- sin, cos, tanh, sigmoid, erf ---------------------------------------------------------------

namespace {

struct SinGrad {
  const char* name = "SinBackward";
  Saves saves = Saves::input;
  Tensor operator()(const Tensor& g, const Tensor& x) const { return mul(g, cos(x)); }
};

struct CosGrad {
  const char* name = "CosBackward";
  Saves saves = Saves::input;
  Tensor operator()(const Tensor& g, const Tensor& x) const { return mul(g, neg(sin(x))); }
};

// tanh' = 1 - y^2.
struct TanhGrad {
  const char* name = "TanhBackward";
  Saves saves = Saves::output;
  Tensor operator()(const Tensor& g, const Tensor& y) const { return mul(g, sub(1, square(y))); }
};

// sigmoid' = y (1 - y).
struct SigmoidGrad {
  const char* name = "SigmoidBackward";
  Saves saves = Saves::output;
  Tensor operator()(const Tensor& g, const Tensor& y) const { return mul(g, mul(y, sub(1, y))); }
};

// erf'(x) = 2 / sqrt(pi) exp(-x^2).
struct ErfGrad {
  const char* name = "ErfBackward";
  Saves saves = Saves::input;
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    return mul(g, mul(exp(neg(square(x))), 2 * std::numbers::inv_sqrtpi));
  }
};

}  // namespace

Tensor sin(const Tensor& x) {
  return unary(x, SinGrad{}, [&] { return ops::sin(x); });
}
Tensor& sin_(Tensor& x) {
  return unary_("sin_", x, SinGrad{}, [&] { ops::sin_(x); });
}
Tensor cos(const Tensor& x) {
  return unary(x, CosGrad{}, [&] { return ops::cos(x); });
}
Tensor& cos_(Tensor& x) {
  return unary_("cos_", x, CosGrad{}, [&] { ops::cos_(x); });
}
Tensor tanh(const Tensor& x) {
  return unary(x, TanhGrad{}, [&] { return ops::tanh(x); });
}
Tensor& tanh_(Tensor& x) {
  return unary_("tanh_", x, TanhGrad{}, [&] { ops::tanh_(x); });
}
Tensor sigmoid(const Tensor& x) {
  return unary(x, SigmoidGrad{}, [&] { return ops::sigmoid(x); });
}
Tensor& sigmoid_(Tensor& x) {
  return unary_("sigmoid_", x, SigmoidGrad{}, [&] { ops::sigmoid_(x); });
}
Tensor erf(const Tensor& x) {
  return unary(x, ErfGrad{}, [&] { return ops::erf(x); });
}
Tensor& erf_(Tensor& x) {
  return unary_("erf_", x, ErfGrad{}, [&] { ops::erf_(x); });
}

// ---- activations --------------------------------------------------------------------------------

namespace {

// From the output, as PyTorch's threshold_backward: 0 where y <= 0 (a NaN passes the gradient).
struct ReluGrad {
  const char* name = "ReluBackward";
  Saves saves = Saves::output;
  Tensor operator()(const Tensor& g, const Tensor& y) const {
    return ops::threshold_backward(g, y, 0);
  }
};

// hardtanh_backward on the output (0 < y < 6 exactly where 0 < x < 6): 0 at and beyond the kinks.
struct Relu6Grad {
  const char* name = "Relu6Backward";
  Saves saves = Saves::output;
  Tensor operator()(const Tensor& g, const Tensor& y) const {
    return where(logical_or(le(y, 0), ge(y, 6)), 0.0, g);
  }
};

// x > 0 ? 1 : slope. With slope > 0 the output has the input's sign: it is saved (in place, no
// copy of the input).
struct LeakyReluGrad {
  const char* name = "LeakyReluBackward";
  Scalar slope;
  Saves saves;
  explicit LeakyReluGrad(const Scalar& slope)
      : slope(slope), saves(slope.to_double() > 0 ? Saves::output : Saves::input) {}
  Tensor operator()(const Tensor& g, const Tensor& s) const {
    return where(gt(s, 0), g, mul(g, slope));
  }
};

// elu_backward on the input: x <= 0 ? input_scale * alpha * scale * exp(x * input_scale) : scale.
struct EluGrad {
  const char* name = "EluBackward";
  Saves saves = Saves::input;
  double alpha, scale, input_scale;
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    const Tensor negative = mul(exp(mul(x, input_scale)), input_scale * alpha * scale);
    return mul(g, where(le(x, 0), negative, scale));
  }
};

EluGrad elu_grad(const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  return {.alpha = alpha.to_double(),
          .scale = scale.to_double(),
          .input_scale = input_scale.to_double()};
}

// gelu_backward: exact (x Phi(x))' = Phi(x) + x phi(x), or the derivative of the tanh form.
struct GeluGrad {
  const char* name = "GeluBackward";
  Saves saves = Saves::input;
  GeluApprox approximate;
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    using std::numbers::inv_sqrtpi, std::numbers::sqrt2;
    if (approximate == GeluApprox::tanh) {
      constexpr double kBeta = sqrt2 * inv_sqrtpi;  // sqrt(2 / pi)
      constexpr double kKappa = 0.044715;
      const Tensor x_sq = square(x);
      const Tensor inner = mul(mul(add(mul(x_sq, kKappa), 1), x), kBeta);
      const Tensor t = tanh(inner);
      const Tensor left_derivative = mul(add(t, 1), 0.5);
      const Tensor dinner = mul(add(mul(x_sq, 3 * kKappa), 1), kBeta);
      const Tensor right_derivative = mul(mul(mul(x, 0.5), sub(1, square(t))), dinner);
      return mul(g, add(left_derivative, right_derivative));
    }
    const Tensor cdf = mul(add(erf(mul(x, 1 / sqrt2)), 1), 0.5);
    const Tensor pdf = mul(exp(mul(square(x), -0.5)), inv_sqrtpi / sqrt2);
    return mul(g, add(cdf, mul(x, pdf)));
  }
};

// (x s(x))' = s (1 + x (1 - s)).
struct SiluGrad {
  const char* name = "SiluBackward";
  Saves saves = Saves::input;
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    const Tensor s = sigmoid(x);
    return mul(g, mul(s, add(mul(x, sub(1, s)), 1)));
  }
};

// softplus_backward: linear above the threshold, sigmoid(beta x) below.
struct SoftplusGrad {
  const char* name = "SoftplusBackward";
  Saves saves = Saves::input;
  Scalar beta, threshold;
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    const Tensor bx = mul(x, beta);
    return where(gt(bx, threshold), g, mul(g, sigmoid(bx)));
  }
};

// hardswish_backward: 0 below -3, x / 3 + 1/2 on [-3, 3], 1 above.
struct HardswishGrad {
  const char* name = "HardswishBackward";
  Saves saves = Saves::input;
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    const Tensor middle = mul(g, add(div(x, 3), 0.5));
    return where(lt(x, -3), 0.0, where(le(x, 3), middle, g));
  }
};

}  // namespace

Tensor relu(const Tensor& x) {
  return unary(x, ReluGrad{}, [&] { return ops::relu(x); });
}
Tensor& relu_(Tensor& x) {
  return unary_("relu_", x, ReluGrad{}, [&] { ops::relu_(x); });
}
Tensor relu6(const Tensor& x) {
  return unary(x, Relu6Grad{}, [&] { return ops::relu6(x); });
}
Tensor& relu6_(Tensor& x) {
  return unary_("relu6_", x, Relu6Grad{}, [&] { ops::relu6_(x); });
}
Tensor leaky_relu(const Tensor& x, const Scalar& negative_slope) {
  return unary(x, LeakyReluGrad(negative_slope),
               [&] { return ops::leaky_relu(x, negative_slope); });
}
Tensor& leaky_relu_(Tensor& x, const Scalar& negative_slope) {
  return unary_("leaky_relu_", x, LeakyReluGrad(negative_slope),
                [&] { ops::leaky_relu_(x, negative_slope); });
}
Tensor elu(const Tensor& x, const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  return unary(x, elu_grad(alpha, scale, input_scale),
               [&] { return ops::elu(x, alpha, scale, input_scale); });
}
Tensor& elu_(Tensor& x, const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  return unary_("elu_", x, elu_grad(alpha, scale, input_scale),
                [&] { ops::elu_(x, alpha, scale, input_scale); });
}
Tensor gelu(const Tensor& x, GeluApprox approximate) {
  return unary(x, GeluGrad{.approximate = approximate}, [&] { return ops::gelu(x, approximate); });
}
Tensor& gelu_(Tensor& x, GeluApprox approximate) {
  return unary_("gelu_", x, GeluGrad{.approximate = approximate},
                [&] { ops::gelu_(x, approximate); });
}
Tensor silu(const Tensor& x) {
  return unary(x, SiluGrad{}, [&] { return ops::silu(x); });
}
Tensor& silu_(Tensor& x) {
  return unary_("silu_", x, SiluGrad{}, [&] { ops::silu_(x); });
}
Tensor softplus(const Tensor& x, const Scalar& beta, const Scalar& threshold) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, x}) {
    return softplus(cast(x), beta, threshold);
  }
  return unary(x, SoftplusGrad{.beta = beta, .threshold = threshold},
               [&] { return ops::softplus(x, beta, threshold); });
}
Tensor hardswish(const Tensor& x) {
  return unary(x, HardswishGrad{}, [&] { return ops::hardswish(x); });
}
Tensor& hardswish_(Tensor& x) {
  return unary_("hardswish_", x, HardswishGrad{}, [&] { ops::hardswish_(x); });
}

// ---- piecewise constant: sign, floor, ceil, round -----------------------------------------------

namespace {

// Piecewise constant functions (sign, floor, ceil, round): zero gradient, as in PyTorch.
struct ZeroGrad {
  const char* name;
  Saves saves = Saves::nothing;
  Tensor operator()(const Tensor& g, const Tensor&) const { return zeros_like(g); }
};

}  // namespace

Tensor sign(const Tensor& x) {
  return unary(x, ZeroGrad{"SignBackward"}, [&] { return ops::sign(x); });
}
Tensor& sign_(Tensor& x) {
  return unary_("sign_", x, ZeroGrad{"SignBackward"}, [&] { ops::sign_(x); });
}
Tensor floor(const Tensor& x) {
  return unary(x, ZeroGrad{"FloorBackward"}, [&] { return ops::floor(x); });
}
Tensor& floor_(Tensor& x) {
  return unary_("floor_", x, ZeroGrad{"FloorBackward"}, [&] { ops::floor_(x); });
}
Tensor ceil(const Tensor& x) {
  return unary(x, ZeroGrad{"CeilBackward"}, [&] { return ops::ceil(x); });
}
Tensor& ceil_(Tensor& x) {
  return unary_("ceil_", x, ZeroGrad{"CeilBackward"}, [&] { ops::ceil_(x); });
}
Tensor round(const Tensor& x, int64_t decimals) {
  return unary(x, ZeroGrad{"RoundBackward"}, [&] { return ops::round(x, decimals); });
}
Tensor& round_(Tensor& x, int64_t decimals) {
  return unary_("round_", x, ZeroGrad{"RoundBackward"}, [&] { ops::round_(x, decimals); });
}

// ---- clamp --------------------------------------------------------------------------------------

namespace {

// The gradient passes where min <= x <= max (clamp_backward); the in-place form keeps that mask
// instead of a copy of x.
struct ClampGrad {
  const char* name = "ClampBackward";
  Saves saves = Saves::input;
  std::optional<Scalar> min, max;
  Tensor in_range(const Tensor& x) const {
    if (min && max) return logical_and(ge(x, *min), le(x, *max));
    return min ? ge(x, *min) : le(x, *max);
  }
  Tensor before_write(const Tensor& x) const { return in_range(x); }
  Tensor operator()(const Tensor& g, const Tensor& s) const {
    return masked(s.dtype() == DType::boolean ? s : in_range(s), g);
  }
};

}  // namespace

Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  return unary(x, ClampGrad{.min = min, .max = max}, [&] { return ops::clamp(x, min, max); });
}
Tensor& clamp_(Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  return unary_("clamp_", x, ClampGrad{.min = min, .max = max}, [&] { ops::clamp_(x, min, max); });
}

// ---- pow with a Scalar --------------------------------------------------------------------------

namespace {

// (x^e)' = e x^(e-1), 0 for e == 0 (pow_backward).
struct PowScalarExponentGrad {
  const char* name = "PowBackward";
  Saves saves = Saves::input;
  Scalar exponent;
  Tensor operator()(const Tensor& g, const Tensor& x) const {
    if (exponent.to_double() == 0) return zeros_like(g);
    const Scalar e1 =
        exponent.is_floating() ? Scalar(exponent.to_double() - 1) : Scalar(exponent.to_int() - 1);
    return mul(g, mul(pow(x, e1), exponent));
  }
};

// (b^x)' = y log(b) (pow_backward_exponent). For b == 0 PyTorch zeroes it where x >= 0, which is
// where y = 0^x is 0 or 1 (y is inf for x < 0, NaN for a NaN x): the output alone decides.
struct PowScalarBaseGrad {
  const char* name = "PowBackward";
  Saves saves = Saves::output;
  double base;
  Tensor operator()(const Tensor& g, const Tensor& y) const {
    const Tensor grad = mul(g, mul(y, std::log(base)));
    return base == 0 ? where(le(y, 1), 0.0, grad) : grad;
  }
};

}  // namespace

Tensor pow(const Tensor& x, const Scalar& exponent) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, x}) return pow(cast(x), exponent);
  return unary(x, PowScalarExponentGrad{.exponent = exponent},
               [&] { return ops::pow(x, exponent); });
}
Tensor pow(const Scalar& base, const Tensor& exponent) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, exponent}) {
    return pow(base, cast(exponent));
  }
  return unary(exponent, PowScalarBaseGrad{.base = base.to_double()},
               [&] { return ops::pow(base, exponent); });
}
Tensor& pow_(Tensor& x, const Scalar& exponent) {
  return unary_("pow_", x, PowScalarExponentGrad{.exponent = exponent},
                [&] { ops::pow_(x, exponent); });
}

// ---- nan_to_num ---------------------------------------------------------------------------------

namespace {

// The gradient passes where x is finite (not NaN or inf); in place, that mask is kept instead of
// a copy of x.
struct NanToNumGrad {
  const char* name = "NanToNumBackward";
  Saves saves = Saves::input;
  static Tensor finite(const Tensor& x) {
    return lt(abs(x), std::numeric_limits<double>::infinity());  // false for NaN too
  }
  Tensor before_write(const Tensor& x) const { return finite(x); }
  Tensor operator()(const Tensor& g, const Tensor& s) const {
    return masked(s.dtype() == DType::boolean ? s : finite(s), g);
  }
};

}  // namespace

Tensor nan_to_num(const Tensor& x, std::optional<double> nan, std::optional<double> posinf,
                  std::optional<double> neginf) {
  return unary(x, NanToNumGrad{}, [&] { return ops::nan_to_num(x, nan, posinf, neginf); });
}
Tensor& nan_to_num_(Tensor& x, std::optional<double> nan, std::optional<double> posinf,
                    std::optional<double> neginf) {
  return unary_("nan_to_num_", x, NanToNumGrad{},
                [&] { ops::nan_to_num_(x, nan, posinf, neginf); });
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
