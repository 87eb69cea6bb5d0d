#include "nn/optim/sgd.h"

#include "autograd/grad_mode.h"
#include "tensor/ops/copy.h"
#include "tensor/ops/factory.h"
#include "tensor/ops/optim.h"

namespace anvil::optim {

namespace {

Options defaults_of(const SGDOptions& o) {
  ANVIL_CHECK(o.lr >= 0 && o.momentum >= 0 && o.weight_decay >= 0,
              "SGD: invalid options lr {} momentum {} weight_decay {} (all must be >= 0)", o.lr,
              o.momentum, o.weight_decay);
  ANVIL_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
              "SGD: nesterov momentum requires a momentum and zero dampening");
  return {{"lr", o.lr},
          {"momentum", o.momentum},
          {"dampening", o.dampening},
          {"weight_decay", o.weight_decay},
          {"nesterov", o.nesterov ? 1.0 : 0.0},
          {"maximize", o.maximize ? 1.0 : 0.0}};
}

}  // namespace

SGD::SGD(std::vector<Tensor> params, const SGDOptions& options)
    : SGD(std::vector<ParamGroup>{{std::move(params), {}}}, options) {}

SGD::SGD(std::vector<ParamGroup> groups, const SGDOptions& options)
    : Optimizer("SGD", std::move(groups), defaults_of(options)) {}

void SGD::step() {
  NoGradGuard no_grad;
  for (ParamGroup& g : param_groups()) {
    SgdStepArgs args{.lr = g.at("lr"),
                     .momentum = g.at("momentum"),
                     .dampening = g.at("dampening"),
                     .weight_decay = g.at("weight_decay"),
                     .nesterov = g.at("nesterov") != 0,
                     .maximize = g.at("maximize") != 0};
    for (Tensor& p : g.params) {
      if (!p.grad().defined()) continue;
      Tensor buffer;
      if (args.momentum != 0) {
        Tensor& slot = state(p)["momentum_buffer"];
        args.first_step = !slot.defined();
        if (args.first_step) slot = empty_like(p);
        buffer = slot;
      }
      ops::sgd_step_(p, ops::contiguous(p.grad()), buffer, args);
    }
  }
}

}  // namespace anvil::optim
