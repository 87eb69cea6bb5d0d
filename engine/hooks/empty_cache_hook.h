// MMEngine's EmptyCacheHook (mmengine/hooks/empty_cache_hook.py): returns the cached, unused
// memory of the model's device to the system (anvil::empty_cache: the CUDA caching allocator's
// blocks, or the CPU allocator's cache) after every epoch, and optionally before every epoch and
// after every iteration, of training, validation and testing.
#pragma once

#include "engine/hooks/hook.h"

namespace anvil::engine {

struct EmptyCacheHookOptions {
  bool before_epoch = false;
  bool after_epoch = true;
  bool after_iter = false;
};

class EmptyCacheHook final : public Hook {
 public:
  explicit EmptyCacheHook(EmptyCacheHookOptions options = {}) : options_(options) {}
  std::string name() const override { return "EmptyCacheHook"; }
  void before_train_epoch(Runner& runner) override { empty_if(options_.before_epoch, runner); }
  void before_val_epoch(Runner& runner) override { empty_if(options_.before_epoch, runner); }
  void before_test_epoch(Runner& runner) override { empty_if(options_.before_epoch, runner); }
  void after_train_epoch(Runner& runner) override { empty_if(options_.after_epoch, runner); }
  void after_val_epoch(Runner& runner, const Scalars&) override {
    empty_if(options_.after_epoch, runner);
  }
  void after_test_epoch(Runner& runner, const Scalars&) override {
    empty_if(options_.after_epoch, runner);
  }
  void after_train_iter(Runner& runner, int64_t, const Batch&, const Scalars&) override {
    empty_if(options_.after_iter, runner);
  }
  void after_val_iter(Runner& runner, int64_t, const Batch&, const Outputs&) override {
    empty_if(options_.after_iter, runner);
  }
  void after_test_iter(Runner& runner, int64_t, const Batch&, const Outputs&) override {
    empty_if(options_.after_iter, runner);
  }

 private:
  void empty_if(bool enabled, Runner& runner) const;

  EmptyCacheHookOptions options_;
};

}  // namespace anvil::engine
