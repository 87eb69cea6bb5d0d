// The registrations of libanvil's own types: the optimizers of nn/optim and the ResNets, with
// torch.optim's and torchvision's argument names.
#include <fmt/format.h>

#include "engine/registry/registries.h"
#include "nn/models/resnet.h"
#include "nn/optim/adam.h"
#include "nn/optim/sgd.h"

namespace anvil::engine {
namespace {

ANVIL_REGISTER(OPTIMIZERS, "SGD", [](const Config& cfg, std::vector<optim::ParamGroup> groups) {
  cfg.check_keys({"lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"});
  optim::SGDOptions o;
  o.lr = cfg.get_or("lr", o.lr);
  o.momentum = cfg.get_or("momentum", o.momentum);
  o.dampening = cfg.get_or("dampening", o.dampening);
  o.weight_decay = cfg.get_or("weight_decay", o.weight_decay);
  o.nesterov = cfg.get_or("nesterov", o.nesterov);
  o.maximize = cfg.get_or("maximize", o.maximize);
  return std::make_shared<optim::SGD>(std::move(groups), o);
});

// Adam's and AdamW's keys, as torch.optim names them (betas = [0.9, 0.999]).
void read_adam(const Config& cfg, optim::AdamOptions& o) {
  cfg.check_keys({"lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"});
  o.lr = cfg.get_or("lr", o.lr);
  if (const Config* betas = cfg.find("betas")) {
    if (betas->size() != 2) {
      throw ConfigError(
          fmt::format("{}: expected two betas, got {}", betas->where(), betas->describe()));
    }
    o.beta1 = (*betas)[0].as_double();
    o.beta2 = (*betas)[1].as_double();
  }
  o.eps = cfg.get_or("eps", o.eps);
  o.weight_decay = cfg.get_or("weight_decay", o.weight_decay);
  o.amsgrad = cfg.get_or("amsgrad", o.amsgrad);
  o.maximize = cfg.get_or("maximize", o.maximize);
}

ANVIL_REGISTER(OPTIMIZERS, "Adam", [](const Config& cfg, std::vector<optim::ParamGroup> groups) {
  optim::AdamOptions o;
  read_adam(cfg, o);
  return std::make_shared<optim::Adam>(std::move(groups), o);
});

ANVIL_REGISTER(OPTIMIZERS, "AdamW", [](const Config& cfg, std::vector<optim::ParamGroup> groups) {
  optim::AdamWOptions o;
  read_adam(cfg, o);
  return std::make_shared<optim::AdamW>(std::move(groups), o);
});

ANVIL_REGISTER(MODELS, "ResNet", [](const Config& cfg) -> std::shared_ptr<nn::Module> {
  cfg.check_keys({"depth", "num_classes", "zero_init_residual", "groups", "width_per_group"});
  nn::ResNetOptions o;
  o.num_classes = cfg.get_or("num_classes", o.num_classes);
  o.zero_init_residual = cfg.get_or("zero_init_residual", o.zero_init_residual);
  o.groups = cfg.get_or("groups", o.groups);
  o.width_per_group = cfg.get_or("width_per_group", o.width_per_group);
  const Config& depth = cfg["depth"];
  switch (depth.as_int()) {
    case 18:
      return nn::resnet18(o);
    case 34:
      return nn::resnet34(o);
    case 50:
      return nn::resnet50(o);
    case 101:
      return nn::resnet101(o);
    case 152:
      return nn::resnet152(o);
  }
  throw ConfigError(fmt::format("{}: ResNet depth must be 18, 34, 50, 101 or 152, got {}",
                                depth.where(), depth.as_int()));
});

}  // namespace
}  // namespace anvil::engine
