// Elementwise unary ops: argument checks, result dtypes (PyTorch's rules), output allocation.
#include "tensor/ops/unary.h"

#include <cfloat>
#include <cmath>
#include <limits>

#include "tensor/dispatch.h"
#include "tensor/ops/factory.h"

namespace anvil::ops {

namespace {

void check_input(const char* op, const Tensor& x) {
  ANVIL_CHECK(x.defined(), "{}: the input tensor is undefined", op);
}

// Integer and bool inputs of float functions (exp, sigmoid, ...) compute in the default float.
DType float_result(const Tensor& x) {
  return x.is_floating_point() ? x.dtype() : kDefaultFloat;
}

DType floating_only(const char* op, const Tensor& x) {
  check_input(op, x);
  ANVIL_CHECK(x.is_floating_point(), "{}: expected a floating-point tensor, got {}", op,
              x.describe());
  return x.dtype();
}

DType no_bool(const char* op, const Tensor& x) {
  check_input(op, x);
  ANVIL_CHECK(x.dtype() != DType::boolean, "{}: bool tensors are not supported, got {}", op,
              x.describe());
  return x.dtype();
}

// PyTorch's result_type of a tensor and scalars: a scalar changes the dtype only when it is of a
// higher category (bool < integer < floating) than the tensor, and then gives its default dtype.
DType result_type(DType t, const Scalar& s) {
  return dtype_category(s.default_dtype()) > dtype_category(t) ? s.default_dtype() : t;
}

// Runs `op` on x converted to `dtype`, into a new tensor of `out_dtype` (default: dtype).
template <OpId op>
Tensor apply(const Tensor& x, DType dtype, const UnaryArgs& args = {},
             std::optional<DType> out_dtype = std::nullopt) {
  const Tensor in = x.to(dtype);
  Tensor out = empty(x.shape(), TensorOptions(out_dtype.value_or(dtype), x.device()));
  if (out.numel() > 0) kernel<op>(x.device(), dtype)(out, in, args);
  return out;
}

// Runs `op` in place on x, whose dtype must be the op's result dtype `dtype`.
template <OpId op>
Tensor& apply_(Tensor& x, DType dtype, const UnaryArgs& args = {}) {
  const char* name = op_name(op);
  ANVIL_CHECK(dtype == x.dtype(), "{}_: the result type {} can't be written into {}", name,
              dtype_name(dtype), x.describe());
  for (int64_t d = 0; d < x.dim(); ++d) {
    ANVIL_CHECK(x.stride(d) != 0 || x.size(d) <= 1,
                "{}_: {} has several elements at one memory location (an expanded view); "
                "clone it before writing in place",
                name, x.describe());
  }
  if (x.numel() > 0) kernel<op>(x.device(), dtype)(x, x, args);
  x.bump_version();
  return x;
}

DType square_result(const char* op, const Tensor& x) {
  check_input(op, x);
  return x.dtype() == DType::boolean ? DType::i64 : x.dtype();
}

DType round_result(const char* op, const Tensor& x, int64_t decimals) {
  const DType t = no_bool(op, x);
  ANVIL_CHECK(decimals == 0 || x.is_floating_point(),
              "{}: decimals={} needs a floating-point tensor, got {}", op, decimals, x.describe());
  return t;
}

// The bound that leaves every element of dtype t unchanged.
Scalar no_bound(DType t, bool upper) {
  return visit_dtype(t, [&]<class T>() -> Scalar {
    if constexpr (is_floating_v<T>) {
      return upper ? INFINITY : -INFINITY;
    } else {
      return upper ? std::numeric_limits<T>::max() : std::numeric_limits<T>::lowest();
    }
  });
}

struct ClampPlan {
  DType dtype;
  UnaryArgs args;
};

ClampPlan plan_clamp(const char* op, const Tensor& x, const std::optional<Scalar>& min,
                     const std::optional<Scalar>& max) {
  check_input(op, x);
  ANVIL_CHECK(min || max, "{}: at least one of min and max must be given", op);
  DType t = x.dtype();
  if (min) t = result_type(t, *min);
  if (max) t = result_type(t, *max);
  ANVIL_CHECK(t != DType::boolean, "{}: bool tensors with bool bounds are not supported, got {}",
              op, x.describe());
  return {t, {min.value_or(no_bound(t, false)), max.value_or(no_bound(t, true))}};
}

DType pow_result(const char* op, DType t, const Scalar& exponent, const Tensor& x) {
  ANVIL_CHECK(t != DType::boolean, "{}: pow of bool {} with a bool exponent is not supported", op,
              x.describe());
  ANVIL_CHECK(!is_integral(t) || exponent.to_int() >= 0,
              "{}: integer tensor {} to the negative integer power {} is not allowed", op,
              x.describe(), exponent.str());
  return t;
}

// The largest finite value of a floating dtype.
double finite_max(DType t) {
  switch (t) {
    case DType::f16:
      return 65504.0;
    case DType::bf16:
      return 3.3895313892515355e38;
    case DType::f32:
      return FLT_MAX;
    default:
      return DBL_MAX;
  }
}

UnaryArgs nan_to_num_args(DType t, std::optional<double> nan, std::optional<double> posinf,
                          std::optional<double> neginf) {
  const double big = is_floating(t) ? finite_max(t) : 0.0;
  return {nan.value_or(0.0), posinf.value_or(big), neginf.value_or(-big)};
}

UnaryArgs elu_args(const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  return {alpha, scale, input_scale};
}

UnaryArgs gelu_args(GeluApprox approximate) {
  return {approximate == GeluApprox::tanh ? 1 : 0, 0, 0};
}

}  // namespace

// ---- functional --------------------------------------------------------------------------------

Tensor neg(const Tensor& x) {
  check_input("neg", x);
  ANVIL_CHECK(
      x.dtype() != DType::boolean,
      "neg: negation of bool tensor {} is not supported; use logical_not() to invert a mask",
      x.describe());
  return apply<OpId::neg>(x, x.dtype());
}
Tensor abs(const Tensor& x) {
  return apply<OpId::abs>(x, no_bool("abs", x));
}
Tensor sign(const Tensor& x) {
  check_input("sign", x);
  return apply<OpId::sign>(x, x.dtype());
}

#define ANVIL_FLOAT_UNARY(name)                    \
  Tensor name(const Tensor& x) {                   \
    check_input(#name, x);                         \
    return apply<OpId::name>(x, float_result(x));  \
  }                                                \
  Tensor& name##_(Tensor& x) {                     \
    check_input(#name "_", x);                     \
    return apply_<OpId::name>(x, float_result(x)); \
  }
ANVIL_FLOAT_UNARY(exp)
ANVIL_FLOAT_UNARY(expm1)
ANVIL_FLOAT_UNARY(log)
ANVIL_FLOAT_UNARY(log1p)
ANVIL_FLOAT_UNARY(log2)
ANVIL_FLOAT_UNARY(sqrt)
ANVIL_FLOAT_UNARY(rsqrt)
ANVIL_FLOAT_UNARY(reciprocal)
ANVIL_FLOAT_UNARY(sin)
ANVIL_FLOAT_UNARY(cos)
ANVIL_FLOAT_UNARY(tanh)
ANVIL_FLOAT_UNARY(sigmoid)
ANVIL_FLOAT_UNARY(erf)
#undef ANVIL_FLOAT_UNARY

Tensor square(const Tensor& x) {
  return apply<OpId::square>(x, square_result("square", x));
}
Tensor relu(const Tensor& x) {
  return apply<OpId::relu>(x, no_bool("relu", x));
}
Tensor relu6(const Tensor& x) {
  return apply<OpId::relu6>(x, no_bool("relu6", x));
}
Tensor leaky_relu(const Tensor& x, const Scalar& negative_slope) {
  return apply<OpId::leaky_relu>(x, floating_only("leaky_relu", x), {negative_slope});
}
Tensor elu(const Tensor& x, const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  return apply<OpId::elu>(x, floating_only("elu", x), elu_args(alpha, scale, input_scale));
}
Tensor gelu(const Tensor& x, GeluApprox approximate) {
  return apply<OpId::gelu>(x, floating_only("gelu", x), gelu_args(approximate));
}
Tensor silu(const Tensor& x) {
  return apply<OpId::silu>(x, floating_only("silu", x));
}
Tensor softplus(const Tensor& x, const Scalar& beta, const Scalar& threshold) {
  return apply<OpId::softplus>(x, floating_only("softplus", x), {beta, threshold});
}
Tensor hardswish(const Tensor& x) {
  return apply<OpId::hardswish>(x, floating_only("hardswish", x));
}
Tensor floor(const Tensor& x) {
  return apply<OpId::floor>(x, no_bool("floor", x));
}
Tensor ceil(const Tensor& x) {
  return apply<OpId::ceil>(x, no_bool("ceil", x));
}
Tensor round(const Tensor& x, int64_t decimals) {
  return apply<OpId::round>(x, round_result("round", x, decimals), {decimals});
}
Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  const ClampPlan p = plan_clamp("clamp", x, min, max);
  return apply<OpId::clamp>(x, p.dtype, p.args);
}
Tensor pow(const Tensor& x, const Scalar& exponent) {
  check_input("pow", x);
  const DType t = pow_result("pow", result_type(x.dtype(), exponent), exponent, x);
  return apply<OpId::pow_tensor_scalar>(x, t, {exponent});
}
Tensor pow(const Scalar& base, const Tensor& exponent) {
  check_input("pow", exponent);
  const DType t = result_type(exponent.dtype(), base);
  ANVIL_CHECK(t != DType::boolean, "pow: bool base {} with bool exponent {} is not supported",
              base.str(), exponent.describe());
  return apply<OpId::pow_scalar_tensor>(exponent, t, {base});
}
Tensor nan_to_num(const Tensor& x, std::optional<double> nan, std::optional<double> posinf,
                  std::optional<double> neginf) {
  check_input("nan_to_num", x);
  return apply<OpId::nan_to_num>(x, x.dtype(), nan_to_num_args(x.dtype(), nan, posinf, neginf));
}
Tensor logical_not(const Tensor& x) {
  check_input("logical_not", x);
  return apply<OpId::logical_not>(x, x.dtype(), {}, DType::boolean);
}

// ---- in place ----------------------------------------------------------------------------------

Tensor& neg_(Tensor& x) {
  check_input("neg_", x);
  ANVIL_CHECK(x.dtype() != DType::boolean,
              "neg_: negation of bool tensor {} is not supported; use logical_not_() to invert a "
              "mask",
              x.describe());
  return apply_<OpId::neg>(x, x.dtype());
}
Tensor& abs_(Tensor& x) {
  return apply_<OpId::abs>(x, no_bool("abs_", x));
}
Tensor& sign_(Tensor& x) {
  check_input("sign_", x);
  return apply_<OpId::sign>(x, x.dtype());
}
Tensor& square_(Tensor& x) {
  return apply_<OpId::square>(x, square_result("square_", x));
}
Tensor& relu_(Tensor& x) {
  return apply_<OpId::relu>(x, no_bool("relu_", x));
}
Tensor& relu6_(Tensor& x) {
  return apply_<OpId::relu6>(x, no_bool("relu6_", x));
}
Tensor& leaky_relu_(Tensor& x, const Scalar& negative_slope) {
  return apply_<OpId::leaky_relu>(x, floating_only("leaky_relu_", x), {negative_slope});
}
Tensor& elu_(Tensor& x, const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  return apply_<OpId::elu>(x, floating_only("elu_", x), elu_args(alpha, scale, input_scale));
}
Tensor& gelu_(Tensor& x, GeluApprox approximate) {
  return apply_<OpId::gelu>(x, floating_only("gelu_", x), gelu_args(approximate));
}
Tensor& silu_(Tensor& x) {
  return apply_<OpId::silu>(x, floating_only("silu_", x));
}
Tensor& hardswish_(Tensor& x) {
  return apply_<OpId::hardswish>(x, floating_only("hardswish_", x));
}
Tensor& floor_(Tensor& x) {
  return apply_<OpId::floor>(x, no_bool("floor_", x));
}
Tensor& ceil_(Tensor& x) {
  return apply_<OpId::ceil>(x, no_bool("ceil_", x));
}
Tensor& round_(Tensor& x, int64_t decimals) {
  return apply_<OpId::round>(x, round_result("round_", x, decimals), {decimals});
}
Tensor& clamp_(Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  const ClampPlan p = plan_clamp("clamp_", x, min, max);
  return apply_<OpId::clamp>(x, p.dtype, p.args);
}
Tensor& pow_(Tensor& x, const Scalar& exponent) {
  check_input("pow_", x);
  const DType t = pow_result("pow_", result_type(x.dtype(), exponent), exponent, x);
  return apply_<OpId::pow_tensor_scalar>(x, t, {exponent});
}
Tensor& nan_to_num_(Tensor& x, std::optional<double> nan, std::optional<double> posinf,
                    std::optional<double> neginf) {
  check_input("nan_to_num_", x);
  return apply_<OpId::nan_to_num>(x, x.dtype(), nan_to_num_args(x.dtype(), nan, posinf, neginf));
}
Tensor& logical_not_(Tensor& x) {
  check_input("logical_not_", x);
  // In place the result keeps x's dtype (1 where x was zero), as PyTorch's logical_not_.
  Tensor r = logical_not(x);
  x.copy_(r);
  return x;
}

}  // namespace anvil::ops
