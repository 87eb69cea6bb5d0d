// Reductions, cumsum and softmax: argument checks, result shapes and dtypes, then the kernel.
#include "tensor/ops/reduce.h"

#include "tensor/dispatch.h"
#include "tensor/ops/factory.h"

namespace anvil::ops {

namespace {

void check_defined(const Tensor& x, const char* op) {
  ANVIL_CHECK(x.defined(), "{}: the input tensor is undefined", op);
}

// The keepdim shape of reducing `mask` out of `shape`.
Shape kept_shape(const Shape& shape, uint64_t mask) {
  Shape out = shape;
  for (size_t d = 0; d < out.size(); ++d)
    if (mask & (1ull << d)) out[d] = 1;
  return out;
}

// Drops the reduced dims of a keepdim-shaped result unless keepdim.
Tensor finish_dims(const Tensor& out, const Shape& in_shape, uint64_t mask, bool keepdim) {
  if (keepdim) return out;
  Shape squeezed;
  for (size_t d = 0; d < in_shape.size(); ++d)
    if (!(mask & (1ull << d))) squeezed.push_back(in_shape[d]);
  return out.view(squeezed);
}

// Errors like PyTorch's when an op with no identity (max, amax, ...) reduces a zero-size dim.
void check_nonempty_dims(const Tensor& x, uint64_t mask, const char* op) {
  for (int64_t d = 0; d < x.dim(); ++d) {
    ANVIL_CHECK(!(mask & (1ull << d)) || x.size(d) != 0,
                "{}(): expected reduction dim {} to have non-zero size, but input {} has size 0 "
                "there",
                op, d, x.describe());
  }
}

void check_floating(const Tensor& x, const char* op) {
  ANVIL_CHECK(x.is_floating_point(), "{}: expected a floating point input, got {}", op,
              x.describe());
}

// Kernels see a 0-d tensor as one row of one element.
Tensor at_least_1d(const Tensor& t) {
  return t.dim() == 0 ? t.reshape({1}) : t;
}

// The kernel of an op chosen at run time; `Sig` must be the op's signature.
template <class Sig>
Sig runtime_kernel(OpId op, const Tensor& in) {
  return reinterpret_cast<Sig>(detail::lookup_kernel(op, backend_for(in.device()), in.dtype()));
}

// Runs a ReduceKernel op: `in` already has the kernel's dtype, `out_dtype` is the result's.
Tensor run_reduce(OpId op, const Tensor& in, uint64_t mask, bool keepdim, DType out_dtype,
                  const Scalar& arg = Scalar()) {
  Tensor out = empty(kept_shape(in.shape(), mask), TensorOptions(out_dtype, in.device()));
  if (out.numel() > 0) runtime_kernel<ReduceKernel>(op, in)(out, in, mask, arg);
  return finish_dims(out, in.shape(), mask, keepdim);
}

// sum and prod: integers and bool accumulate in i64 unless a dtype is asked for.
Tensor sum_like(OpId op, const char* name, const Tensor& x, const std::vector<int64_t>& dims,
                bool keepdim, std::optional<DType> dtype) {
  check_defined(x, name);
  const uint64_t mask = dim_mask(dims, x.dim(), name);
  const DType t = dtype.value_or(is_integral(x.dtype(), true) ? DType::i64 : x.dtype());
  return run_reduce(op, x.to(t), mask, keepdim, t);
}

Tensor extreme(OpId op, const char* name, const Tensor& x, const std::vector<int64_t>& dims,
               bool keepdim) {
  check_defined(x, name);
  const uint64_t mask = dim_mask(dims, x.dim(), name);
  check_nonempty_dims(x, mask, name);
  return run_reduce(op, x, mask, keepdim, x.dtype());
}

// max() / min() over everything.
Tensor full_extreme(OpId op, const char* name, const Tensor& x) {
  check_defined(x, name);
  ANVIL_CHECK(x.numel() > 0,
              "{}(): expected a non-empty input to reduce over all dims, got {}; specify the "
              "reduction dim with the dim argument",
              name, x.describe());
  return run_reduce(op, x, dim_mask({}, x.dim(), name), false, x.dtype());
}

std::pair<Tensor, Tensor> arg_extreme(OpId op, const char* name, const Tensor& x, int64_t dim,
                                      bool keepdim) {
  check_defined(x, name);
  const int64_t d = wrap_dim(dim, x.dim(), name);
  const uint64_t mask = x.dim() == 0 ? 0 : 1ull << d;
  check_nonempty_dims(x, mask, name);
  const Shape shape = kept_shape(x.shape(), mask);
  Tensor values = empty(shape, TensorOptions(x.dtype(), x.device()));
  Tensor indices = empty(shape, TensorOptions(DType::i64, x.device()));
  if (values.numel() > 0) {
    runtime_kernel<ArgReduceKernel>(op, x)(at_least_1d(values), at_least_1d(indices),
                                           at_least_1d(x), d);
  }
  return {finish_dims(values, x.shape(), mask, keepdim),
          finish_dims(indices, x.shape(), mask, keepdim)};
}

Tensor arg_index(OpId op, const char* name, const Tensor& x, std::optional<int64_t> dim,
                 bool keepdim) {
  check_defined(x, name);
  ANVIL_CHECK(x.dtype() != DType::boolean, "{}: bool inputs are not supported, got {}", name,
              x.describe());
  if (dim) return arg_extreme(op, name, x, *dim, keepdim).second;
  ANVIL_CHECK(x.numel() > 0,
              "{}(): expected a non-empty input when no dim is given, got {}; specify the "
              "reduction dim with the dim argument",
              name, x.describe());
  Tensor idx = arg_extreme(op, name, x.reshape({-1}), 0, false).second;
  return keepdim ? idx.reshape(Shape(x.dim(), 1)) : idx;
}

std::pair<Tensor, Tensor> variance(OpId op, const char* name, const Tensor& x,
                                   const std::vector<int64_t>& dims, double correction,
                                   bool keepdim, bool with_mean) {
  check_defined(x, name);
  check_floating(x, name);
  const uint64_t mask = dim_mask(dims, x.dim(), name);
  Tensor v = run_reduce(op, x, mask, keepdim, x.dtype(), correction);
  if (!with_mean) return {v, Tensor()};
  return {v, run_reduce(OpId::mean, x, mask, keepdim, x.dtype())};
}

// softmax / log_softmax / cumsum: the input converted to `t`, the kernel run over `dim`.
Tensor along_dim(OpId op, const char* name, const Tensor& x, int64_t dim, DType t) {
  const int64_t d = wrap_dim(dim, x.dim(), name);
  const Tensor in = x.to(t);
  Tensor out = empty(x.shape(), TensorOptions(t, x.device()));
  if (out.numel() > 0) runtime_kernel<DimKernel>(op, in)(at_least_1d(out), at_least_1d(in), d);
  return out;
}

Tensor softmax_like(OpId op, const char* name, const Tensor& x, int64_t dim,
                    std::optional<DType> dtype) {
  check_defined(x, name);
  const DType t = dtype.value_or(x.dtype());
  ANVIL_CHECK(is_floating(t),
              "{}: expected a floating point input or a floating dtype argument, got {}{}", name,
              x.describe(), dtype ? fmt::format(" with dtype {}", dtype_name(*dtype)) : "");
  return along_dim(op, name, x, dim, t);
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
           std::optional<DType> dtype) {
  return sum_like(OpId::sum, "sum", x, dims, keepdim, dtype);
}

Tensor prod(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
            std::optional<DType> dtype) {
  return sum_like(OpId::prod, "prod", x, dims, keepdim, dtype);
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
            std::optional<DType> dtype) {
  check_defined(x, "mean");
  const DType t = dtype.value_or(x.dtype());
  ANVIL_CHECK(is_floating(t),
              "mean(): could not infer the output dtype: expected a floating point input or "
              "dtype argument, got {}{}",
              x.describe(), dtype ? fmt::format(" with dtype {}", dtype_name(*dtype)) : "");
  const uint64_t mask = dim_mask(dims, x.dim(), "mean");
  return run_reduce(OpId::mean, x.to(t), mask, keepdim, t);
}

Tensor amax(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return extreme(OpId::amax, "amax", x, dims, keepdim);
}

Tensor amin(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return extreme(OpId::amin, "amin", x, dims, keepdim);
}

Tensor max(const Tensor& x) {
  return full_extreme(OpId::amax, "max", x);
}
Tensor min(const Tensor& x) {
  return full_extreme(OpId::amin, "min", x);
}

std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_extreme(OpId::max_dim, "max", x, dim, keepdim);
}

std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_extreme(OpId::min_dim, "min", x, dim, keepdim);
}

Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg_index(OpId::max_dim, "argmax", x, dim, keepdim);
}

Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg_index(OpId::min_dim, "argmin", x, dim, keepdim);
}

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  return variance(OpId::var, "var", x, dims, correction, keepdim, false).first;
}

Tensor std(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  return variance(OpId::std, "std", x, dims, correction, keepdim, false).first;
}

std::pair<Tensor, Tensor> var_mean(const Tensor& x, const std::vector<int64_t>& dims,
                                   double correction, bool keepdim) {
  return variance(OpId::var, "var_mean", x, dims, correction, keepdim, true);
}

std::pair<Tensor, Tensor> std_mean(const Tensor& x, const std::vector<int64_t>& dims,
                                   double correction, bool keepdim) {
  return variance(OpId::std, "std_mean", x, dims, correction, keepdim, true);
}

Tensor norm(const Tensor& x, double p, const std::vector<int64_t>& dims, bool keepdim) {
  check_defined(x, "norm");
  check_floating(x, "norm");
  return run_reduce(OpId::norm, x, dim_mask(dims, x.dim(), "norm"), keepdim, x.dtype(), p);
}

Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check_defined(x, "logsumexp");
  const DType t = x.is_floating_point() ? x.dtype() : kDefaultFloat;
  return run_reduce(OpId::logsumexp, x.to(t), dim_mask(dims, x.dim(), "logsumexp"), keepdim, t);
}

Tensor all(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check_defined(x, "all");
  const DType t = x.dtype() == DType::u8 ? DType::u8 : DType::boolean;
  return run_reduce(OpId::all, x, dim_mask(dims, x.dim(), "all"), keepdim, t);
}

Tensor any(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check_defined(x, "any");
  const DType t = x.dtype() == DType::u8 ? DType::u8 : DType::boolean;
  return run_reduce(OpId::any, x, dim_mask(dims, x.dim(), "any"), keepdim, t);
}

Tensor cumsum(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  check_defined(x, "cumsum");
  const DType t = dtype.value_or(is_integral(x.dtype(), true) ? DType::i64 : x.dtype());
  return along_dim(OpId::cumsum, "cumsum", x, dim, t);
}

Tensor softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  return softmax_like(OpId::softmax, "softmax", x, dim, dtype);
}

Tensor log_softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  return softmax_like(OpId::log_softmax, "log_softmax", x, dim, dtype);
}

}  // namespace anvil::ops
