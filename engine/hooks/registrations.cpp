// The hooks in HOOKS with MMEngine's names and keys. `priority` is read by the runner, not here.
#include "engine/hooks/checkpoint_hook.h"
#include "engine/hooks/default_hooks.h"
#include "engine/hooks/logger_hook.h"
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
                  "max_keep_ckpts", "save_last", "save_best", "rule", "greater_keys",
                  "less_keys", "save_begin"});
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

}  // namespace
}  // namespace anvil::engine
