// Linear algebra: matrix products (matmul, mm, bmm, addmm, linear, outer, dot), all reduced by
// their front-ends to one batched GEMM kernel over views.
#pragma once

#include <optional>

#include "tensor/tensor.h"

namespace anvil {

namespace ops {

#include "tensor/ops/linalg.inc"  // IWYU pragma: export

}  // namespace ops

// Kernel: out[..., M, N] = alpha * a[..., M, K] @ b[..., K, N] + beta * out. The three operands
// have the same batch dims (broadcast ones as stride-0 views) and any strides; beta = 0 means
// out is written without being read. K = 0 gives beta * out.
using GemmKernel = void (*)(const Tensor& out, const Tensor& a, const Tensor& b,
                            const Scalar& alpha, const Scalar& beta);

#define ANVIL_LINALG_OPS(X) X(gemm, GemmKernel)

}  // namespace anvil
