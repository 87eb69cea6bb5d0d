// Four of MMEngine's default hooks (mmengine/hooks): the run's bookkeeping. LoggerHook and
// CheckpointHook have their own files.
//
//   RuntimeInfoHook (VERY_HIGH)  epoch, iter, lr and the step's log variables into the MessageHub
//   IterTimerHook (NORMAL)       <mode>/data_time, <mode>/time and the ETA
//   DistSamplerSeedHook (NORMAL) the sampler's epoch, so each epoch is shuffled differently
//   ParamSchedulerHook (LOW)     steps the parameter schedulers
#pragma once

#include <chrono>

#include "engine/hooks/hook.h"

namespace anvil::engine {

class RuntimeInfoHook final : public Hook {
 public:
  std::string name() const override { return "RuntimeInfoHook"; }
  int priority() const override { return static_cast<int>(Priority::VERY_HIGH); }
  void before_run(Runner& runner) override;
  void before_train(Runner& runner) override;
  void before_train_epoch(Runner& runner) override;
  void before_train_iter(Runner& runner, int64_t batch_idx, const Batch& batch) override;
  void after_train_iter(Runner& runner, int64_t batch_idx, const Batch& batch,
                        const Scalars& outputs) override;
  void after_train(Runner& runner) override;
  void before_val(Runner& runner) override;
  void after_val(Runner& runner) override;
  void after_val_epoch(Runner& runner, const Scalars& metrics) override;
  void before_test(Runner& runner) override;
  void after_test(Runner& runner) override;
  void after_test_epoch(Runner& runner, const Scalars& metrics) override;
};

class IterTimerHook final : public Hook {
 public:
  std::string name() const override { return "IterTimerHook"; }
  void before_train(Runner& runner) override;
  void before_train_epoch(Runner&) override { restart(); }
  void before_val_epoch(Runner&) override { restart(); }
  void before_test_epoch(Runner&) override { restart(); }
  void before_train_iter(Runner& runner, int64_t, const Batch&) override;
  void before_val_iter(Runner& runner, int64_t, const Batch&) override;
  void before_test_iter(Runner& runner, int64_t, const Batch&) override;
  void after_train_iter(Runner& runner, int64_t batch_idx, const Batch&, const Scalars&) override;
  void after_val_iter(Runner& runner, int64_t batch_idx, const Batch&, const Outputs&) override;
  void after_test_iter(Runner& runner, int64_t batch_idx, const Batch&, const Outputs&) override;

 private:
  void restart() { last_ = std::chrono::steady_clock::now(); }
  double lap();  // seconds since last_, which becomes now
  void before_iter(Runner& runner, const std::string& mode);
  void after_eval_iter(Runner& runner, int64_t batch_idx, const std::string& mode);

  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  int64_t start_iter_ = 0;  // where this run (or resumed run) started, for the ETA
  double train_seconds_ = 0;
};

class DistSamplerSeedHook final : public Hook {
 public:
  std::string name() const override { return "DistSamplerSeedHook"; }
  void before_train_epoch(Runner& runner) override;
};

class ParamSchedulerHook final : public Hook {
 public:
  std::string name() const override { return "ParamSchedulerHook"; }
  int priority() const override { return static_cast<int>(Priority::LOW); }
  void after_train_iter(Runner& runner, int64_t, const Batch&, const Scalars&) override;
  void after_train_epoch(Runner& runner) override;
  void after_val_epoch(Runner& runner, const Scalars& metrics) override;
};

}  // namespace anvil::engine
