#include "engine/hooks/early_stopping_hook.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/hooks/checkpoint_hook.h"
#include "engine/runner/runner.h"

namespace anvil::engine {

EarlyStoppingHook::EarlyStoppingHook(EarlyStoppingHookOptions options)
    : options_(std::move(options)) {
  ANVIL_CHECK(!options_.monitor.empty(),
              "EarlyStoppingHook: monitor (a metric's name) is required");
  if (options_.rule) {
    ANVIL_CHECK(*options_.rule == "greater" || *options_.rule == "less",
                "EarlyStoppingHook: rule must be \"greater\" or \"less\", got \"{}\"",
                *options_.rule);
    rule_ = *options_.rule;
  } else {
    const std::optional<std::string> inferred =
        infer_rule(options_.monitor, default_greater_keys(), default_less_keys());
    ANVIL_CHECK(inferred.has_value(),
                "EarlyStoppingHook: cannot infer the rule for monitor '{}' (no match in [{}] or "
                "[{}]); give rule = \"greater\" or \"less\"",
                options_.monitor, fmt::join(default_greater_keys(), ", "),
                fmt::join(default_less_keys(), ", "));
    rule_ = *inferred;
  }
  min_delta_ = rule_ == "greater" ? options_.min_delta : -options_.min_delta;
  best_score_ = rule_ == "greater" ? -std::numeric_limits<double>::infinity()
                                   : std::numeric_limits<double>::infinity();
}

// MMEngine's _check_stop_condition: a score equal to best + min_delta counts as an improvement.
std::optional<std::string> EarlyStoppingHook::check_stop(double score) {
  if (options_.check_finite && !std::isfinite(score)) {
    return fmt::format("Monitored metric {} = {} is not finite. Previous best value was {:.3f}.",
                       options_.monitor, score, best_score_);
  }
  if (options_.stopping_threshold && better(score, *options_.stopping_threshold)) {
    best_score_ = score;
    return fmt::format("Stopping threshold reached: `{}` = {} is {} than {}.", options_.monitor,
                       score, rule_, *options_.stopping_threshold);
  }
  if (better(best_score_ + min_delta_, score)) {
    ++wait_count_;
    if (wait_count_ >= options_.patience) {
      return fmt::format(
          "the monitored metric did not improve in the last {} records. best score: {:.3f}. ",
          wait_count_, best_score_);
    }
    return std::nullopt;
  }
  best_score_ = score;
  wait_count_ = 0;
  return std::nullopt;
}

// Validation outside a training run (Runner::val()) has nothing to stop.
void EarlyStoppingHook::after_val_epoch(Runner& runner, const Scalars& metrics) {
  if (runner.train_loop() == nullptr) return;
  auto it = std::find_if(metrics.begin(), metrics.end(),
                         [&](const auto& m) { return m.first == options_.monitor; });
  if (it == metrics.end()) {
    std::vector<std::string> names;
    for (const auto& m : metrics) names.push_back(m.first);
    const std::string message = fmt::format(
        "EarlyStoppingHook: the metrics of this validation [{}] do not include the monitored "
        "metric '{}'",
        fmt::join(names, ", "), options_.monitor);
    if (options_.strict) {
      throw ValueError(message + " (set strict = false to skip early stopping then)");
    }
    runner.logger().warning(message + "; early stopping skipped");
    return;
  }
  if (const std::optional<std::string> reason = check_stop(it->second)) {
    runner.train_loop()->stop_training = true;
    runner.logger().info("EarlyStoppingHook: " + *reason);
  }
}

}  // namespace anvil::engine
