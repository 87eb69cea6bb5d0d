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

namespace ops {

#include "tensor/ops/binary.inc"  // IWYU pragma: export

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

// ReLU's and threshold's derivative in one pass (PyTorch's threshold_backward): grad where
// self > threshold, else 0 (a NaN in self passes the gradient). Broadcasts and promotes as mul.
Tensor threshold_backward(const Tensor& grad, const Tensor& self, const Scalar& threshold);

}  // namespace ops

// Kernels. The front-end broadcasts every input to out's shape (stride-0 views) and casts them
// to the op's compute dtype, which selects the kernel; out has that dtype too, except for
// comparisons and logical ops (bool out). `param` is alpha (add, sub) or value (addcmul,
// addcdiv) or threshold (threshold_backward), unused elsewhere. where's first input is the bool
// condition; lerp's third is the weight.
using BinaryKernel = void (*)(const Tensor& out, const Tensor& a, const Tensor& b,
                              const Scalar& param);
using TernaryKernel = void (*)(const Tensor& out, const Tensor& a, const Tensor& b, const Tensor& c,
                               const Scalar& param);

// pow_tensor: the unary family owns the Scalar-exponent pow.
#define ANVIL_BINARY_OPS(X)           \
  X(add, BinaryKernel)                \
  X(sub, BinaryKernel)                \
  X(mul, BinaryKernel)                \
  X(div, BinaryKernel)                \
  X(div_trunc, BinaryKernel)          \
  X(floor_divide, BinaryKernel)       \
  X(remainder, BinaryKernel)          \
  X(pow_tensor, BinaryKernel)         \
  X(maximum, BinaryKernel)            \
  X(minimum, BinaryKernel)            \
  X(atan2, BinaryKernel)              \
  X(eq, BinaryKernel)                 \
  X(ne, BinaryKernel)                 \
  X(lt, BinaryKernel)                 \
  X(le, BinaryKernel)                 \
  X(gt, BinaryKernel)                 \
  X(ge, BinaryKernel)                 \
  X(logical_and, BinaryKernel)        \
  X(logical_or, BinaryKernel)         \
  X(logical_xor, BinaryKernel)        \
  X(threshold_backward, BinaryKernel) \
  X(where, TernaryKernel)             \
  X(lerp, TernaryKernel)              \
  X(addcmul, TernaryKernel)           \
  X(addcdiv, TernaryKernel)

}  // namespace anvil
