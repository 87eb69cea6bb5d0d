// Elementwise unary ops: math functions, activations, rounding, clamp, scalar powers.
#pragma once

#include <optional>

#include "tensor/tensor.h"

namespace anvil {

namespace ops {

#include "tensor/ops/unary.inc"  // IWYU pragma: export

Tensor logical_not(const Tensor& x);
Tensor& logical_not_(Tensor& x);

}  // namespace ops

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
