// Registry: named factories that build engine objects from config tables, as MMEngine's
// registries do (`type = "SGD"` selects the factory, the rest of the table is its arguments).
//
// Register from any translation unit, at load time:
//   ANVIL_REGISTER(MODELS, "MyNet", [](const Config& cfg) {
//     cfg.check_keys({"width"});
//     return std::make_shared<MyNet>(cfg.get_or<int64_t>("width", 64));
//   });
// or call MODELS.add("MyNet", factory) at startup. Then MODELS.build(cfg["model"]).
//
// A registry is constant-initialized (constexpr constructor), so registrations running during
// the static initialization of any library or program always find it ready.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/config/config.h"

namespace anvil::engine {

template <class Base, class... Args>
class Registry {
 public:
  // `table` is the config entry without its `type` key.
  using Factory = std::function<std::shared_ptr<Base>(const Config& table, Args... args)>;

  constexpr explicit Registry(std::string_view name) : name_(name) {}
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  std::string_view name() const { return name_; }

  // A name registered twice is an error (MMEngine's KeyError without force=True).
  void add(std::string type, Factory factory) {
    std::lock_guard lock(mutex_);
    auto it = lower_bound(type);
    if (it != factories_.end() && it->first == type) {
      throw ValueError(fmt::format("{}: '{}' is already registered", name_, type));
    }
    factories_.emplace(it, std::move(type), std::move(factory));
  }

  bool contains(std::string_view type) const {
    std::lock_guard lock(mutex_);
    auto it = lower_bound(type);
    return it != factories_.end() && it->first == type;
  }

  // The registered names, sorted.
  std::vector<std::string> names() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& entry : factories_) out.push_back(entry.first);
    return out;
  }

  // Builds from a table with a `type` key. Errors name the table's location: a missing `type`,
  // an unknown type (with the registered names), and any exception of the factory, which is
  // re-thrown as a ConfigError with the location and type prepended (ConfigErrors pass through:
  // they already say where).
  std::shared_ptr<Base> build(const Config& table, Args... args) const {
    if (!table.is_table()) {
      throw ConfigError(fmt::format("{}: expected a table with a 'type' key for {}, got {}",
                                    table.where(), name_, table.describe()));
    }
    const Config* type = table.find("type");
    if (type == nullptr) {
      throw ConfigError(fmt::format("{}: missing key 'type' (one of {}: {})", table.where(), name_,
                                    fmt::join(names(), ", ")));
    }
    const std::string& name = type->as_string();
    Factory factory;
    {
      std::lock_guard lock(mutex_);
      auto it = lower_bound(name);
      if (it != factories_.end() && it->first == name) factory = it->second;
    }
    if (!factory) {
      std::vector<std::string> known = names();
      throw ConfigError(fmt::format(
          "{}: '{}' is not registered in {}{}; registered: {}", type->where(), name, name_,
          did_you_mean(name, {known.begin(), known.end()}), fmt::join(known, ", ")));
    }
    try {
      return factory(table.without("type"), std::forward<Args>(args)...);
    } catch (const ConfigError&) {
      throw;
    } catch (const std::exception& e) {
      throw ConfigError(
          fmt::format("{}: building {} '{}': {}", table.where(), name_, name, e.what()));
    }
  }

 private:
  auto lower_bound(std::string_view type) const {
    return std::lower_bound(factories_.begin(), factories_.end(), type,
                            [](const auto& entry, std::string_view t) { return entry.first < t; });
  }
  auto lower_bound(std::string_view type) {
    return std::lower_bound(factories_.begin(), factories_.end(), type,
                            [](const auto& entry, std::string_view t) { return entry.first < t; });
  }

  std::string_view name_;
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, Factory>> factories_;  // sorted by name
};

}  // namespace anvil::engine

#define ANVIL_REGISTRY_CONCAT_(a, b) a##b
#define ANVIL_REGISTRY_CONCAT(a, b) ANVIL_REGISTRY_CONCAT_(a, b)
// ANVIL_REGISTER(REGISTRY, "Name", factory): registers when the enclosing library or program
// loads. Use at namespace scope in a .cpp file.
#define ANVIL_REGISTER(registry, type, ...)                                                  \
  static const bool ANVIL_REGISTRY_CONCAT(anvil_registered_, __COUNTER__) [[maybe_unused]] = \
      ((registry).add((type), __VA_ARGS__), true)
