// MMEngine's LoggerHook (mmengine/hooks/logger_hook.py): every `interval` iterations it prints the
// LogProcessor's line and sends its tag to the visualizer (scalars.json, TensorBoard, ...); after
// each validation or test it prints the metrics. Validation and test progress: a bar redrawn in
// place on a terminal, a line every `interval` batches otherwise (logs, CI).
#pragma once

#include "engine/hooks/hook.h"
#include "engine/logging/log_processor.h"

namespace anvil::engine {

struct LoggerHookOptions {
  int64_t interval = 10;
  bool ignore_last = true;  // skip the epoch's last, shorter window (unless the epoch is short)
  int64_t interval_exp_name = 1000;
  bool log_metric_by_epoch = true;  // val scalars at step = epoch (else iteration)
  // Redraw a progress bar for val/test (default: when stdout is a terminal).
  std::optional<bool> progress_bar = std::nullopt;
};

class LoggerHook final : public Hook {
 public:
  explicit LoggerHook(LoggerHookOptions options = {});
  std::string name() const override { return "LoggerHook"; }
  int priority() const override { return static_cast<int>(Priority::BELOW_NORMAL); }
  void before_run(Runner& runner) override;
  void after_train_iter(Runner& runner, int64_t batch_idx, const Batch&, const Scalars&) override;
  void after_val_iter(Runner& runner, int64_t batch_idx, const Batch&, const Outputs&) override;
  void after_test_iter(Runner& runner, int64_t batch_idx, const Batch&, const Outputs&) override;
  void after_val_epoch(Runner& runner, const Scalars& metrics) override;
  void after_test_epoch(Runner& runner, const Scalars& metrics) override;
  void after_run(Runner& runner) override;

 private:
  LogPosition position(Runner& runner, const std::string& mode, int64_t batch_idx) const;
  void after_eval_iter(Runner& runner, int64_t batch_idx, const std::string& mode);
  void after_eval_epoch(Runner& runner, const std::string& mode);

  LoggerHookOptions options_;
  bool bar_ = false;
  std::string json_log_path_;  // <log_dir>/vis_data/<timestamp>.json
};

}  // namespace anvil::engine
