// Runner::from_cfg: MMEngine's config keys onto RunnerOptions. Top-level keys the runner does
// not read are allowed (configs keep variables such as data_root there, as MMEngine's do); every
// table it builds checks its own keys.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/data/data_loader.h"
#include "engine/evaluator/evaluator.h"
#include "engine/registry/registries.h"
#include "engine/runner/runner.h"
#include "tensor/generator.h"

namespace anvil::engine {

namespace {

// A table or an array of tables, as a list.
std::vector<Config> table_list(const Config& value) {
  if (value.is_table()) return {value};
  if (!value.is_array()) {
    throw ConfigError(fmt::format("{}: expected a table or an array of tables, got {}",
                                  value.where(), value.describe()));
  }
  return value.elements();
}

std::vector<std::string> string_list(const Config& cfg, std::string_view key) {
  const Config* value = cfg.find(key);
  if (value == nullptr) return {};
  if (value->is_string()) return {value->as_string()};
  return value->as<std::vector<std::string>>();
}

std::shared_ptr<BaseModel> build_model(const Config& cfg) {
  Config table = cfg["model"];
  if (const Config* preprocessor = cfg.find("data_preprocessor");
      preprocessor != nullptr && !table.has("data_preprocessor")) {
    table.set("data_preprocessor", *preprocessor);
  }
  std::shared_ptr<nn::Module> module = MODELS.build(table);
  auto model = std::dynamic_pointer_cast<BaseModel>(module);
  if (model == nullptr) {
    throw ConfigError(fmt::format(
        "{}: model type '{}' is a {}, not a BaseModel with train/val/test steps; wrap it, e.g. "
        "type = \"ImageClassifier\", backbone = {{type = \"{}\", ...}}",
        table.where(), table.get<std::string>("type"), module->type_name(),
        table.get<std::string>("type")));
  }
  return model;
}

TrainLoopConfig train_loop_config(const Config& cfg) {
  cfg.check_keys({"type", "by_epoch", "max_epochs", "max_iters", "val_begin", "val_interval",
                  "dynamic_intervals"});
  TrainLoopConfig o;
  if (const Config* type = cfg.find("type")) {
    if (type->as_string() != "EpochBasedTrainLoop" && type->as_string() != "IterBasedTrainLoop") {
      throw ConfigError(fmt::format(
          "{}: train_cfg type must be EpochBasedTrainLoop or IterBasedTrainLoop, got '{}'",
          type->where(), type->as_string()));
    }
    o.by_epoch = type->as_string() == "EpochBasedTrainLoop";
  }
  o.by_epoch = cfg.get_or("by_epoch", o.by_epoch);
  if (o.by_epoch) {
    o.max_epochs = cfg.get<int64_t>("max_epochs");
  } else {
    o.max_iters = cfg.get<int64_t>("max_iters");
  }
  o.val_begin = cfg.get_or("val_begin", o.val_begin);
  if (const Config* interval = cfg.find("val_interval")) o.val_interval = interval->as_int();
  if (const Config* dynamic = cfg.find("dynamic_intervals")) {
    for (const Config& pair : dynamic->elements()) {
      if (pair.size() != 2) {
        throw ConfigError(
            fmt::format("{}: dynamic_intervals entries are [milestone, interval], "
                        "got {}",
                        pair.where(), pair.describe()));
      }
      o.dynamic_intervals.emplace_back(pair[0].as_int(), pair[1].as_int());
    }
  }
  return o;
}

void check_eval_cfg(const Config& cfg, const char* key, const char* loop) {
  const Config* table = cfg.find(key);
  if (table == nullptr) return;
  table->check_keys({"type"});
  if (const Config* type = table->find("type"); type != nullptr && type->as_string() != loop) {
    throw ConfigError(fmt::format("{}: {} type must be {}, got '{}'", type->where(), key, loop,
                                  type->as_string()));
  }
}

std::vector<std::shared_ptr<BaseMetric>> build_metrics(const Config& value) {
  std::vector<std::shared_ptr<BaseMetric>> metrics;
  for (const Config& table : table_list(value)) metrics.push_back(METRICS.build(table));
  return metrics;
}

// `priority` is the runner's (MMEngine's register_hook), the rest the hook's.
std::shared_ptr<Hook> build_hook(const Config& table) {
  std::shared_ptr<Hook> hook = HOOKS.build(table.without("priority"));
  if (const Config* p = table.find("priority")) {
    hook->configured_priority =
        p->is_string() ? parse_priority(p->as_string()) : static_cast<int>(p->as_int());
  }
  return hook;
}

OptimWrapperSpec optim_wrapper_spec(const Config& table, BaseModel& model) {
  if (table.has("type") || table.has("optimizer")) return optim_wrapper_config(table);
  // Several wrappers by name, each over the model's submodule of that name (MMEngine's
  // multi-optimizer configs: generator = {...}, discriminator = {...}).
  std::map<std::string, std::unique_ptr<OptimWrapper>> wrappers;
  for (const auto& [name, sub] : table.items()) {
    if (!sub.is_table()) {
      throw ConfigError(
          fmt::format("{}: expected an optimizer wrapper table for '{}' (or "
                      "`optimizer` for a single one), got {}",
                      sub.where(), name, sub.describe()));
    }
    std::shared_ptr<nn::Module> submodule;
    try {
      submodule = model.get_submodule(name);
    } catch (const std::exception& e) {
      throw ConfigError(
          fmt::format("{}: optimizer wrapper '{}' names no submodule of the model: {}", sub.where(),
                      name, e.what()));
    }
    wrappers[name] = build_optim_wrapper(*submodule, optim_wrapper_config(sub));
  }
  return std::make_shared<OptimWrapperDict>(std::move(wrappers));
}

// A list of scheduler tables, or (several wrappers) a table of lists by wrapper name, flattened
// into tables with an `optimizer` key.
std::vector<Config> param_scheduler_tables(const Config& value) {
  if (value.is_array() || value.has("type")) return table_list(value);
  std::vector<Config> out;
  for (const auto& [name, list] : value.items()) {
    for (Config table : table_list(list)) {
      table.set("optimizer", name);
      out.push_back(std::move(table));
    }
  }
  return out;
}

LogProcessorOptions log_processor_options(const Config& cfg) {
  cfg.check_keys({"type", "window_size", "by_epoch", "custom_cfg", "num_digits",
                  "log_with_hierarchy", "mean_pattern"});
  LogProcessorOptions o;
  o.window_size = cfg.get_or("window_size", o.window_size);
  o.by_epoch = cfg.get_or("by_epoch", o.by_epoch);
  o.num_digits = static_cast<int>(cfg.get_or<int64_t>("num_digits", o.num_digits));
  o.log_with_hierarchy = cfg.get_or("log_with_hierarchy", o.log_with_hierarchy);
  o.mean_pattern = cfg.get_or("mean_pattern", o.mean_pattern);
  if (const Config* custom = cfg.find("custom_cfg")) {
    for (const Config& c : custom->elements()) {
      c.check_keys({"data_src", "log_name", "method_name", "window_size"});
      CustomLogCfg item;
      item.data_src = c.get<std::string>("data_src");
      item.log_name = c.get_or("log_name", item.log_name);
      item.method_name = c.get_or("method_name", item.method_name);
      if (const Config* window = c.find("window_size")) {
        if (window->is_string()) {
          item.window_size = window->as_string();
        } else {
          item.window_size = window->as_int();
        }
      }
      o.custom_cfg.push_back(item);
    }
  }
  return o;
}

}  // namespace

std::unique_ptr<Runner> Runner::from_cfg(const Config& cfg) {
  RunnerOptions o;
  o.cfg = cfg;
  o.work_dir = cfg.get<std::string>("work_dir");

  if (const Config* randomness = cfg.find("randomness")) {
    randomness->check_keys({"seed", "diff_rank_seed", "deterministic"});
    if (const Config* seed = randomness->find("seed"); seed != nullptr && !seed->is_null()) {
      o.randomness.seed = seed->as<uint64_t>();
    }
    o.randomness.diff_rank_seed = randomness->get_or("diff_rank_seed", false);
    o.randomness.deterministic = randomness->get_or("deterministic", false);
  }
  // The samplers take the run's seed, so it is drawn here when the config has none.
  if (!o.randomness.seed) o.randomness.seed = random_seed() & 0x7fffffffu;
  const uint64_t seed = *o.randomness.seed;
  // Seeded before the model is built, so its initial weights follow the seed (MMEngine's
  // set_randomness runs first too).
  manual_seed(seed);

  o.model = build_model(cfg);
  if (const Config* loader = cfg.find("train_dataloader")) {
    o.train_dataloader = build_dataloader(*loader, seed);
  }
  if (const Config* train_cfg = cfg.find("train_cfg")) o.train_cfg = train_loop_config(*train_cfg);
  if (const Config* wrapper = cfg.find("optim_wrapper")) {
    o.optim_wrapper = optim_wrapper_spec(*wrapper, *o.model);
  }
  if (const Config* schedulers = cfg.find("param_scheduler")) {
    o.param_scheduler = param_scheduler_tables(*schedulers);
  }
  check_eval_cfg(cfg, "val_cfg", "ValLoop");
  check_eval_cfg(cfg, "test_cfg", "TestLoop");
  if (const Config* loader = cfg.find("val_dataloader")) {
    o.val_dataloader = build_dataloader(*loader, seed);
  }
  if (const Config* evaluator = cfg.find("val_evaluator"))
    o.val_evaluator = build_metrics(*evaluator);
  if (const Config* loader = cfg.find("test_dataloader")) {
    o.test_dataloader = build_dataloader(*loader, seed);
  }
  if (const Config* evaluator = cfg.find("test_evaluator")) {
    o.test_evaluator = build_metrics(*evaluator);
  }

  if (const Config* hooks = cfg.find("default_hooks")) {
    for (const auto& [name, table] : hooks->items()) {
      // TOML has no null: `checkpoint = false` removes a default hook (MMEngine's None).
      const bool removed = table.kind() == Config::Kind::boolean && !table.as_bool();
      o.default_hooks.emplace_back(name, removed ? nullptr : build_hook(table));
    }
  }
  if (const Config* hooks = cfg.find("custom_hooks")) {
    for (const Config& table : table_list(*hooks)) o.custom_hooks.push_back(build_hook(table));
  }

  // TOML has no null: an empty load_from means none (MMEngine's None).
  if (const Config* load_from = cfg.find("load_from");
      load_from != nullptr && !load_from->is_null() && !load_from->as_string().empty()) {
    o.load_from = load_from->as_string();
  }
  if (const Config* resume = cfg.find("resume")) {
    // A path resumes from that checkpoint (FlexibleRunner's form), true from the latest.
    if (resume->is_string()) {
      o.resume = !resume->as_string().empty();
      if (o.resume) o.load_from = resume->as_string();
    } else {
      o.resume = resume->as_bool();
    }
  }
  if (const Config* scale = cfg.find("auto_scale_lr")) {
    scale->check_keys({"enable", "base_batch_size"});
    o.auto_scale_lr =
        AutoScaleLrCfg{scale->get_or("enable", false), scale->get<int64_t>("base_batch_size")};
  }
  if (const Config* processor = cfg.find("log_processor")) {
    o.log_processor = log_processor_options(*processor);
  }
  if (const Config* level = cfg.find("log_level"))
    o.log_level = parse_log_level(level->as_string());
  if (const Config* visualizer = cfg.find("visualizer")) {
    visualizer->check_keys({"type", "vis_backends", "name"});
    if (const Config* backends = visualizer->find("vis_backends")) {
      o.vis_backends = table_list(*backends);
    }
  }
  o.experiment_name = cfg.get_or("experiment_name", std::string());
  o.efficient_conv_bn_eval = string_list(cfg, "efficient_conv_bn_eval");
  o.activation_checkpointing = string_list(cfg, "activation_checkpointing");

  return std::make_unique<Runner>(std::move(o));
}

}  // namespace anvil::engine
