// The registrations of engine/optim's types with MMEngine's names and keys: the optimizer wrappers
// (clip_grad and loss_scale tables) and every parameter scheduler (XxxParamScheduler with
// param_name, XxxLR, XxxMomentum).
//
// convert_to_iter_based needs the train loader's epoch length, which PARAM_SCHEDULERS.build does
// not have: the runner builds through build_param_scheduler(table, wrapper, epoch_length), which
// makes the length visible to the factories for the duration of the build. PARAM_SCHEDULERS.build
// accepts the key and explains this when it is true.
#include <fmt/format.h>

#include <optional>

#include "engine/optim/default_constructor.h"
#include "engine/optim/param_scheduler.h"
#include "engine/registry/registries.h"

namespace anvil::engine {
namespace {

// ---- optimizer wrappers

// MMEngine's clip_grad dict: {max_norm, norm_type, error_if_nonfinite} for type "norm" (the
// default), {clip_value} for type "value".
ClipGradConfig clip_grad_config(const Config& cfg) {
  ClipGradConfig o;
  o.type = cfg.get_or("type", o.type);
  if (o.type == "norm") {
    cfg.check_keys({"type", "max_norm", "norm_type", "error_if_nonfinite"});
    o.max_norm = cfg.get<double>("max_norm");
    o.norm_type = cfg.get_or("norm_type", o.norm_type);
    o.error_if_nonfinite = cfg.get_or("error_if_nonfinite", o.error_if_nonfinite);
  } else if (o.type == "value") {
    cfg.check_keys({"type", "clip_value"});
    o.clip_value = cfg.get<double>("clip_value");
  } else {
    throw ConfigError(fmt::format("{}: clip_grad type must be \"norm\" or \"value\", got \"{}\"",
                                  cfg["type"].where(), o.type));
  }
  return o;
}

OptimWrapperOptions optim_wrapper_options(const Config& cfg) {
  OptimWrapperOptions o;
  o.accumulative_counts = cfg.get_or("accumulative_counts", o.accumulative_counts);
  if (const Config* clip = cfg.find("clip_grad"); clip != nullptr && !clip->is_null()) {
    o.clip_grad = clip_grad_config(*clip);
  }
  return o;
}

// loss_scale = "dynamic" | a fixed scale | {init_scale, growth_factor, ...} (GradScaler's keys).
LossScale loss_scale(const Config& value) {
  if (value.is_string()) return value.as_string();
  if (value.is_number()) return value.as_double();
  if (!value.is_table()) {
    throw ConfigError(fmt::format("{}: expected \"dynamic\", a number or a table, got {}",
                                  value.where(), value.describe()));
  }
  value.check_keys({"init_scale", "growth_factor", "backoff_factor", "growth_interval", "enabled"});
  GradScalerOptions o;
  o.init_scale = value.get_or("init_scale", o.init_scale);
  o.growth_factor = value.get_or("growth_factor", o.growth_factor);
  o.backoff_factor = value.get_or("backoff_factor", o.backoff_factor);
  o.growth_interval = value.get_or("growth_interval", o.growth_interval);
  o.enabled = value.get_or("enabled", o.enabled);
  return o;
}

ANVIL_REGISTER(OPTIM_WRAPPERS, "OptimWrapper",
               [](const Config& cfg, std::unique_ptr<optim::Optimizer> optimizer) {
                 cfg.check_keys({"accumulative_counts", "clip_grad"});
                 return std::make_shared<OptimWrapper>(std::move(optimizer),
                                                       optim_wrapper_options(cfg));
               });

ANVIL_REGISTER(OPTIM_WRAPPERS, "AmpOptimWrapper",
               [](const Config& cfg, std::unique_ptr<optim::Optimizer> optimizer) {
                 cfg.check_keys({"accumulative_counts", "clip_grad", "loss_scale", "dtype"});
                 AmpOptimWrapperOptions amp;
                 if (const Config* scale = cfg.find("loss_scale");
                     scale != nullptr && !scale->is_null()) {
                   amp.loss_scale = loss_scale(*scale);
                 }
                 amp.dtype = cfg.get_or("dtype", amp.dtype);
                 return std::make_shared<AmpOptimWrapper>(std::move(optimizer), amp,
                                                          optim_wrapper_options(cfg));
               });

// ---- optimizers (torch.optim's names and keys: betas = [0.9, 0.999], flags as booleans)

const std::vector<std::string_view> kSgdKeys = {"lr",           "momentum", "dampening",
                                                "weight_decay", "nesterov", "maximize"};
const std::vector<std::string_view> kAdamKeys = {"lr",           "betas",   "eps",
                                                 "weight_decay", "amsgrad", "maximize"};

ANVIL_REGISTER(OPTIMIZERS, "SGD", [](const Config& cfg, std::vector<optim::ParamGroup> groups) {
  return std::shared_ptr(build_optimizer(optimizer_config("SGD", cfg), std::move(groups)));
});
ANVIL_REGISTER(OPTIMIZERS, "Adam", [](const Config& cfg, std::vector<optim::ParamGroup> groups) {
  return std::shared_ptr(build_optimizer(optimizer_config("Adam", cfg), std::move(groups)));
});
ANVIL_REGISTER(OPTIMIZERS, "AdamW", [](const Config& cfg, std::vector<optim::ParamGroup> groups) {
  return std::shared_ptr(build_optimizer(optimizer_config("AdamW", cfg), std::move(groups)));
});

ParamwiseCfg paramwise_cfg(const Config& cfg) {
  cfg.check_keys({"bias_lr_mult", "bias_decay_mult", "norm_decay_mult", "dwconv_decay_mult",
                  "flat_decay_mult", "bypass_duplicate", "custom_keys"});
  ParamwiseCfg o;
  for (const auto& [key, field] : {std::pair{"bias_lr_mult", &o.bias_lr_mult},
                                   std::pair{"bias_decay_mult", &o.bias_decay_mult},
                                   std::pair{"norm_decay_mult", &o.norm_decay_mult},
                                   std::pair{"dwconv_decay_mult", &o.dwconv_decay_mult},
                                   std::pair{"flat_decay_mult", &o.flat_decay_mult}}) {
    if (const Config* v = cfg.find(key); v != nullptr && !v->is_null()) *field = v->as_double();
  }
  o.bypass_duplicate = cfg.get_or("bypass_duplicate", o.bypass_duplicate);
  if (const Config* keys = cfg.find("custom_keys")) {
    for (const auto& [name, options] : keys->items()) {
      for (const auto& [option, value] : options.items()) {
        o.custom_keys[name][option] = value.as_double();
      }
    }
  }
  return o;
}

// ---- parameter schedulers

// Set by build_param_scheduler while it builds.
thread_local std::optional<int64_t> t_epoch_length;

const std::vector<std::string_view> kWindowKeys = {"begin", "end", "by_epoch", "last_step",
                                                   "convert_to_iter_based"};

// Checks the keys (the scheduler's own `keys`, the window's, param_name for the generic ones),
// reads the window and, through `read`, the scheduler's own options into O, converting to
// iterations when convert_to_iter_based is true.
template <class O, class Read>
O scheduler_options(const Config& cfg, std::vector<std::string_view> keys, bool generic,
                    Read read) {
  keys.insert(keys.end(), kWindowKeys.begin(), kWindowKeys.end());
  if (generic) keys.push_back("param_name");
  cfg.check_keys(keys);
  O o;
  o.begin = cfg.get_or("begin", o.begin);
  o.end = cfg.get_or("end", o.end);
  o.by_epoch = cfg.get_or("by_epoch", o.by_epoch);
  o.last_step = cfg.get_or("last_step", o.last_step);
  read(cfg, o);
  if (!cfg.get_or("convert_to_iter_based", false)) return o;
  if constexpr (requires { build_iter_from_epoch(o, int64_t{}); }) {
    if (!t_epoch_length) {
      throw ConfigError(
          fmt::format("{}: converting to iterations needs the epoch length: build with "
                      "build_param_scheduler(table, wrapper, epoch_length)",
                      cfg["convert_to_iter_based"].where()));
    }
    return build_iter_from_epoch(o, *t_epoch_length);
  } else {
    throw ConfigError(
        fmt::format("{}: this scheduler works by epoch only and cannot be converted to iterations",
                    cfg["convert_to_iter_based"].where()));
  }
}

OptimWrapper& checked(const std::shared_ptr<OptimWrapper>& wrapper) {
  if (wrapper == nullptr) throw ValueError("a parameter scheduler needs an optimizer wrapper");
  return *wrapper;
}

// A scheduler that keeps the wrapper it schedules alive (schedulers hold a reference).
template <class S>
class Owning : public S {
 public:
  template <class... Args>
  explicit Owning(std::shared_ptr<OptimWrapper> wrapper, Args&&... args)
      : S(checked(wrapper), std::forward<Args>(args)...), wrapper_(std::move(wrapper)) {}

 private:
  std::shared_ptr<OptimWrapper> wrapper_;
};

// Registers Stem + "ParamScheduler" (param_name required), Stem + "LR" and, unless Momentum is
// void, Stem + "Momentum".
template <class Generic, class LR, class Momentum, class O, class Read>
void register_schedulers(const std::string& stem, std::vector<std::string_view> keys, Read read) {
  PARAM_SCHEDULERS.add(
      stem + "ParamScheduler",
      [keys, read](const Config& cfg,
                   std::shared_ptr<OptimWrapper> wrapper) -> std::shared_ptr<ParamScheduler> {
        O o = scheduler_options<O>(cfg, keys, true, read);
        return std::make_shared<Owning<Generic>>(std::move(wrapper),
                                                 cfg.get<std::string>("param_name"), o);
      });
  PARAM_SCHEDULERS.add(
      stem + "LR",
      [keys, read](const Config& cfg,
                   std::shared_ptr<OptimWrapper> wrapper) -> std::shared_ptr<ParamScheduler> {
        return std::make_shared<Owning<LR>>(std::move(wrapper),
                                            scheduler_options<O>(cfg, keys, false, read));
      });
  if constexpr (!std::is_void_v<Momentum>) {
    PARAM_SCHEDULERS.add(
        stem + "Momentum",
        [keys, read](const Config& cfg,
                     std::shared_ptr<OptimWrapper> wrapper) -> std::shared_ptr<ParamScheduler> {
          return std::make_shared<Owning<Momentum>>(std::move(wrapper),
                                                    scheduler_options<O>(cfg, keys, false, read));
        });
  }
}

template <class T>
void set_optional(const Config& cfg, std::string_view key, std::optional<T>& out) {
  if (const Config* value = cfg.find(key); value != nullptr && !value->is_null()) {
    out = value->as<T>();
  }
}

// One value for every group, or a list of one per group.
std::vector<double> doubles(const Config& cfg, std::string_view key, std::vector<double> fallback) {
  const Config* value = cfg.find(key);
  if (value == nullptr || value->is_null()) return fallback;
  if (value->is_array()) return value->as<std::vector<double>>();
  return {value->as_double()};
}

#define ANVIL_SCHEDULERS(Stem) Stem##ParamScheduler, Stem##LR, Stem##Momentum, Stem##Options

const bool kSchedulersRegistered [[maybe_unused]] = [] {
  register_schedulers<ANVIL_SCHEDULERS(Constant)>(
      "Constant", {"factor"},
      [](const Config& cfg, ConstantOptions& o) { o.factor = cfg.get_or("factor", o.factor); });
  register_schedulers<ANVIL_SCHEDULERS(Linear)>(
      "Linear", {"start_factor", "end_factor"}, [](const Config& cfg, LinearOptions& o) {
        o.start_factor = cfg.get_or("start_factor", o.start_factor);
        o.end_factor = cfg.get_or("end_factor", o.end_factor);
      });
  register_schedulers<ANVIL_SCHEDULERS(Step)>("Step", {"step_size", "gamma"},
                                              [](const Config& cfg, StepOptions& o) {
                                                o.step_size = cfg.get<int64_t>("step_size");
                                                o.gamma = cfg.get_or("gamma", o.gamma);
                                              });
  register_schedulers<ANVIL_SCHEDULERS(MultiStep)>(
      "MultiStep", {"milestones", "gamma"}, [](const Config& cfg, MultiStepOptions& o) {
        o.milestones = cfg.get<std::vector<int64_t>>("milestones");
        o.gamma = cfg.get_or("gamma", o.gamma);
      });
  register_schedulers<ANVIL_SCHEDULERS(Exponential)>(
      "Exponential", {"gamma"},
      [](const Config& cfg, ExponentialOptions& o) { o.gamma = cfg.get<double>("gamma"); });
  register_schedulers<ANVIL_SCHEDULERS(CosineAnnealing)>(
      "CosineAnnealing", {"T_max", "eta_min", "eta_min_ratio"},
      [](const Config& cfg, CosineAnnealingOptions& o) {
        set_optional(cfg, "T_max", o.T_max);
        set_optional(cfg, "eta_min", o.eta_min);
        set_optional(cfg, "eta_min_ratio", o.eta_min_ratio);
      });
  register_schedulers<ANVIL_SCHEDULERS(Poly)>("Poly", {"eta_min", "power"},
                                              [](const Config& cfg, PolyOptions& o) {
                                                o.eta_min = cfg.get_or("eta_min", o.eta_min);
                                                o.power = cfg.get_or("power", o.power);
                                              });
  register_schedulers<ANVIL_SCHEDULERS(CosineRestart)>(
      "CosineRestart", {"periods", "restart_weights", "eta_min", "eta_min_ratio"},
      [](const Config& cfg, CosineRestartOptions& o) {
        o.periods = cfg.get<std::vector<int64_t>>("periods");
        o.restart_weights = doubles(cfg, "restart_weights", o.restart_weights);
        set_optional(cfg, "eta_min", o.eta_min);
        set_optional(cfg, "eta_min_ratio", o.eta_min_ratio);
      });
  register_schedulers<ANVIL_SCHEDULERS(ReduceOnPlateau)>(
      "ReduceOnPlateau",
      {"monitor", "rule", "factor", "patience", "threshold", "threshold_rule", "cooldown",
       "min_value", "eps"},
      [](const Config& cfg, ReduceOnPlateauOptions& o) {
        o.monitor = cfg.get_or("monitor", o.monitor);
        o.rule = cfg.get_or("rule", o.rule);
        o.factor = cfg.get_or("factor", o.factor);
        o.patience = cfg.get_or("patience", o.patience);
        o.threshold = cfg.get_or("threshold", o.threshold);
        o.threshold_rule = cfg.get_or("threshold_rule", o.threshold_rule);
        o.cooldown = cfg.get_or("cooldown", o.cooldown);
        o.min_value = doubles(cfg, "min_value", o.min_value);
        o.eps = cfg.get_or("eps", o.eps);
      });
  // OneCycle schedules the learning rate only: no Momentum twin.
  register_schedulers<OneCycleParamScheduler, OneCycleLR, void, OneCycleOptions>(
      "OneCycle",
      {"eta_max", "total_steps", "pct_start", "anneal_strategy", "div_factor", "final_div_factor",
       "three_phase"},
      [](const Config& cfg, OneCycleOptions& o) {
        o.eta_max = doubles(cfg, "eta_max", o.eta_max);
        set_optional(cfg, "total_steps", o.total_steps);
        o.pct_start = cfg.get_or("pct_start", o.pct_start);
        o.anneal_strategy = cfg.get_or("anneal_strategy", o.anneal_strategy);
        o.div_factor = cfg.get_or("div_factor", o.div_factor);
        o.final_div_factor = cfg.get_or("final_div_factor", o.final_div_factor);
        o.three_phase = cfg.get_or("three_phase", o.three_phase);
      });
  return true;
}();

#undef ANVIL_SCHEDULERS

}  // namespace

OptimizerConfig optimizer_config(const std::string& type, const Config& cfg) {
  if (type != "SGD" && type != "Adam" && type != "AdamW") {
    throw ConfigError(
        fmt::format("{}: optimizer type '{}' is not one of SGD, Adam, AdamW", cfg.where(), type));
  }
  cfg.check_keys(type == "SGD" ? kSgdKeys : kAdamKeys);
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

OptimWrapperConfig optim_wrapper_config(const Config& cfg) {
  OptimWrapperConfig o;
  o.type = cfg.get_or("type", o.type);
  if (o.type == "OptimWrapper") {
    cfg.check_keys({"type", "optimizer", "accumulative_counts", "clip_grad", "paramwise_cfg"});
  } else if (o.type == "AmpOptimWrapper") {
    cfg.check_keys({"type", "optimizer", "accumulative_counts", "clip_grad", "paramwise_cfg",
                    "loss_scale", "dtype"});
  } else {
    throw ConfigError(
        fmt::format("{}: optim_wrapper type must be OptimWrapper or "
                    "AmpOptimWrapper, got '{}'",
                    cfg["type"].where(), o.type));
  }
  const Config& optimizer = cfg["optimizer"];
  o.optimizer = optimizer_config(optimizer.get<std::string>("type"), optimizer.without("type"));
  const OptimWrapperOptions w = optim_wrapper_options(cfg);
  o.accumulative_counts = w.accumulative_counts;
  o.clip_grad = w.clip_grad;
  if (const Config* scale = cfg.find("loss_scale"); scale != nullptr && !scale->is_null()) {
    o.loss_scale = loss_scale(*scale);
  }
  o.dtype = cfg.get_or("dtype", o.dtype);
  if (const Config* paramwise = cfg.find("paramwise_cfg"))
    o.paramwise_cfg = paramwise_cfg(*paramwise);
  return o;
}

// The runner's way to build a scheduler (declared in param_scheduler.h once merged): as
// PARAM_SCHEDULERS.build, with convert_to_iter_based = true applying build_iter_from_epoch with
// `epoch_length` (len(train_dataloader)).
std::shared_ptr<ParamScheduler> build_param_scheduler(const Config& table,
                                                      std::shared_ptr<OptimWrapper> wrapper,
                                                      int64_t epoch_length) {
  if (epoch_length <= 0) {
    throw ConfigError(
        fmt::format("{}: the epoch length must be positive, got {}", table.where(), epoch_length));
  }
  struct Restore {
    std::optional<int64_t> saved = t_epoch_length;
    ~Restore() { t_epoch_length = saved; }
  } restore;
  t_epoch_length = epoch_length;
  return PARAM_SCHEDULERS.build(table, std::move(wrapper));
}

}  // namespace anvil::engine
