// Elementwise unary ops: math functions, activations, rounding, clamp, scalar powers.
#pragma once

#include <optional>

#include "tensor/tensor.h"

namespace anvil {

Tensor neg(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor expm1(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor log2(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor square(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor relu6(const Tensor& x);
Tensor leaky_relu(const Tensor& x, const Scalar& negative_slope = 0.01);
Tensor elu(const Tensor& x, const Scalar& alpha = 1.0, const Scalar& scale = 1,
           const Scalar& input_scale = 1);
Tensor gelu(const Tensor& x, GeluApprox approximate = GeluApprox::none);
Tensor silu(const Tensor& x);
Tensor softplus(const Tensor& x, const Scalar& beta = 1, const Scalar& threshold = 20);
Tensor hardswish(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor floor(const Tensor& x);
Tensor ceil(const Tensor& x);
// Rounds half to even; decimals > 0 rounds to that many digits after the point, < 0 before it.
Tensor round(const Tensor& x, int64_t decimals = 0);
// At least one bound is required; where min > max every element becomes max.
Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt);
Tensor pow(const Tensor& x, const Scalar& exponent);
Tensor pow(const Scalar& base, const Tensor& exponent);
// Unset posinf/neginf mean the dtype's largest and lowest finite values.
Tensor nan_to_num(const Tensor& x, std::optional<double> nan = 0.0,
                  std::optional<double> posinf = std::nullopt,
                  std::optional<double> neginf = std::nullopt);
Tensor logical_not(const Tensor& x);

// In place: the result is written into x (any layout) and must keep x's dtype.
Tensor& neg_(Tensor& x);
Tensor& abs_(Tensor& x);
Tensor& sign_(Tensor& x);
Tensor& exp_(Tensor& x);
Tensor& expm1_(Tensor& x);
Tensor& log_(Tensor& x);
Tensor& log1p_(Tensor& x);
Tensor& log2_(Tensor& x);
Tensor& sqrt_(Tensor& x);
Tensor& rsqrt_(Tensor& x);
Tensor& reciprocal_(Tensor& x);
Tensor& square_(Tensor& x);
Tensor& sin_(Tensor& x);
Tensor& cos_(Tensor& x);
Tensor& tanh_(Tensor& x);
Tensor& sigmoid_(Tensor& x);
Tensor& relu_(Tensor& x);
Tensor& relu6_(Tensor& x);
Tensor& leaky_relu_(Tensor& x, const Scalar& negative_slope = 0.01);
Tensor& elu_(Tensor& x, const Scalar& alpha = 1.0, const Scalar& scale = 1,
             const Scalar& input_scale = 1);
Tensor& gelu_(Tensor& x, GeluApprox approximate = GeluApprox::none);
Tensor& silu_(Tensor& x);
Tensor& hardswish_(Tensor& x);
Tensor& erf_(Tensor& x);
Tensor& floor_(Tensor& x);
Tensor& ceil_(Tensor& x);
Tensor& round_(Tensor& x, int64_t decimals = 0);
Tensor& clamp_(Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt);
Tensor& pow_(Tensor& x, const Scalar& exponent);
Tensor& nan_to_num_(Tensor& x, std::optional<double> nan = 0.0,
                    std::optional<double> posinf = std::nullopt,
                    std::optional<double> neginf = std::nullopt);
Tensor& logical_not_(Tensor& x);

// Op parameters, meaning per op: leaky_relu a=slope; elu a=alpha b=scale c=input_scale; gelu
// a=1 for the tanh form; softplus a=beta b=threshold; round a=decimals; clamp a=min b=max
// (a bound that is not set is passed as ±inf or the integer limit); pow_tensor_scalar a=exponent;
// pow_scalar_tensor a=base; nan_to_num a=nan b=posinf c=neginf.
struct UnaryArgs {
  Scalar a = 0, b = 0, c = 0;
};
// out and in have the same shape and dtype (logical_not: out is bool); they may be the same
// tensor (in-place ops).
using UnaryKernel = void (*)(const Tensor& out, const Tensor& in, const UnaryArgs& args);

#define ANVIL_UNARY_OPS(X)          \
  X(neg, UnaryKernel)               \
  X(abs, UnaryKernel)               \
  X(sign, UnaryKernel)              \
  X(exp, UnaryKernel)               \
  X(expm1, UnaryKernel)             \
  X(log, UnaryKernel)               \
  X(log1p, UnaryKernel)             \
  X(log2, UnaryKernel)              \
  X(sqrt, UnaryKernel)              \
  X(rsqrt, UnaryKernel)             \
  X(reciprocal, UnaryKernel)        \
  X(square, UnaryKernel)            \
  X(sin, UnaryKernel)               \
  X(cos, UnaryKernel)               \
  X(tanh, UnaryKernel)              \
  X(sigmoid, UnaryKernel)           \
  X(relu, UnaryKernel)              \
  X(relu6, UnaryKernel)             \
  X(leaky_relu, UnaryKernel)        \
  X(elu, UnaryKernel)               \
  X(gelu, UnaryKernel)              \
  X(silu, UnaryKernel)              \
  X(softplus, UnaryKernel)          \
  X(hardswish, UnaryKernel)         \
  X(erf, UnaryKernel)               \
  X(floor, UnaryKernel)             \
  X(ceil, UnaryKernel)              \
  X(round, UnaryKernel)             \
  X(clamp, UnaryKernel)             \
  X(pow_tensor_scalar, UnaryKernel) \
  X(pow_scalar_tensor, UnaryKernel) \
  X(nan_to_num, UnaryKernel)        \
  X(logical_not, UnaryKernel)

}  // namespace anvil
