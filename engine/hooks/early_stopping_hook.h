// MMEngine's EarlyStoppingHook (mmengine/hooks/early_stopping_hook.py): stops training when a
// validation metric stops improving. After each validation of a training run, with the score
// of `monitor`:
//
//   not finite (check_finite)                       stop
//   better than stopping_threshold (by the rule)    stop
//   not better than best + min_delta                wait_count += 1; stop when it reaches patience
//   otherwise                                       best = score, wait_count = 0
//
// "Better" is greater or less by `rule`, inferred from the metric's name when unset as in
// CheckpointHook. Stopping sets the train loop's stop_training (the loop ends after the current
// epoch or validation) and logs why. A missing metric is an error with strict, else a warning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/hooks/hook.h"

namespace anvil::engine {

struct EarlyStoppingHookOptions {
  std::string monitor;                             // the metric's name ("accuracy/top1"); required
  std::optional<std::string> rule = std::nullopt;  // "greater" or "less"; unset: inferred
  double min_delta = 0.1;
  bool strict = false;
  bool check_finite = true;
  int64_t patience = 5;
  std::optional<double> stopping_threshold = std::nullopt;
};

class EarlyStoppingHook final : public Hook {
 public:
  explicit EarlyStoppingHook(EarlyStoppingHookOptions options);
  std::string name() const override { return "EarlyStoppingHook"; }
  int priority() const override { return static_cast<int>(Priority::LOWEST); }
  void after_val_epoch(Runner& runner, const Scalars& metrics) override;

  const std::string& rule() const { return rule_; }
  double best_score() const { return best_score_; }
  int64_t wait_count() const { return wait_count_; }

 private:
  // Whether to stop after `score`, and why.
  std::optional<std::string> check_stop(double score);
  bool better(double a, double b) const { return rule_ == "greater" ? a > b : a < b; }

  EarlyStoppingHookOptions options_;
  std::string rule_;
  double min_delta_;  // signed by the rule
  double best_score_;
  int64_t wait_count_ = 0;
};

}  // namespace anvil::engine
