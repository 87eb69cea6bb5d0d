// Reference optimizer steps in float64, written from the textbook forms: Adam with bias-corrected
// moments m_hat / (sqrt(v_hat) + eps) (Kingma & Ba, Algorithm 1; AdamW: Loshchilov & Hutter).
#include <cmath>

#include "kernels/ref/ref_loops.h"
#include "tensor/dispatch.h"

namespace anvil::ref {

namespace {

void sgd_step_ref(const Tensor& param, const Tensor& grad, const Tensor& buf,
                  const SgdStepArgs& a) {
  for (int64_t i = 0; i < param.numel(); ++i) {
    const double p = load(param, param.offset() + i);
    double d = load(grad, grad.offset() + i);
    if (a.maximize) d = -d;
    d += a.weight_decay * p;
    if (a.momentum != 0) {
      const double m =
          a.first_step ? d : a.momentum * load(buf, buf.offset() + i) + (1 - a.dampening) * d;
      store(buf, buf.offset() + i, m);
      d = a.nesterov ? d + a.momentum * m : m;
    }
    store(param, param.offset() + i, p - a.lr * d);
  }
}

void adam_step_ref(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                   const Tensor& exp_avg_sq, const Tensor& max_exp_avg_sq, const AdamStepArgs& a) {
  const double t = static_cast<double>(a.step);
  for (int64_t i = 0; i < param.numel(); ++i) {
    double p = load(param, param.offset() + i);
    double g = load(grad, grad.offset() + i);
    if (a.maximize) g = -g;
    if (a.decoupled_weight_decay) {
      p -= a.lr * a.weight_decay * p;
    } else {
      g += a.weight_decay * p;
    }
    const double m = a.beta1 * load(exp_avg, exp_avg.offset() + i) + (1 - a.beta1) * g;
    const double v = a.beta2 * load(exp_avg_sq, exp_avg_sq.offset() + i) + (1 - a.beta2) * g * g;
    store(exp_avg, exp_avg.offset() + i, m);
    store(exp_avg_sq, exp_avg_sq.offset() + i, v);
    double v_used = v;
    if (a.amsgrad) {
      v_used = std::max(load(max_exp_avg_sq, max_exp_avg_sq.offset() + i), v);
      store(max_exp_avg_sq, max_exp_avg_sq.offset() + i, v_used);
    }
    const double m_hat = m / (1 - std::pow(a.beta1, t));
    const double v_hat = v_used / (1 - std::pow(a.beta2, t));
    store(param, param.offset() + i, p - a.lr * m_hat / (std::sqrt(v_hat) + a.eps));
  }
}

}  // namespace

ANVIL_REGISTER_KERNEL(sgd_step, ref, kFloatingTypes, sgd_step_ref);
ANVIL_REGISTER_KERNEL(adam_step, ref, kFloatingTypes, adam_step_ref);

}  // namespace anvil::ref
