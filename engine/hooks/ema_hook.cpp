#include "engine/hooks/ema_hook.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <string_view>

#include "engine/runner/runner.h"

namespace anvil::engine {

namespace {

constexpr std::string_view kModule = "module.";

// The entries of `state` by name, to replace in place.
std::map<std::string, Tensor*> by_name(nn::NamedTensors& state) {
  std::map<std::string, Tensor*> out;
  for (auto& [name, t] : state) out.emplace(name, &t);
  return out;
}

}  // namespace

EMAHook::EMAHook(EMAHookOptions options) : options_(std::move(options)) {
  ANVIL_CHECK(options_.begin_iter >= 0 && options_.begin_epoch >= 0,
              "EMAHook: begin_iter and begin_epoch must be >= 0, got {} and {}",
              options_.begin_iter, options_.begin_epoch);
  ANVIL_CHECK(options_.begin_iter == 0 || options_.begin_epoch == 0,
              "EMAHook: begin_iter ({}) and begin_epoch ({}) cannot both be set",
              options_.begin_iter, options_.begin_epoch);
  // The averaged model of an empty module checks ema_type and its arguments now, not at
  // before_run.
  build(nn::Module());
}

std::unique_ptr<BaseAveragedModel> EMAHook::build(const nn::Module& model) const {
  return build_averaged_model(options_.ema_type, model, options_.momentum, options_.gamma,
                              {.interval = options_.interval,
                               .update_buffers = options_.update_buffers,
                               .device = options_.device});
}

const BaseAveragedModel& EMAHook::ema_model() const {
  ANVIL_CHECK(ema_ != nullptr, "EMAHook::ema_model: no averaged model before before_run");
  return *ema_;
}

// Built once, so that a test() after train() evaluates the averaged weights of the training.
void EMAHook::before_run(Runner& runner) {
  if (ema_ != nullptr) return;
  ema_ = build(runner.model());
  if (options_.momentum.value_or(0) > 0.5) {
    runner.logger().warning(fmt::format(
        "EMAHook: momentum {} is the weight of each new value in the average, usually a small "
        "number (default 0.0002); make sure it is the one meant",
        *options_.momentum));
  }
}

void EMAHook::report(Runner& runner, const LoadWeightsResult& result, const char* what) const {
  if (result.missing_keys.empty() && result.unexpected_keys.empty() &&
      result.mismatched_keys.empty()) {
    return;
  }
  runner.logger().warning(fmt::format(
      "EMAHook: loading {} into the averaged model: missing keys [{}]; unexpected keys [{}]; "
      "size mismatch (not loaded) [{}]",
      what, fmt::join(result.missing_keys, ", "), fmt::join(result.unexpected_keys, ", "),
      fmt::join(result.mismatched_keys, "; ")));
}

void EMAHook::after_load_checkpoint(Runner& runner, Checkpoint& checkpoint) {
  before_run(runner);  // a resume() outside train() comes before it
  nn::NamedTensors model, ema_state;
  for (auto& [name, t] : checkpoint.model) {
    if (name.starts_with(kEmaPrefix)) {
      ema_state.emplace_back(name.substr(kEmaPrefix.size()), t);
    } else {
      model.emplace_back(name, t);
    }
  }
  loaded_without_state_ = ema_state.empty();
  if (ema_state.empty()) {
    report(runner, ema_->load_module(model, options_.strict_load), "the checkpoint's weights");
  } else {
    // The model entries hold the averaged weights and ema_state_dict the model's own: trade them
    // back.
    const std::map<std::string, Tensor*> entries = by_name(model);
    for (auto& [name, t] : ema_state) {
      if (!name.starts_with(kModule)) continue;
      auto it = entries.find(name.substr(kModule.size()));
      if (it != entries.end()) std::swap(*it->second, t);
    }
    report(runner, ema_->load_state_dict(ema_state, options_.strict_load),
           "the checkpoint's ema_state_dict");
  }
  checkpoint.model = std::move(model);
}

void EMAHook::before_train(Runner& runner) {
  if (options_.begin_epoch > 0) {
    ANVIL_CHECK(options_.begin_epoch <= runner.max_epochs(),
                "EMAHook: begin_epoch {} is after the last epoch ({})", options_.begin_epoch,
                runner.max_epochs());
  } else {
    ANVIL_CHECK(options_.begin_iter <= runner.max_iters(),
                "EMAHook: begin_iter {} is after the last iteration ({})", options_.begin_iter,
                runner.max_iters());
  }
  // A loaded averaged model's steps belong to the run that saved it: a run starting at iteration
  // 0 (load_from) starts its own average (no update happened at iteration 0, so a resume from
  // there has steps 0 already).
  if (runner.iter() == 0) ema_->set_steps(0);
  if (runner.iter() > 0 && loaded_without_state_) {
    runner.logger().warning(
        "EMAHook: the resumed checkpoint has no EMA state (ema_state_dict); the average starts "
        "from its weights");
  }
}

bool EMAHook::started(Runner& runner) const {
  return options_.begin_epoch > 0 ? runner.epoch() + 1 >= options_.begin_epoch
                                  : runner.iter() + 1 >= options_.begin_iter;
}

void EMAHook::after_train_iter(Runner& runner, int64_t, const Batch&, const Scalars&) {
  if (started(runner)) {
    ema_->update_parameters(runner.model());
  } else {
    ema_->load_module(runner.model().state_dict(), /*strict=*/true);
  }
}

void EMAHook::swap(Runner& runner) {
  ema_->swap_parameters(runner.model());
}

void EMAHook::before_save_checkpoint(Runner&, Checkpoint& checkpoint) {
  if (ema_ == nullptr) return;
  const std::map<std::string, Tensor*> entries = by_name(checkpoint.model);
  nn::NamedTensors ema_state = ema_->state_dict();
  for (auto& [name, t] : ema_state) {
    if (name.starts_with(kModule)) {
      auto it = entries.find(name.substr(kModule.size()));
      if (it != entries.end()) std::swap(*it->second, t);
    }
  }
  for (auto& [name, t] : ema_state)
    checkpoint.model.emplace_back(std::string(kEmaPrefix) + name, t);
}

}  // namespace anvil::engine
