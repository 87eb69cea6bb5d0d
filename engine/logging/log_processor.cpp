#include "engine/logging/log_processor.h"

#include <cmath>

#include "tensor/error.h"

namespace anvil::engine {

namespace {

std::string rjust(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

bool is_time_key(const std::string& key, const std::string& mode) {
  return key == "time" || key == "data_time" || key == mode + "/time" || key == mode + "/data_time";
}

void set(Scalars& tag, const std::string& key, double value) {
  for (auto& [k, v] : tag) {
    if (k == key) {
      v = value;
      return;
    }
  }
  tag.emplace_back(key, value);
}

}  // namespace

std::string format_eta(double seconds) {
  int64_t s = static_cast<int64_t>(seconds);
  const int64_t days = s / 86400;
  s %= 86400;
  const std::string hms = fmt::format("{}:{:02d}:{:02d}", s / 3600, s / 60 % 60, s % 60);
  return days == 0 ? hms : fmt::format("{} day{}, {}", days, days == 1 ? "" : "s", hms);
}

LogProcessor::LogProcessor(LogProcessorOptions options)
    : options_(std::move(options)), mean_pattern_(options_.mean_pattern) {
  std::vector<std::string> names;
  for (const CustomLogCfg& c : options_.custom_cfg) {
    ANVIL_CHECK(!c.data_src.empty(), "LogProcessor: a custom_cfg entry has no data_src");
    const std::string name = c.log_name.empty() ? c.data_src : c.log_name;
    ANVIL_CHECK(std::find(names.begin(), names.end(), name) == names.end(),
                "LogProcessor: custom_cfg names '{}' twice", name);
    names.push_back(name);
    if (const auto* w = std::get_if<std::string>(&c.window_size)) {
      ANVIL_CHECK(*w == "epoch" || *w == "global",
                  "LogProcessor: custom_cfg '{}': window_size must be a number, \"epoch\" or "
                  "\"global\", got \"{}\"",
                  c.data_src, *w);
      ANVIL_CHECK(!(*w == "epoch" && !options_.by_epoch),
                  "LogProcessor: custom_cfg '{}': window_size \"epoch\" needs by_epoch = true",
                  c.data_src);
    }
  }
}

std::string LogProcessor::number(double v) const {
  return fmt::format("{:.{}f}", v, options_.num_digits);
}

Scalars LogProcessor::collect(const MessageHub& hub, const LogPosition& at,
                              std::vector<CustomLogCfg> custom) const {
  const std::string prefix = at.mode + "/";
  auto name_of = [&](const std::string& key) {
    return options_.log_with_hierarchy ? key : key.substr(prefix.size());
  };
  Scalars tag;
  for (const auto& [key, buffer] : hub.log_scalars()) {
    if (!key.starts_with(prefix)) continue;
    const std::string name = name_of(key);
    const bool mean = std::regex_search(name, mean_pattern_);
    tag.emplace_back(
        name, mean ? buffer.mean(static_cast<size_t>(options_.window_size)) : buffer.current());
  }
  for (const CustomLogCfg& c : custom) {
    const std::string key = prefix + c.data_src;
    if (!hub.has_scalar(key)) continue;
    int64_t window = 0;
    if (const auto* w = std::get_if<int64_t>(&c.window_size)) {
      window = *w;
    } else {
      window = std::get<std::string>(c.window_size) == "epoch" ? at.batch_idx + 1 : at.iter + 1;
    }
    const double v = hub.get_scalar(key).statistics(c.method_name, static_cast<size_t>(window));
    set(tag, c.log_name.empty() ? name_of(key) : c.log_name, v);
  }
  return tag;
}

std::pair<Scalars, std::string> LogProcessor::get_log_after_iter(const MessageHub& hub,
                                                                 const LogPosition& at) const {
  Scalars collected = collect(hub, at, options_.custom_cfg);
  std::string line;
  if (options_.by_epoch) {
    const std::string idx =
        rjust(std::to_string(at.batch_idx + 1), std::to_string(at.dataloader_len).size());
    if (at.mode == "test") {
      line = fmt::format("Epoch({}) [{}/{}]  ", at.mode, idx, at.dataloader_len);
    } else {
      const int64_t epoch = at.mode == "train" ? at.epoch + 1 : at.has_train_loop ? at.epoch : 0;
      std::string epoch_str = fmt::format("[{}]", epoch);
      if (at.has_train_loop) {
        epoch_str = rjust(epoch_str, std::to_string(at.max_epochs).size() + 3);
      }
      line = fmt::format("Epoch({}) {}[{}/{}]  ", at.mode, epoch_str, idx, at.dataloader_len);
    }
  } else if (at.mode == "train") {
    line = fmt::format("Iter({}) [{}/{}]  ", at.mode,
                       rjust(std::to_string(at.iter + 1), std::to_string(at.max_iters).size()),
                       at.max_iters);
  } else {
    line = fmt::format(
        "Iter({}) [{}/{}]  ", at.mode,
        rjust(std::to_string(at.batch_idx + 1), std::to_string(at.dataloader_len).size()),
        at.dataloader_len);
  }

  // Learning rates first (scientific), then eta, time and data_time, memory, the rest.
  std::vector<std::string> items;
  for (const auto& [name, v] : collected) {
    if (name.ends_with("lr"))
      items.push_back(fmt::format("{}: {:.{}e}", name, v, options_.num_digits));
  }
  if (const InfoValue* eta = hub.get_info("eta")) {
    const double s = std::holds_alternative<double>(*eta) ? std::get<double>(*eta)
                     : std::holds_alternative<int64_t>(*eta)
                         ? static_cast<double>(std::get<int64_t>(*eta))
                         : 0.0;
    items.push_back("eta: " + format_eta(s));
  }
  const auto find = [&](const std::string& n) -> const double* {
    for (const auto& [k, v] : collected)
      if (k == n) return &v;
    return nullptr;
  };
  const std::string time_key = options_.log_with_hierarchy ? at.mode + "/time" : "time";
  const std::string data_key = options_.log_with_hierarchy ? at.mode + "/data_time" : "data_time";
  const double* time = find(time_key);
  const double* data_time = find(data_key);
  if (time && data_time) {
    items.push_back("time: " + number(*time));
    items.push_back("data_time: " + number(*data_time));
  }
  if (at.memory_mb) items.push_back(fmt::format("memory: {}", *at.memory_mb));
  if (at.mode == "train" || at.mode == "val") {
    for (const auto& [name, v] : collected) {
      if (name.ends_with("lr") || ((name == time_key || name == data_key) && time && data_time)) {
        continue;
      }
      if (at.mode == "val" && !name.starts_with("val/loss")) continue;  // as MMEngine
      items.push_back(name + ": " + number(v));
    }
  }
  for (size_t i = 0; i < items.size(); ++i) line += (i ? "  " : "") + items[i];

  Scalars tag = std::move(collected);
  if (options_.by_epoch && at.mode != "test") {
    set(tag, "epoch", static_cast<double>(at.mode == "train" ? at.epoch + 1 : at.epoch));
  }
  set(tag, "iter", at.has_train_loop ? static_cast<double>(at.iter + 1) : 0.0);
  if (at.memory_mb) set(tag, "memory", static_cast<double>(*at.memory_mb));
  return {tag, line};
}

std::pair<Scalars, std::string> LogProcessor::get_log_after_epoch(const MessageHub& hub,
                                                                  const LogPosition& at) const {
  std::vector<CustomLogCfg> custom = options_.custom_cfg;
  for (const char* key : {"time", "data_time"}) {
    const bool given = std::any_of(custom.begin(), custom.end(),
                                   [&](const CustomLogCfg& c) { return c.data_src == key; });
    if (!given) custom.push_back({key, "", "mean", std::string("epoch")});
  }
  LogPosition end = at;
  end.batch_idx = at.dataloader_len - 1;
  const Scalars collected = collect(hub, end, custom);

  std::string line;
  if (!options_.by_epoch) {
    line = fmt::format("Iter({}) [{}/{}]    ", at.mode, at.dataloader_len, at.dataloader_len);
  } else if (at.mode == "test") {
    line = fmt::format("Epoch({}) [{}/{}]    ", at.mode, at.dataloader_len, at.dataloader_len);
  } else {
    line = fmt::format("Epoch({}) [{}][{}/{}]    ", at.mode, at.has_train_loop ? at.epoch : 0,
                       at.dataloader_len, at.dataloader_len);
  }
  // Metrics first, the epoch's timings last.
  Scalars tag, times;
  for (const auto& kv : collected) (is_time_key(kv.first, at.mode) ? times : tag).push_back(kv);
  tag.insert(tag.end(), times.begin(), times.end());
  for (size_t i = 0; i < tag.size(); ++i) {
    line += (i ? "  " : "") + tag[i].first + ": " + number(tag[i].second);
  }
  return {tag, line};
}

}  // namespace anvil::engine
