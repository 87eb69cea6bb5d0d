// Reference reductions, cumsum and softmax: for every output element, the elements it reduces
// are gathered as doubles and the textbook formula is applied.
#include <cmath>
#include <limits>

#include "kernels/ref/ref_loops.h"
#include "tensor/dispatch.h"

namespace anvil::ref {

namespace {

// The elements of `in` that reduce into the output at `out_idx` (keepdim shape), in row-major
// order over the reduced dims.
std::vector<double> gather(const Tensor& in, uint64_t mask, const std::vector<int64_t>& out_idx) {
  Shape sub;
  for (int64_t d = 0; d < in.dim(); ++d) sub.push_back(mask & (1ull << d) ? in.size(d) : 1);
  std::vector<double> v;
  for_each_index(sub, [&](const std::vector<int64_t>& r) {
    std::vector<int64_t> idx = out_idx;
    for (size_t d = 0; d < idx.size(); ++d)
      if (mask & (1ull << d)) idx[d] = r[d];
    v.push_back(load(in, idx));
  });
  return v;
}

template <class F>
void reduce(const Tensor& out, const Tensor& in, uint64_t mask, const F& f) {
  for_each_index(out.shape(), [&](const std::vector<int64_t>& idx) {
    store(out, idx, f(gather(in, mask, idx)));
  });
}

double total(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

double mean_of(const std::vector<double>& v) {
  return total(v) / static_cast<double>(v.size());
}

double variance(const std::vector<double>& v, double correction) {
  const double m = mean_of(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return ss / std::max(0.0, static_cast<double>(v.size()) - correction);
}

// The largest (kMax) or smallest element and its first index; a NaN wins at its first place.
template <bool kMax>
std::pair<double, int64_t> extreme(const std::vector<double>& v) {
  std::pair<double, int64_t> best{v[0], 0};
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isnan(best.first)) break;
    if (std::isnan(v[i]) || (kMax ? v[i] > best.first : v[i] < best.first)) best = {v[i], i};
  }
  return best;
}

void sum_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar&) {
  reduce(out, in, mask, total);
}

void mean_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar&) {
  reduce(out, in, mask, mean_of);
}

void prod_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar&) {
  reduce(out, in, mask, [](const std::vector<double>& v) {
    double p = 1;
    for (double x : v) p *= x;
    return p;
  });
}

template <bool kMax>
void extreme_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar&) {
  reduce(out, in, mask, [](const std::vector<double>& v) { return extreme<kMax>(v).first; });
}

template <bool kStd>
void var_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar& correction) {
  reduce(out, in, mask, [&](const std::vector<double>& v) {
    const double var = variance(v, correction.to_double());
    return kStd ? std::sqrt(var) : var;
  });
}

void norm_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar& arg) {
  const double p = arg.to_double();
  reduce(out, in, mask, [p](const std::vector<double>& v) {
    double acc = p == -INFINITY ? INFINITY : 0.0;
    for (double x : v) {
      const double a = std::abs(x);
      if (std::isnan(a)) return a;
      if (p == INFINITY)
        acc = std::max(acc, a);
      else if (p == -INFINITY)
        acc = std::min(acc, a);
      else if (p == 0)
        acc += a != 0;
      else
        acc += std::pow(a, p);
    }
    return std::isinf(p) || p == 0 ? acc : std::pow(acc, 1.0 / p);
  });
}

void logsumexp_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar&) {
  reduce(out, in, mask, [](const std::vector<double>& v) {
    double m = -INFINITY;
    for (double x : v) m = std::isnan(x) || x > m ? x : m;
    if (std::isinf(m)) m = 0;  // all -inf gives log(0) = -inf; any +inf gives inf
    double s = 0;
    for (double x : v) s += std::exp(x - m);
    return m + std::log(s);
  });
}

template <bool kAll>
void all_any_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar&) {
  reduce(out, in, mask, [](const std::vector<double>& v) {
    for (double x : v)
      if ((x != 0) != kAll) return kAll ? 0.0 : 1.0;
    return kAll ? 1.0 : 0.0;
  });
}

template <bool kMax>
void arg_extreme_kernel(const Tensor& values, const Tensor& indices, const Tensor& in,
                        int64_t dim) {
  for_each_index(values.shape(), [&](const std::vector<int64_t>& idx) {
    const auto [v, i] = extreme<kMax>(gather(in, 1ull << dim, idx));
    store(values, idx, v);
    store(indices, idx, static_cast<double>(i));
  });
}

// Calls f(row, idx) for every line of `in` along `dim`: idx is the line's first index and
// row its values; f writes the results through idx.
template <class F>
void for_each_line(const Tensor& in, int64_t dim, const F& f) {
  Shape outer = in.shape();
  outer[dim] = 1;
  for_each_index(outer,
                 [&](const std::vector<int64_t>& idx) { f(gather(in, 1ull << dim, idx), idx); });
}

void store_line(const Tensor& out, int64_t dim, std::vector<int64_t> idx,
                const std::vector<double>& v) {
  for (size_t i = 0; i < v.size(); ++i) {
    idx[dim] = static_cast<int64_t>(i);
    store(out, idx, v[i]);
  }
}

void cumsum_kernel(const Tensor& out, const Tensor& in, int64_t dim) {
  for_each_line(in, dim, [&](std::vector<double> v, const std::vector<int64_t>& idx) {
    for (size_t i = 1; i < v.size(); ++i) v[i] += v[i - 1];
    store_line(out, dim, idx, v);
  });
}

template <bool kLog>
void softmax_kernel(const Tensor& out, const Tensor& in, int64_t dim) {
  for_each_line(in, dim, [&](std::vector<double> v, const std::vector<int64_t>& idx) {
    double m = -INFINITY;
    for (double x : v) m = std::max(m, x);
    double s = 0;
    for (double x : v) s += std::exp(x - m);
    for (double& x : v) x = kLog ? x - m - std::log(s) : std::exp(x - m) / s;
    store_line(out, dim, idx, v);
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(sum, ref, kNumericTypes, sum_kernel);
ANVIL_REGISTER_KERNEL(prod, ref, kNumericTypes, prod_kernel);
ANVIL_REGISTER_KERNEL(mean, ref, kFloatingTypes, mean_kernel);
ANVIL_REGISTER_KERNEL(amax, ref, kAllTypes, extreme_kernel<true>);
ANVIL_REGISTER_KERNEL(amin, ref, kAllTypes, extreme_kernel<false>);
ANVIL_REGISTER_KERNEL(var, ref, kFloatingTypes, var_kernel<false>);
ANVIL_REGISTER_KERNEL(std, ref, kFloatingTypes, var_kernel<true>);
ANVIL_REGISTER_KERNEL(norm, ref, kFloatingTypes, norm_kernel);
ANVIL_REGISTER_KERNEL(logsumexp, ref, kFloatingTypes, logsumexp_kernel);
ANVIL_REGISTER_KERNEL(all, ref, kAllTypes, all_any_kernel<true>);
ANVIL_REGISTER_KERNEL(any, ref, kAllTypes, all_any_kernel<false>);
ANVIL_REGISTER_KERNEL(max_dim, ref, kAllTypes, arg_extreme_kernel<true>);
ANVIL_REGISTER_KERNEL(min_dim, ref, kAllTypes, arg_extreme_kernel<false>);
ANVIL_REGISTER_KERNEL(cumsum, ref, kNumericTypes, cumsum_kernel);
ANVIL_REGISTER_KERNEL(softmax, ref, kFloatingTypes, softmax_kernel<false>);
ANVIL_REGISTER_KERNEL(log_softmax, ref, kFloatingTypes, softmax_kernel<true>);

}  // namespace anvil::ref
