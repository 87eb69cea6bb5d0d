// MMEngine's ProfilerHook (mmengine/hooks/profiler_hook.py) without torch.profiler: it times the
// run's hooks and its train iterations, from before_run for the first `profile_times` epochs
// (by_epoch) or iterations of training (or to the end of a shorter run, or of a val()/test()):
//
//   per hook and hook point   the wall time of each hook's calls (inclusive of hook points run
//                             inside them: CheckpointHook's saves run before_save_checkpoint)
//   per train iteration       data_wait (from the end of the previous hook point to
//                             before_train_iter: the loader), train_step (forward, backward and
//                             optimizer step) and hooks (before_train_iter + after_train_iter)
//
// When profiling ends it logs a table (phase or hook, point, calls, total ms, mean ms; hooks by
// total time) and, with json_trace_path, writes a Chrome trace-event file (chrome://tracing,
// Perfetto): one complete event per hook point, per hook call, per train iteration and per
// phase, nested as they ran.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/hooks/hook.h"

namespace anvil::engine {

struct ProfilerHookOptions {
  bool by_epoch = true;
  int64_t profile_times = 1;         // epochs (by_epoch) or iterations to profile, >= 1
  std::string json_trace_path = "";  // "": no trace file
};

class ProfilerHook final : public Hook, private HookObserver {
 public:
  explicit ProfilerHook(ProfilerHookOptions options = {});
  std::string name() const override { return "ProfilerHook"; }
  int priority() const override { return static_cast<int>(Priority::VERY_LOW); }
  void before_run(Runner& runner) override;
  void after_train_iter(Runner& runner, int64_t, const Batch&, const Scalars&) override;
  void after_train_epoch(Runner& runner) override;
  void after_run(Runner& runner) override;

  // The table logged when profiling ended ("" before).
  const std::string& summary() const { return summary_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Stat {
    std::string label;       // hook name or phase
    std::string_view point;  // the hook point, or "train_iter" for a phase
    int64_t calls = 0;
    double total_ms = 0;
  };
  struct Event {
    std::string name;
    std::string_view category;  // "point", "hook", "iteration", "phase"
    Clock::time_point start, end;
    std::string_view point;
  };

  void begin(std::string_view point, const Hook* hook) override;
  void end(std::string_view point, const Hook* hook) override;
  void record(Stat& stat, Clock::time_point start, Clock::time_point end);
  void event(std::string name, std::string_view category, Clock::time_point start,
             Clock::time_point end, std::string_view point = {});
  void finish();
  std::string table() const;
  void write_trace() const;

  ProfilerHookOptions options_;
  Runner* runner_ = nullptr;
  // stopping_: profiling ends when the running hook points have ended.
  bool profiling_ = false, stopping_ = false, done_ = false;
  int64_t profiled_ = 0;  // epochs or iterations completed while profiling

  std::vector<Clock::time_point> open_;  // start times of the running points and hook calls
  Clock::time_point last_point_end_, iteration_start_, step_start_;
  double iteration_hooks_ms_ = 0;
  Stat data_wait_{"data_wait", "train_iter"}, train_step_{"train_step", "train_iter"},
      iteration_hooks_{"hooks", "train_iter"};
  std::vector<Stat> hooks_;
  std::map<std::pair<const Hook*, std::string_view>, size_t> hook_index_;
  std::vector<Event> events_;  // with json_trace_path only
  std::string summary_;
};

}  // namespace anvil::engine
