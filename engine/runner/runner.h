// MMEngine's Runner (mmengine/runner/runner.py): a model, data, an optimizer and hooks in; a
// trained model, logs, metrics and checkpoints in a work directory out (DESIGN.md §8):
//
//   work_dir/<config name>.toml       the merged config (when built from one)
//   work_dir/last_checkpoint          the latest checkpoint's path
//   work_dir/epoch_3.ckpt/ ...        checkpoints (CheckpointHook)
//   work_dir/<timestamp>/<timestamp>.log, vis_data/scalars.json, ...
//
// Built from C++ objects (RunnerOptions, MMEngine's constructor arguments) or from a config
// (Runner::from_cfg, MMEngine's keys). train() runs the train loop with validation, val() and
// test() one pass of their loop; hooks act at every point in between.
//
//   engine::Runner runner({.model = model, .work_dir = "work_dir",
//                          .train_dataloader = train_loader,
//                          .optim_wrapper = engine::OptimWrapperConfig{.optimizer = {"SGD", {{"lr",
//                          0.001}}}}, .train_cfg = engine::TrainLoopConfig{.max_epochs = 5},
//                          .val_dataloader = val_loader,
//                          .val_evaluator = {std::make_shared<engine::Accuracy>()}});
//   runner.train();
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "engine/checkpoint/checkpoint.h"
#include "engine/config/config.h"
#include "engine/hooks/hook.h"
#include "engine/logging/log_processor.h"
#include "engine/logging/logger.h"
#include "engine/logging/message_hub.h"
#include "engine/model/base_model.h"
#include "engine/optim/default_constructor.h"
#include "engine/optim/param_scheduler.h"
#include "engine/runner/loops.h"
#include "engine/visualization/visualizer.h"

namespace anvil::engine {

// MMEngine's `randomness`: seed (unset: drawn at random and logged), diff_rank_seed (seed +
// rank), deterministic. anvil's CPU kernels are deterministic for a given thread count (static
// OpenMP partitions, no atomics), so `deterministic` changes nothing on the CPU; it is accepted
// for MMEngine configs. Data order and augmentation follow the seed whatever the worker count.
struct Randomness {
  std::optional<uint64_t> seed = std::nullopt;
  bool diff_rank_seed = false;
  bool deterministic = false;
};

// The optimizer: a config built over the model's parameters at train(), a built wrapper, or
// several wrappers by name (the model's train_step then takes an OptimWrapperDict).
using OptimWrapperSpec =
    std::variant<std::monostate, OptimWrapperConfig, std::shared_ptr<OptimWrapper>,
                 std::shared_ptr<OptimWrapperDict>>;

// MMEngine's constructor arguments. train needs train_dataloader, optim_wrapper and train_cfg;
// validation needs val_dataloader and val_evaluator (test: test_*).
struct RunnerOptions {
  std::shared_ptr<BaseModel> model;
  std::filesystem::path work_dir;
  std::shared_ptr<DataLoader> train_dataloader = nullptr;
  OptimWrapperSpec optim_wrapper = {};
  std::optional<TrainLoopConfig> train_cfg = std::nullopt;
  std::shared_ptr<DataLoader> val_dataloader = nullptr;
  std::vector<std::shared_ptr<BaseMetric>> val_evaluator = {};
  std::shared_ptr<DataLoader> test_dataloader = nullptr;
  std::vector<std::shared_ptr<BaseMetric>> test_evaluator = {};
  // Scheduler tables (`type = "LinearLR", ...`), built over the optimizer at train() with
  // MMEngine's defaults (end = max_epochs or max_iters; convert_to_iter_based uses the train
  // loader's length). With an OptimWrapperDict a table's `optimizer` key names its wrapper.
  std::vector<Config> param_scheduler = {};
  // Replace default hooks by name (runtime_info, timer, sampler_seed, logger, param_scheduler,
  // checkpoint); a null hook removes one.
  std::vector<std::pair<std::string, std::shared_ptr<Hook>>> default_hooks = {};
  std::vector<std::shared_ptr<Hook>> custom_hooks = {};
  // A checkpoint whose weights are loaded before the run (MMEngine's load_from), or, with
  // resume, the checkpoint to resume; resume without load_from finds work_dir's latest.
  std::optional<std::filesystem::path> load_from = std::nullopt;
  bool resume = false;
  Randomness randomness = {};
  std::optional<AutoScaleLrCfg> auto_scale_lr = std::nullopt;
  LogProcessorOptions log_processor = {};
  LogLevel log_level = LogLevel::info;
  std::vector<Config> vis_backends = {};  // default: LocalVisBackend
  std::string experiment_name = "";       // default: the config's name, else the timestamp
  // The full config (dumped into the work directory, logged, stored in checkpoints); from_cfg
  // sets it.
  std::optional<Config> cfg = std::nullopt;
  // Module paths ("resnet.layer4") run as MMEngine's efficient_conv_bn_eval and
  // activation_checkpointing keys (train only).
  std::vector<std::string> efficient_conv_bn_eval = {};
  std::vector<std::string> activation_checkpointing = {};
};

// What save_checkpoint writes besides the weights.
struct SaveCheckpointOptions {
  bool save_optimizer = true;
  bool save_param_scheduler = true;
  // The completed epochs and iterations the checkpoint records (where a resume continues);
  // default: the runner's counts. Inside after_train_epoch the epoch is not counted yet (pass
  // epoch + 1), inside after_train_iter the iteration (pass iter + 1), as MMEngine's meta.
  std::optional<int64_t> epoch = std::nullopt;
  std::optional<int64_t> iter = std::nullopt;
};

class Runner {
 public:
  explicit Runner(RunnerOptions options);
  // MMEngine's Runner.from_cfg: every object built from the config's tables through the
  // registries; unknown keys are errors naming the file and line.
  static std::unique_ptr<Runner> from_cfg(const Config& cfg);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Trains with validation; returns the model.
  std::shared_ptr<BaseModel> train();
  // One pass of the val / test loop; returns its metrics.
  Scalars val();
  Scalars test();

  void register_hook(std::shared_ptr<Hook> hook, std::optional<int> priority = std::nullopt);
  // Calls `point` on every hook in priority order: call_hook(&Hook::before_train_epoch).
  template <class... P, class... A>
  void call_hook(void (Hook::*point)(Runner&, P...), A&&... args) {
    hooks_.call(point, *this, std::forward<A>(args)...);
  }
  const HookList& hooks() const { return hooks_; }
  HookList& hooks() { return hooks_; }  // ProfilerHook sets its observer

  // The checkpoint of the run's state as it is now (before_save_checkpoint hooks applied).
  Checkpoint make_checkpoint(const SaveCheckpointOptions& options = {});
  // make_checkpoint, written as work_dir/`name` (or `dir`/`name`); updates last_checkpoint.
  std::filesystem::path save_checkpoint(const std::string& name,
                                        const SaveCheckpointOptions& options = {},
                                        const std::filesystem::path& dir = {});
  // Restores everything a checkpoint holds (after_load_checkpoint hooks run first).
  void resume(const std::filesystem::path& checkpoint);

  // ---- state hooks read (MMEngine's runner properties)
  BaseModel& model() { return *model_; }
  // The single optimizer wrapper; an error when there is none or several.
  OptimWrapper& optim_wrapper();
  OptimWrapperDict* optim_wrapper_dict() { return optim_wrappers_.get(); }
  bool has_optim_wrapper() const { return optim_wrapper_ != nullptr || optim_wrappers_ != nullptr; }
  // {"lr": [...]} of every wrapper (MMEngine's get_lr() of either kind).
  GroupValues get_lr() const;
  std::vector<std::shared_ptr<ParamScheduler>>& param_schedulers() { return param_schedulers_; }

  TrainLoop* train_loop() { return train_loop_.get(); }
  EvalLoop* val_loop() { return val_loop_.get(); }
  EvalLoop* test_loop() { return test_loop_.get(); }
  DataLoader* train_dataloader() const { return options_.train_dataloader.get(); }
  DataLoader* val_dataloader() const { return options_.val_dataloader.get(); }
  DataLoader* test_dataloader() const { return options_.test_dataloader.get(); }
  // The loader of a loop by its mode ("train", "val" or "test"); null when there is none.
  DataLoader* dataloader(const std::string& mode) const;

  int64_t epoch() const { return train_loop_ ? train_loop_->epoch() : 0; }
  int64_t iter() const { return train_loop_ ? train_loop_->iter() : 0; }
  int64_t max_epochs() const { return train_loop_ ? train_loop_->max_epochs() : 0; }
  int64_t max_iters() const { return train_loop_ ? train_loop_->max_iters() : 0; }

  MessageHub& message_hub() { return message_hub_; }
  Logger& logger() { return *logger_; }
  Visualizer& visualizer() { return *visualizer_; }
  const LogProcessor& log_processor() const { return log_processor_; }

  const std::filesystem::path& work_dir() const { return work_dir_; }
  const std::filesystem::path& log_dir() const { return log_dir_; }
  const std::string& timestamp() const { return timestamp_; }
  const std::string& experiment_name() const { return experiment_name_; }
  uint64_t seed() const { return seed_; }
  int rank() const { return 0; }
  int world_size() const { return 1; }
  // The config's text ("" for a runner built from C++ objects without one).
  const std::string& cfg_text() const { return cfg_text_; }
  // Time since the runner was built, for the profiler and the timer.
  std::chrono::steady_clock::time_point start_time() const { return start_time_; }

 private:
  void register_hooks();
  void build_optim_wrapper();
  void build_param_schedulers();
  void load_or_resume();
  void apply_model_patches();

  RunnerOptions options_;
  std::filesystem::path work_dir_, log_dir_;
  std::string timestamp_, experiment_name_, cfg_text_;
  uint64_t seed_ = 0;
  std::chrono::steady_clock::time_point start_time_;

  std::shared_ptr<BaseModel> model_;
  std::shared_ptr<OptimWrapper> optim_wrapper_;
  std::shared_ptr<OptimWrapperDict> optim_wrappers_;
  std::vector<std::shared_ptr<ParamScheduler>> param_schedulers_;

  std::unique_ptr<TrainLoop> train_loop_;
  std::unique_ptr<EvalLoop> val_loop_, test_loop_;

  HookList hooks_;
  MessageHub message_hub_;
  std::unique_ptr<Logger> logger_;
  std::unique_ptr<Visualizer> visualizer_;
  LogProcessor log_processor_;
  bool loaded_ = false;  // load_or_resume ran (train then test loads once)
};

}  // namespace anvil::engine
