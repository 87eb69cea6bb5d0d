// MMEngine's CheckpointHook (mmengine/hooks/checkpoint_hook.py): saves the run every `interval`
// epochs or iterations (and after the last one with save_last), keeps the newest max_keep_ckpts,
// and with save_best keeps the checkpoint of the best validation score by the rule "greater" or
// "less" (inferred from the metric's name when unset, as MMEngine). Checkpoints are directories
// (engine/checkpoint); work_dir/last_checkpoint names the latest.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/hooks/hook.h"
#include "engine/runner/runner.h"

namespace anvil::engine {

// MMEngine's default greater_keys and less_keys: metric names whose best value is the greatest
// ("accuracy/top1") or the least ("loss").
const std::vector<std::string>& default_greater_keys();
const std::vector<std::string>& default_less_keys();

// MMEngine's rule inference for a metric (CheckpointHook's save_best, EarlyStoppingHook's
// monitor): "greater" or "less" by an exact (case-insensitive) match of `key` in greater_keys,
// then in less_keys, then a substring match in the same order; nullopt when nothing matches.
std::optional<std::string> infer_rule(const std::string& key,
                                      const std::vector<std::string>& greater_keys,
                                      const std::vector<std::string>& less_keys);

struct CheckpointHookOptions {
  int64_t interval = -1;  // <= 0: no periodic checkpoints
  bool by_epoch = true;
  bool save_optimizer = true;
  bool save_param_scheduler = true;
  std::string out_dir = "";  // "": the work directory; else out_dir/<work_dir's name>
  int64_t max_keep_ckpts = -1;
  bool save_last = true;
  // Metric names to keep the best checkpoint of; "auto" takes the first metric.
  std::vector<std::string> save_best = {};
  // "greater" or "less", one for all keys or one per key; empty: inferred from each name.
  std::vector<std::string> rule = {};
  std::vector<std::string> greater_keys = default_greater_keys();
  std::vector<std::string> less_keys = default_less_keys();
  int64_t save_begin = 0;
};

class CheckpointHook final : public Hook {
 public:
  explicit CheckpointHook(CheckpointHookOptions options = {});
  std::string name() const override { return "CheckpointHook"; }
  int priority() const override { return static_cast<int>(Priority::VERY_LOW); }
  void before_train(Runner& runner) override;
  void after_train_epoch(Runner& runner) override;
  void after_train_iter(Runner& runner, int64_t, const Batch&, const Scalars&) override;
  void after_val_epoch(Runner& runner, const Scalars& metrics) override;
  void before_save_checkpoint(Runner& runner, Checkpoint& checkpoint) override;
  void after_load_checkpoint(Runner& runner, Checkpoint& checkpoint) override;

  // The rule for `key` given explicitly or inferred: "greater" or "less"; an error when neither
  // list matches.
  std::string rule_for(const std::string& key, size_t index) const;

 private:
  void save(Runner& runner, int64_t n);
  // What a periodic checkpoint (inside the train iteration or epoch) or a later one records.
  SaveCheckpointOptions save_options(Runner& runner, bool periodic) const;
  std::filesystem::path dir(Runner& runner) const;

  CheckpointHookOptions options_;
  std::vector<int64_t> keep_ids_;  // MMEngine's keep_ckpt_ids, oldest first
  int64_t saving_ = -1;            // the step being saved, recorded in its own keep list
};

}  // namespace anvil::engine
