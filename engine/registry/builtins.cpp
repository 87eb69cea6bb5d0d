// The registrations of libanvil's model zoo with torchvision's argument names.
#include <fmt/format.h>

#include "engine/registry/registries.h"
#include "nn/models/resnet.h"

namespace anvil::engine {
namespace {

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
