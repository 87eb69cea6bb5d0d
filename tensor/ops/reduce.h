// Reductions (sum, mean, prod, amax/amin, max/min, argmax/argmin, var/std, norm, logsumexp,
// all/any), the cumulative sum, and softmax/log_softmax, with PyTorch's names, defaults,
// result dtypes and shapes.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace anvil {

// dims: the dims to reduce (negative dims count from the end; empty = all dims).
// dtype: the result dtype; the input is converted to it before reducing.
// Integer and bool inputs sum and multiply to i64, as in PyTorch.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false,
           std::optional<DType> dtype = std::nullopt);
Tensor prod(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false,
            std::optional<DType> dtype = std::nullopt);
// Floating inputs only, unless a floating dtype is given.
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false,
            std::optional<DType> dtype = std::nullopt);
// NaN propagates; reducing a zero-size dim is an error.
Tensor amax(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// The largest / smallest element as a 0-d tensor (an error for an empty tensor).
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
// (values, i64 indices) along `dim`: the first occurrence of the extreme, or of the first NaN.
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
// Without a dim: the index into the flattened tensor.
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
// Variance with Bessel-style `correction` (divides by max(0, N - correction)); floating only.
Tensor var(const Tensor& x, const std::vector<int64_t>& dims = {}, double correction = 1,
           bool keepdim = false);
Tensor std(const Tensor& x, const std::vector<int64_t>& dims = {}, double correction = 1,
           bool keepdim = false);
// (var, mean) and (std, mean).
std::pair<Tensor, Tensor> var_mean(const Tensor& x, const std::vector<int64_t>& dims = {},
                                   double correction = 1, bool keepdim = false);
std::pair<Tensor, Tensor> std_mean(const Tensor& x, const std::vector<int64_t>& dims = {},
                                   double correction = 1, bool keepdim = false);
// The vector p-norm over dims: p = 0 counts nonzeros, inf / -inf take the max / min of |x|.
Tensor norm(const Tensor& x, double p = 2, const std::vector<int64_t>& dims = {},
            bool keepdim = false);
// log(sum(exp(x))), computed as m + log(sum(exp(x - m))); integer inputs give f32.
Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
// Whether all / any elements are nonzero: bool (u8 for a u8 input, as in PyTorch).
Tensor all(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor any(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Running sum along `dim`; integer and bool inputs give i64 unless dtype is given.
Tensor cumsum(const Tensor& x, int64_t dim, std::optional<DType> dtype = std::nullopt);
// Over one dim, numerically stable; dtype (floating) converts the input first.
Tensor softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype = std::nullopt);
Tensor log_softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype = std::nullopt);

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
