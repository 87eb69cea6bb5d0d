#include "engine/runner/runner.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "autograd/grad_mode.h"
#include "engine/hooks/checkpoint_hook.h"
#include "engine/hooks/default_hooks.h"
#include "engine/hooks/logger_hook.h"
#include "nn/fusion.h"
#include "nn/modules/container.h"
#include "tensor/config.h"
#include "tensor/generator.h"

namespace anvil::engine {

namespace {

std::string now_timestamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%d_%H%M%S", &tm);
  return buffer;
}

// MMEngine's set_random_seed without a seed: a random 31-bit one.
uint64_t draw_seed() {
  return std::random_device{}() & 0x7fffffffu;
}

// The config's file name without extension ("resnet50_cifar10"), or "" for C++ configs.
std::string config_stem(const std::optional<Config>& cfg) {
  if (!cfg || cfg->location().file.empty()) return "";
  return std::filesystem::path(cfg->location().file).stem().string();
}

}  // namespace

Runner::Runner(RunnerOptions options)
    : options_(std::move(options)), log_processor_(options_.log_processor) {
  start_time_ = std::chrono::steady_clock::now();
  ANVIL_CHECK(options_.model != nullptr, "Runner: no model");
  ANVIL_CHECK(!options_.work_dir.empty(), "Runner: work_dir is required");
  const bool train_given = options_.train_dataloader != nullptr;
  const bool optim_given = !std::holds_alternative<std::monostate>(options_.optim_wrapper);
  ANVIL_CHECK(train_given == options_.train_cfg.has_value() && train_given == optim_given,
              "Runner: train_dataloader, train_cfg and optim_wrapper must be given together or "
              "not at all (got train_dataloader: {}, train_cfg: {}, optim_wrapper: {})",
              train_given, options_.train_cfg.has_value(), optim_given);
  ANVIL_CHECK(options_.param_scheduler.empty() || optim_given,
              "Runner: param_scheduler needs an optim_wrapper");
  ANVIL_CHECK((options_.val_dataloader == nullptr) == options_.val_evaluator.empty(),
              "Runner: val_dataloader and val_evaluator must be given together");
  ANVIL_CHECK((options_.test_dataloader == nullptr) == options_.test_evaluator.empty(),
              "Runner: test_dataloader and test_evaluator must be given together");

  work_dir_ = std::filesystem::absolute(options_.work_dir);
  std::filesystem::create_directories(work_dir_);
  timestamp_ = now_timestamp();
  log_dir_ = work_dir_ / timestamp_;
  std::filesystem::create_directories(log_dir_);

  seed_ = options_.randomness.seed.value_or(draw_seed());
  if (options_.randomness.diff_rank_seed) seed_ += rank();
  manual_seed(seed_);

  const std::string stem = config_stem(options_.cfg);
  const std::string base = !options_.experiment_name.empty() ? options_.experiment_name : stem;
  experiment_name_ = base.empty() ? timestamp_ : base + "_" + timestamp_;
  if (options_.cfg) cfg_text_ = options_.cfg->dump();

  logger_ = std::make_unique<Logger>("anvil", (log_dir_ / (timestamp_ + ".log")).string(),
                                     options_.log_level, rank());
  visualizer_ = std::make_unique<Visualizer>(log_dir_.string(), options_.vis_backends, rank());

  // The model trains where it is (MMEngine moves it to the GPU; anvil's CUDA backend does not
  // have the kernels of a training step yet).
  model_ = options_.model;

  register_hooks();
  logger_->info(
      fmt::format("\n------------------------------------------------------------\n"
                  "anvil {}  seed: {}  threads: {}  device: {}\n"
                  "------------------------------------------------------------",
                  ANVIL_VERSION, seed_, std::thread::hardware_concurrency(),
                  model_->data_preprocessor->device().str()));
  if (options_.cfg) {
    logger_->info("Config:\n" + options_.cfg->pretty_text());
    if (rank() == 0) {
      options_.cfg->dump(work_dir_ / ((stem.empty() ? timestamp_ : stem) + ".toml"));
    }
    visualizer_->add_config(cfg_text_);
  }
  logger_->info("Hooks will be executed in the following order:\n" + hooks_.describe());
}

Runner::~Runner() = default;

// MMEngine's default hooks, each replaceable or removable by name, then the custom hooks.
void Runner::register_hooks() {
  std::vector<std::pair<std::string, std::shared_ptr<Hook>>> defaults = {
      {"runtime_info", std::make_shared<RuntimeInfoHook>()},
      {"timer", std::make_shared<IterTimerHook>()},
      {"sampler_seed", std::make_shared<DistSamplerSeedHook>()},
      {"logger", std::make_shared<LoggerHook>()},
      {"param_scheduler", std::make_shared<ParamSchedulerHook>()},
      {"checkpoint", std::make_shared<CheckpointHook>(CheckpointHookOptions{.interval = 1})},
  };
  for (const auto& [name, hook] : options_.default_hooks) {
    auto it = std::find_if(defaults.begin(), defaults.end(),
                           [&](const auto& d) { return d.first == name; });
    if (it == defaults.end()) {
      defaults.emplace_back(name, hook);  // MMEngine accepts extra named hooks here too
    } else {
      it->second = hook;
    }
  }
  for (const auto& [name, hook] : defaults) {
    if (hook != nullptr) hooks_.add(hook);
  }
  for (const auto& hook : options_.custom_hooks) hooks_.add(hook);
}

void Runner::register_hook(std::shared_ptr<Hook> hook, std::optional<int> priority) {
  hooks_.add(std::move(hook), priority);
}

OptimWrapper& Runner::optim_wrapper() {
  if (optim_wrapper_ == nullptr) {
    throw ValueError(optim_wrappers_ != nullptr
                         ? fmt::format("Runner::optim_wrapper: the runner has several optimizer "
                                       "wrappers ({}); use optim_wrapper_dict()",
                                       fmt::join(optim_wrappers_->keys(), ", "))
                         : std::string("Runner::optim_wrapper: no optimizer wrapper (train() "
                                       "builds it)"));
  }
  return *optim_wrapper_;
}

DataLoader* Runner::dataloader(const std::string& mode) const {
  return mode == "train" ? train_dataloader()
         : mode == "val" ? val_dataloader()
                         : test_dataloader();
}

GroupValues Runner::get_lr() const {
  if (optim_wrapper_ != nullptr) return optim_wrapper_->get_lr();
  if (optim_wrappers_ != nullptr) return optim_wrappers_->get_lr();
  return {};
}

void Runner::build_optim_wrapper() {
  if (optim_wrapper_ != nullptr || optim_wrappers_ != nullptr) return;
  std::visit(
      [&](auto& spec) {
        using S = std::decay_t<decltype(spec)>;
        if constexpr (std::is_same_v<S, OptimWrapperConfig>) {
          optim_wrapper_ = engine::build_optim_wrapper(*model_, spec);
        } else if constexpr (std::is_same_v<S, std::shared_ptr<OptimWrapper>>) {
          optim_wrapper_ = spec;
        } else if constexpr (std::is_same_v<S, std::shared_ptr<OptimWrapperDict>>) {
          optim_wrappers_ = spec;
        }
      },
      options_.optim_wrapper);
  ANVIL_CHECK(has_optim_wrapper(), "Runner::train: no optim_wrapper");
  const ScalarSink sink = [this](const std::string& name, double value) {
    message_hub_.update_scalar(name, value);
  };
  if (optim_wrapper_ != nullptr) optim_wrapper_->set_scalar_sink(sink);
  if (optim_wrappers_ != nullptr) {
    for (const auto& [name, wrapper] : optim_wrappers_->items()) wrapper->set_scalar_sink(sink);
  }
  if (options_.auto_scale_lr && options_.auto_scale_lr->enable) {
    const int64_t real_batch_size = world_size() * train_dataloader()->options().batch_size;
    const std::optional<double> ratio =
        optim_wrapper_ != nullptr
            ? auto_scale_lr(*optim_wrapper_, *options_.auto_scale_lr, real_batch_size)
            : auto_scale_lr(*optim_wrappers_, *options_.auto_scale_lr, real_batch_size);
    logger_->info(fmt::format("LR has been automatically scaled by {} (batch size {} vs base {})",
                              ratio.value_or(1.0), real_batch_size,
                              options_.auto_scale_lr->base_batch_size));
  }
}

// MMEngine's _build_param_scheduler: `end` defaults to the run's length in the scheduler's unit.
void Runner::build_param_schedulers() {
  if (!param_schedulers_.empty()) return;
  for (const Config& entry : options_.param_scheduler) {
    Config table = entry;
    std::shared_ptr<OptimWrapper> wrapper = optim_wrapper_;
    if (optim_wrappers_ != nullptr) {
      const Config* name = table.find("optimizer");
      ANVIL_CHECK(name != nullptr,
                  "{}: with several optimizer wrappers ({}) a param_scheduler needs an "
                  "'optimizer' key naming its wrapper",
                  table.where(), fmt::join(optim_wrappers_->keys(), ", "));
      ANVIL_CHECK(optim_wrappers_->contains(name->as_string()),
                  "{}: optimizer '{}' is not one of the wrappers ({})", name->where(),
                  name->as_string(), fmt::join(optim_wrappers_->keys(), ", "));
      wrapper =
          std::shared_ptr<OptimWrapper>(optim_wrappers_, &(*optim_wrappers_)[name->as_string()]);
      table.erase("optimizer");
    }
    if (!table.has("end")) {
      table.set("end", table.get_or("by_epoch", true) ? max_epochs() : max_iters());
    }
    param_schedulers_.push_back(build_param_scheduler(table, wrapper, train_dataloader()->size()));
  }
}

void Runner::apply_model_patches() {
  if (!options_.efficient_conv_bn_eval.empty()) {
    nn::turn_on_efficient_conv_bn_eval(*model_, options_.efficient_conv_bn_eval);
    logger_->info(fmt::format("Enabled efficient_conv_bn_eval for {}",
                              fmt::join(options_.efficient_conv_bn_eval, ", ")));
  }
  for (const std::string& path : options_.activation_checkpointing) {
    auto sequential = std::dynamic_pointer_cast<nn::Sequential>(model_->get_submodule(path));
    ANVIL_CHECK(sequential != nullptr,
                "activation_checkpointing: '{}' is a {}; anvil checkpoints Sequential modules "
                "(e.g. resnet.layer1), whose children it recomputes in backward",
                path, model_->get_submodule(path)->type_name());
    sequential->set_activation_checkpointing(true);
  }
  if (!options_.activation_checkpointing.empty()) {
    logger_->info(fmt::format("Enabled activation checkpointing for {}",
                              fmt::join(options_.activation_checkpointing, ", ")));
  }
}

std::shared_ptr<BaseModel> Runner::train() {
  ANVIL_CHECK(options_.train_dataloader != nullptr,
              "Runner::train: no train_dataloader, train_cfg and optim_wrapper were given");
  if (train_loop_ == nullptr) {
    const TrainLoopConfig& cfg = *options_.train_cfg;
    if (cfg.by_epoch) {
      train_loop_ = std::make_unique<EpochBasedTrainLoop>(*this, options_.train_dataloader, cfg);
    } else {
      train_loop_ = std::make_unique<IterBasedTrainLoop>(*this, options_.train_dataloader, cfg);
    }
  }
  build_optim_wrapper();
  build_param_schedulers();
  if (val_loop_ == nullptr && options_.val_dataloader != nullptr) {
    val_loop_ = std::make_unique<EvalLoop>(
        *this, options_.val_dataloader, std::make_shared<Evaluator>(options_.val_evaluator), "val");
  }
  call_hook(&Hook::before_run);
  model_->init_weights();
  apply_model_patches();
  load_or_resume();
  if (optim_wrapper_ != nullptr) {
    optim_wrapper_->initialize_count_status(*model_, iter(), max_iters());
  }
  train_loop_->run();
  call_hook(&Hook::after_run);
  return model_;
}

Scalars Runner::val() {
  ANVIL_CHECK(options_.val_dataloader != nullptr,
              "Runner::val: no val_dataloader and val_evaluator were given");
  if (val_loop_ == nullptr) {
    val_loop_ = std::make_unique<EvalLoop>(
        *this, options_.val_dataloader, std::make_shared<Evaluator>(options_.val_evaluator), "val");
  }
  call_hook(&Hook::before_run);
  load_or_resume();
  val_loop_->run();
  call_hook(&Hook::after_run);
  return val_loop_->metrics();
}

Scalars Runner::test() {
  ANVIL_CHECK(options_.test_dataloader != nullptr,
              "Runner::test: no test_dataloader and test_evaluator were given");
  if (test_loop_ == nullptr) {
    test_loop_ =
        std::make_unique<EvalLoop>(*this, options_.test_dataloader,
                                   std::make_shared<Evaluator>(options_.test_evaluator), "test");
  }
  call_hook(&Hook::before_run);
  load_or_resume();
  test_loop_->run();
  call_hook(&Hook::after_run);
  return test_loop_->metrics();
}

// MMEngine's load_or_resume: resume (from load_from, or the work directory's latest checkpoint)
// restores the whole run; load_from alone loads the weights.
void Runner::load_or_resume() {
  if (loaded_) return;
  loaded_ = true;
  if (options_.resume && train_loop_ != nullptr) {
    std::optional<std::filesystem::path> path = options_.load_from;
    if (!path) path = find_latest_checkpoint(work_dir_);
    if (!path) {
      logger_->info(
          fmt::format("No checkpoint found in {}: training from scratch", work_dir_.string()));
      return;
    }
    resume(*path);
  } else if (options_.load_from) {
    const std::filesystem::path& path = *options_.load_from;
    if (std::filesystem::is_directory(path)) {
      Checkpoint checkpoint = load_checkpoint(path);
      call_hook(&Hook::after_load_checkpoint, checkpoint);
    }
    load_weights(*model_, path);
    logger_->info("Load checkpoint from " + path.string());
  }
}

Checkpoint Runner::make_checkpoint(const SaveCheckpointOptions& options) {
  Checkpoint c;
  c.meta.epoch = options.epoch.value_or(epoch());
  c.meta.iter = options.iter.value_or(iter());
  c.meta.seed = static_cast<int64_t>(seed_);
  c.meta.cfg = cfg_text_;
  c.meta.experiment_name = experiment_name_;
  c.model = model_->state_dict();
  if (options.save_optimizer) {
    if (optim_wrapper_ != nullptr) c.optimizers["optimizer"] = optim_wrapper_->state_dict();
    if (optim_wrappers_ != nullptr) c.optimizers = optim_wrappers_->state_dict();
  }
  c.states["message_hub"] = message_hub_.state_dict();
  if (options.save_param_scheduler && !param_schedulers_.empty()) {
    nlohmann::json schedulers = nlohmann::json::array();
    for (const auto& s : param_schedulers_) schedulers.push_back(s->state_dict());
    c.states["param_schedulers"] = schedulers.dump();
  }
  if (const DataLoader* loader = train_dataloader()) {
    const DataLoaderState state = loader->state();
    c.states["data_loader"] =
        nlohmann::json{{"epoch", state.epoch}, {"iteration", state.iteration}}.dump();
  }
  const Generator& generator = default_generator();
  c.states["rng"] =
      nlohmann::json{{"seed", generator.seed()}, {"offset", generator.offset()}}.dump();
  call_hook(&Hook::before_save_checkpoint, c);
  return c;
}

std::filesystem::path Runner::save_checkpoint(const std::string& name,
                                              const SaveCheckpointOptions& options,
                                              const std::filesystem::path& dir) {
  const std::filesystem::path path = (dir.empty() ? work_dir_ : dir) / name;
  engine::save_checkpoint(path, make_checkpoint(options));
  write_last_checkpoint(work_dir_, path);
  message_hub_.update_info("last_ckpt", path.string());
  return path;
}

void Runner::resume(const std::filesystem::path& path) {
  Checkpoint c = load_checkpoint(path);
  call_hook(&Hook::after_load_checkpoint, c);
  model_->load_state_dict(c.model, /*strict=*/true);
  if (train_loop_ != nullptr) train_loop_->set_progress(c.meta.epoch, c.meta.iter);
  if (c.meta.seed && static_cast<uint64_t>(*c.meta.seed) != seed_) {
    if (options_.randomness.seed) {
      logger_->warning(
          fmt::format("The seed of the checkpoint ({}) replaces the configured seed "
                      "({}) so that the resumed run continues the same way",
                      *c.meta.seed, seed_));
    }
    seed_ = static_cast<uint64_t>(*c.meta.seed);
  }
  auto state = [&](const char* key) -> const std::string* {
    auto it = c.states.find(key);
    return it == c.states.end() ? nullptr : &it->second;
  };
  if (const std::string* hub = state("message_hub")) message_hub_.load_state_dict(*hub);
  if (optim_wrapper_ != nullptr && c.optimizers.count("optimizer") != 0) {
    optim_wrapper_->load_state_dict(c.optimizers.at("optimizer"));
  } else if (optim_wrappers_ != nullptr && !c.optimizers.empty()) {
    optim_wrappers_->load_state_dict(c.optimizers);
  }
  if (const std::string* schedulers = state("param_schedulers")) {
    const nlohmann::json states = nlohmann::json::parse(*schedulers);
    ANVIL_CHECK(states.size() == param_schedulers_.size(),
                "resume {}: the checkpoint has {} parameter schedulers, the run {}", path.string(),
                states.size(), param_schedulers_.size());
    for (size_t i = 0; i < states.size(); ++i) {
      param_schedulers_[i]->load_state_dict(states[i].get<SchedulerState>());
    }
  }
  // An epoch-based run restarts the checkpoint's epoch from its first batch (the sampler hook
  // sets its epoch); an iteration-based one continues the loader where it stopped.
  if (const std::string* loader = state("data_loader");
      loader != nullptr && train_loop_ != nullptr && !train_loop_->by_epoch()) {
    const nlohmann::json s = nlohmann::json::parse(*loader);
    train_dataloader()->load_state(
        {s.at("epoch").get<int64_t>(), s.at("iteration").get<int64_t>()});
  }
  if (const std::string* rng = state("rng")) {
    const nlohmann::json s = nlohmann::json::parse(*rng);
    Generator& generator = default_generator();
    generator.manual_seed(s.at("seed").get<uint64_t>());
    generator.set_offset(s.at("offset").get<uint64_t>());
  }
  logger_->info(
      fmt::format("resumed epoch: {}, iter: {} from {}", c.meta.epoch, c.meta.iter, path.string()));
}

}  // namespace anvil::engine
