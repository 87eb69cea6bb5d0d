#include "engine/runner/loops.h"

#include <algorithm>

#include "autograd/grad_mode.h"
#include "engine/data/dataset.h"
#include "engine/runner/runner.h"
#include "tensor/error.h"

namespace anvil::engine {

BaseLoop::BaseLoop(Runner& runner, std::shared_ptr<DataLoader> dataloader)
    : runner_(runner), dataloader_(std::move(dataloader)) {
  ANVIL_CHECK(dataloader_ != nullptr, "loop: no data loader");
}

void TrainLoop::run_iter(int64_t batch_idx, const Batch& batch) {
  runner_.call_hook(&Hook::before_train_iter, batch_idx, batch);
  BaseModel& model = runner_.model();
  const Scalars outputs = runner_.optim_wrapper_dict() != nullptr
                              ? model.train_step(batch, *runner_.optim_wrapper_dict())
                              : model.train_step(batch, runner_.optim_wrapper());
  runner_.call_hook(&Hook::after_train_iter, batch_idx, batch, outputs);
  ++iter_;
}

// MMEngine's _decide_current_val_interval: intervals[bisect_right(milestones, progress + 1) - 1]
// over milestones [0, m1, ...] and intervals [val_interval, i1, ...].
int64_t TrainLoop::current_val_interval(int64_t progress) const {
  int64_t interval = cfg_.val_interval.value_or(cfg_.by_epoch ? 1 : 1000);
  for (const auto& [milestone, value] : cfg_.dynamic_intervals) {
    if (milestone <= progress + 1) interval = value;
  }
  return interval;
}

namespace {

void check_dynamic_intervals(const TrainLoopConfig& cfg, const char* loop) {
  int64_t previous = 0;
  for (const auto& [milestone, interval] : cfg.dynamic_intervals) {
    ANVIL_CHECK(milestone > previous && interval > 0,
                "{}: dynamic_intervals must have increasing positive milestones and positive "
                "intervals, got ({}, {}) after milestone {}",
                loop, milestone, interval, previous);
    previous = milestone;
  }
  ANVIL_CHECK(cfg.val_interval.value_or(1) > 0, "{}: val_interval must be positive, got {}", loop,
              *cfg.val_interval);
}

}  // namespace

EpochBasedTrainLoop::EpochBasedTrainLoop(Runner& runner, std::shared_ptr<DataLoader> dataloader,
                                         TrainLoopConfig cfg)
    : TrainLoop(runner, std::move(dataloader)) {
  cfg_ = std::move(cfg);
  ANVIL_CHECK(cfg_.max_epochs > 0, "EpochBasedTrainLoop: max_epochs must be positive, got {}",
              cfg_.max_epochs);
  ANVIL_CHECK(dataloader_->size() > 0, "EpochBasedTrainLoop: the train data loader is empty");
  check_dynamic_intervals(cfg_, "EpochBasedTrainLoop");
}

int64_t EpochBasedTrainLoop::max_iters() const {
  return cfg_.max_epochs * dataloader_->size();
}

void EpochBasedTrainLoop::run() {
  runner_.call_hook(&Hook::before_train);
  while (epoch_ < cfg_.max_epochs && !stop_training) {
    runner_.call_hook(&Hook::before_train_epoch);
    runner_.model().train();
    int64_t batch_idx = 0;
    for (const Batch& batch : *dataloader_) run_iter(batch_idx++, batch);
    runner_.call_hook(&Hook::after_train_epoch);
    ++epoch_;
    if (runner_.val_loop() != nullptr && epoch_ >= cfg_.val_begin &&
        (epoch_ % current_val_interval(epoch_) == 0 || epoch_ == cfg_.max_epochs)) {
      runner_.val_loop()->run();
    }
  }
  runner_.call_hook(&Hook::after_train);
}

IterBasedTrainLoop::IterBasedTrainLoop(Runner& runner, std::shared_ptr<DataLoader> dataloader,
                                       TrainLoopConfig cfg)
    : TrainLoop(runner, std::move(dataloader)) {
  cfg_ = std::move(cfg);
  ANVIL_CHECK(cfg_.max_iters > 0, "IterBasedTrainLoop: max_iters must be positive, got {}",
              cfg_.max_iters);
  ANVIL_CHECK(dataloader_->size() > 0, "IterBasedTrainLoop: the train data loader is empty");
  check_dynamic_intervals(cfg_, "IterBasedTrainLoop");
}

// The whole run is one epoch; the loader restarts (next sampler epoch) whenever it runs out, as
// MMEngine's _InfiniteDataloaderIterator does. A resumed run continues from the loader state
// the checkpoint restored, without loading the batches before it.
void IterBasedTrainLoop::run() {
  runner_.call_hook(&Hook::before_train);
  runner_.call_hook(&Hook::before_train_epoch);
  runner_.model().train();
  std::optional<DataLoader::Iterator> it;
  while (iter_ < cfg_.max_iters && !stop_training) {
    if (!it) {
      it.emplace(dataloader_->begin());
    } else {
      ++*it;
    }
    if (*it == std::default_sentinel) {
      dataloader_->set_epoch(dataloader_->state().epoch + 1);
      it.emplace(dataloader_->begin());
    }
    run_iter(iter_, **it);
    if (runner_.val_loop() != nullptr && iter_ >= cfg_.val_begin &&
        (iter_ % current_val_interval(iter_) == 0 || iter_ == cfg_.max_iters)) {
      runner_.val_loop()->run();
      runner_.model().train();
    }
  }
  runner_.call_hook(&Hook::after_train_epoch);
  runner_.call_hook(&Hook::after_train);
}

EvalLoop::EvalLoop(Runner& runner, std::shared_ptr<DataLoader> dataloader,
                   std::shared_ptr<Evaluator> evaluator, std::string mode)
    : BaseLoop(runner, std::move(dataloader)),
      evaluator_(std::move(evaluator)),
      mode_(std::move(mode)) {
  ANVIL_CHECK(evaluator_ != nullptr, "{} loop: no evaluator", mode_);
  ANVIL_CHECK(mode_ == "val" || mode_ == "test", "EvalLoop: mode must be val or test, got '{}'",
              mode_);
}

void EvalLoop::run() {
  const bool val = mode_ == "val";
  runner_.call_hook(val ? &Hook::before_val : &Hook::before_test);
  runner_.call_hook(val ? &Hook::before_val_epoch : &Hook::before_test_epoch);
  evaluator_->set_dataset_meta(dataloader_->dataset().metainfo());
  BaseModel& model = runner_.model();
  model.eval();
  {
    const NoGradGuard no_grad;
    int64_t batch_idx = 0;
    for (const Batch& batch : *dataloader_) {
      runner_.call_hook(val ? &Hook::before_val_iter : &Hook::before_test_iter, batch_idx, batch);
      const Outputs outputs = val ? model.val_step(batch) : model.test_step(batch);
      evaluator_->process(batch, outputs);
      runner_.call_hook(val ? &Hook::after_val_iter : &Hook::after_test_iter, batch_idx, batch,
                        outputs);
      ++batch_idx;
    }
  }
  metrics_ = evaluator_->evaluate(dataloader_->dataset().size());
  runner_.call_hook(val ? &Hook::after_val_epoch : &Hook::after_test_epoch, metrics_);
  runner_.call_hook(val ? &Hook::after_val : &Hook::after_test);
}

}  // namespace anvil::engine
