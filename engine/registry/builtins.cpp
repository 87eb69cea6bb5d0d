// The registrations of libanvil's own types: the optimizers of nn/optim and the ResNets, with
// torch.optim's and torchvision's argument names.
#include <fmt/format.h>

#include "engine/optim/default_constructor.h"
#include "engine/registry/registries.h"
#include "nn/models/resnet.h"

namespace anvil::engine {
namespace {

// torch.optim's keys (betas = [0.9, 0.999], flags as booleans), checked against `keys`, onto
// build_optimizer's options.
OptimizerConfig optimizer_config(const std::string& type, const Config& cfg,
                                 const std::vector<std::string_view>& keys) {
  cfg.check_keys(keys);
  OptimizerConfig out{type, {}};
  for (const auto& [key, value] : cfg.items()) {
    if (key == "betas") {
      if (value.size() != 2) {
        throw ConfigError(
            fmt::format("{}: expected two betas, got {}", value.where(), value.describe()));
      }
      out.options["beta1"] = value[0].as_double();
      out.options["beta2"] = value[1].as_double();
    } else {
      out.options[key] =
          value.kind() == Config::Kind::boolean ? double(value.as_bool()) : value.as_double();
    }
  }
  return out;
}

const std::vector<std::string_view> kAdamKeys = {"lr",           "betas",   "eps",
                                                 "weight_decay", "amsgrad", "maximize"};

ANVIL_REGISTER(OPTIMIZERS, "SGD", [](const Config& cfg, std::vector<optim::ParamGroup> groups) {
  return std::shared_ptr(build_optimizer(
      optimizer_config("SGD", cfg,
                       {"lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"}),
      std::move(groups)));
});
ANVIL_REGISTER(OPTIMIZERS, "Adam", [](const Config& cfg, std::vector<optim::ParamGroup> groups) {
  return std::shared_ptr(
      build_optimizer(optimizer_config("Adam", cfg, kAdamKeys), std::move(groups)));
});
ANVIL_REGISTER(OPTIMIZERS, "AdamW", [](const Config& cfg, std::vector<optim::ParamGroup> groups) {
  return std::shared_ptr(
      build_optimizer(optimizer_config("AdamW", cfg, kAdamKeys), std::move(groups)));
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
