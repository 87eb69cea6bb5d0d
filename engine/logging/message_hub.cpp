#include "engine/logging/message_hub.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "tensor/error.h"

namespace anvil::engine {

namespace {

template <class V>
V* find(std::vector<std::pair<std::string, V>>& items, const std::string& key) {
  for (auto& [k, v] : items)
    if (k == key) return &v;
  return nullptr;
}

template <class V>
const V* find(const std::vector<std::pair<std::string, V>>& items, const std::string& key) {
  for (const auto& [k, v] : items)
    if (k == key) return &v;
  return nullptr;
}

}  // namespace

// ---- HistoryBuffer ------------------------------------------------------------------------------

void HistoryBuffer::update(double value, int64_t count) {
  values_.push_back(value);
  counts_.push_back(count);
  if (values_.size() > max_length_) {
    values_.pop_front();
    counts_.pop_front();
  }
}

size_t HistoryBuffer::first(std::optional<size_t> window) const {
  ANVIL_CHECK(!values_.empty(), "HistoryBuffer: no value has been logged yet");
  return window && *window < values_.size() ? values_.size() - *window : 0;
}

double HistoryBuffer::mean(std::optional<size_t> window) const {
  double sum = 0, count = 0;
  for (size_t i = first(window); i < values_.size(); ++i) {
    sum += values_[i];
    count += static_cast<double>(counts_[i]);
  }
  return sum / count;
}

double HistoryBuffer::max(std::optional<size_t> window) const {
  return *std::max_element(values_.begin() + static_cast<std::ptrdiff_t>(first(window)),
                           values_.end());
}

double HistoryBuffer::min(std::optional<size_t> window) const {
  return *std::min_element(values_.begin() + static_cast<std::ptrdiff_t>(first(window)),
                           values_.end());
}

double HistoryBuffer::current() const {
  ANVIL_CHECK(!values_.empty(), "HistoryBuffer: no value has been logged yet");
  return values_.back();
}

double HistoryBuffer::statistics(const std::string& method, std::optional<size_t> window) const {
  if (method == "mean") return mean(window);
  if (method == "max") return max(window);
  if (method == "min") return min(window);
  if (method == "current") return current();
  throw ValueError(fmt::format(
      "HistoryBuffer: unknown statistics method '{}': expected mean, max, min or current", method));
}

// ---- MessageHub ---------------------------------------------------------------------------------

void MessageHub::check_resumed(const std::string& key, bool resumed) {
  if (const bool* r = find(resumed_, key)) {
    ANVIL_CHECK(*r == resumed, "MessageHub: '{}' was logged with resumed={} before, now {}", key,
                *r, resumed);
  } else {
    resumed_.emplace_back(key, resumed);
  }
}

void MessageHub::update_scalar(const std::string& key, double value, int64_t count, bool resumed) {
  check_resumed(key, resumed);
  if (HistoryBuffer* b = find(scalars_, key)) {
    b->update(value, count);
  } else {
    scalars_.emplace_back(key, HistoryBuffer());
    scalars_.back().second.update(value, count);
  }
}

void MessageHub::update_info(const std::string& key, InfoValue value, bool resumed) {
  check_resumed(key, resumed);
  if (InfoValue* v = find(info_, key)) {
    *v = std::move(value);
  } else {
    info_.emplace_back(key, std::move(value));
  }
}

bool MessageHub::has_scalar(const std::string& key) const {
  return find(scalars_, key) != nullptr;
}

const HistoryBuffer& MessageHub::get_scalar(const std::string& key) const {
  if (const HistoryBuffer* b = find(scalars_, key)) return *b;
  std::string known;
  for (const auto& [k, v] : scalars_) known += (known.empty() ? "" : ", ") + k;
  throw ValueError(
      fmt::format("MessageHub: no scalar '{}' (logged: {})", key, known.empty() ? "none" : known));
}

const InfoValue* MessageHub::get_info(const std::string& key) const {
  return find(info_, key);
}

std::optional<InfoValue> MessageHub::pop_info(const std::string& key) {
  for (auto it = info_.begin(); it != info_.end(); ++it) {
    if (it->first == key) {
      InfoValue v = std::move(it->second);
      info_.erase(it);
      return v;
    }
  }
  return std::nullopt;
}

std::string MessageHub::state_dict() const {
  using Json = nlohmann::ordered_json;
  Json scalars = Json::object(), info = Json::object();
  for (const auto& [k, b] : scalars_) {
    if (!*find(resumed_, k)) continue;
    scalars[k] = {{"values", Json(std::vector<double>(b.values().begin(), b.values().end()))},
                  {"counts", Json(std::vector<int64_t>(b.counts().begin(), b.counts().end()))}};
  }
  for (const auto& [k, v] : info_) {
    if (!*find(resumed_, k)) continue;
    std::visit([&, &k = k](const auto& x) { info[k] = x; }, v);
  }
  return Json{{"name", name_}, {"log_scalars", scalars}, {"runtime_info", info}}.dump();
}

void MessageHub::load_state_dict(const std::string& text) {
  using Json = nlohmann::ordered_json;
  Json j;
  try {
    j = Json::parse(text);
    for (const auto& [k, b] : j.at("log_scalars").items()) {
      const auto values = b.at("values").get<std::vector<double>>();
      const auto counts = b.at("counts").get<std::vector<int64_t>>();
      ANVIL_CHECK(values.size() == counts.size(), "MessageHub: '{}' has {} values but {} counts", k,
                  values.size(), counts.size());
      HistoryBuffer buffer;
      for (size_t i = 0; i < values.size(); ++i) buffer.update(values[i], counts[i]);
      check_resumed(k, true);
      if (HistoryBuffer* old = find(scalars_, k)) {
        *old = std::move(buffer);
      } else {
        scalars_.emplace_back(k, std::move(buffer));
      }
    }
    for (const auto& [k, v] : j.at("runtime_info").items()) {
      if (v.is_number_integer()) {
        update_info(k, v.get<int64_t>());
      } else if (v.is_number()) {
        update_info(k, v.get<double>());
      } else {
        update_info(k, v.get<std::string>());
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw ValueError(
        fmt::format("MessageHub::load_state_dict: not a message hub state: {}", e.what()));
  }
}

}  // namespace anvil::engine
