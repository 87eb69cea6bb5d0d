// The hooks in HOOKS with MMEngine's names and keys. `priority` is read by the runner, not here.
#include "engine/hooks/checkpoint_hook.h"
#include "engine/hooks/default_hooks.h"
#include "engine/hooks/early_stopping_hook.h"
#include "engine/hooks/ema_hook.h"
#include "engine/hooks/empty_cache_hook.h"
#include "engine/hooks/logger_hook.h"
#include "engine/hooks/profiler_hook.h"
#include "engine/registry/registries.h"

namespace anvil::engine {
namespace {

// A string or a list of strings (MMEngine accepts both for save_best and rule).
std::vector<std::string> strings(const Config& cfg, std::string_view key) {
  const Config* value = cfg.find(key);
  if (value == nullptr || value->is_null()) return {};
  if (value->is_string()) return {value->as_string()};
  return value->as<std::vector<std::string>>();
}

template <class H>
void register_plain(const char* type) {
  HOOKS.add(type, [](const Config& cfg) -> std::shared_ptr<Hook> {
    cfg.check_keys({});
    return std::make_shared<H>();
  });
}

const bool kPlainHooks [[maybe_unused]] = [] {
  register_plain<RuntimeInfoHook>("RuntimeInfoHook");
  register_plain<IterTimerHook>("IterTimerHook");
  register_plain<DistSamplerSeedHook>("DistSamplerSeedHook");
  register_plain<ParamSchedulerHook>("ParamSchedulerHook");
  return true;
}();

ANVIL_REGISTER(HOOKS, "LoggerHook", [](const Config& cfg) {
  cfg.check_keys(
      {"interval", "ignore_last", "interval_exp_name", "log_metric_by_epoch", "progress_bar"});
  LoggerHookOptions o;
  o.interval = cfg.get_or("interval", o.interval);
  o.ignore_last = cfg.get_or("ignore_last", o.ignore_last);
  o.interval_exp_name = cfg.get_or("interval_exp_name", o.interval_exp_name);
  o.log_metric_by_epoch = cfg.get_or("log_metric_by_epoch", o.log_metric_by_epoch);
  if (const Config* bar = cfg.find("progress_bar")) o.progress_bar = bar->as_bool();
  return std::make_shared<LoggerHook>(o);
});

ANVIL_REGISTER(HOOKS, "CheckpointHook", [](const Config& cfg) {
  cfg.check_keys({"interval", "by_epoch", "save_optimizer", "save_param_scheduler", "out_dir",
                  "max_keep_ckpts", "save_last", "save_best", "rule", "greater_keys", "less_keys",
                  "save_begin"});
  CheckpointHookOptions o;
  o.interval = cfg.get_or("interval", o.interval);
  o.by_epoch = cfg.get_or("by_epoch", o.by_epoch);
  o.save_optimizer = cfg.get_or("save_optimizer", o.save_optimizer);
  o.save_param_scheduler = cfg.get_or("save_param_scheduler", o.save_param_scheduler);
  o.out_dir = cfg.get_or("out_dir", o.out_dir);
  o.max_keep_ckpts = cfg.get_or("max_keep_ckpts", o.max_keep_ckpts);
  o.save_last = cfg.get_or("save_last", o.save_last);
  o.save_best = strings(cfg, "save_best");
  o.rule = strings(cfg, "rule");
  if (cfg.has("greater_keys")) o.greater_keys = strings(cfg, "greater_keys");
  if (cfg.has("less_keys")) o.less_keys = strings(cfg, "less_keys");
  o.save_begin = cfg.get_or("save_begin", o.save_begin);
  return std::make_shared<CheckpointHook>(o);
});

// MMEngine's **kwargs of the averaged model are the table's other keys.
ANVIL_REGISTER(HOOKS, "EMAHook", [](const Config& cfg) {
  cfg.check_keys({"ema_type", "strict_load", "begin_iter", "begin_epoch", "momentum", "gamma",
                  "interval", "update_buffers", "device"});
  EMAHookOptions o;
  o.ema_type = cfg.get_or("ema_type", o.ema_type);
  if (const Config* momentum = cfg.find("momentum")) o.momentum = momentum->as_double();
  if (const Config* gamma = cfg.find("gamma")) o.gamma = gamma->as_double();
  o.interval = cfg.get_or("interval", o.interval);
  o.update_buffers = cfg.get_or("update_buffers", o.update_buffers);
  if (const Config* device = cfg.find("device")) o.device = Device::parse(device->as_string());
  o.strict_load = cfg.get_or("strict_load", o.strict_load);
  o.begin_iter = cfg.get_or("begin_iter", o.begin_iter);
  o.begin_epoch = cfg.get_or("begin_epoch", o.begin_epoch);
  return std::make_shared<EMAHook>(o);
});

ANVIL_REGISTER(HOOKS, "EarlyStoppingHook", [](const Config& cfg) {
  cfg.check_keys(
      {"monitor", "rule", "min_delta", "strict", "check_finite", "patience", "stopping_threshold"});
  EarlyStoppingHookOptions o;
  o.monitor = cfg.get<std::string>("monitor");
  if (const Config* rule = cfg.find("rule"); rule != nullptr && !rule->is_null()) {
    o.rule = rule->as_string();
  }
  o.min_delta = cfg.get_or("min_delta", o.min_delta);
  o.strict = cfg.get_or("strict", o.strict);
  o.check_finite = cfg.get_or("check_finite", o.check_finite);
  o.patience = cfg.get_or("patience", o.patience);
  if (const Config* threshold = cfg.find("stopping_threshold");
      threshold != nullptr && !threshold->is_null()) {
    o.stopping_threshold = threshold->as_double();
  }
  return std::make_shared<EarlyStoppingHook>(o);
});

ANVIL_REGISTER(HOOKS, "EmptyCacheHook", [](const Config& cfg) {
  cfg.check_keys({"before_epoch", "after_epoch", "after_iter"});
  EmptyCacheHookOptions o;
  o.before_epoch = cfg.get_or("before_epoch", o.before_epoch);
  o.after_epoch = cfg.get_or("after_epoch", o.after_epoch);
  o.after_iter = cfg.get_or("after_iter", o.after_iter);
  return std::make_shared<EmptyCacheHook>(o);
});

ANVIL_REGISTER(HOOKS, "ProfilerHook", [](const Config& cfg) {
  cfg.check_keys({"by_epoch", "profile_times", "json_trace_path"});
  ProfilerHookOptions o;
  o.by_epoch = cfg.get_or("by_epoch", o.by_epoch);
  o.profile_times = cfg.get_or("profile_times", o.profile_times);
  o.json_trace_path = cfg.get_or("json_trace_path", o.json_trace_path);
  return std::make_shared<ProfilerHook>(o);
});

}  // namespace
}  // namespace anvil::engine
