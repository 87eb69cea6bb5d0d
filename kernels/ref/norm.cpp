// Reference normalization kernels: each normalized set (a channel, a row, a group) is gathered
// as doubles, and the textbook formulas are applied: mean, biased variance (two passes),
// xhat = (x - mean) / sqrt(var + eps), y = xhat * weight + bias; backward as the derivative of
// those formulas written out per element, with the statistics the forward saved.
#include <cmath>
#include <vector>

#include "kernels/ref/ref_loops.h"
#include "tensor/dispatch.h"

namespace anvil::ref {

namespace {

using Index = std::vector<int64_t>;

// Element i of a 1-D tensor (a braced {i} would pick ref_loops' storage-offset overload).
double at(const Tensor& t, int64_t i) {
  return load(t, Index{i});
}
void put(const Tensor& t, int64_t i, double v) {
  store(t, Index{i}, v);
}

double param(const Tensor& p, int64_t i, double absent) {
  return p.defined() ? at(p, i) : absent;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double var_of(const std::vector<double>& v, double mean) {
  double s = 0;
  for (double x : v) s += (x - mean) * (x - mean);
  return s / static_cast<double>(v.size());
}

// The [N, C, S] multi-indices of channel c.
std::vector<std::vector<int64_t>> channel_indices(const Tensor& x, int64_t c) {
  std::vector<std::vector<int64_t>> out;
  for (int64_t n = 0; n < x.size(0); ++n)
    for (int64_t s = 0; s < x.size(2); ++s) out.push_back({n, c, s});
  return out;
}

// The [M, K] multi-indices of row r.
std::vector<std::vector<int64_t>> row_indices(const Tensor& x, int64_t r) {
  std::vector<std::vector<int64_t>> out;
  for (int64_t k = 0; k < x.size(1); ++k) out.push_back({r, k});
  return out;
}

// The [N, C, S] multi-indices of group g of sample n (C / G channels), and their channels.
std::vector<std::vector<int64_t>> group_indices(const Tensor& x, int64_t groups, int64_t n,
                                                int64_t g) {
  std::vector<std::vector<int64_t>> out;
  const int64_t cg = x.size(1) / groups;
  for (int64_t c = g * cg; c < (g + 1) * cg; ++c)
    for (int64_t s = 0; s < x.size(2); ++s) out.push_back({n, c, s});
  return out;
}

std::vector<double> gather(const Tensor& t, const std::vector<std::vector<int64_t>>& idx) {
  std::vector<double> v;
  for (const auto& i : idx) v.push_back(load(t, i));
  return v;
}

// Normalizes the elements at `idx` of x into y (channel of each element: idx[channel_dim] for
// weight and bias, or the element's position for row norms); returns (mean, rstd).
template <class ParamIndex>
std::pair<double, double> normalize(const Tensor& y, const Tensor& x,
                                    const std::vector<std::vector<int64_t>>& idx,
                                    const Tensor& weight, const Tensor& bias, double eps,
                                    const ParamIndex& param_index) {
  const std::vector<double> v = gather(x, idx);
  const double mean = mean_of(v);
  const double rstd = 1.0 / std::sqrt(var_of(v, mean) + eps);
  for (size_t i = 0; i < idx.size(); ++i) {
    const int64_t p = param_index(idx[i]);
    store(y, idx[i], (v[i] - mean) * rstd * param(weight, p, 1) + param(bias, p, 0));
  }
  return {mean, rstd};
}

// The gradients of y = (x - mean) * rstd * w + b over one normalized set, from the saved mean
// and rstd. With xhat_i = (x_i - mean) * rstd and n elements, a training-mode (statistics
// depend on x) input gradient is
//   dx_i = rstd * (w_i g_i - (1/n) sum_j w_j g_j - xhat_i (1/n) sum_j w_j g_j xhat_j),
// else dx_i = rstd * w_i * g_i. Weight and bias gradients are accumulated into gw, gb.
template <class ParamIndex>
void normalize_backward(const Tensor& grad_input, const Tensor& grad_out, const Tensor& x,
                        const std::vector<std::vector<int64_t>>& idx, double mean, double rstd,
                        const Tensor& weight, bool stats_depend_on_x, const ParamIndex& param_index,
                        std::vector<double>& gw, std::vector<double>& gb) {
  const std::vector<double> xv = gather(x, idx), g = gather(grad_out, idx);
  const double n = static_cast<double>(idx.size());
  double sum_wg = 0, sum_wg_xhat = 0;
  for (size_t i = 0; i < idx.size(); ++i) {
    const int64_t p = param_index(idx[i]);
    const double xhat = (xv[i] - mean) * rstd;
    const double wg = param(weight, p, 1) * g[i];
    sum_wg += wg;
    sum_wg_xhat += wg * xhat;
    gw[p] += g[i] * xhat;
    gb[p] += g[i];
  }
  if (!grad_input.defined()) return;
  for (size_t i = 0; i < idx.size(); ++i) {
    const int64_t p = param_index(idx[i]);
    const double xhat = (xv[i] - mean) * rstd;
    const double wg = param(weight, p, 1) * g[i];
    store(grad_input, idx[i],
          stats_depend_on_x ? rstd * (wg - sum_wg / n - xhat * sum_wg_xhat / n) : rstd * wg);
  }
}

void store_params(const Tensor& grad_weight, const Tensor& grad_bias, const std::vector<double>& gw,
                  const std::vector<double>& gb) {
  for (size_t i = 0; i < gw.size(); ++i) {
    const auto p = static_cast<int64_t>(i);
    if (grad_weight.defined()) put(grad_weight, p, gw[i]);
    if (grad_bias.defined()) put(grad_bias, p, gb[i]);
  }
}

// ---- batch norm -------------------------------------------------------------------------------

int64_t channel(const std::vector<int64_t>& idx) {
  return idx[1];
}

void batch_norm_train_kernel(const Tensor& y, const Tensor& mean, const Tensor& invstd,
                             const Tensor& var, const Tensor& x, const Tensor& weight,
                             const Tensor& bias, double eps) {
  for (int64_t c = 0; c < x.size(1); ++c) {
    const auto idx = channel_indices(x, c);
    const auto [m, rstd] = normalize(y, x, idx, weight, bias, eps, channel);
    put(mean, c, m);
    put(invstd, c, rstd);
    if (var.defined()) put(var, c, var_of(gather(x, idx), m));
  }
}

void batch_norm_apply_kernel(const Tensor& y, const Tensor& x, const Tensor& mean,
                             const Tensor& invstd, const Tensor& weight, const Tensor& bias) {
  for_each_index(x.shape(), [&](const std::vector<int64_t>& idx) {
    const int64_t c = idx[1];
    store(y, idx,
          (load(x, idx) - at(mean, c)) * at(invstd, c) * param(weight, c, 1) + param(bias, c, 0));
  });
}

void batch_norm_backward_kernel(const Tensor& grad_input, const Tensor& grad_weight,
                                const Tensor& grad_bias, const Tensor& grad_out, const Tensor& x,
                                const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                                bool training) {
  const int64_t channels = x.size(1);
  std::vector<double> gw(channels), gb(channels);
  for (int64_t c = 0; c < channels; ++c) {
    normalize_backward(grad_input, grad_out, x, channel_indices(x, c), at(mean, c), at(invstd, c),
                       weight, training, channel, gw, gb);
  }
  store_params(grad_weight, grad_bias, gw, gb);
}

// ---- layer norm -------------------------------------------------------------------------------

int64_t column(const std::vector<int64_t>& idx) {
  return idx[1];
}

void layer_norm_forward_kernel(const Tensor& y, const Tensor& mean, const Tensor& rstd,
                               const Tensor& x, const Tensor& weight, const Tensor& bias,
                               double eps) {
  for (int64_t r = 0; r < x.size(0); ++r) {
    const auto [m, rs] = normalize(y, x, row_indices(x, r), weight, bias, eps, column);
    put(mean, r, m);
    put(rstd, r, rs);
  }
}

void layer_norm_backward_kernel(const Tensor& grad_input, const Tensor& grad_weight,
                                const Tensor& grad_bias, const Tensor& grad_out, const Tensor& x,
                                const Tensor& mean, const Tensor& rstd, const Tensor& weight) {
  std::vector<double> gw(x.size(1)), gb(x.size(1));
  for (int64_t r = 0; r < x.size(0); ++r) {
    normalize_backward(grad_input, grad_out, x, row_indices(x, r), at(mean, r), at(rstd, r), weight,
                       true, column, gw, gb);
  }
  store_params(grad_weight, grad_bias, gw, gb);
}

// ---- group norm -------------------------------------------------------------------------------

void group_norm_forward_kernel(const Tensor& y, const Tensor& mean, const Tensor& rstd,
                               const Tensor& x, const Tensor& weight, const Tensor& bias,
                               double eps) {
  const int64_t groups = mean.size(1);
  for (int64_t n = 0; n < x.size(0); ++n) {
    for (int64_t g = 0; g < groups; ++g) {
      const auto [m, rs] =
          normalize(y, x, group_indices(x, groups, n, g), weight, bias, eps, channel);
      store(mean, Index{n, g}, m);
      store(rstd, Index{n, g}, rs);
    }
  }
}

void group_norm_backward_kernel(const Tensor& grad_input, const Tensor& grad_weight,
                                const Tensor& grad_bias, const Tensor& grad_out, const Tensor& x,
                                const Tensor& mean, const Tensor& rstd, const Tensor& weight) {
  const int64_t groups = mean.size(1);
  std::vector<double> gw(x.size(1)), gb(x.size(1));
  for (int64_t n = 0; n < x.size(0); ++n) {
    for (int64_t g = 0; g < groups; ++g) {
      normalize_backward(grad_input, grad_out, x, group_indices(x, groups, n, g),
                         load(mean, Index{n, g}), load(rstd, Index{n, g}), weight, true, channel,
                         gw, gb);
    }
  }
  store_params(grad_weight, grad_bias, gw, gb);
}

// ---- rms norm ---------------------------------------------------------------------------------

// y_i = x_i * rstd * w_i with rstd = 1 / sqrt(mean(x^2) + eps).
void rms_norm_forward_kernel(const Tensor& y, const Tensor& rstd, const Tensor& x,
                             const Tensor& weight, double eps) {
  const int64_t k = x.size(1);
  for (int64_t r = 0; r < x.size(0); ++r) {
    const std::vector<double> v = gather(x, row_indices(x, r));
    double sq = 0;
    for (double e : v) sq += e * e;
    const double rs = 1.0 / std::sqrt(sq / static_cast<double>(k) + eps);
    put(rstd, r, rs);
    for (int64_t i = 0; i < k; ++i) store(y, Index{r, i}, v[i] * rs * param(weight, i, 1));
  }
}

// d rstd / d x_j = -rstd^3 x_j / K, so dx_j = rstd w_j g_j - rstd^3 x_j / K sum_i w_i g_i x_i;
// grad_weight_i = sum over rows of g_i x_i rstd.
void rms_norm_backward_kernel(const Tensor& grad_input, const Tensor& grad_weight,
                              const Tensor& grad_out, const Tensor& x, const Tensor& rstd,
                              const Tensor& weight) {
  const int64_t k = x.size(1);
  std::vector<double> gw(k);
  for (int64_t r = 0; r < x.size(0); ++r) {
    const std::vector<double> v = gather(x, row_indices(x, r));
    const std::vector<double> g = gather(grad_out, row_indices(x, r));
    const double rs = at(rstd, r);
    double dot = 0;
    for (int64_t i = 0; i < k; ++i) {
      dot += param(weight, i, 1) * g[i] * v[i];
      gw[i] += g[i] * v[i] * rs;
    }
    if (!grad_input.defined()) continue;
    for (int64_t i = 0; i < k; ++i) {
      store(grad_input, Index{r, i},
            rs * param(weight, i, 1) * g[i] - rs * rs * rs * v[i] * dot / static_cast<double>(k));
    }
  }
  if (grad_weight.defined()) {
    for (int64_t i = 0; i < k; ++i) put(grad_weight, i, gw[i]);
  }
}

}  // namespace

ANVIL_REGISTER_KERNEL(batch_norm_train, ref, kFloatingTypes, batch_norm_train_kernel);
ANVIL_REGISTER_KERNEL(batch_norm_apply, ref, kFloatingTypes, batch_norm_apply_kernel);
ANVIL_REGISTER_KERNEL(batch_norm_backward, ref, kFloatingTypes, batch_norm_backward_kernel);
ANVIL_REGISTER_KERNEL(layer_norm_forward, ref, kFloatingTypes, layer_norm_forward_kernel);
ANVIL_REGISTER_KERNEL(layer_norm_backward, ref, kFloatingTypes, layer_norm_backward_kernel);
ANVIL_REGISTER_KERNEL(group_norm_forward, ref, kFloatingTypes, group_norm_forward_kernel);
ANVIL_REGISTER_KERNEL(group_norm_backward, ref, kFloatingTypes, group_norm_backward_kernel);
ANVIL_REGISTER_KERNEL(rms_norm_forward, ref, kFloatingTypes, rms_norm_forward_kernel);
ANVIL_REGISTER_KERNEL(rms_norm_backward, ref, kFloatingTypes, rms_norm_backward_kernel);

}  // namespace anvil::ref
