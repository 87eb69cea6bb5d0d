// The config value tree: access, checks, merging, --cfg-options, dump. TOML parsing lives in
// config_toml.cpp.
#include "engine/config/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <system_error>

#include "tensor/atomic_file.h"

namespace anvil::engine {

namespace {

constexpr std::string_view kDeleteKey = "_delete_";

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

std::vector<std::string_view> split_key(std::string_view key) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

// An array index component: all digits.
bool parse_index(std::string_view component, size_t& index) {
  if (component.empty() || component.size() > 18) return false;
  index = 0;
  for (char c : component) {
    if (c < '0' || c > '9') return false;
    index = index * 10 + size_t(c - '0');
  }
  return true;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

bool is_bare_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string toml_key(std::string_view key) {
  return is_bare_key(key) ? std::string(key) : quote(key);
}

std::string format_double(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  std::string s = fmt::format("{}", v);  // shortest text that reads back to the same double
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view closest;
  size_t best = SIZE_MAX;
  for (std::string_view candidate : candidates) {
    size_t d = edit_distance(word, candidate);
    if (d < best) best = d, closest = candidate;
  }
  return best <= std::max<size_t>(2, word.size() / 3)
             ? fmt::format(" (did you mean '{}'?)", closest)
             : std::string();
}

std::string ConfigLocation::str() const {
  if (file.empty()) return "<C++>";
  return line > 0 ? fmt::format("{}:{}", file, line) : file;
}

// ---------------------------------------------------------------------------------------------
// Construction and paths

Config Config::table(std::initializer_list<std::pair<std::string, Config>> entries) {
  Config out;
  Table& table = out.value_.emplace<Table>();
  for (const auto& entry : entries) {
    if (out.find_child(entry.first) != nullptr) {
      throw ConfigError(fmt::format("Config::table: duplicate key '{}'", entry.first));
    }
    table.push_back(entry);
  }
  out.set_path(std::string());
  return out;
}

Config Config::array(std::initializer_list<Config> elements) {
  Config out;
  out.value_ = Array(elements);
  out.set_path(std::string());
  return out;
}

void Config::set_path(std::string path) {
  path_ = std::move(path);
  if (auto* table = std::get_if<Table>(&value_)) {
    for (auto& [key, value] : *table) value.set_path(join_path(path_, key));
  } else if (auto* array = std::get_if<Array>(&value_)) {
    for (size_t i = 0; i < array->size(); ++i)
      (*array)[i].set_path(join_path(path_, std::to_string(i)));
  }
}

std::string_view Config::kind_name(Kind kind) {
  switch (kind) {
    case Kind::null:
      return "null";
    case Kind::boolean:
      return "boolean";
    case Kind::integer:
      return "integer";
    case Kind::floating:
      return "float";
    case Kind::string:
      return "string";
    case Kind::array:
      return "array";
    case Kind::table:
      return "table";
  }
  return "?";
}

std::string Config::where() const {
  std::string loc = location_.str();
  return path_.empty() ? loc : fmt::format("{}: {}", loc, path_);
}

std::string Config::describe() const {
  switch (kind()) {
    case Kind::null:
      return "null";
    case Kind::boolean:
      return fmt::format("boolean {}", std::get<bool>(value_));
    case Kind::integer:
      return fmt::format("integer {}", std::get<int64_t>(value_));
    case Kind::floating:
      return fmt::format("float {}", format_double(std::get<double>(value_)));
    case Kind::string:
      return fmt::format("string {}", quote(std::get<std::string>(value_)));
    case Kind::array:
      return fmt::format("array of {}", std::get<Array>(value_).size());
    case Kind::table:
      return "table";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Access

void Config::type_error(std::string_view expected) const {
  throw ConfigError(fmt::format("{}: expected {}, got {}", where(), expected, describe()));
}

const Config* Config::find_child(std::string_view component) const {
  if (const auto* table = std::get_if<Table>(&value_)) {
    for (const auto& [key, value] : *table) {
      if (key == component) return &value;
    }
  } else if (const auto* array = std::get_if<Array>(&value_)) {
    size_t index;
    if (parse_index(component, index) && index < array->size()) return &(*array)[index];
  }
  return nullptr;
}

Config* Config::find_child(std::string_view component) {
  return const_cast<Config*>(std::as_const(*this).find_child(component));
}

const Config* Config::find(std::string_view key) const {
  const Config* node = this;
  for (std::string_view component : split_key(key)) {
    node = node->find_child(component);
    if (node == nullptr) return nullptr;
  }
  return node;
}

bool Config::has(std::string_view key) const {
  return find(key) != nullptr;
}

const Config& Config::at(std::string_view key) const {
  const Config* node = this;
  for (std::string_view component : split_key(key)) {
    const Config* child = node->find_child(component);
    if (child == nullptr) {
      std::string name = node->path_.empty() ? "the config" : node->path_;
      if (node->is_table()) {
        throw ConfigError(fmt::format("{}: missing key '{}' in {}", node->location_.str(),
                                      join_path(node->path_, component), name));
      }
      if (node->is_array()) {
        throw ConfigError(fmt::format("{}: {}: no element '{}' (an array of {})",
                                      node->location_.str(), name, component, node->size()));
      }
      throw ConfigError(fmt::format("{}: cannot look up '{}': {} is {}, not a table",
                                    node->location_.str(), component, name, node->describe()));
    }
    node = child;
  }
  return *node;
}

const Config& Config::operator[](size_t index) const {
  const Array& array = elements();
  if (index >= array.size()) {
    throw ConfigError(
        fmt::format("{}: index {} out of range for an array of {}", where(), index, array.size()));
  }
  return array[index];
}

const Config::Table& Config::items() const {
  if (!is_table()) type_error("a table");
  return std::get<Table>(value_);
}

const Config::Array& Config::elements() const {
  if (!is_array()) type_error("an array");
  return std::get<Array>(value_);
}

size_t Config::size() const {
  return is_table() ? items().size() : elements().size();
}

bool Config::as_bool() const {
  if (kind() != Kind::boolean) type_error("a boolean");
  return std::get<bool>(value_);
}

int64_t Config::as_int() const {
  if (kind() != Kind::integer) type_error("an integer");
  return std::get<int64_t>(value_);
}

int64_t Config::as_int_in(int64_t lo, int64_t hi) const {
  int64_t v = as_int();
  if (v < lo || v > hi) {
    throw ConfigError(fmt::format("{}: {} is out of range [{}, {}]", where(), v, lo, hi));
  }
  return v;
}

double Config::as_double() const {
  if (kind() == Kind::integer) return static_cast<double>(std::get<int64_t>(value_));
  if (kind() != Kind::floating) type_error("a number");
  return std::get<double>(value_);
}

const std::string& Config::as_string() const {
  if (kind() != Kind::string) type_error("a string");
  return std::get<std::string>(value_);
}

void Config::check_keys(const std::vector<std::string_view>& valid) const {
  for (const auto& [key, value] : items()) {
    if (std::find(valid.begin(), valid.end(), key) != valid.end()) continue;
    std::string owner = path_.empty() ? "the config" : path_;
    throw ConfigError(fmt::format("{}: unknown key '{}' in {}{}; valid keys: {}",
                                  value.location_.str(), key, owner, did_you_mean(key, valid),
                                  fmt::join(valid, ", ")));
  }
}

Config Config::without(std::string_view key) const {
  Config out = *this;
  out.erase(key);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Mutation

Config& Config::set(std::string_view key, Config value) {
  Config* node = this;
  std::vector<std::string_view> parts = split_key(key);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (node->is_null()) node->value_ = Table();
    Config* child = node->find_child(parts[i]);
    if (child == nullptr) {
      if (!node->is_table()) {
        throw ConfigError(
            fmt::format("{}: cannot set '{}': {} is {}, not a table", node->location_.str(), key,
                        node->path_.empty() ? "the config" : node->path_, node->describe()));
      }
      auto& table = std::get<Table>(node->value_);
      table.emplace_back(std::string(parts[i]), Config());
      child = &table.back().second;
      child->location_ = value.location_;
      child->path_ = join_path(node->path_, parts[i]);
    }
    node = child;
  }
  std::string path = node->path_;
  *node = std::move(value);
  node->set_path(std::move(path));
  return *node;
}

Config& Config::push_back(Config value) {
  if (is_null()) value_ = Array();
  if (!is_array()) type_error("an array");
  auto& array = std::get<Array>(value_);
  array.push_back(std::move(value));
  array.back().set_path(join_path(path_, std::to_string(array.size() - 1)));
  return array.back();
}

bool Config::erase(std::string_view key) {
  items();  // a type error unless this is a table
  auto& table = std::get<Table>(value_);
  auto it = std::find_if(table.begin(), table.end(), [&](const auto& e) { return e.first == key; });
  if (it == table.end()) return false;
  table.erase(it);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Merging (MMEngine's Config._merge_a_into_b)

struct ConfigMerger {
  // `allow_list_keys`: integer keys of the child index into arrays of the base (--cfg-options).
  static void merge(Config& base, const Config& child, bool allow_list_keys) {
    for (const auto& [key, value] : child.items()) {
      if (allow_list_keys && base.is_array()) {
        size_t index;
        auto& array = std::get<Config::Array>(base.value_);
        if (!parse_index(key, index)) {
          throw ConfigError(fmt::format("{}: '{}' is not an index into {} ({})", value.where(), key,
                                        base.path_, base.describe()));
        }
        if (index >= array.size()) {
          throw ConfigError(fmt::format("{}: index {} is out of range for {} (an array of {}, {})",
                                        value.location_.str(), index, base.path_, array.size(),
                                        base.location_.str()));
        }
        assign(array[index], value, allow_list_keys);
        continue;
      }
      Config* target = base.find_child(key);
      if (target == nullptr) {
        auto& table = std::get<Config::Table>(base.value_);
        table.emplace_back(key, Config());
        target = &table.back().second;
      }
      assign(*target, value, allow_list_keys);
    }
  }

  // Puts `value` at `target`: merges a table into a table (or, for --cfg-options, an array),
  // replaces everything else.
  static void assign(Config& target, const Config& value, bool allow_list_keys) {
    if (!value.is_table() || target.is_null() || deletes(value)) {
      target = value;
      return;
    }
    if (!target.is_table() && !(allow_list_keys && target.is_array())) {
      throw ConfigError(fmt::format(
          "{}: a table cannot inherit from {} in the base config ({}); set `_delete_ = true` in "
          "the table to replace the base value",
          value.where(), target.describe(), target.location_.str()));
    }
    // A table merged from a child file points at the child; --cfg-options keep the file's line.
    if (!allow_list_keys) target.location_ = value.location_;
    merge(target, value, allow_list_keys);
  }

  static bool deletes(const Config& table) {
    const Config* flag = table.find_child(kDeleteKey);
    return flag != nullptr && flag->as_bool();
  }

  static void strip_delete_keys(Config& node) {
    if (auto* table = std::get_if<Config::Table>(&node.value_)) {
      std::erase_if(*table, [](const auto& e) { return e.first == kDeleteKey; });
      for (auto& entry : *table) strip_delete_keys(entry.second);
    } else if (auto* array = std::get_if<Config::Array>(&node.value_)) {
      for (auto& element : *array) strip_delete_keys(element);
    }
  }
};

void Config::merge(const Config& child) {
  if (is_null()) value_ = Table();
  items();  // a type error unless this is a table
  ConfigMerger::merge(*this, child, false);
  ConfigMerger::strip_delete_keys(*this);
  set_path(path_);
}

void Config::merge_from_options(const std::vector<std::string>& options) {
  if (is_null()) value_ = Table();
  items();  // a type error unless this is a table
  for (const std::string& option : options) {
    size_t eq = option.find('=');
    ConfigLocation location{fmt::format("--cfg-options {}", option)};
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError(fmt::format("{}: expected key=value", location.str()));
    }
    std::string_view key = std::string_view(option).substr(0, eq);
    Config nested = parse_option_value(std::string_view(option).substr(eq + 1), location);
    std::vector<std::string_view> parts = split_key(key);
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      if (it->empty()) throw ConfigError(fmt::format("{}: empty key component", location.str()));
      Config table;
      table.value_ = Table{{std::string(*it), std::move(nested)}};
      table.location_ = location;
      nested = std::move(table);
    }
    nested.set_path(std::string());
    ConfigMerger::merge(*this, nested, true);
    set_path(path_);
  }
  ConfigMerger::strip_delete_keys(*this);
  set_path(path_);
}

bool operator==(const Config& a, const Config& b) {
  if (a.kind() != b.kind()) return false;
  if (a.is_table()) {
    const auto& ta = std::get<Config::Table>(a.value_);
    const auto& tb = std::get<Config::Table>(b.value_);
    if (ta.size() != tb.size()) return false;
    for (const auto& [key, value] : ta) {
      const Config* other = b.find_child(key);
      if (other == nullptr || !(*other == value)) return false;
    }
    return true;
  }
  if (a.is_array()) return std::get<Config::Array>(a.value_) == std::get<Config::Array>(b.value_);
  if (a.kind() == Config::Kind::floating) {
    double x = std::get<double>(a.value_), y = std::get<double>(b.value_);
    return x == y || (std::isnan(x) && std::isnan(y));
  }
  return a.value_ == b.value_;
}

// ---------------------------------------------------------------------------------------------
// Dump

namespace {

bool is_table_array(const Config& value) {
  if (!value.is_array() || value.elements().empty()) return false;
  const auto& elements = value.elements();
  return std::all_of(elements.begin(), elements.end(),
                     [](const Config& e) { return e.is_table(); });
}

std::string inline_value(const Config& value) {
  switch (value.kind()) {
    case Config::Kind::null:
      throw ConfigError(
          fmt::format("{}: a null inside an array cannot be written as TOML", value.where()));
    case Config::Kind::boolean:
      return value.as_bool() ? "true" : "false";
    case Config::Kind::integer:
      return std::to_string(value.as_int());
    case Config::Kind::floating:
      return format_double(value.as_double());
    case Config::Kind::string:
      return quote(value.as_string());
    case Config::Kind::array: {
      std::vector<std::string> parts;
      for (const Config& e : value.elements()) parts.push_back(inline_value(e));
      return fmt::format("[{}]", fmt::join(parts, ", "));
    }
    case Config::Kind::table: {
      std::vector<std::string> parts;
      for (const auto& [k, v] : value.items()) {
        if (!v.is_null()) parts.push_back(fmt::format("{} = {}", toml_key(k), inline_value(v)));
      }
      return parts.empty() ? "{}" : fmt::format("{{ {} }}", fmt::join(parts, ", "));
    }
  }
  return "";
}

// Key/value lines first, then [sub.tables], then [[arrays.of.tables]], as TOML requires.
void dump_table(const Config& table, const std::string& header, std::string& out) {
  for (const auto& [key, value] : table.items()) {
    if (value.is_null() || value.is_table() || is_table_array(value)) continue;
    out += fmt::format("{} = {}\n", toml_key(key), inline_value(value));
  }
  for (const auto& [key, value] : table.items()) {
    if (!value.is_table()) continue;
    std::string sub = header.empty() ? toml_key(key) : fmt::format("{}.{}", header, toml_key(key));
    out += fmt::format("\n[{}]\n", sub);
    dump_table(value, sub, out);
  }
  for (const auto& [key, value] : table.items()) {
    if (!is_table_array(value)) continue;
    std::string sub = header.empty() ? toml_key(key) : fmt::format("{}.{}", header, toml_key(key));
    for (const Config& element : value.elements()) {
      out += fmt::format("\n[[{}]]\n", sub);
      dump_table(element, sub, out);
    }
  }
}

void pretty(const Config& value, int indent, std::string& out) {
  std::string pad(size_t(indent) * 4, ' ');
  if (value.is_table()) {
    for (const auto& [key, v] : value.items()) {
      if (v.is_table() || is_table_array(v)) {
        out += fmt::format("{}{} = {}\n", pad, toml_key(key), v.is_table() ? "{" : "[");
        pretty(v, indent + 1, out);
        out += fmt::format("{}{}\n", pad, v.is_table() ? "}" : "]");
      } else {
        out +=
            fmt::format("{}{} = {}\n", pad, toml_key(key), v.is_null() ? "null" : inline_value(v));
      }
    }
  } else {
    for (const Config& element : value.elements()) {
      out += fmt::format("{}{{\n", pad);
      pretty(element, indent + 1, out);
      out += fmt::format("{}}}\n", pad);
    }
  }
}

}  // namespace

std::string Config::dump() const {
  std::string out;
  dump_table(*this, "", out);
  if (!out.empty() && out[0] == '\n') out.erase(0, 1);
  return out;
}

void Config::dump(const std::filesystem::path& path) const {
  write_file_atomically(path.string(), dump(), "Config::dump");
}

std::string Config::pretty_text() const {
  std::string out;
  if (is_table() || is_array()) {
    pretty(*this, 0, out);
  } else {
    out = is_null() ? "null" : inline_value(*this);
  }
  return out;
}

}  // namespace anvil::engine
