// Config: the value tree behind every engine object, read from TOML files (MMEngine's config with
// `_base_` inheritance, `_delete_` and `--cfg-options` overrides) or built in C++.
//
// Every value remembers where it came from (file, line) and its dotted key path from the root,
// so that any later error can say
//   configs/foo.toml:12: optim_wrapper.optimizer.lr: expected a number, got string "x"
// TOML is parsed inside the library: nothing here depends on the TOML parser.
#pragma once

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "tensor/error.h"

namespace anvil::engine {

// A config that cannot be read, merged or used: missing file, syntax, type, key or value errors.
class ConfigError : public ValueError {
 public:
  using ValueError::ValueError;
};

struct ConfigLocation {
  std::string file;  // empty for values made in C++
  int64_t line = 0;  // 1-based; 0 when there is no line (C++ values, --cfg-options)
  int64_t column = 0;

  // "configs/foo.toml:12", "--cfg-options lr=x" or "<C++>".
  std::string str() const;
};

class Config {
 public:
  enum class Kind { null, boolean, integer, floating, string, array, table };
  using Array = std::vector<Config>;
  // Tables keep their keys in insertion (file) order; lookups are linear, configs are small.
  using Table = std::vector<std::pair<std::string, Config>>;

  Config() = default;
  Config(std::nullptr_t) {}
  Config(bool value) : value_(value) {}
  template <std::integral T>
  requires(!std::same_as<T, bool>) Config(T value) : value_(static_cast<int64_t>(value)) {}
  template <std::floating_point T>
  Config(T value) : value_(static_cast<double>(value)) {}
  Config(const char* value) : value_(std::string(value)) {}
  Config(std::string value) : value_(std::move(value)) {}
  Config(std::string_view value) : value_(std::string(value)) {}
  template <class T>
  Config(const std::vector<T>& values) : value_(Array(values.begin(), values.end())) {
    set_path(std::string());
  }

  // Config::table({{"type", "SGD"}, {"lr", 0.1}}), Config::array({1, 2, 3}).
  static Config table(std::initializer_list<std::pair<std::string, Config>> entries = {});
  static Config array(std::initializer_list<Config> elements = {});

  // Reads a TOML file and everything it inherits through `_base_` (a path or a list of paths,
  // relative to the including file), merged as MMEngine merges.
  static Config from_file(const std::filesystem::path& path);
  // The same from text; `name` is the file name used in messages and `_base_` paths are relative
  // to its directory.
  static Config from_string(std::string_view toml, const std::string& name = "<string>");

  Kind kind() const { return static_cast<Kind>(value_.index()); }
  static std::string_view kind_name(Kind kind);
  bool is_null() const { return kind() == Kind::null; }
  bool is_table() const { return kind() == Kind::table; }
  bool is_array() const { return kind() == Kind::array; }
  bool is_string() const { return kind() == Kind::string; }
  bool is_number() const { return kind() == Kind::integer || kind() == Kind::floating; }

  const ConfigLocation& location() const { return location_; }
  // The dotted key path from the root ("optim_wrapper.optimizer.lr", "param_scheduler.0.end").
  const std::string& path() const { return path_; }
  // The prefix of every error about this value: "configs/foo.toml:12: optim_wrapper.lr".
  std::string where() const;
  // A short rendering for messages: `string "x"`, `integer 3`, `table`, `array of 2`.
  std::string describe() const;

  // Dotted keys: components are table keys, or indices into arrays ("param_scheduler.0.end").
  bool has(std::string_view key) const;
  const Config* find(std::string_view key) const;
  // Throws, naming the location of the deepest existing value and the component that is missing.
  const Config& at(std::string_view key) const;
  const Config& operator[](std::string_view key) const { return at(key); }
  const Config& operator[](size_t index) const;

  // Entries of a table / elements of an array (throw a type error on anything else).
  const Table& items() const;
  const Array& elements() const;
  size_t size() const;

  // Checked conversions of this value; an int is promoted to a float, nothing else converts.
  bool as_bool() const;
  int64_t as_int() const;
  double as_double() const;
  const std::string& as_string() const;
  // T: Config, bool, integers (range-checked), floating point, std::string, std::vector<T>.
  template <class T>
  T as() const;

  template <class T>
  T get(std::string_view key) const {
    return at(key).as<T>();
  }
  // A missing or null key gives `fallback`; a present value of the wrong type is still an error.
  template <class T>
  T get_or(std::string_view key, T fallback) const {
    const Config* value = find(key);
    return value == nullptr || value->is_null() ? fallback : value->as<T>();
  }

  // Throws if this table has a key outside `valid`, naming the key, its location, the closest
  // valid key and all valid keys. Every builder calls it on its table.
  void check_keys(const std::vector<std::string_view>& valid) const;
  // A copy of this table without `key` (e.g. the registry's table minus `type`).
  Config without(std::string_view key) const;

  // Sets a dotted key, creating tables on the way, and returns the stored value.
  Config& set(std::string_view key, Config value);
  Config& push_back(Config value);
  // Removes a key of this table; false when it was not there.
  bool erase(std::string_view key);

  // MMEngine's merge of `child` into this table: tables merge recursively, everything else
  // (arrays included) replaces; a child table with `_delete_ = true` replaces instead of merging.
  void merge(const Config& child);
  // `--cfg-options`: "a.b.c=value" with integer components indexing existing arrays; values are
  // TOML literals (0.01, [0.5, 0.5], {a = 1}, "x"), true/false in any case, None (null), MMEngine's
  // lists a,b and [a,b] of bare words; anything else is a string. Missing keys are created.
  void merge_from_options(const std::vector<std::string>& options);

  // TOML text: parse(dump()) == *this. The root must be a table; nulls are left out (TOML has no
  // null: a null reads as unset).
  std::string dump() const;
  // Writes dump() to `path` atomically (temporary file, then rename).
  void dump(const std::filesystem::path& path) const;
  // An indented rendering for logs, keys in their order.
  std::string pretty_text() const;

  // Equal values; table key order does not matter, locations are ignored.
  friend bool operator==(const Config& a, const Config& b);

 private:
  friend class ConfigReader;
  friend struct ConfigMerger;

  [[noreturn]] void type_error(std::string_view expected) const;
  int64_t as_int_in(int64_t lo, int64_t hi) const;
  Config* find_child(std::string_view component);
  const Config* find_child(std::string_view component) const;
  // Sets path_ here and below; called whenever a value moves to a new place in a tree.
  void set_path(std::string path);
  static Config parse_option_value(std::string_view text, const ConfigLocation& location);

  std::variant<std::monostate, bool, int64_t, double, std::string, Array, Table> value_;
  ConfigLocation location_;
  std::string path_;
};

// " (did you mean 'x'?)" for the candidate closest to `word` when it is close enough, else "".
std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);

namespace detail {
template <class T>
struct IsVector : std::false_type {};
template <class T, class A>
struct IsVector<std::vector<T, A>> : std::true_type {};
}  // namespace detail

template <class T>
T Config::as() const {
  if constexpr (std::same_as<T, Config>) {
    return *this;
  } else if constexpr (std::same_as<T, bool>) {
    return as_bool();
  } else if constexpr (std::integral<T>) {
    constexpr int64_t hi = std::numeric_limits<T>::max() > uint64_t(INT64_MAX)
                               ? INT64_MAX
                               : int64_t(std::numeric_limits<T>::max());
    return static_cast<T>(as_int_in(int64_t(std::numeric_limits<T>::min()), hi));
  } else if constexpr (std::floating_point<T>) {
    return static_cast<T>(as_double());
  } else if constexpr (std::same_as<T, std::string>) {
    return as_string();
  } else if constexpr (detail::IsVector<T>::value) {
    T out;
    for (const Config& element : elements()) out.push_back(element.as<typename T::value_type>());
    return out;
  } else {
    static_assert(!sizeof(T), "Config::as<T>: unsupported type");
  }
}

}  // namespace anvil::engine
