#include "nn/optim/adam.h"

#include "autograd/grad_mode.h"
#include "tensor/ops/copy.h"
#include "tensor/ops/factory.h"
#include "tensor/ops/optim.h"

namespace anvil::optim {

namespace {

Options defaults_of(const AdamOptions& o) {
  ANVIL_CHECK(o.lr >= 0 && o.eps >= 0 && o.weight_decay >= 0,
              "Adam: invalid options lr {} eps {} weight_decay {} (all must be >= 0)", o.lr, o.eps,
              o.weight_decay);
  ANVIL_CHECK(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1,
              "Adam: betas must be in [0, 1), got ({}, {})", o.beta1, o.beta2);
  return {{"lr", o.lr},
          {"beta1", o.beta1},
          {"beta2", o.beta2},
          {"eps", o.eps},
          {"weight_decay", o.weight_decay},
          {"amsgrad", o.amsgrad ? 1.0 : 0.0},
          {"maximize", o.maximize ? 1.0 : 0.0}};
}

}  // namespace

Adam::Adam(std::vector<Tensor> params, const AdamOptions& options)
    : Adam(std::vector<ParamGroup>{{std::move(params), {}}}, options, false) {}

Adam::Adam(std::vector<ParamGroup> groups, const AdamOptions& options)
    : Adam(std::move(groups), options, false) {}

Adam::Adam(std::vector<ParamGroup> groups, const AdamOptions& options, bool decoupled)
    : Optimizer(decoupled ? "AdamW" : "Adam", std::move(groups), defaults_of(options)),
      decoupled_(decoupled) {}

void Adam::step() {
  NoGradGuard no_grad;
  for (ParamGroup& g : param_groups()) {
    AdamStepArgs args{.lr = g.at("lr"),
                      .beta1 = g.at("beta1"),
                      .beta2 = g.at("beta2"),
                      .eps = g.at("eps"),
                      .weight_decay = g.at("weight_decay"),
                      .amsgrad = g.at("amsgrad") != 0,
                      .maximize = g.at("maximize") != 0,
                      .decoupled_weight_decay = decoupled_};
    for (Tensor& p : g.params) {
      if (!p.grad().defined()) continue;
      std::map<std::string, Tensor>& s = state(p);
      if (!s.count("step")) {
        s["step"] = zeros({}, TensorOptions(DType::f32));
        s["exp_avg"] = zeros_like(p);
        s["exp_avg_sq"] = zeros_like(p);
        if (args.amsgrad) s["max_exp_avg_sq"] = zeros_like(p);
      }
      Tensor& step = s["step"];
      args.step = step.item<int64_t>() + 1;
      ops::fill_(step, args.step);
      ops::adam_step_(p, ops::contiguous(p.grad()), s["exp_avg"], s["exp_avg_sq"],
                      args.amsgrad ? s["max_exp_avg_sq"] : Tensor(), args);
    }
  }
}

AdamW::AdamW(std::vector<Tensor> params, const AdamWOptions& options)
    : Adam(std::vector<ParamGroup>{{std::move(params), {}}}, options, true) {}

AdamW::AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options)
    : Adam(std::move(groups), options, true) {}

}  // namespace anvil::optim
