// MMEngine's logging state (mmengine/logging): HistoryBuffer keeps every logged value of one
// scalar with its count and answers windowed statistics; MessageHub holds the run's buffers
// ("train/loss", "val/accuracy/top1", ...) in insertion order and its runtime information
// (epoch, iter, ...). Hooks write into it; the LogProcessor and checkpoints read it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace anvil::engine {

class HistoryBuffer {
 public:
  explicit HistoryBuffer(size_t max_length = 1000000) : max_length_(max_length) {}
  void update(double value, int64_t count = 1);

  // Sums of the last `window` values over the sum of their counts (all when window is unset or
  // larger than the history), as MMEngine's mean(window_size).
  double mean(std::optional<size_t> window = std::nullopt) const;
  double max(std::optional<size_t> window = std::nullopt) const;
  double min(std::optional<size_t> window = std::nullopt) const;
  double current() const;  // the last value; an error when empty
  // By MMEngine's method name: "mean", "max", "min", "current".
  double statistics(const std::string& method, std::optional<size_t> window = std::nullopt) const;

  const std::deque<double>& values() const { return values_; }
  const std::deque<int64_t>& counts() const { return counts_; }
  size_t size() const { return values_.size(); }

 private:
  size_t first(std::optional<size_t> window) const;  // index where the window starts
  size_t max_length_;
  std::deque<double> values_;
  std::deque<int64_t> counts_;
};

// Runtime information values (MMEngine allows anything; these are what the engine stores).
using InfoValue = std::variant<int64_t, double, std::string>;

class MessageHub {
 public:
  explicit MessageHub(std::string name = "anvil") : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  // `resumed`: whether the key goes into state_dict (must stay the same for a key).
  void update_scalar(const std::string& key, double value, int64_t count = 1, bool resumed = true);
  void update_info(const std::string& key, InfoValue value, bool resumed = true);

  // The buffer of `key`; an error naming the known keys when there is none.
  const HistoryBuffer& get_scalar(const std::string& key) const;
  bool has_scalar(const std::string& key) const;
  const InfoValue* get_info(const std::string& key) const;  // null when missing
  std::optional<InfoValue> pop_info(const std::string& key);

  // Buffers in insertion order.
  const std::vector<std::pair<std::string, HistoryBuffer>>& log_scalars() const { return scalars_; }
  const std::vector<std::pair<std::string, InfoValue>>& runtime_info() const { return info_; }

  // The resumed keys' buffers and information, as JSON text (checkpoints store it), and back.
  std::string state_dict() const;
  void load_state_dict(const std::string& json);

 private:
  void check_resumed(const std::string& key, bool resumed);
  std::string name_;
  std::vector<std::pair<std::string, HistoryBuffer>> scalars_;
  std::vector<std::pair<std::string, InfoValue>> info_;
  std::vector<std::pair<std::string, bool>> resumed_;
};

}  // namespace anvil::engine
