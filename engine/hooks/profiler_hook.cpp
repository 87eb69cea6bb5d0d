#include "engine/hooks/profiler_hook.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/runner/runner.h"
#include "tensor/atomic_file.h"

namespace anvil::engine {

namespace {

double ms(std::chrono::steady_clock::time_point start, std::chrono::steady_clock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

}  // namespace

ProfilerHook::ProfilerHook(ProfilerHookOptions options) : options_(std::move(options)) {
  ANVIL_CHECK(options_.profile_times >= 1, "ProfilerHook: profile_times must be >= 1, got {}",
              options_.profile_times);
}

// Profiles the first run only (a test() after train() is not profiled again).
void ProfilerHook::before_run(Runner& runner) {
  if (profiling_ || done_) return;
  if (runner.train_loop() != nullptr) {
    const int64_t max_times = options_.by_epoch ? runner.max_epochs() : runner.max_iters();
    ANVIL_CHECK(options_.profile_times <= max_times,
                "ProfilerHook: profile_times {} is more than the run's {} {}",
                options_.profile_times, max_times, options_.by_epoch ? "epochs" : "iterations");
  }
  runner_ = &runner;
  profiling_ = true;
  last_point_end_ = Clock::now();
  runner.hooks().set_observer(this);
  runner.logger().info("ProfilerHook: profiling the hooks and train iterations");
}

void ProfilerHook::after_train_iter(Runner&, int64_t, const Batch&, const Scalars&) {
  if (profiling_ && !options_.by_epoch && ++profiled_ == options_.profile_times) stopping_ = true;
}

void ProfilerHook::after_train_epoch(Runner&) {
  if (profiling_ && options_.by_epoch && ++profiled_ == options_.profile_times) stopping_ = true;
}

void ProfilerHook::after_run(Runner&) {
  if (profiling_) stopping_ = true;
}

void ProfilerHook::record(Stat& stat, Clock::time_point start, Clock::time_point end) {
  ++stat.calls;
  stat.total_ms += ms(start, end);
}

void ProfilerHook::event(std::string name, std::string_view category, Clock::time_point start,
                         Clock::time_point end, std::string_view point) {
  if (options_.json_trace_path.empty()) return;
  events_.push_back({std::move(name), category, start, end, point});
}

// The step phases are bounded by the hook points of the iteration: data_wait ends where
// before_train_iter begins, train_step runs between before_train_iter and after_train_iter.
void ProfilerHook::begin(std::string_view point, const Hook* hook) {
  if (!profiling_) return;
  const Clock::time_point now = Clock::now();
  if (hook == nullptr && point == "before_train_iter") {
    record(data_wait_, last_point_end_, now);
    event("data_wait", "phase", last_point_end_, now);
    iteration_start_ = last_point_end_;
    iteration_hooks_ms_ = 0;
  } else if (hook == nullptr && point == "after_train_iter") {
    record(train_step_, step_start_, now);
    event("train_step", "phase", step_start_, now);
  }
  open_.push_back(now);
}

void ProfilerHook::end(std::string_view point, const Hook* hook) {
  if (!profiling_) return;
  const Clock::time_point now = Clock::now();
  const Clock::time_point start = open_.back();
  open_.pop_back();
  if (hook != nullptr) {
    if (hook == this) return;
    auto [it, added] = hook_index_.try_emplace({hook, point}, hooks_.size());
    if (added) hooks_.push_back({hook->name(), point});
    record(hooks_[it->second], start, now);
    event(hooks_[it->second].label, "hook", start, now, point);
    return;
  }
  event(std::string(point), "point", start, now);
  last_point_end_ = now;
  if (point == "before_train_iter" || point == "after_train_iter") {
    iteration_hooks_ms_ += ms(start, now);
  }
  if (point == "before_train_iter") step_start_ = now;
  if (point == "after_train_iter") {
    ++iteration_hooks_.calls;
    iteration_hooks_.total_ms += iteration_hooks_ms_;
    event(fmt::format("train_iter {}", runner_->iter()), "iteration", iteration_start_, now);
  }
  if (stopping_ && open_.empty()) finish();
}

void ProfilerHook::finish() {
  profiling_ = false;
  done_ = true;
  runner_->hooks().set_observer(nullptr);
  summary_ = table();
  runner_->logger().info(summary_);
  if (!options_.json_trace_path.empty()) {
    write_trace();
    runner_->logger().info("ProfilerHook: trace written to " + options_.json_trace_path);
  }
  events_.clear();
}

std::string ProfilerHook::table() const {
  std::vector<const Stat*> rows;
  if (data_wait_.calls > 0) {
    for (const Stat* phase : {&data_wait_, &train_step_, &iteration_hooks_}) rows.push_back(phase);
  }
  const size_t phases = rows.size();
  for (const Stat& stat : hooks_) rows.push_back(&stat);
  std::stable_sort(rows.begin() + static_cast<std::ptrdiff_t>(phases), rows.end(),
                   [](const Stat* a, const Stat* b) { return a->total_ms > b->total_ms; });
  size_t label_width = 10, point_width = 5;  // "phase/hook", "point"
  for (const Stat* row : rows) {
    label_width = std::max(label_width, row->label.size());
    point_width = std::max(point_width, row->point.size());
  }
  std::string out = fmt::format(
      "ProfilerHook: wall time per train iteration phase and per hook call\n{:<{}}  {:<{}}  "
      "{:>7}  {:>10}  {:>9}\n",
      "phase/hook", label_width, "point", point_width, "calls", "total ms", "mean ms");
  for (const Stat* row : rows) {
    out += fmt::format("{:<{}}  {:<{}}  {:>7}  {:>10.3f}  {:>9.4f}\n", row->label, label_width,
                       row->point, point_width, row->calls, row->total_ms,
                       row->total_ms / static_cast<double>(row->calls));
  }
  out.pop_back();
  return out;
}

// Chrome's trace-event format: complete ("X") events with microsecond start and duration, from
// the runner's start.
void ProfilerHook::write_trace() const {
  const auto us = [&](Clock::time_point t) {
    return std::chrono::duration<double, std::micro>(t - runner_->start_time()).count();
  };
  nlohmann::json events = nlohmann::json::array();
  for (const Event& e : events_) {
    nlohmann::json j = {{"name", e.name},    {"cat", std::string(e.category)}, {"ph", "X"},
                        {"ts", us(e.start)}, {"dur", us(e.end) - us(e.start)}, {"pid", 0},
                        {"tid", 0}};
    if (!e.point.empty()) j["args"] = {{"point", std::string(e.point)}};
    events.push_back(std::move(j));
  }
  const std::filesystem::path path(options_.json_trace_path);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  write_file_atomically(path.string(),
                        nlohmann::json{{"traceEvents", events}, {"displayTimeUnit", "ms"}}.dump(),
                        "ProfilerHook");
}

}  // namespace anvil::engine
