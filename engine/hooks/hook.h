// MMEngine's hooks (mmengine/hooks/hook.py, runner/priority.py): every point of a run a hook can
// act on, in the Runner's order, and priorities that order the hooks (lower runs first; equal
// priorities run in registration order).
//
//   before_run, after_load_checkpoint, before_train, before_train_epoch, before_train_iter,
//   after_train_iter, after_train_epoch, before_val, before_val_epoch, before_val_iter,
//   after_val_iter, after_val_epoch, after_val, before_save_checkpoint, after_train,
//   before_test, before_test_epoch, before_test_iter, after_test_iter, after_test_epoch,
//   after_test, after_run
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/checkpoint/checkpoint.h"
#include "engine/data/sample.h"
#include "engine/model/base_model.h"

namespace anvil::engine {

class Runner;

// MMEngine's Priority values.
enum class Priority : int {
  HIGHEST = 0,
  VERY_HIGH = 10,
  HIGH = 30,
  ABOVE_NORMAL = 40,
  NORMAL = 50,
  BELOW_NORMAL = 60,
  LOW = 70,
  VERY_LOW = 90,
  LOWEST = 100,
};

// A priority by name (case-insensitive, "NORMAL") or number 0..100 ("50"); anything else is an
// error listing the names.
int parse_priority(const std::string& text);

class Hook {
 public:
  virtual ~Hook() = default;
  // The class name (logs and errors) and the default priority (config `priority` overrides it).
  virtual std::string name() const = 0;
  virtual int priority() const { return static_cast<int>(Priority::NORMAL); }
  // A config's `priority` key: replaces priority() when the hook is registered.
  std::optional<int> configured_priority = std::nullopt;

  virtual void before_run(Runner&) {}
  virtual void after_load_checkpoint(Runner&, Checkpoint&) {}
  virtual void before_train(Runner&) {}
  virtual void before_train_epoch(Runner&) {}
  virtual void before_train_iter(Runner&, int64_t /*batch_idx*/, const Batch&) {}
  virtual void after_train_iter(Runner&, int64_t /*batch_idx*/, const Batch&, const Scalars&) {}
  virtual void after_train_epoch(Runner&) {}
  virtual void before_val(Runner&) {}
  virtual void before_val_epoch(Runner&) {}
  virtual void before_val_iter(Runner&, int64_t /*batch_idx*/, const Batch&) {}
  virtual void after_val_iter(Runner&, int64_t /*batch_idx*/, const Batch&, const Outputs&) {}
  virtual void after_val_epoch(Runner&, const Scalars&) {}
  virtual void after_val(Runner&) {}
  virtual void before_save_checkpoint(Runner&, Checkpoint&) {}
  virtual void after_train(Runner&) {}
  virtual void before_test(Runner&) {}
  virtual void before_test_epoch(Runner&) {}
  virtual void before_test_iter(Runner&, int64_t /*batch_idx*/, const Batch&) {}
  virtual void after_test_iter(Runner&, int64_t /*batch_idx*/, const Batch&, const Outputs&) {}
  virtual void after_test_epoch(Runner&, const Scalars&) {}
  virtual void after_test(Runner&) {}
  virtual void after_run(Runner&) {}
};

// MMEngine's helpers for "every n" schedules: (value + 1 - start) % n == 0 and value + 1 >= start.
bool every_n(int64_t value, int64_t n, int64_t start = 0);

// Watches hook calls (ProfilerHook): begin and end of each hook point as a whole (hook null) and,
// in between, of each hook's call of it. Points nest (CheckpointHook's after_train_epoch runs
// before_save_checkpoint).
class HookObserver {
 public:
  virtual ~HookObserver() = default;
  virtual void begin(std::string_view point, const Hook* hook) = 0;
  virtual void end(std::string_view point, const Hook* hook) = 0;
};

// The name of a hook point ("after_train_iter"), for observers.
std::string_view hook_point_name(void (Hook::*point)(Runner&));
std::string_view hook_point_name(void (Hook::*point)(Runner&, Checkpoint&));
std::string_view hook_point_name(void (Hook::*point)(Runner&, int64_t, const Batch&));
std::string_view hook_point_name(void (Hook::*point)(Runner&, int64_t, const Batch&,
                                                     const Scalars&));
std::string_view hook_point_name(void (Hook::*point)(Runner&, int64_t, const Batch&,
                                                     const Outputs&));
std::string_view hook_point_name(void (Hook::*point)(Runner&, const Scalars&));

// The run's hooks in calling order.
class HookList {
 public:
  // Inserts after the last hook whose priority is <= `priority` (when unset: the hook's
  // configured_priority, else its priority()).
  void add(std::shared_ptr<Hook> hook, std::optional<int> priority = std::nullopt);
  const std::vector<std::pair<int, std::shared_ptr<Hook>>>& hooks() const { return hooks_; }
  // Calls `point` on every hook in order, e.g. call(&Hook::before_train_epoch, runner).
  // With an observer, it is told around the point and every hook's call; the observer set when
  // the point starts sees it to its end.
  template <class... P, class... A>
  void call(void (Hook::*point)(P...), A&&... args) const {
    HookObserver* observer = observer_;
    if (observer == nullptr) {
      for (const auto& [p, hook] : hooks_) ((*hook).*point)(args...);
      return;
    }
    const std::string_view name = hook_point_name(point);
    observer->begin(name, nullptr);
    for (const auto& [p, hook] : hooks_) {
      observer->begin(name, hook.get());
      ((*hook).*point)(args...);
      observer->end(name, hook.get());
    }
    observer->end(name, nullptr);
  }
  // Null: no observer (the default).
  void set_observer(HookObserver* observer) { observer_ = observer; }
  // "(VERY_HIGH  ) RuntimeInfoHook" lines per hook point, as MMEngine logs the hooks at start.
  std::string describe() const;

 private:
  std::vector<std::pair<int, std::shared_ptr<Hook>>> hooks_;
  HookObserver* observer_ = nullptr;
};

}  // namespace anvil::engine
