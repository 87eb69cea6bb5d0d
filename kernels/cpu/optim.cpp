// Fused optimizer steps: each element of the parameter and its state is read and written once.
#include <cmath>

#include "kernels/cpu/parallel.h"
#include "tensor/dispatch.h"

namespace anvil::cpu {

namespace {

template <class T>
T* ptr(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr;
}

void sgd_step_kernel(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                     const SgdStepArgs& a) {
  visit_dtype(param.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      T* p = ptr<T>(param);
      const T* g = ptr<T>(grad);
      T* buf = ptr<T>(momentum_buffer);
      const A lr = A(a.lr), wd = A(a.weight_decay), mom = A(a.momentum), damp = A(1 - a.dampening),
              sign = a.maximize ? A(-1) : A(1);
      parallel_for(0, param.numel(), kGrainSize, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          A d = sign * A(g[i]) + wd * A(p[i]);
          if (buf) {
            const A m = a.first_step ? d : mom * A(buf[i]) + damp * d;
            buf[i] = T(m);
            d = a.nesterov ? d + mom * m : m;
          }
          p[i] = T(A(p[i]) - lr * d);
        }
      });
    }
  });
}

void adam_step_kernel(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                      const Tensor& exp_avg_sq, const Tensor& max_exp_avg_sq,
                      const AdamStepArgs& a) {
  visit_dtype(param.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      T* p = ptr<T>(param);
      const T* g = ptr<T>(grad);
      T* m1 = ptr<T>(exp_avg);
      T* m2 = ptr<T>(exp_avg_sq);
      T* m2_max = ptr<T>(max_exp_avg_sq);
      const double step = static_cast<double>(a.step);
      // As torch.optim.Adam: step_size = lr / (1 - beta1^t), denom = sqrt(v) / sqrt(1 - beta2^t)
      // + eps.
      const A step_size = A(a.lr / (1 - std::pow(a.beta1, step)));
      const A inv_bc2_sqrt = A(1 / std::sqrt(1 - std::pow(a.beta2, step)));
      const A b1 = A(a.beta1), b2 = A(a.beta2), eps = A(a.eps), sign = a.maximize ? A(-1) : A(1);
      const A decay = a.decoupled_weight_decay ? A(1 - a.lr * a.weight_decay) : A(1);
      const A wd = a.decoupled_weight_decay ? A(0) : A(a.weight_decay);
      parallel_for(0, param.numel(), kGrainSize, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const A pi = A(p[i]) * decay;
          const A gi = sign * A(g[i]) + wd * pi;
          const A mi = b1 * A(m1[i]) + (1 - b1) * gi;
          const A vi = b2 * A(m2[i]) + (1 - b2) * gi * gi;
          m1[i] = T(mi);
          m2[i] = T(vi);
          A v = vi;
          if (m2_max) {
            v = std::max(A(m2_max[i]), vi);
            m2_max[i] = T(v);
          }
          p[i] = T(pi - step_size * mi / (std::sqrt(v) * inv_bc2_sqrt + eps));
        }
      });
    }
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(sgd_step, cpu, kFloatingTypes, sgd_step_kernel);
ANVIL_REGISTER_KERNEL(adam_step, cpu, kFloatingTypes, adam_step_kernel);

}  // namespace anvil::cpu
