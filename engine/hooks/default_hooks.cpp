#include "engine/hooks/default_hooks.h"

#include <map>

#include "engine/runner/runner.h"
#include "tensor/config.h"

namespace anvil::engine {

// ---- RuntimeInfoHook

void RuntimeInfoHook::before_run(Runner& runner) {
  MessageHub& hub = runner.message_hub();
  hub.update_info("cfg", runner.cfg_text());
  hub.update_info("seed", static_cast<int64_t>(runner.seed()));
  hub.update_info("experiment_name", runner.experiment_name());
  hub.update_info("anvil_version", std::string(ANVIL_VERSION));
}

void RuntimeInfoHook::before_train(Runner& runner) {
  MessageHub& hub = runner.message_hub();
  hub.update_info("loop_stage", std::string("train"));
  hub.update_info("epoch", runner.epoch());
  hub.update_info("iter", runner.iter());
  hub.update_info("max_epochs", runner.max_epochs());
  hub.update_info("max_iters", runner.max_iters());
}

void RuntimeInfoHook::before_train_epoch(Runner& runner) {
  runner.message_hub().update_info("epoch", runner.epoch());
}

// The lr of each wrapper's first group, as MMEngine logs it ("lr", "base_lr" with several
// groups, "<name>.lr" for several wrappers).
void RuntimeInfoHook::before_train_iter(Runner& runner, int64_t, const Batch&) {
  MessageHub& hub = runner.message_hub();
  hub.update_info("iter", runner.iter());
  for (const auto& [key, values] : runner.get_lr()) {
    if (!values.empty()) hub.update_scalar("train/" + key, values.front());
  }
}

void RuntimeInfoHook::after_train_iter(Runner& runner, int64_t, const Batch&,
                                       const Scalars& outputs) {
  for (const auto& [key, value] : outputs)
    runner.message_hub().update_scalar("train/" + key, value);
}

void RuntimeInfoHook::after_train(Runner& runner) {
  runner.message_hub().pop_info("loop_stage");
}

void RuntimeInfoHook::before_val(Runner& runner) {
  runner.message_hub().update_info("loop_stage", std::string("val"));
}

void RuntimeInfoHook::after_val(Runner& runner) {
  // Back to the train loop's stage when validation runs inside training.
  if (runner.train_loop() != nullptr) {
    runner.message_hub().update_info("loop_stage", std::string("train"));
  } else {
    runner.message_hub().pop_info("loop_stage");
  }
}

void RuntimeInfoHook::after_val_epoch(Runner& runner, const Scalars& metrics) {
  for (const auto& [key, value] : metrics) runner.message_hub().update_scalar("val/" + key, value);
}

void RuntimeInfoHook::before_test(Runner& runner) {
  runner.message_hub().update_info("loop_stage", std::string("test"));
}

void RuntimeInfoHook::after_test(Runner& runner) {
  runner.message_hub().pop_info("loop_stage");
}

void RuntimeInfoHook::after_test_epoch(Runner& runner, const Scalars& metrics) {
  for (const auto& [key, value] : metrics) runner.message_hub().update_scalar("test/" + key, value);
}

// ---- IterTimerHook

double IterTimerHook::lap() {
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  return seconds;
}

void IterTimerHook::before_train(Runner& runner) {
  start_iter_ = runner.iter();
  train_seconds_ = 0;
}

// data_time: from the end of the previous iteration (or the epoch's start) to now, i.e. the wait
// for the batch; the iteration's time runs on until after_iter.
void IterTimerHook::before_iter(Runner& runner, const std::string& mode) {
  const auto now = std::chrono::steady_clock::now();
  runner.message_hub().update_scalar(mode + "/data_time",
                                     std::chrono::duration<double>(now - last_).count());
}

void IterTimerHook::before_train_iter(Runner& runner, int64_t, const Batch&) {
  before_iter(runner, "train");
}
void IterTimerHook::before_val_iter(Runner& runner, int64_t, const Batch&) {
  before_iter(runner, "val");
}
void IterTimerHook::before_test_iter(Runner& runner, int64_t, const Batch&) {
  before_iter(runner, "test");
}

void IterTimerHook::after_train_iter(Runner& runner, int64_t, const Batch&, const Scalars&) {
  const double seconds = lap();
  MessageHub& hub = runner.message_hub();
  hub.update_scalar("train/time", seconds);
  train_seconds_ += seconds;
  const double mean = train_seconds_ / double(runner.iter() - start_iter_ + 1);
  hub.update_info("eta", mean * double(runner.max_iters() - runner.iter() - 1));
}

void IterTimerHook::after_eval_iter(Runner& runner, int64_t batch_idx, const std::string& mode) {
  MessageHub& hub = runner.message_hub();
  hub.update_scalar(mode + "/time", lap());
  const DataLoader* loader = runner.dataloader(mode);
  const double mean = hub.get_scalar(mode + "/time").mean(batch_idx + 1);
  hub.update_info("eta", mean * double(loader->size() - batch_idx - 1));
}

void IterTimerHook::after_val_iter(Runner& runner, int64_t batch_idx, const Batch&,
                                   const Outputs&) {
  after_eval_iter(runner, batch_idx, "val");
}
void IterTimerHook::after_test_iter(Runner& runner, int64_t batch_idx, const Batch&,
                                    const Outputs&) {
  after_eval_iter(runner, batch_idx, "test");
}

// ---- DistSamplerSeedHook

// Iteration-based runs are one epoch: their loop moves the sampler on when the data runs out.
void DistSamplerSeedHook::before_train_epoch(Runner& runner) {
  if (runner.train_loop()->by_epoch()) runner.train_dataloader()->set_epoch(runner.epoch());
}

// ---- ParamSchedulerHook

void ParamSchedulerHook::after_train_iter(Runner& runner, int64_t, const Batch&, const Scalars&) {
  for (const auto& scheduler : runner.param_schedulers()) {
    if (!scheduler->by_epoch()) scheduler->step();
  }
}

void ParamSchedulerHook::after_train_epoch(Runner& runner) {
  for (const auto& scheduler : runner.param_schedulers()) {
    if (scheduler->by_epoch()) scheduler->step();
  }
}

// ReduceOnPlateau decides on the validation metrics.
void ParamSchedulerHook::after_val_epoch(Runner& runner, const Scalars& metrics) {
  const std::map<std::string, double> values(metrics.begin(), metrics.end());
  for (const auto& scheduler : runner.param_schedulers()) {
    if (scheduler->by_epoch() && scheduler->need_val_args()) scheduler->step(values);
  }
}

}  // namespace anvil::engine
