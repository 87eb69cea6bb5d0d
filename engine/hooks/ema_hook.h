// MMEngine's EMAHook (mmengine/hooks/ema_hook.py): keeps an averaged copy of the model's weights
// (engine/model/averaged_model.h), updated after every train iteration, and validates, tests and
// saves with it.
//
//   before_run            builds the copy of the model (once per hook)
//   after_train_iter      from begin_iter / begin_epoch on: update_parameters; before: a plain copy
//   before/after val and test epochs: the model's averaged entries and the copy's trade places,
//                         so evaluation sees the averaged weights and training continues on its own
//   before_save_checkpoint  the checkpoint's model entries become the averaged weights (loadable
//                         for deployment as they are) and the model's own weights and the copy's
//                         steps go under "ema_state_dict.module.<name>" and "ema_state_dict.steps"
//                         (MMEngine's ema_state_dict, in the same model.safetensors)
//   after_load_checkpoint  takes the "ema_state_dict." entries out of the checkpoint (before the
//                         runner loads it into the model): a checkpoint with them gives the model
//                         its own weights back and the copy the averaged ones and steps; one
//                         without them starts the copy from its weights
//
// A run that starts at iteration 0 (fresh, or load_from) starts the average afresh (steps 0:
// the first update copies the model), as MMEngine's load_from; a resume continues it exactly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "engine/hooks/hook.h"
#include "engine/model/averaged_model.h"

namespace anvil::engine {

struct EMAHookOptions {
  // ExponentialMovingAverage, MomentumAnnealingEMA or StochasticWeightAverage, with its
  // arguments (MMEngine's **kwargs): momentum (the EMAs', default 0.0002), gamma
  // (MomentumAnnealingEMA's, default 100), interval, update_buffers, device.
  std::string ema_type = "ExponentialMovingAverage";
  std::optional<double> momentum = std::nullopt;
  std::optional<double> gamma = std::nullopt;
  int64_t interval = 1;
  bool update_buffers = false;
  std::optional<Device> device = std::nullopt;
  // Loading the copy from a checkpoint: missing or unexpected entries are errors.
  bool strict_load = false;
  // The averaging starts at this iteration or epoch (at most one of them set, i.e. non-zero).
  int64_t begin_iter = 0;
  int64_t begin_epoch = 0;
};

class EMAHook final : public Hook {
 public:
  explicit EMAHook(EMAHookOptions options = {});
  std::string name() const override { return "EMAHook"; }
  void before_run(Runner& runner) override;
  void after_load_checkpoint(Runner& runner, Checkpoint& checkpoint) override;
  void before_train(Runner& runner) override;
  void after_train_iter(Runner& runner, int64_t, const Batch&, const Scalars&) override;
  void before_val_epoch(Runner& runner) override { swap(runner); }
  void after_val_epoch(Runner& runner, const Scalars&) override { swap(runner); }
  void before_test_epoch(Runner& runner) override { swap(runner); }
  void after_test_epoch(Runner& runner, const Scalars&) override { swap(runner); }
  void before_save_checkpoint(Runner& runner, Checkpoint& checkpoint) override;

  // The averaged copy (built at before_run); an error before.
  const BaseAveragedModel& ema_model() const;

 private:
  std::unique_ptr<BaseAveragedModel> build(const nn::Module& model) const;
  bool started(Runner& runner) const;
  // Trades the averaged entries of the model and the copy.
  void swap(Runner& runner);
  void report(Runner& runner, const LoadWeightsResult& result, const char* what) const;

  EMAHookOptions options_;
  std::unique_ptr<BaseAveragedModel> ema_;
  bool loaded_without_state_ = false;  // the last checkpoint loaded had no EMA state
};

}  // namespace anvil::engine
