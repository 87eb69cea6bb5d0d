#include "engine/optim/clip_grad.h"

#include <algorithm>
#include <cmath>

#include "autograd/grad_mode.h"
#include "tensor/error.h"

namespace anvil::engine {

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  ANVIL_CHECK(norm_type > 0, "clip_grad_norm_: norm_type must be > 0 or inf, got {}", norm_type);
  NoGradGuard no_grad;
  std::vector<Tensor> grads;
  for (const Tensor& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return 0;
  // Accumulated in float64: the norm is reported, and the clip factor depends on it.
  double total = 0;
  for (const Tensor& g : grads) {
    const Tensor a = g.to(DType::f64).abs();
    if (std::isinf(norm_type)) {
      if (a.numel() > 0) total = std::max(total, a.max().item<double>());
    } else {
      total += (norm_type == 2 ? a.square() : a.pow(norm_type)).sum().item<double>();
    }
  }
  if (!std::isinf(norm_type)) total = std::pow(total, 1 / norm_type);
  ANVIL_CHECK(!error_if_nonfinite || std::isfinite(total),
              "clip_grad_norm_: the total norm of order {} of the gradients is non-finite ({}), "
              "so it cannot be clipped",
              norm_type, total);
  const double coef = std::min(max_norm / (total + 1e-6), 1.0);
  for (Tensor& g : grads) g.mul_(coef);
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  NoGradGuard no_grad;
  for (const Tensor& p : params) {
    if (!p.grad().defined()) continue;
    Tensor g = p.grad();
    g.clamp_(-clip_value, clip_value);
  }
}

}  // namespace anvil::engine
