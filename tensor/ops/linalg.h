// Linear algebra: matrix products (matmul, mm, bmm, addmm, linear, outer, dot), all reduced by
// their front-ends to one batched GEMM kernel over views.
#pragma once

#include <optional>

#include "tensor/tensor.h"

namespace anvil {

// torch.matmul: 1-D . 1-D is a dot product (0-d result); a 1-D lhs (rhs) gets a dim prepended
// (appended) that is removed from the result; N-D operands broadcast their batch dims
// ([2,1,3,4] @ [5,4,6] -> [2,5,3,6]).
Tensor matmul(const Tensor& lhs, const Tensor& rhs);
// [n,m] @ [m,p] -> [n,p], 2-D operands only.
Tensor mm(const Tensor& lhs, const Tensor& rhs);
// [b,n,m] @ [b,m,p] -> [b,n,p], 3-D operands with equal batch sizes only.
Tensor bmm(const Tensor& batch1, const Tensor& batch2);
// beta * self + alpha * (mat1 @ mat2), self broadcast to [n,p]. beta = 0 ignores self's values
// (NaN and inf in self do not propagate), as in PyTorch.
Tensor addmm(const Tensor& self, const Tensor& mat1, const Tensor& mat2, const Scalar& beta = 1,
             const Scalar& alpha = 1);
// input [..., in] @ weight.T + bias, weight [out, in] (or [in]: the out dim is dropped).
Tensor linear(const Tensor& input, const Tensor& weight,
              const std::optional<Tensor>& bias = std::nullopt);
// a [n], b [m] -> [n,m] with a[i] * b[j]; dtypes promote (as torch.outer), bool included.
Tensor outer(const Tensor& a, const Tensor& b);
// Two 1-D tensors of equal size -> 0-d sum of products.
Tensor dot(const Tensor& lhs, const Tensor& rhs);

// Kernel: out[..., M, N] = alpha * a[..., M, K] @ b[..., K, N] + beta * out. The three operands
// have the same batch dims (broadcast ones as stride-0 views) and any strides; beta = 0 means
// out is written without being read. K = 0 gives beta * out.
using GemmKernel = void (*)(const Tensor& out, const Tensor& a, const Tensor& b,
                            const Scalar& alpha, const Scalar& beta);

#define ANVIL_LINALG_OPS(X) X(gemm, GemmKernel)

}  // namespace anvil
