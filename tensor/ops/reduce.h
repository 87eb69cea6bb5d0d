// Reductions (sum, mean, prod, amax/amin, max/min, argmax/argmin, var/std, norm, logsumexp,
// all/any), the cumulative sum, and softmax/log_softmax, with PyTorch's names, defaults,
// result dtypes and shapes.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace anvil {

namespace ops {

#include "tensor/ops/reduce.inc"  // IWYU pragma: export

// Without a dim: the index into the flattened tensor.
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
// Whether all / any elements are nonzero: bool (u8 for a u8 input, as in PyTorch).
Tensor all(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor any(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);

}  // namespace ops

// Kernels. Input and output have the same dtype unless said otherwise.
// Reduces the dims of `dims` (a bit mask) of `in` into `out`, which has the keepdim shape
// (reduced dims of size 1). `arg` carries the op's parameter: var/std the correction, norm p.
// all/any write 0/1 into a bool or u8 `out` whatever the dtype of `in`.
using ReduceKernel = void (*)(const Tensor& out, const Tensor& in, uint64_t dims,
                              const Scalar& arg);
// Extreme values and their i64 indices along `dim`; outputs have the keepdim shape.
using ArgReduceKernel = void (*)(const Tensor& values, const Tensor& indices, const Tensor& in,
                                 int64_t dim);
// out and in have the same shape: cumsum, softmax and log_softmax along `dim`.
using DimKernel = void (*)(const Tensor& out, const Tensor& in, int64_t dim);

#define ANVIL_REDUCE_OPS(X)   \
  X(sum, ReduceKernel)        \
  X(prod, ReduceKernel)       \
  X(mean, ReduceKernel)       \
  X(amax, ReduceKernel)       \
  X(amin, ReduceKernel)       \
  X(var, ReduceKernel)        \
  X(std, ReduceKernel)        \
  X(norm, ReduceKernel)       \
  X(logsumexp, ReduceKernel)  \
  X(all, ReduceKernel)        \
  X(any, ReduceKernel)        \
  X(max_dim, ArgReduceKernel) \
  X(min_dim, ArgReduceKernel) \
  X(cumsum, DimKernel)        \
  X(softmax, DimKernel)       \
  X(log_softmax, DimKernel)

}  // namespace anvil
