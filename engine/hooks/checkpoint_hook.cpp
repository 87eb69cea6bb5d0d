#include "engine/hooks/checkpoint_hook.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "engine/runner/runner.h"

namespace anvil::engine {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

const std::vector<std::string>& default_greater_keys() {
  static const std::vector<std::string> keys = {"acc", "top",   "AR@",  "auc",  "precision",
                                                "mAP", "mDice", "mIoU", "mAcc", "aAcc"};
  return keys;
}

const std::vector<std::string>& default_less_keys() {
  static const std::vector<std::string> keys = {"loss"};
  return keys;
}

std::optional<std::string> infer_rule(const std::string& key,
                                      const std::vector<std::string>& greater_keys,
                                      const std::vector<std::string>& less_keys) {
  const std::string k = lower(key);
  for (bool exact : {true, false}) {
    for (const auto& [keys, rule] :
         {std::pair{&greater_keys, "greater"}, std::pair{&less_keys, "less"}}) {
      for (const std::string& candidate : *keys) {
        const std::string c = lower(candidate);
        if (exact ? k == c : k.find(c) != std::string::npos) return rule;
      }
    }
  }
  return std::nullopt;
}

CheckpointHook::CheckpointHook(CheckpointHookOptions options) : options_(std::move(options)) {
  for (const std::string& r : options_.rule) {
    ANVIL_CHECK(r == "greater" || r == "less",
                "CheckpointHook: rule must be \"greater\" or \"less\", got \"{}\"", r);
  }
  ANVIL_CHECK(options_.rule.size() <= 1 || options_.rule.size() == options_.save_best.size(),
              "CheckpointHook: {} rules for {} save_best keys (give one, or one per key)",
              options_.rule.size(), options_.save_best.size());
  ANVIL_CHECK(options_.save_best.size() <= 1 ||
                  std::find(options_.save_best.begin(), options_.save_best.end(), "auto") ==
                      options_.save_best.end(),
              "CheckpointHook: save_best \"auto\" cannot be combined with other keys, got [{}]",
              fmt::join(options_.save_best, ", "));
  ANVIL_CHECK(options_.save_begin >= 0, "CheckpointHook: save_begin must be >= 0, got {}",
              options_.save_begin);
}

std::string CheckpointHook::rule_for(const std::string& key, size_t index) const {
  if (options_.rule.size() == 1) return options_.rule[0];
  if (!options_.rule.empty()) return options_.rule[index];
  if (std::optional<std::string> rule =
          infer_rule(key, options_.greater_keys, options_.less_keys)) {
    return *rule;
  }
  throw ValueError(fmt::format(
      "CheckpointHook: cannot infer the rule for save_best key '{}' (no match in greater_keys [{}] "
      "or less_keys [{}]); give rule = \"greater\" or \"less\"",
      key, fmt::join(options_.greater_keys, ", "), fmt::join(options_.less_keys, ", ")));
}

std::filesystem::path CheckpointHook::dir(Runner& runner) const {
  if (options_.out_dir.empty()) return runner.work_dir();
  return std::filesystem::path(options_.out_dir) / runner.work_dir().filename();
}

void CheckpointHook::before_train(Runner& runner) {
  std::filesystem::create_directories(dir(runner));
}

SaveCheckpointOptions CheckpointHook::save_options(Runner& runner, bool periodic) const {
  SaveCheckpointOptions o{options_.save_optimizer, options_.save_param_scheduler};
  if (!periodic) return o;
  if (options_.by_epoch) {
    o.epoch = runner.epoch() + 1;
  } else {
    o.iter = runner.iter() + 1;
  }
  return o;
}

void CheckpointHook::save(Runner& runner, int64_t n) {
  saving_ = n;
  runner.save_checkpoint(checkpoint_name(options_.by_epoch, n), save_options(runner, true),
                         dir(runner));
  saving_ = -1;
  keep_last_checkpoints(dir(runner), keep_ids_, n, options_.max_keep_ckpts, options_.by_epoch);
}

void CheckpointHook::after_train_epoch(Runner& runner) {
  if (!options_.by_epoch) return;
  const int64_t epoch = runner.epoch();
  if (every_n(epoch, options_.interval, options_.save_begin) ||
      (options_.save_last && epoch + 1 == runner.max_epochs())) {
    save(runner, epoch + 1);
  }
}

void CheckpointHook::after_train_iter(Runner& runner, int64_t, const Batch&, const Scalars&) {
  if (options_.by_epoch) return;
  const int64_t iter = runner.iter();
  if (every_n(iter, options_.interval, options_.save_begin) ||
      (options_.save_last && iter + 1 == runner.max_iters())) {
    save(runner, iter + 1);
  }
}

void CheckpointHook::after_val_epoch(Runner& runner, const Scalars& metrics) {
  if (options_.save_best.empty() || runner.train_loop() == nullptr) return;
  if (metrics.empty()) {
    runner.logger().warning("CheckpointHook: no metrics after validation; save_best skipped");
    return;
  }
  std::vector<std::string> keys = options_.save_best;
  if (keys == std::vector<std::string>{"auto"}) keys = {metrics.front().first};
  MessageHub& hub = runner.message_hub();
  const int64_t n = options_.by_epoch ? runner.epoch() : runner.iter();
  bool improved = false;
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string& key = keys[i];
    auto it =
        std::find_if(metrics.begin(), metrics.end(), [&](const auto& m) { return m.first == key; });
    if (it == metrics.end()) {
      std::vector<std::string> names;
      for (const auto& m : metrics) names.push_back(m.first);
      throw ValueError(fmt::format("CheckpointHook: save_best key '{}' is not a metric; got [{}]",
                                   key, fmt::join(names, ", ")));
    }
    const bool greater = rule_for(key, i) == "greater";
    const std::string suffix = keys.size() > 1 ? "_" + key : "";
    const InfoValue* best = hub.get_info("best_score" + suffix);
    const double score = it->second;
    if (best != nullptr) {
      const double b = std::get<double>(*best);
      if (greater ? !(score > b) : !(score < b)) continue;
    }
    hub.update_info("best_score" + suffix, score);
    const InfoValue* previous = hub.get_info("best_ckpt" + suffix);
    const std::filesystem::path previous_path =
        previous != nullptr ? std::get<std::string>(*previous) : std::string();
    // The best checkpoint records the new best already (MMEngine saves after updating it).
    const std::string best_name = best_checkpoint_name(key, options_.by_epoch, n);
    hub.update_info("best_ckpt" + suffix, (dir(runner) / best_name).string());
    const Checkpoint checkpoint = runner.make_checkpoint({false, false});
    save_best_checkpoint(dir(runner), key, options_.by_epoch, n, checkpoint, previous_path);
    runner.logger().info(fmt::format("The best checkpoint with {:.4f} {} at {} {} is saved to {}.",
                                     score, key, n, options_.by_epoch ? "epoch" : "iter",
                                     best_name));
    improved = true;
  }
  // A periodic checkpoint of this step was saved before validation: save it again so that a
  // resume from it knows the new best (MMEngine PR #1168).
  if (improved && std::filesystem::exists(dir(runner) / checkpoint_name(options_.by_epoch, n))) {
    runner.save_checkpoint(checkpoint_name(options_.by_epoch, n), save_options(runner, false),
                           dir(runner));
  }
}

void CheckpointHook::before_save_checkpoint(Runner&, Checkpoint& checkpoint) {
  std::vector<int64_t> ids = keep_ids_;
  if (saving_ >= 0) ids.push_back(saving_);
  checkpoint.states["checkpoint_hook"] = nlohmann::json{{"keep_ckpt_ids", ids}}.dump();
}

void CheckpointHook::after_load_checkpoint(Runner&, Checkpoint& checkpoint) {
  auto it = checkpoint.states.find("checkpoint_hook");
  if (it == checkpoint.states.end()) return;
  keep_ids_ = nlohmann::json::parse(it->second).at("keep_ckpt_ids").get<std::vector<int64_t>>();
}

}  // namespace anvil::engine
