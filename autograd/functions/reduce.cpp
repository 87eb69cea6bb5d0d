// The reduce ops with their derivatives (formulas as PyTorch's derivatives.yaml and
// FunctionsManual.cpp: sum/mean broadcast the gradient back, prod handles zeros, amax/amin and
// max()/min() split it evenly among ties, max(dim)/min(dim) send it to the selected index,
// var/std/norm/logsumexp/softmax as noted at each node).
#include "autograd/functions/reduce.h"

#include <cmath>
#include <type_traits>

#include "autograd/autocast.h"
#include "autograd/function.h"
#include "autograd/functions/binary.h"
#include "autograd/functions/grad_utils.h"
#include "autograd/functions/index.h"
#include "autograd/functions/unary.h"
#include "autograd/saved_tensor.h"
#include "tensor/ops/factory.h"

namespace anvil {

namespace {

using autograd::SavedTensor;

// What a reduction's backward needs to know about its input and dims.
struct Reduction {
  Shape shape;                // the input's
  std::vector<int64_t> dims;  // as given (empty: all dims)
  bool keepdim = false;

  Reduction() = default;
  Reduction(const Tensor& x, std::vector<int64_t> d, bool k)
      : shape(x.shape()), dims(std::move(d)), keepdim(k) {}

  // A reduced result (or its gradient) with the reduced dims back as size 1.
  Tensor restore(const Tensor& t) const {
    return autograd::unsqueeze_reduced(t, shape, dims, keepdim);
  }
  // The gradient broadcast back to the input's shape.
  Tensor expand(const Tensor& g) const { return restore(g).expand(shape); }
  // How many input elements each result element reduces.
  int64_t count() const {
    const auto n = static_cast<int64_t>(shape.size());
    const uint64_t mask = dim_mask(dims, n, "backward");
    int64_t c = 1;
    for (int64_t d = 0; d < n; ++d) {
      if (mask >> d & 1) c *= shape[d];
    }
    return c;
  }
  // Sums `t` (of the input's shape) over the reduced dims, keeping them as size 1.
  Tensor sum_kept(const Tensor& t) const { return sum(t, dims, /*keepdim=*/true); }
};

// Base of the nodes of one reduction: the reduction and the usual release of saved tensors.
struct ReduceNode : autograd::Node {
  Reduction r;
  SavedTensor self, result;
  void release_variables() override {
    self.release();
    result.release();
  }
};

}  // namespace

// ---- sum, mean --------------------------------------------------------------------------------

namespace {

// y = sum(x, dims): dx = g broadcast back.
struct SumBackward final : ReduceNode {
  std::string name() const override { return "SumBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {r.expand(g[0])};
  }
};

// y = mean(x, dims): dx = g / N broadcast back.
struct MeanBackward final : ReduceNode {
  std::string name() const override { return "MeanBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const Tensor scaled = div(r.restore(g[0]), Scalar(static_cast<double>(r.count())));
    return {scaled.expand(r.shape)};
  }
};

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
           std::optional<DType> dtype) {
  dtype = autocast::reduction_dtype(autocast::Rule::fp32_on_cuda, x, dtype);
  Tensor out = autograd::raw([&]() -> Tensor { return ops::sum(x, dims, keepdim, dtype); });
  if (auto node = autograd::record<SumBackward>({x}, {out})) node->r = Reduction(x, dims, keepdim);
  return out;
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
            std::optional<DType> dtype) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::mean(x, dims, keepdim, dtype); });
  if (auto node = autograd::record<MeanBackward>({x}, {out})) {
    node->r = Reduction(x, dims, keepdim);
  }
  return out;
}

// ---- prod -------------------------------------------------------------------------------------

namespace {

// y = prod(x, dims). Per reduced slice with z zeros: z = 0 gives dx = g * y / x; z = 1 gives
// the product of the other elements at the zero and 0 elsewhere; z >= 2 gives 0 (PyTorch's
// prod_backward, for any set of dims and without a host sync).
struct ProdBackward final : ReduceNode {
  std::string name() const override { return "ProdBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const Tensor x = self.unpack(name()).to(g[0].dtype());  // the input as the op multiplied it
    const Tensor y = r.restore(result.unpack(name()));
    const Tensor gg = r.restore(g[0]);
    const Tensor is_zero = eq(x, 0);
    const Tensor zeros_per_slice = r.sum_kept(is_zero);
    const Tensor no_zero = mul(gg, div(y, x));  // used only where the slice has no zero
    const Tensor others = mul(gg, prod(where(is_zero, 1, x), r.dims, /*keepdim=*/true));
    const Tensor at_sole_zero = logical_and(is_zero, eq(zeros_per_slice, 1));
    return {where(eq(zeros_per_slice, 0), no_zero, where(at_sole_zero, others, 0))};
  }
};

}  // namespace

Tensor prod(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
            std::optional<DType> dtype) {
  dtype = autocast::reduction_dtype(autocast::Rule::fp32, x, dtype);
  Tensor out = autograd::raw([&]() -> Tensor { return ops::prod(x, dims, keepdim, dtype); });
  if (auto node = autograd::record<ProdBackward>({x}, {out})) {
    node->r = Reduction(x, dims, keepdim);
    node->self = SavedTensor(x);
    node->result = SavedTensor(out);
  }
  return out;
}

// ---- amax, amin, max(), min() -----------------------------------------------------------------

namespace {

// y = amax(x, dims) (or amin, max(), min()): the gradient split evenly among the elements equal
// to the extreme: dx = g / count * (x == y). max() and min() also count NaN as equal to a NaN
// result (PyTorch's evenly_distribute_backward); amax/amin do not (their gradient is then NaN,
// as PyTorch's scale_grad_by_count).
struct ExtremeBackward final : ReduceNode {
  bool nan_equal = false;
  std::string name() const override { return nan_equal ? "MaxBackward" : "AmaxBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const Tensor x = self.unpack(name());
    const Tensor y = r.restore(result.unpack(name()));
    Tensor mask = eq(x, y);
    if (nan_equal) mask = logical_or(mask, logical_and(ne(x, x), ne(y, y)));
    return {mul(div(r.restore(g[0]), r.sum_kept(mask)), mask)};
  }
};

Tensor record_extreme(const Tensor& x, const Tensor& out, const std::vector<int64_t>& dims,
                      bool keepdim, bool nan_equal) {
  if (auto node = autograd::record<ExtremeBackward>({x}, {out})) {
    node->r = Reduction(x, dims, keepdim);
    node->nan_equal = nan_equal;
    node->self = SavedTensor(x);
    node->result = SavedTensor(out);
  }
  return out;
}

}  // namespace

Tensor amax(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::amax(x, dims, keepdim); });
  return record_extreme(x, out, dims, keepdim, false);
}

Tensor amin(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::amin(x, dims, keepdim); });
  return record_extreme(x, out, dims, keepdim, false);
}

Tensor max(const Tensor& x) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::max(x); });
  return record_extreme(x, out, {}, false, true);
}

Tensor min(const Tensor& x) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::min(x); });
  return record_extreme(x, out, {}, false, true);
}

// ---- max(dim), min(dim) -----------------------------------------------------------------------

namespace {

// (values, indices) = max(x, dim): the gradient goes to the selected index only (PyTorch's
// value_selecting_reduction_backward). The indices output gets no gradient.
struct MaxDimBackward final : autograd::Node {
  Shape shape;
  int64_t dim = 0;
  bool keepdim = false;
  SavedTensor indices;
  std::string name() const override { return "MaxDimBackward"; }
  void release_variables() override { indices.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    if (shape.empty()) return {g[0]};  // a 0-d input is its own extreme
    Tensor idx = indices.unpack(name());
    Tensor gv = g[0];
    if (!keepdim) {
      idx = idx.unsqueeze(dim);
      gv = gv.unsqueeze(dim);
    }
    return {scatter(zeros(shape, TensorOptions(gv.dtype(), gv.device())), dim, idx, gv)};
  }
};

std::pair<Tensor, Tensor> record_max_dim(const Tensor& x, std::pair<Tensor, Tensor> out,
                                         int64_t dim, bool keepdim) {
  if (auto node = autograd::record<MaxDimBackward>({x}, {out.first, out.second})) {
    node->shape = x.shape();
    node->dim = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim(), "max");
    node->keepdim = keepdim;
    node->indices = SavedTensor(out.second);
  }
  return out;
}

}  // namespace

std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  auto out =
      autograd::raw([&]() -> std::pair<Tensor, Tensor> { return ops::max(x, dim, keepdim); });
  return record_max_dim(x, std::move(out), dim, keepdim);
}

std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  auto out =
      autograd::raw([&]() -> std::pair<Tensor, Tensor> { return ops::min(x, dim, keepdim); });
  return record_max_dim(x, std::move(out), dim, keepdim);
}

// ---- var, std, var_mean, std_mean -------------------------------------------------------------

namespace {

// var: dx = g * 2 / (N - correction) * (x - mean(x)) (PyTorch's var_backward, which divides by
// N - correction even where the forward clamps it at 0). std: the var gradient of
// g / (2 * std), 0 where std == 0 (PyTorch's std_backward). With the mean as a second output,
// its gradient g_mean / N is added.
struct VarBackward final : ReduceNode {
  bool is_std = false;
  bool with_mean = false;
  double correction = 1;
  std::string name() const override {
    return is_std ? (with_mean ? "StdMeanBackward" : "StdBackward")
                  : (with_mean ? "VarMeanBackward" : "VarBackward");
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const Tensor x = self.unpack(name());
    const auto n = static_cast<double>(r.count());
    Tensor gvar = r.restore(g[0]);
    if (is_std) {
      const Tensor s = r.restore(result.unpack(name()));
      gvar = where(eq(s, 0), 0, div(gvar, mul(s, 2)));
    }
    Tensor gx = mul(mul(gvar, Scalar(2.0 / (n - correction))), sub(x, mean(x, r.dims, true)));
    if (with_mean) gx = add(gx, div(r.restore(g[1]), Scalar(n)));
    return {gx};
  }
};

template <class Outs>
void record_variance(const Tensor& x, const Tensor& first, const Outs& outs,
                     const std::vector<int64_t>& dims, double correction, bool keepdim, bool is_std,
                     bool with_mean) {
  if (auto node = autograd::record_range<VarBackward>(std::vector<Tensor>{x}, outs)) {
    node->r = Reduction(x, dims, keepdim);
    node->is_std = is_std;
    node->with_mean = with_mean;
    node->correction = correction;
    node->self = SavedTensor(x);
    if (is_std) node->result = SavedTensor(first);
  }
}

}  // namespace

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::var(x, dims, correction, keepdim); });
  record_variance(x, out, std::vector<Tensor>{out}, dims, correction, keepdim, false, false);
  return out;
}

Tensor std(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::std(x, dims, correction, keepdim); });
  record_variance(x, out, std::vector<Tensor>{out}, dims, correction, keepdim, true, false);
  return out;
}

std::pair<Tensor, Tensor> var_mean(const Tensor& x, const std::vector<int64_t>& dims,
                                   double correction, bool keepdim) {
  auto out = autograd::raw(
      [&]() -> std::pair<Tensor, Tensor> { return ops::var_mean(x, dims, correction, keepdim); });
  record_variance(x, out.first, std::vector<Tensor>{out.first, out.second}, dims, correction,
                  keepdim, false, true);
  return out;
}

std::pair<Tensor, Tensor> std_mean(const Tensor& x, const std::vector<int64_t>& dims,
                                   double correction, bool keepdim) {
  auto out = autograd::raw(
      [&]() -> std::pair<Tensor, Tensor> { return ops::std_mean(x, dims, correction, keepdim); });
  record_variance(x, out.first, std::vector<Tensor>{out.first, out.second}, dims, correction,
                  keepdim, true, true);
  return out;
}

// ---- norm -------------------------------------------------------------------------------------

namespace {

// y = ||x||_p over dims (PyTorch's norm_backward): p = 0 has no gradient; p = 1 gives sign(x) g;
// p = 2 gives g x / y (0 where y == 0); p = +-inf splits g * sign(x) evenly among the elements
// with |x| == y (or NaN); other p give g sign(x) |x|^(p-1) / y^(p-1) (0 where y == 0, and for
// p < 1 also 0 where x == 0).
struct NormBackward final : ReduceNode {
  double p = 2;
  std::string name() const override { return "NormBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const Tensor x = self.unpack(name());
    if (p == 0) return {zeros_like(x)};
    const Tensor gg = r.restore(g[0]);
    if (p == 1) return {mul(sign(x), gg)};
    const Tensor y = r.restore(result.unpack(name()));
    if (p == 2) return {mul(gg, where(eq(y, 0), 0, div(x, y)))};
    if (std::isinf(p)) {
      const Tensor ax = abs(x);
      const Tensor mask = logical_or(eq(ax, y), ne(x, x));
      return {mul(sign(x), mul(div(gg, r.sum_kept(mask)), mask))};
    }
    if (p < 1) {
      const Tensor scaled = mul(sign(x), where(eq(x, 0), 0, pow(abs(x), Scalar(p - 1))));
      return {mul(mul(scaled, gg), pow(y, Scalar(1 - p)))};
    }
    const Tensor scaled =
        p < 2 ? mul(sign(x), pow(abs(x), Scalar(p - 1))) : mul(x, pow(abs(x), Scalar(p - 2)));
    const Tensor scale = where(eq(y, 0), 0, div(gg, pow(y, Scalar(p - 1))));
    return {mul(scaled, scale)};
  }
};

}  // namespace

Tensor norm(const Tensor& x, double p, const std::vector<int64_t>& dims, bool keepdim) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, x}) {
    return norm(cast(x), p, dims, keepdim);
  }
  Tensor out = autograd::raw([&]() -> Tensor { return ops::norm(x, p, dims, keepdim); });
  if (auto node = autograd::record<NormBackward>({x}, {out})) {
    node->r = Reduction(x, dims, keepdim);
    node->p = p;
    node->self = SavedTensor(x);
    if (p != 0 && p != 1) node->result = SavedTensor(out);
  }
  return out;
}

// ---- logsumexp --------------------------------------------------------------------------------

namespace {

// y = logsumexp(x, dims): dx = g * exp(x - y) (the softmax of x over dims).
struct LogsumexpBackward final : ReduceNode {
  std::string name() const override { return "LogsumexpBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const Tensor x = self.unpack(name());
    const Tensor y = r.restore(result.unpack(name()));
    return {mul(r.restore(g[0]), exp(sub(x, y)))};
  }
};

}  // namespace

Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, x}) {
    return logsumexp(cast(x), dims, keepdim);
  }
  Tensor out = autograd::raw([&]() -> Tensor { return ops::logsumexp(x, dims, keepdim); });
  if (auto node = autograd::record<LogsumexpBackward>({x}, {out})) {
    node->r = Reduction(x, dims, keepdim);
    node->self = SavedTensor(x);
    node->result = SavedTensor(out);
  }
  return out;
}

// ---- cumsum, softmax, log_softmax -------------------------------------------------------------

namespace {

// y = cumsum(x, dim): dx = the reversed cumulative sum of g along dim.
struct CumsumBackward final : autograd::Node {
  int64_t dim = 0;
  std::string name() const override { return "CumsumBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    if (g[0].dim() == 0) return {g[0]};
    return {flip(cumsum(flip(g[0], {dim}), dim), {dim})};
  }
};

// y = softmax(x, dim): dx = y * (g - sum(g * y, dim)).
struct SoftmaxBackward final : autograd::Node {
  int64_t dim = 0;
  SavedTensor result;
  std::string name() const override { return "SoftmaxBackward"; }
  void release_variables() override { result.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const Tensor y = result.unpack(name());
    return {mul(y, sub(g[0], sum(mul(g[0], y), {dim}, true)))};
  }
};

// y = log_softmax(x, dim): dx = g - exp(y) * sum(g, dim).
struct LogSoftmaxBackward final : autograd::Node {
  int64_t dim = 0;
  SavedTensor result;
  std::string name() const override { return "LogSoftmaxBackward"; }
  void release_variables() override { result.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const Tensor y = result.unpack(name());
    return {sub(g[0], mul(exp(y), sum(g[0], {dim}, true)))};
  }
};

template <class NodeT>
Tensor record_along_dim(const Tensor& x, const Tensor& out, int64_t dim) {
  if (auto node = autograd::record<NodeT>({x}, {out})) {
    node->dim = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim(), "backward");
    if constexpr (!std::is_same_v<NodeT, CumsumBackward>) node->result = SavedTensor(out);
  }
  return out;
}

}  // namespace

Tensor cumsum(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  dtype = autocast::reduction_dtype(autocast::Rule::fp32_on_cuda, x, dtype);
  Tensor out = autograd::raw([&]() -> Tensor { return ops::cumsum(x, dim, dtype); });
  return record_along_dim<CumsumBackward>(x, out, dim);
}

Tensor softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  dtype = autocast::reduction_dtype(autocast::Rule::fp32_on_cuda, x, dtype);
  Tensor out = autograd::raw([&]() -> Tensor { return ops::softmax(x, dim, dtype); });
  return record_along_dim<SoftmaxBackward>(x, out, dim);
}

Tensor log_softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  dtype = autocast::reduction_dtype(autocast::Rule::fp32_on_cuda, x, dtype);
  Tensor out = autograd::raw([&]() -> Tensor { return ops::log_softmax(x, dim, dtype); });
  return record_along_dim<LogSoftmaxBackward>(x, out, dim);
}

// ---- Tensor methods -------------------------------------------------------------------------

Tensor Tensor::sum(const std::vector<int64_t>& dims, bool keepdim) const {
  return anvil::sum(*this, dims, keepdim);
}
Tensor Tensor::mean(const std::vector<int64_t>& dims, bool keepdim) const {
  return anvil::mean(*this, dims, keepdim);
}
Tensor Tensor::max() const {
  return anvil::max(*this);
}
Tensor Tensor::min() const {
  return anvil::min(*this);
}
Tensor Tensor::argmax(std::optional<int64_t> dim, bool keepdim) const {
  return anvil::argmax(*this, dim, keepdim);
}
Tensor Tensor::softmax(int64_t dim) const {
  return anvil::softmax(*this, dim);
}
Tensor Tensor::log_softmax(int64_t dim) const {
  return anvil::log_softmax(*this, dim);
}

}  // namespace anvil
