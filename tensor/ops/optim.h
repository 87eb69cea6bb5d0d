// Fused optimizer steps: one pass over a parameter, its gradient and its optimizer state, with
// PyTorch's update formulas (torch.optim.SGD / Adam / AdamW, single-tensor form). Not
// differentiable: optimizers run them with recording off.
#pragma once

#include "tensor/tensor.h"

namespace anvil {

struct SgdStepArgs {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
  bool first_step = false;  // the momentum buffer starts as the first (decayed) gradient
};

struct AdamStepArgs {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool amsgrad = false, maximize = false;
  bool decoupled_weight_decay = false;  // AdamW: p *= 1 - lr * weight_decay before the step
  int64_t step = 1;                     // this step's number, from 1 (bias corrections)
};

namespace ops {

// momentum_buffer: undefined when momentum is 0.
void sgd_step_(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
               const SgdStepArgs& args);
// max_exp_avg_sq: undefined unless amsgrad.
void adam_step_(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                const Tensor& exp_avg_sq, const Tensor& max_exp_avg_sq, const AdamStepArgs& args);

}  // namespace ops

// Kernels: every tensor contiguous, of the parameter's dtype and element count.
using SgdStepKernel = void (*)(const Tensor& param, const Tensor& grad,
                               const Tensor& momentum_buffer, const SgdStepArgs& args);
using AdamStepKernel = void (*)(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                                const Tensor& exp_avg_sq, const Tensor& max_exp_avg_sq,
                                const AdamStepArgs& args);

#define ANVIL_OPTIM_OPS(X)   \
  X(sgd_step, SgdStepKernel) \
  X(adam_step, AdamStepKernel)

}  // namespace anvil
