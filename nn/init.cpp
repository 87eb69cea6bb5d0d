#include "nn/init.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "anvil.h"
#include "nn/module.h"
#include "nn/serialize.h"

namespace anvil::nn::init {

double calculate_gain(const std::string& nonlinearity, double param) {
  if (nonlinearity == "linear" || nonlinearity == "sigmoid" || nonlinearity.rfind("conv", 0) == 0) {
    return 1;
  }
  if (nonlinearity == "tanh") return 5.0 / 3;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1 + param * param));
  if (nonlinearity == "selu") return 0.75;
  throw ValueError(fmt::format(
      "calculate_gain: unsupported nonlinearity \"{}\" (expected linear, conv1d, conv2d, "
      "conv_transpose2d, sigmoid, tanh, relu, leaky_relu or selu)",
      nonlinearity));
}

std::pair<int64_t, int64_t> fans(const Tensor& weight) {
  ANVIL_CHECK(weight.dim() >= 2,
              "init: fan in and fan out need a tensor of at least 2 dims, got {}",
              weight.describe());
  const int64_t receptive = weight.numel() / std::max<int64_t>(1, weight.size(0) * weight.size(1));
  return {weight.size(1) * receptive, weight.size(0) * receptive};
}

Tensor& uniform_(Tensor& t, double a, double b) {
  NoGradGuard no_grad;
  return t.uniform_(a, b);
}

Tensor& normal_(Tensor& t, double mean, double std) {
  NoGradGuard no_grad;
  return t.normal_(mean, std);
}

Tensor& trunc_normal_(Tensor& t, double mean, double std, double a, double b) {
  ANVIL_CHECK(a < b, "trunc_normal_: expected a < b, got [{}, {}]", a, b);
  NoGradGuard no_grad;
  Tensor values = randn(t.shape(), TensorOptions(DType::f64)) * std + mean;
  // Redraw what falls outside; each round keeps most of the rest, so this ends quickly for any
  // interval that holds a reasonable share of the distribution.
  for (int round = 0; round < 1000; ++round) {
    const Tensor outside = logical_or(lt(values, a), gt(values, b));
    if (!any(outside).item<bool>()) break;
    values = where(outside, randn(t.shape(), TensorOptions(DType::f64)) * std + mean, values);
  }
  t.copy_(clamp(values, a, b));
  return t;
}

Tensor& constant_(Tensor& t, double value) {
  NoGradGuard no_grad;
  return t.fill_(value);
}

Tensor& zeros_(Tensor& t) {
  return constant_(t, 0);
}

Tensor& ones_(Tensor& t) {
  return constant_(t, 1);
}

Tensor& xavier_uniform_(Tensor& t, double gain) {
  const auto [fan_in, fan_out] = fans(t);
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  return uniform_(t, -bound, bound);
}

Tensor& xavier_normal_(Tensor& t, double gain) {
  const auto [fan_in, fan_out] = fans(t);
  return normal_(t, 0, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)));
}

namespace {

double kaiming_std(const Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  const auto [fan_in, fan_out] = fans(t);
  const int64_t fan = mode == FanMode::fan_in ? fan_in : fan_out;
  ANVIL_CHECK(fan > 0, "kaiming init: {} has a zero fan", t.describe());
  return calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
}

}  // namespace

Tensor& kaiming_uniform_(Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  const double bound = std::sqrt(3.0) * kaiming_std(t, a, mode, nonlinearity);
  return uniform_(t, -bound, bound);
}

Tensor& kaiming_normal_(Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  return normal_(t, 0, kaiming_std(t, a, mode, nonlinearity));
}

// ---- MMEngine's init_cfg ------------------------------------------------------------------------

double bias_init_with_prob(double prior_prob) {
  ANVIL_CHECK(prior_prob > 0 && prior_prob < 1, "bias_init_with_prob: expected 0 < p < 1, got {}",
              prior_prob);
  return -std::log((1 - prior_prob) / prior_prob);
}

void update_init_info(const Module& module, const std::string& info) {
  InitRecord* record = module.init_record();
  if (record == nullptr) return;
  NoGradGuard no_grad;
  for (const auto& [name, p] : module.named_parameters()) {
    auto it = record->params.find(&p.impl());
    ANVIL_CHECK(it != record->params.end(),
                "init_weights of {}: found a new parameter \"{}\"; do not add or replace "
                "parameters during init_weights",
                module.type_name(), name);
    const double mean = p.detach().mean().item<double>();
    if (mean != it->second.mean) it->second = {info, mean};
  }
}

namespace {

const std::vector<std::string> kTypes = {"Constant", "Xavier",  "Normal",       "TruncNormal",
                                         "Uniform",  "Kaiming", "Caffe2Xavier", "Pretrained"};

// The keys an entry sets, by MMEngine's names.
std::vector<std::string> keys_set(const InitCfg& c) {
  std::vector<std::string> keys;
  const auto add = [&](bool set, const char* key) {
    if (set) keys.emplace_back(key);
  };
  add(!c.layer.empty(), "layer");
  add(!c.override.empty(), "override");
  add(!c.name.empty(), "name");
  add(c.bias.has_value(), "bias");
  add(c.bias_prob.has_value(), "bias_prob");
  add(c.val.has_value(), "val");
  add(c.mean.has_value(), "mean");
  add(c.std.has_value(), "std");
  add(c.a.has_value(), "a");
  add(c.b.has_value(), "b");
  add(c.gain.has_value(), "gain");
  add(c.mode.has_value(), "mode");
  add(c.nonlinearity.has_value(), "nonlinearity");
  add(c.distribution.has_value(), "distribution");
  add(c.checkpoint.has_value(), "checkpoint");
  add(c.prefix.has_value(), "prefix");
  return keys;
}

// The type's own arguments; every type but Pretrained also takes layer, bias, bias_prob and
// override (and name, in an override entry).
std::vector<std::string> own_keys(const std::string& type) {
  if (type == "Constant") return {"val"};
  if (type == "Xavier") return {"gain", "distribution"};
  if (type == "Normal") return {"mean", "std"};
  if (type == "TruncNormal") return {"mean", "std", "a", "b"};
  if (type == "Uniform") return {"a", "b"};
  if (type == "Kaiming") return {"a", "mode", "nonlinearity", "distribution"};
  if (type == "Pretrained") return {"checkpoint", "prefix", "name"};
  return {};  // Caffe2Xavier
}

void check_cfg(const InitCfg& c) {
  ANVIL_CHECK(std::find(kTypes.begin(), kTypes.end(), c.type) != kTypes.end(),
              "init_cfg: unknown initializer type \"{}\" (expected one of {})", c.type,
              fmt::join(kTypes, ", "));
  std::vector<std::string> allowed = own_keys(c.type);
  if (c.type != "Pretrained") {
    allowed.insert(allowed.end(), {"layer", "override", "name", "bias", "bias_prob"});
  }
  for (const std::string& key : keys_set(c)) {
    ANVIL_CHECK(std::find(allowed.begin(), allowed.end(), key) != allowed.end(),
                "init_cfg: {} does not take \"{}\" (it takes {})", c.type, key,
                fmt::join(allowed, ", "));
  }
  ANVIL_CHECK(!(c.bias && c.bias_prob),
              "init_cfg: {} got both bias and bias_prob; give one of them", c.type);
  ANVIL_CHECK(c.type != "Constant" || c.val, "init_cfg: Constant needs val");
  ANVIL_CHECK(c.type != "Pretrained" || c.checkpoint, "init_cfg: Pretrained needs checkpoint");
  ANVIL_CHECK(!c.mode || *c.mode == "fan_in" || *c.mode == "fan_out",
              "init_cfg: {} mode must be fan_in or fan_out, got \"{}\"", c.type, *c.mode);
  ANVIL_CHECK(!c.distribution || *c.distribution == "normal" || *c.distribution == "uniform",
              "init_cfg: {} distribution must be normal or uniform, got \"{}\"", c.type,
              *c.distribution);
}

// The own weight or bias parameter of a module, or an undefined tensor.
Tensor own_parameter(const Module& m, const std::string& name) {
  for (const auto& [n, t] : m.named_parameters(false)) {
    if (n == name) return t;
  }
  return {};
}

// PyTorch's direct base class names of the built-in layers (what MMEngine matches besides the
// class name).
std::vector<std::string> torch_base_names(const std::string& type_name) {
  static const std::map<std::string, std::string> bases = {
      {"Conv1d", "_ConvNd"},
      {"Conv2d", "_ConvNd"},
      {"ConvTranspose2d", "_ConvTransposeNd"},
      {"BatchNorm1d", "_BatchNorm"},
      {"BatchNorm2d", "_BatchNorm"},
      {"MaxPool2d", "_MaxPoolNd"},
      {"AvgPool2d", "_AvgPoolNd"},
      {"AdaptiveAvgPool2d", "_AdaptiveAvgPoolNd"},
      {"Dropout", "_DropoutNd"}};
  const auto it = bases.find(type_name);
  return it == bases.end() ? std::vector<std::string>{} : std::vector<std::string>{it->second};
}

bool layer_matches(const Module& m, const std::vector<std::string>& layer) {
  std::vector<std::string> names = torch_base_names(m.type_name());
  names.push_back(m.type_name());
  for (const std::string& n : names) {
    if (std::find(layer.begin(), layer.end(), n) != layer.end()) return true;
  }
  return false;
}

// Pretrained: a non-strict load of the checkpoint (or its `prefix` part) into `module`.
void load_pretrained(Module& module, const InitCfg& c) {
  const std::string& path = *c.checkpoint;
  InitRecord* record = module.init_record();
  const auto log = [&](const std::string& line) {
    if (record) record->log.push_back(line);
  };
  const SafetensorsFile file(path);
  NamedTensors state;
  std::string prefix = c.prefix.value_or("");
  if (!prefix.empty() && prefix.back() != '.') prefix += '.';
  for (auto [name, t] : file.tensors()) {
    if (name.rfind("module.", 0) == 0) name = name.substr(7);
    if (name.rfind(prefix, 0) == 0) state.emplace_back(name.substr(prefix.size()), t);
  }
  ANVIL_CHECK(!state.empty(), "init_cfg: Pretrained prefix \"{}\" is not in the checkpoint {}",
              prefix, path);
  log(prefix.empty() ? fmt::format("load model from: {}", path)
                     : fmt::format("load {} in model from: {}", prefix, path));
  // Shape mismatches are skipped (and logged), as MMEngine's non-strict load does.
  std::map<std::string, Shape> own;
  for (const auto& [name, t] : module.state_dict()) own.emplace(name, t.shape());
  NamedTensors loadable;
  std::vector<std::string> mismatched;
  for (const auto& [name, t] : state) {
    const auto it = own.find(name);
    if (it != own.end() && it->second != t.shape()) {
      mismatched.push_back(fmt::format("{}: checkpoint {} vs model {}", name, shape_str(t.shape()),
                                       shape_str(it->second)));
    } else {
      loadable.emplace_back(name, t);
    }
  }
  const LoadResult result = module.load_state_dict(loadable, /*strict=*/false);
  if (!result.unexpected_keys.empty()) {
    log(fmt::format("unexpected key in source state_dict: {}",
                    fmt::join(result.unexpected_keys, ", ")));
  }
  if (!mismatched.empty()) log(fmt::format("size mismatch for {}", fmt::join(mismatched, "; ")));
  if (!result.missing_keys.empty()) {
    log(fmt::format("missing keys in source state_dict: {}", fmt::join(result.missing_keys, ", ")));
  }
  update_init_info(module, fmt::format("PretrainedInit: load from {}", path));
}

// One initializer on `module`'s tree: every module of it when `whole_module` (an override), else
// those `layer` names. The weight by the type's rule, the bias to the constant.
void apply_initializer(Module& module, const InitCfg& c, bool whole_module) {
  if (c.type == "Pretrained") return load_pretrained(module, c);
  const double bias = c.bias_prob ? bias_init_with_prob(*c.bias_prob) : c.bias.value_or(0);
  std::function<void(Tensor&)> weight_init;
  std::string info;
  if (c.type == "Constant") {
    weight_init = [&](Tensor& w) { constant_(w, *c.val); };
    info = fmt::format("ConstantInit: val={}, bias={}", *c.val, bias);
  } else if (c.type == "Xavier") {
    const double gain = c.gain.value_or(1);
    const std::string distribution = c.distribution.value_or("normal");
    weight_init = [=](Tensor& w) {
      distribution == "uniform" ? xavier_uniform_(w, gain) : xavier_normal_(w, gain);
    };
    info = fmt::format("XavierInit: gain={}, distribution={}, bias={}", gain, distribution, bias);
  } else if (c.type == "Normal") {
    const double mean = c.mean.value_or(0), stddev = c.std.value_or(1);
    weight_init = [=](Tensor& w) { normal_(w, mean, stddev); };
    info = fmt::format("NormalInit: mean={}, std={}, bias={}", mean, stddev, bias);
  } else if (c.type == "TruncNormal") {
    const double mean = c.mean.value_or(0), stddev = c.std.value_or(1);
    const double a = c.a.value_or(-2), b = c.b.value_or(2);
    weight_init = [=](Tensor& w) { trunc_normal_(w, mean, stddev, a, b); };
    info = fmt::format("TruncNormalInit: a={}, b={}, mean={}, std={}, bias={}", a, b, mean, stddev,
                       bias);
  } else if (c.type == "Uniform") {
    const double a = c.a.value_or(0), b = c.b.value_or(1);
    weight_init = [=](Tensor& w) { uniform_(w, a, b); };
    info = fmt::format("UniformInit: a={}, b={}, bias={}", a, b, bias);
  } else {  // Kaiming, Caffe2Xavier
    const bool caffe2 = c.type == "Caffe2Xavier";
    const double a = caffe2 ? 1 : c.a.value_or(0);
    const std::string mode = caffe2 ? "fan_in" : c.mode.value_or("fan_out");
    const std::string nonlinearity = caffe2 ? "leaky_relu" : c.nonlinearity.value_or("relu");
    const std::string distribution = caffe2 ? "uniform" : c.distribution.value_or("normal");
    calculate_gain(nonlinearity, a);  // an unknown nonlinearity fails before anything changes
    const FanMode fan = mode == "fan_in" ? FanMode::fan_in : FanMode::fan_out;
    weight_init = [=](Tensor& w) {
      distribution == "uniform" ? kaiming_uniform_(w, a, fan, nonlinearity)
                                : kaiming_normal_(w, a, fan, nonlinearity);
    };
    info = fmt::format("{}Init: a={}, mode={}, nonlinearity={}, distribution={}, bias={}", c.type,
                       a, mode, nonlinearity, distribution, bias);
  }
  module.apply([&](Module& m) {
    if (!whole_module && !layer_matches(m, c.layer)) return;
    if (Tensor w = own_parameter(m, "weight"); w.defined()) weight_init(w);
    if (Tensor b = own_parameter(m, "bias"); b.defined()) constant_(b, bias);
  });
  update_init_info(module, info);
}

// An override entry as applied: its own, or (when it gives only a name) the parent's type and
// arguments.
InitCfg resolve_override(const InitCfg& parent, const InitCfg& o, const Module& module) {
  ANVIL_CHECK(!o.name.empty(), "init_cfg: an override of {} for {} must contain the key \"name\"",
              parent.type, module.type_name());
  if (keys_set(o) == std::vector<std::string>{"name"} && o.type.empty()) {
    InitCfg inherited = parent;
    inherited.layer.clear();
    inherited.override.clear();
    inherited.name = o.name;
    return inherited;
  }
  ANVIL_CHECK(!o.type.empty(), "init_cfg: override \"{}\" of {} gives arguments but no \"type\"",
              o.name, module.type_name());
  ANVIL_CHECK(o.override.empty(), "init_cfg: override \"{}\" cannot have overrides of its own",
              o.name);
  return o;
}

}  // namespace

void initialize(Module& module, const std::vector<InitCfg>& cfgs) {
  for (const InitCfg& c : cfgs) {
    check_cfg(c);
    std::vector<std::pair<InitCfg, std::shared_ptr<Module>>> overrides;
    for (const InitCfg& o : c.override) {
      InitCfg resolved = resolve_override(c, o, module);
      check_cfg(resolved);
      std::shared_ptr<Module> child;
      std::vector<std::string> names;
      for (const auto& [name, m] : module.named_children()) {
        if (name == o.name) child = m;
        names.push_back(name);
      }
      ANVIL_CHECK(child != nullptr,
                  "init_cfg: override name \"{}\" is not a child of {} (its children: {})", o.name,
                  module.type_name(), fmt::join(names, ", "));
      overrides.emplace_back(std::move(resolved), std::move(child));
    }
    apply_initializer(module, c, /*whole_module=*/false);
    for (const auto& [o, child] : overrides) apply_initializer(*child, o, /*whole_module=*/true);
  }
}

}  // namespace anvil::nn::init
