#include "engine/optim/default_constructor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "nn/modules/conv.h"
#include "nn/modules/normalization.h"
#include "nn/optim/adam.h"
#include "nn/optim/sgd.h"
#include "tensor/error.h"

namespace anvil::engine {

namespace {

// Reads `options` into an optimizer's options struct through `fields` (name -> member).
template <class O>
O read_options(const std::string& type, const optim::Options& options,
               const std::map<std::string, std::function<void(O&, double)>>& fields) {
  O out;
  for (const auto& [key, value] : options) {
    auto it = fields.find(key);
    if (it == fields.end()) {
      std::vector<std::string> valid;
      for (const auto& [name, set] : fields) valid.push_back(name);
      throw ValueError(
          fmt::format("optimizer {}: unknown option \"{}\" (valid: {})", type, key, valid));
    }
    it->second(out, value);
  }
  return out;
}

template <class O>
std::map<std::string, std::function<void(O&, double)>> adam_fields() {
  return {{"lr", [](O& o, double v) { o.lr = v; }},
          {"beta1", [](O& o, double v) { o.beta1 = v; }},
          {"beta2", [](O& o, double v) { o.beta2 = v; }},
          {"eps", [](O& o, double v) { o.eps = v; }},
          {"weight_decay", [](O& o, double v) { o.weight_decay = v; }},
          {"amsgrad", [](O& o, double v) { o.amsgrad = v != 0; }},
          {"maximize", [](O& o, double v) { o.maximize = v != 0; }}};
}

}  // namespace

std::unique_ptr<optim::Optimizer> build_optimizer(const OptimizerConfig& config,
                                                  std::vector<optim::ParamGroup> groups) {
  // Options the optimizer does not know travel outside the groups and are put back after.
  std::vector<optim::Options> extra(groups.size());
  const std::set<std::string> known = {"lr",       "momentum", "dampening", "weight_decay",
                                       "nesterov", "maximize", "beta1",     "beta2",
                                       "eps",      "amsgrad"};
  for (size_t i = 0; i < groups.size(); ++i) {
    for (auto it = groups[i].options.begin(); it != groups[i].options.end();) {
      if (known.count(it->first)) {
        ++it;
      } else {
        extra[i].insert(*it);
        it = groups[i].options.erase(it);
      }
    }
  }
  std::unique_ptr<optim::Optimizer> out;
  if (config.type == "SGD") {
    using O = optim::SGDOptions;
    out = std::make_unique<optim::SGD>(
        std::move(groups),
        read_options<O>(config.type, config.options,
                        {{"lr", [](O& o, double v) { o.lr = v; }},
                         {"momentum", [](O& o, double v) { o.momentum = v; }},
                         {"dampening", [](O& o, double v) { o.dampening = v; }},
                         {"weight_decay", [](O& o, double v) { o.weight_decay = v; }},
                         {"nesterov", [](O& o, double v) { o.nesterov = v != 0; }},
                         {"maximize", [](O& o, double v) { o.maximize = v != 0; }}}));
  } else if (config.type == "Adam") {
    out = std::make_unique<optim::Adam>(
        std::move(groups),
        read_options(config.type, config.options, adam_fields<optim::AdamOptions>()));
  } else if (config.type == "AdamW") {
    out = std::make_unique<optim::AdamW>(
        std::move(groups),
        read_options(config.type, config.options, adam_fields<optim::AdamWOptions>()));
  } else {
    throw ValueError(fmt::format(
        "build_optimizer: unknown optimizer type \"{}\" (valid: Adam, AdamW, SGD)", config.type));
  }
  for (size_t i = 0; i < extra.size(); ++i) {
    for (const auto& [key, value] : extra[i]) out->param_groups()[i][key] = value;
  }
  return out;
}

namespace {

bool is_norm(const nn::Module& m) {
  return dynamic_cast<const nn::BatchNorm*>(&m) || dynamic_cast<const nn::LayerNorm*>(&m) ||
         dynamic_cast<const nn::GroupNorm*>(&m);
}

bool is_dwconv(const nn::Module& m) {
  const auto* conv = dynamic_cast<const nn::Conv2d*>(&m);
  return conv != nullptr && conv->in_channels == conv->options.groups;
}

struct Paramwise {
  const ParamwiseCfg& cfg;
  double base_lr;
  std::optional<double> base_wd;
  std::vector<std::string> sorted_keys;
  std::set<const TensorImpl*> placed;
  std::vector<optim::ParamGroup> groups;

  void add(nn::Module& module, const std::string& prefix) {
    const bool norm = is_norm(module), dwconv = is_dwconv(module);
    for (const auto& [name, param] : module.named_parameters(/*recurse=*/false)) {
      if (cfg.bypass_duplicate && placed.count(&param.impl())) {
        fmt::print(stderr,
                   "Warning: {}.{} is duplicate. It is skipped since bypass_duplicate=true\n",
                   prefix, name);
        continue;
      }
      if (!param.requires_grad()) {
        fmt::print(stderr, "Warning: {}.{} is skipped since its requires_grad=false\n", prefix,
                   name);
        continue;
      }
      placed.insert(&param.impl());
      optim::ParamGroup group{{param}, {}};
      // MMEngine matches against "<prefix>.<name>" (".weight" at the top level).
      const std::string full = prefix + "." + name;
      auto key = std::find_if(sorted_keys.begin(), sorted_keys.end(), [&](const std::string& k) {
        return full.find(k) != std::string::npos;
      });
      if (key != sorted_keys.end()) {
        const std::map<std::string, double>& custom = cfg.custom_keys.at(*key);
        auto get = [&](const char* k) { return custom.count(k) ? custom.at(k) : 1.0; };
        group["lr"] = base_lr * get("lr_mult");
        if (base_wd) group["weight_decay"] = *base_wd * get("decay_mult");
        for (const auto& [k, v] : custom) group[k] = v;
      } else {
        if (name == "bias" && !norm && cfg.bias_lr_mult) group["lr"] = base_lr * *cfg.bias_lr_mult;
        if (base_wd) {
          if (norm && cfg.norm_decay_mult) {
            group["weight_decay"] = *base_wd * *cfg.norm_decay_mult;
          } else if (name == "bias" && cfg.bias_decay_mult) {
            group["weight_decay"] = *base_wd * *cfg.bias_decay_mult;
          } else if (dwconv && cfg.dwconv_decay_mult) {
            group["weight_decay"] = *base_wd * *cfg.dwconv_decay_mult;
          } else if (param.dim() == 1 && cfg.flat_decay_mult) {
            group["weight_decay"] = *base_wd * *cfg.flat_decay_mult;
          }
        }
      }
      groups.push_back(std::move(group));
    }
    for (const auto& [child_name, child] : module.named_children()) {
      add(*child, prefix.empty() ? child_name : prefix + "." + child_name);
    }
  }
};

}  // namespace

std::vector<optim::ParamGroup> paramwise_groups(nn::Module& model, const ParamwiseCfg& cfg,
                                                double base_lr, std::optional<double> base_wd) {
  if (!base_wd) {
    for (const auto& [key, custom] : cfg.custom_keys) {
      ANVIL_CHECK(!custom.count("decay_mult"),
                  "paramwise_cfg: custom_keys[\"{}\"] sets decay_mult but the optimizer has no "
                  "weight_decay (base_wd should not be None)",
                  key);
    }
    ANVIL_CHECK(!cfg.bias_decay_mult && !cfg.norm_decay_mult && !cfg.dwconv_decay_mult,
                "paramwise_cfg: bias_decay_mult, norm_decay_mult and dwconv_decay_mult need the "
                "optimizer's weight_decay (base_wd should not be None)");
  }
  Paramwise p{cfg, base_lr, base_wd, {}, {}, {}};
  for (const auto& [key, custom] : cfg.custom_keys) p.sorted_keys.push_back(key);
  // Alphabetical (the map's order), then longest first, stably.
  std::stable_sort(p.sorted_keys.begin(), p.sorted_keys.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  p.add(model, "");
  return std::move(p.groups);
}

namespace {

bool is_empty(const ParamwiseCfg& c) {
  return !c.bias_lr_mult && !c.bias_decay_mult && !c.norm_decay_mult && !c.dwconv_decay_mult &&
         !c.flat_decay_mult && !c.bypass_duplicate && c.custom_keys.empty();
}

}  // namespace

std::unique_ptr<OptimWrapper> build_optim_wrapper(nn::Module& model,
                                                  const OptimWrapperConfig& config) {
  ANVIL_CHECK(config.type == "OptimWrapper" || config.type == "AmpOptimWrapper",
              "build_optim_wrapper: unknown type \"{}\" (valid: AmpOptimWrapper, OptimWrapper)",
              config.type);
  std::vector<optim::ParamGroup> groups;
  if (config.paramwise_cfg && !is_empty(*config.paramwise_cfg)) {
    const optim::Options& o = config.optimizer.options;
    ANVIL_CHECK(o.count("lr"), "build_optim_wrapper: paramwise_cfg needs the optimizer's lr");
    std::optional<double> base_wd;
    if (o.count("weight_decay")) base_wd = o.at("weight_decay");
    groups = paramwise_groups(model, *config.paramwise_cfg, o.at("lr"), base_wd);
  } else {
    groups.push_back({model.parameters(), {}});
  }
  std::unique_ptr<optim::Optimizer> optimizer =
      build_optimizer(config.optimizer, std::move(groups));
  const OptimWrapperOptions options{.accumulative_counts = config.accumulative_counts,
                                    .clip_grad = config.clip_grad};
  if (config.type == "AmpOptimWrapper") {
    return std::make_unique<AmpOptimWrapper>(
        std::move(optimizer),
        AmpOptimWrapperOptions{.loss_scale = config.loss_scale, .dtype = config.dtype}, options);
  }
  return std::make_unique<OptimWrapper>(std::move(optimizer), options);
}

namespace {

double scale_ratio(const AutoScaleLrCfg& cfg, int64_t real_batch_size) {
  ANVIL_CHECK(cfg.base_batch_size > 0, "auto_scale_lr: base_batch_size must be > 0, got {}",
              cfg.base_batch_size);
  return static_cast<double>(real_batch_size) / static_cast<double>(cfg.base_batch_size);
}

void scale(OptimWrapper& wrapper, double ratio) {
  for (optim::Options* g : wrapper.scheduled_groups()) (*g)["lr"] *= ratio;
}

}  // namespace

std::optional<double> auto_scale_lr(OptimWrapper& wrapper, const AutoScaleLrCfg& cfg,
                                    int64_t real_batch_size) {
  if (!cfg.enable) return std::nullopt;
  const double ratio = scale_ratio(cfg, real_batch_size);
  scale(wrapper, ratio);
  return ratio;
}

std::optional<double> auto_scale_lr(OptimWrapperDict& wrappers, const AutoScaleLrCfg& cfg,
                                    int64_t real_batch_size) {
  if (!cfg.enable) return std::nullopt;
  const double ratio = scale_ratio(cfg, real_batch_size);
  for (const auto& [name, w] : wrappers.items()) scale(*w, ratio);
  return ratio;
}

}  // namespace anvil::engine
