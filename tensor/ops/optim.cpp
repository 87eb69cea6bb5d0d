#include "tensor/ops/optim.h"

#include "tensor/dispatch.h"

namespace anvil::ops {

namespace {

// A state tensor the kernel reads and writes alongside the parameter.
void check_state(const char* op, const Tensor& param, const Tensor& t, const char* what) {
  ANVIL_CHECK(t.defined(), "{}: the {} is undefined", op, what);
  ANVIL_CHECK(t.numel() == param.numel() && t.dtype() == param.dtype() &&
                  t.device() == param.device() && t.is_contiguous(),
              "{}: the {} {} must be contiguous with the parameter's size, dtype and device ({})",
              op, what, t.describe(), param.describe());
}

void check_param(const char* op, const Tensor& param, const Tensor& grad) {
  ANVIL_CHECK(param.defined() && param.is_floating_point() && param.is_contiguous(),
              "{}: the parameter must be a contiguous floating tensor, got {}", op,
              param.describe());
  check_state(op, param, grad, "gradient");
}

}  // namespace

void sgd_step_(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
               const SgdStepArgs& args) {
  check_param("sgd_step_", param, grad);
  if (args.momentum != 0) check_state("sgd_step_", param, momentum_buffer, "momentum buffer");
  ANVIL_CHECK(!args.nesterov || (args.momentum > 0 && args.dampening == 0),
              "sgd_step_: nesterov momentum requires a momentum and zero dampening, got "
              "momentum {} dampening {}",
              args.momentum, args.dampening);
  if (param.numel() > 0) {
    kernel<OpId::sgd_step>(param.device(), param.dtype())(param, grad, momentum_buffer, args);
  }
  param.bump_version();
}

void adam_step_(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                const Tensor& exp_avg_sq, const Tensor& max_exp_avg_sq, const AdamStepArgs& args) {
  check_param("adam_step_", param, grad);
  check_state("adam_step_", param, exp_avg, "exp_avg");
  check_state("adam_step_", param, exp_avg_sq, "exp_avg_sq");
  if (args.amsgrad) check_state("adam_step_", param, max_exp_avg_sq, "max_exp_avg_sq");
  ANVIL_CHECK(args.step >= 1, "adam_step_: the step number starts at 1, got {}", args.step);
  if (param.numel() > 0) {
    kernel<OpId::adam_step>(param.device(), param.dtype())(param, grad, exp_avg, exp_avg_sq,
                                                           max_exp_avg_sq, args);
  }
  param.bump_version();
}

}  // namespace anvil::ops
