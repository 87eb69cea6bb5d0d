#include "engine/hooks/logger_hook.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "engine/runner/runner.h"
#include "tensor/allocator.h"

namespace anvil::engine {

LoggerHook::LoggerHook(LoggerHookOptions options) : options_(options) {
  ANVIL_CHECK(options_.interval > 0, "LoggerHook: interval must be positive, got {}",
              options_.interval);
}

void LoggerHook::before_run(Runner& runner) {
  bar_ = options_.progress_bar.value_or(isatty(fileno(stdout)) != 0);
  json_log_path_ = runner.timestamp() + ".json";
}

// Where the loop is, with the device's peak memory since the last line (then reset, as MMEngine).
LogPosition LoggerHook::position(Runner& runner, const std::string& mode, int64_t batch_idx) const {
  LogPosition at;
  at.mode = mode;
  at.epoch = runner.epoch();
  at.iter = runner.iter();
  at.batch_idx = batch_idx;
  const DataLoader* loader = runner.dataloader(mode);
  at.dataloader_len = loader != nullptr ? loader->size() : 0;
  at.max_epochs = runner.max_epochs();
  at.max_iters = runner.max_iters();
  at.has_train_loop = runner.train_loop() != nullptr;
  const Device device = runner.model().data_preprocessor->device();
  at.memory_mb = memory_stats(device).peak_allocated / (1024 * 1024);
  reset_peak_memory_stats(device);
  return at;
}

void LoggerHook::after_train_iter(Runner& runner, int64_t batch_idx, const Batch&, const Scalars&) {
  const int64_t len = runner.train_dataloader()->size();
  const bool end_of_epoch = batch_idx + 1 == len;
  if (every_n(runner.iter(), options_.interval_exp_name) || end_of_epoch) {
    runner.logger().info("Exp name: " + runner.experiment_name());
  }
  const bool log = every_n(batch_idx, options_.interval) ||
                   (end_of_epoch && (!options_.ignore_last || len <= options_.interval));
  if (!log) return;
  const auto [tag, line] = runner.log_processor().get_log_after_iter(
      runner.message_hub(), position(runner, "train", batch_idx));
  runner.logger().info(line);
  runner.visualizer().add_scalars(tag, runner.iter() + 1, json_log_path_);
}

void LoggerHook::after_eval_iter(Runner& runner, int64_t batch_idx, const std::string& mode) {
  const int64_t len = runner.dataloader(mode)->size();
  if (bar_) {
    constexpr int kWidth = 40;
    const int done = int(kWidth * (batch_idx + 1) / std::max<int64_t>(len, 1));
    fmt::print("\r[{}{}] {}/{}", std::string(done, '>'), std::string(kWidth - done, ' '),
               batch_idx + 1, len);
    if (batch_idx + 1 == len) fmt::print("\r{}\r", std::string(kWidth + 24, ' '));
    std::fflush(stdout);
    return;
  }
  if (!every_n(batch_idx, options_.interval)) return;
  const auto [tag, line] = runner.log_processor().get_log_after_iter(
      runner.message_hub(), position(runner, mode, batch_idx));
  runner.logger().info(line);
}

void LoggerHook::after_val_iter(Runner& runner, int64_t batch_idx, const Batch&, const Outputs&) {
  after_eval_iter(runner, batch_idx, "val");
}

void LoggerHook::after_test_iter(Runner& runner, int64_t batch_idx, const Batch&, const Outputs&) {
  after_eval_iter(runner, batch_idx, "test");
}

void LoggerHook::after_eval_epoch(Runner& runner, const std::string& mode) {
  const DataLoader* loader = runner.dataloader(mode);
  const auto [tag, line] = runner.log_processor().get_log_after_epoch(
      runner.message_hub(), position(runner, mode, loader->size() - 1));
  runner.logger().info(line);
  if (mode == "test") {
    runner.visualizer().add_scalars(tag, 0, json_log_path_);
  } else {
    const int64_t step = options_.log_metric_by_epoch ? runner.epoch() : runner.iter();
    runner.visualizer().add_scalars(tag, step, json_log_path_);
  }
}

void LoggerHook::after_val_epoch(Runner& runner, const Scalars&) {
  after_eval_epoch(runner, "val");
}

void LoggerHook::after_test_epoch(Runner& runner, const Scalars&) {
  after_eval_epoch(runner, "test");
}

void LoggerHook::after_run(Runner& runner) {
  runner.visualizer().close();
}

}  // namespace anvil::engine
