// Elementwise binary and ternary ops: arithmetic, comparisons, logical ops, where, lerp,
// addcmul/addcdiv. All broadcast (NumPy rules) and promote types as PyTorch does.
#pragma once

#include "tensor/tensor.h"

namespace anvil {

// PyTorch's result_type: dimensioned tensors decide first, then 0-d tensors, then Scalars; a
// lower-priority operand changes the result only when its category (bool < integer < floating)
// is higher. A float Scalar counts as the default float dtype, an integer Scalar as i64.
DType result_type(const Tensor& a, const Tensor& b);
DType result_type(const Tensor& a, const Scalar& b);

// Arithmetic. Integer +, -, * wrap around; division of integers by zero throws.
Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha = 1);  // a + alpha * b
Tensor add(const Tensor& a, const Scalar& b, const Scalar& alpha = 1);
Tensor add(const Scalar& a, const Tensor& b, const Scalar& alpha = 1);
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha = 1);  // a - alpha * b
Tensor sub(const Tensor& a, const Scalar& b, const Scalar& alpha = 1);
Tensor sub(const Scalar& a, const Tensor& b, const Scalar& alpha = 1);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Scalar& b);
Tensor mul(const Scalar& a, const Tensor& b);
// none: true division (integers give f32); trunc/floor round the quotient and keep the dtype.
Tensor div(const Tensor& a, const Tensor& b, RoundingMode mode = RoundingMode::none);
Tensor div(const Tensor& a, const Scalar& b, RoundingMode mode = RoundingMode::none);
Tensor div(const Scalar& a, const Tensor& b, RoundingMode mode = RoundingMode::none);
Tensor floor_divide(const Tensor& a, const Tensor& b);
Tensor floor_divide(const Tensor& a, const Scalar& b);
Tensor floor_divide(const Scalar& a, const Tensor& b);
// The remainder with the sign of the divisor (Python's %).
Tensor remainder(const Tensor& a, const Tensor& b);
Tensor remainder(const Tensor& a, const Scalar& b);
Tensor remainder(const Scalar& a, const Tensor& b);
// pow with a Scalar exponent or base belongs to the unary family (tensor/ops/unary.h).
Tensor pow(const Tensor& base, const Tensor& exponent);
Tensor maximum(const Tensor& a, const Tensor& b);  // NaN propagates
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor atan2(const Tensor& a, const Tensor& b);  // integers give f32

// Comparisons (bool result).
Tensor eq(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Scalar& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Scalar& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Scalar& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Scalar& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Scalar& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Scalar& b);

// Logical ops on any dtypes (nonzero is true), bool result.
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);

// cond ? a : b elementwise; cond must be bool.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Scalar& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, const Scalar& b);
Tensor where(const Tensor& cond, const Scalar& a, const Scalar& b);

// start + weight * (end - start); floating dtypes, start, end (and a tensor weight) alike.
Tensor lerp(const Tensor& start, const Tensor& end, const Scalar& weight);
Tensor lerp(const Tensor& start, const Tensor& end, const Tensor& weight);
Tensor addcmul(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value = 1);
Tensor addcdiv(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value = 1);

// Kernels. The front-end broadcasts every input to out's shape (stride-0 views) and casts them
// to the op's compute dtype, which selects the kernel; out has that dtype too, except for
// comparisons and logical ops (bool out). `param` is alpha (add, sub) or value (addcmul,
// addcdiv), unused elsewhere. where's first input is the bool condition; lerp's third is the
// weight.
using BinaryKernel = void (*)(const Tensor& out, const Tensor& a, const Tensor& b,
                              const Scalar& param);
using TernaryKernel = void (*)(const Tensor& out, const Tensor& a, const Tensor& b, const Tensor& c,
                               const Scalar& param);

// pow_tensor: the unary family owns the Scalar-exponent pow.
#define ANVIL_BINARY_OPS(X)     \
  X(add, BinaryKernel)          \
  X(sub, BinaryKernel)          \
  X(mul, BinaryKernel)          \
  X(div, BinaryKernel)          \
  X(div_trunc, BinaryKernel)    \
  X(floor_divide, BinaryKernel) \
  X(remainder, BinaryKernel)    \
  X(pow_tensor, BinaryKernel)   \
  X(maximum, BinaryKernel)      \
  X(minimum, BinaryKernel)      \
  X(atan2, BinaryKernel)        \
  X(eq, BinaryKernel)           \
  X(ne, BinaryKernel)           \
  X(lt, BinaryKernel)           \
  X(le, BinaryKernel)           \
  X(gt, BinaryKernel)           \
  X(ge, BinaryKernel)           \
  X(logical_and, BinaryKernel)  \
  X(logical_or, BinaryKernel)   \
  X(logical_xor, BinaryKernel)  \
  X(where, TernaryKernel)       \
  X(lerp, TernaryKernel)        \
  X(addcmul, TernaryKernel)     \
  X(addcdiv, TernaryKernel)

}  // namespace anvil
