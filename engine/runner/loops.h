// MMEngine's loops (mmengine/runner/loops.py): what train(), val() and test() iterate. The train
// loops own the run's counters (epoch, iter: completed epochs and iterations); the runner and the
// hooks read them through the runner.
//
// EpochBasedTrainLoop: before_train; per epoch [before_train_epoch, per batch (before_train_iter,
// model.train_step, after_train_iter), after_train_epoch, validation when epoch >= val_begin and
// (epoch % val_interval == 0 or the last epoch)]; after_train. IterBasedTrainLoop runs the whole
// run as one epoch and validates on iterations. ValLoop/TestLoop evaluate a whole loader under
// no_grad and return the metrics.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/data/data_loader.h"
#include "engine/evaluator/evaluator.h"
#include "engine/scalars.h"

namespace anvil::engine {

class Runner;

// `train_cfg`: by_epoch picks EpochBasedTrainLoop (max_epochs) or IterBasedTrainLoop (max_iters).
struct TrainLoopConfig {
  bool by_epoch = true;
  int64_t max_epochs = 0;
  int64_t max_iters = 0;
  int64_t val_begin = 1;
  // Unset: every epoch (by_epoch) or every 1000 iterations, as MMEngine's defaults.
  std::optional<int64_t> val_interval = std::nullopt;
  // (milestone, interval): from that epoch / iteration on, validate every `interval`.
  std::vector<std::pair<int64_t, int64_t>> dynamic_intervals = {};
};

class BaseLoop {
 public:
  BaseLoop(Runner& runner, std::shared_ptr<DataLoader> dataloader);
  virtual ~BaseLoop() = default;
  BaseLoop(const BaseLoop&) = delete;
  BaseLoop& operator=(const BaseLoop&) = delete;

  virtual void run() = 0;
  DataLoader& dataloader() const { return *dataloader_; }

 protected:
  Runner& runner_;
  std::shared_ptr<DataLoader> dataloader_;
};

class TrainLoop : public BaseLoop {
 public:
  using BaseLoop::BaseLoop;
  int64_t epoch() const { return epoch_; }
  int64_t iter() const { return iter_; }
  virtual int64_t max_epochs() const = 0;
  virtual int64_t max_iters() const = 0;
  virtual bool by_epoch() const = 0;
  // Where a resumed run continues (the checkpoint's meta).
  void set_progress(int64_t epoch, int64_t iter) {
    epoch_ = epoch;
    iter_ = iter;
  }
  // EarlyStoppingHook's switch: the loop ends after the current epoch or validation.
  bool stop_training = false;

 protected:
  // before_train_iter, train_step, after_train_iter; iter_ += 1.
  void run_iter(int64_t batch_idx, const Batch& batch);
  // The validation interval after `progress` completed epochs / iterations.
  int64_t current_val_interval(int64_t progress) const;

  TrainLoopConfig cfg_;
  int64_t epoch_ = 0;
  int64_t iter_ = 0;
};

class EpochBasedTrainLoop final : public TrainLoop {
 public:
  EpochBasedTrainLoop(Runner& runner, std::shared_ptr<DataLoader> dataloader, TrainLoopConfig cfg);
  void run() override;
  int64_t max_epochs() const override { return cfg_.max_epochs; }
  int64_t max_iters() const override;
  bool by_epoch() const override { return true; }
};

class IterBasedTrainLoop final : public TrainLoop {
 public:
  IterBasedTrainLoop(Runner& runner, std::shared_ptr<DataLoader> dataloader, TrainLoopConfig cfg);
  void run() override;
  int64_t max_epochs() const override { return 1; }
  int64_t max_iters() const override { return cfg_.max_iters; }
  bool by_epoch() const override { return false; }
};

// ValLoop and TestLoop: `mode` is "val" or "test" (the hook points and the message-hub prefix).
class EvalLoop final : public BaseLoop {
 public:
  EvalLoop(Runner& runner, std::shared_ptr<DataLoader> dataloader,
           std::shared_ptr<Evaluator> evaluator, std::string mode);
  void run() override;
  // The metrics of the last run.
  const Scalars& metrics() const { return metrics_; }

 private:
  std::shared_ptr<Evaluator> evaluator_;
  std::string mode_;
  Scalars metrics_;
};

}  // namespace anvil::engine
