#include "engine/hooks/hook.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "tensor/error.h"

namespace anvil::engine {

namespace {

constexpr std::array<std::pair<const char*, Priority>, 9> kPriorities{{
    {"HIGHEST", Priority::HIGHEST},
    {"VERY_HIGH", Priority::VERY_HIGH},
    {"HIGH", Priority::HIGH},
    {"ABOVE_NORMAL", Priority::ABOVE_NORMAL},
    {"NORMAL", Priority::NORMAL},
    {"BELOW_NORMAL", Priority::BELOW_NORMAL},
    {"LOW", Priority::LOW},
    {"VERY_LOW", Priority::VERY_LOW},
    {"LOWEST", Priority::LOWEST},
}};

template <class Point, size_t N>
std::string_view find_point(Point point,
                            const std::array<std::pair<Point, const char*>, N>& points) {
  for (const auto& [candidate, name] : points)
    if (candidate == point) return name;
  throw ValueError("hook_point_name: not one of the Hook's points");
}

std::string priority_name(int p) {
  for (const auto& [name, value] : kPriorities)
    if (static_cast<int>(value) == p) return name;
  return std::to_string(p);
}

}  // namespace

int parse_priority(const std::string& text) {
  std::string upper = text;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (const auto& [name, value] : kPriorities)
    if (upper == name) return static_cast<int>(value);
  int number = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc() && end == text.data() + text.size() && number >= 0 && number <= 100) {
    return number;
  }
  throw ValueError(
      fmt::format("invalid hook priority '{}': expected 0..100 or one of HIGHEST, VERY_HIGH, HIGH, "
                  "ABOVE_NORMAL, NORMAL, BELOW_NORMAL, LOW, VERY_LOW, LOWEST",
                  text));
}

bool every_n(int64_t value, int64_t n, int64_t start) {
  return n > 0 && value + 1 >= start && (value + 1 - start) % n == 0;
}

void HookList::add(std::shared_ptr<Hook> hook, std::optional<int> priority) {
  ANVIL_CHECK(hook != nullptr, "HookList::add: null hook");
  const int p = priority.value_or(hook->configured_priority.value_or(hook->priority()));
  ANVIL_CHECK(p >= 0 && p <= 100, "hook {}: priority {} is outside 0..100", hook->name(), p);
  auto at = std::find_if(hooks_.begin(), hooks_.end(),
                         [p](const auto& entry) { return entry.first > p; });
  hooks_.insert(at, {p, std::move(hook)});
}

std::string_view hook_point_name(void (Hook::*point)(Runner&)) {
  using P = void (Hook::*)(Runner&);
  static const std::array<std::pair<P, const char*>, 12> points{{
      {&Hook::before_run, "before_run"},
      {&Hook::before_train, "before_train"},
      {&Hook::before_train_epoch, "before_train_epoch"},
      {&Hook::after_train_epoch, "after_train_epoch"},
      {&Hook::before_val, "before_val"},
      {&Hook::before_val_epoch, "before_val_epoch"},
      {&Hook::after_val, "after_val"},
      {&Hook::after_train, "after_train"},
      {&Hook::before_test, "before_test"},
      {&Hook::before_test_epoch, "before_test_epoch"},
      {&Hook::after_test, "after_test"},
      {&Hook::after_run, "after_run"},
  }};
  return find_point(point, points);
}

std::string_view hook_point_name(void (Hook::*point)(Runner&, Checkpoint&)) {
  using P = void (Hook::*)(Runner&, Checkpoint&);
  static const std::array<std::pair<P, const char*>, 2> points{{
      {&Hook::after_load_checkpoint, "after_load_checkpoint"},
      {&Hook::before_save_checkpoint, "before_save_checkpoint"},
  }};
  return find_point(point, points);
}

std::string_view hook_point_name(void (Hook::*point)(Runner&, int64_t, const Batch&)) {
  using P = void (Hook::*)(Runner&, int64_t, const Batch&);
  static const std::array<std::pair<P, const char*>, 3> points{{
      {&Hook::before_train_iter, "before_train_iter"},
      {&Hook::before_val_iter, "before_val_iter"},
      {&Hook::before_test_iter, "before_test_iter"},
  }};
  return find_point(point, points);
}

std::string_view hook_point_name(void (Hook::*point)(Runner&, int64_t, const Batch&,
                                                     const Scalars&)) {
  using P = void (Hook::*)(Runner&, int64_t, const Batch&, const Scalars&);
  static const std::array<std::pair<P, const char*>, 1> points{{
      {&Hook::after_train_iter, "after_train_iter"},
  }};
  return find_point(point, points);
}

std::string_view hook_point_name(void (Hook::*point)(Runner&, int64_t, const Batch&,
                                                     const Outputs&)) {
  using P = void (Hook::*)(Runner&, int64_t, const Batch&, const Outputs&);
  static const std::array<std::pair<P, const char*>, 2> points{{
      {&Hook::after_val_iter, "after_val_iter"},
      {&Hook::after_test_iter, "after_test_iter"},
  }};
  return find_point(point, points);
}

std::string_view hook_point_name(void (Hook::*point)(Runner&, const Scalars&)) {
  using P = void (Hook::*)(Runner&, const Scalars&);
  static const std::array<std::pair<P, const char*>, 2> points{{
      {&Hook::after_val_epoch, "after_val_epoch"},
      {&Hook::after_test_epoch, "after_test_epoch"},
  }};
  return find_point(point, points);
}

std::string HookList::describe() const {
  std::string out;
  for (const auto& [p, hook] : hooks_) {
    out += fmt::format("({:<12}) {}\n", priority_name(p), hook->name());
  }
  return out;
}

}  // namespace anvil::engine
