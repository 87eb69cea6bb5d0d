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

std::string HookList::describe() const {
  std::string out;
  for (const auto& [p, hook] : hooks_) {
    out += fmt::format("({:<12}) {}\n", priority_name(p), hook->name());
  }
  return out;
}

}  // namespace anvil::engine
