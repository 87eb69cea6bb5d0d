// Reading configs: TOML (toml11, private to the library) into the Config tree, `_base_`
// inheritance, and the value syntax of --cfg-options.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <toml.hpp>

#include "engine/config/config.h"

namespace anvil::engine {

namespace fs = std::filesystem;

class ConfigReader {
 public:
  static Config convert(const toml::value& v, const std::string& file) {
    Config out;
    const toml::source_location loc = v.location();
    out.location_ = ConfigLocation{file, int64_t(loc.line()), int64_t(loc.column())};
    switch (v.type()) {
      case toml::value_t::empty:
        break;
      case toml::value_t::boolean:
        out.value_ = v.as_boolean();
        break;
      case toml::value_t::integer:
        out.value_ = int64_t(v.as_integer());
        break;
      case toml::value_t::floating:
        out.value_ = double(v.as_floating());
        break;
      case toml::value_t::string:
        out.value_ = v.as_string().str;
        break;
      case toml::value_t::array: {
        Config::Array array;
        for (const toml::value& e : v.as_array()) array.push_back(convert(e, file));
        out.value_ = std::move(array);
        break;
      }
      case toml::value_t::table: {
        // toml11's tables are unordered: restore the file's order from the values' positions.
        std::vector<std::pair<const std::string*, const toml::value*>> entries;
        for (const auto& [key, value] : v.as_table()) entries.emplace_back(&key, &value);
        std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
          auto la = a.second->location(), lb = b.second->location();
          return std::pair(la.line(), la.column()) < std::pair(lb.line(), lb.column());
        });
        Config::Table table;
        for (const auto& [key, value] : entries) table.emplace_back(*key, convert(*value, file));
        out.value_ = std::move(table);
        break;
      }
      default:
        throw ConfigError(
            fmt::format("{}: dates and times are not supported in configs", out.location_.str()));
    }
    return out;
  }

  static Config parse(std::istream& stream, const std::string& name) {
    toml::value root;
    try {
      root = toml::parse(stream, name);
    } catch (const std::exception& e) {
      throw ConfigError(e.what());  // toml11's message: file, line, the source line and a caret
    }
    Config out = convert(root, name);
    out.location_.line = out.location_.column = 0;
    out.set_path(std::string());
    return out;
  }

  static void relocate(Config& value, const ConfigLocation& location) {
    value.location_ = location;
    if (auto* table = std::get_if<Config::Table>(&value.value_)) {
      for (auto& entry : *table) relocate(entry.second, location);
    } else if (auto* array = std::get_if<Config::Array>(&value.value_)) {
      for (auto& element : *array) relocate(element, location);
    }
  }

  // `chain`: the files being read, outermost first, to detect cycles.
  static Config load(const fs::path& path, std::vector<fs::path>& chain,
                     const Config* included_from) {
    fs::path canonical = fs::weakly_canonical(path);
    std::string name = path.lexically_normal().string();
    if (std::find(chain.begin(), chain.end(), canonical) != chain.end()) {
      std::vector<std::string> cycle;
      for (const fs::path& p : chain) cycle.push_back(p.string());
      throw ConfigError(fmt::format("{}: _base_ cycle: {} -> {}", included_from->where(),
                                    fmt::join(cycle, " -> "), canonical.string()));
    }
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      if (included_from == nullptr) {
        throw ConfigError(fmt::format("config file not found: {}", name));
      }
      throw ConfigError(fmt::format("{}: base config not found: {}", included_from->where(), name));
    }
    chain.push_back(canonical);
    Config out = with_bases(parse(file, name), path.parent_path(), chain);
    chain.pop_back();
    return out;
  }

  // Merges the child into its bases (MMEngine: bases in order, the same top-level key in two
  // bases is an error, then the child over them).
  static Config with_bases(Config child, const fs::path& dir, std::vector<fs::path>& chain) {
    const Config* bases = child.find_child("_base_");
    if (bases == nullptr) {
      child.merge(Config::table());  // strips _delete_ and sets the paths
      return child;
    }
    std::vector<const Config*> entries;
    if (bases->is_array()) {
      for (const Config& e : bases->elements()) entries.push_back(&e);
    } else {
      entries.push_back(bases);
    }
    Config merged = Config::table();
    merged.location_ = child.location_;
    std::vector<std::string> origin;  // the base file of each top-level key
    for (const Config* entry : entries) {
      Config base = load(dir / entry->as_string(), chain, entry);
      for (auto& [key, value] : std::get<Config::Table>(base.value_)) {
        if (const Config* seen = merged.find_child(key)) {
          throw ConfigError(fmt::format(
              "{}: duplicate key '{}' among bases ({} and {}): a key may come from one base only",
              entry->where(), key, seen->location_.str(), value.location_.str()));
        }
        std::get<Config::Table>(merged.value_).emplace_back(key, std::move(value));
      }
    }
    child.erase("_base_");
    merged.merge(child);
    return merged;
  }
};

Config Config::from_file(const fs::path& path) {
  std::vector<fs::path> chain;
  return ConfigReader::load(path, chain, nullptr);
}

Config Config::from_string(std::string_view toml, const std::string& name) {
  std::istringstream stream{std::string(toml)};
  std::vector<fs::path> chain;
  return ConfigReader::with_bases(ConfigReader::parse(stream, name), fs::path(name).parent_path(),
                                  chain);
}

// ---------------------------------------------------------------------------------------------
// --cfg-options values

namespace {

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == y;
         });
}

// Splits at commas outside brackets and quotes.
std::vector<std::string_view> split_top_level(std::string_view s) {
  std::vector<std::string_view> parts;
  int depth = 0;
  char in_quote = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_quote) {
      if (c == in_quote) in_quote = 0;
    } else if (c == '"' || c == '\'') {
      in_quote = c;
    } else if (c == '[' || c == '(' || c == '{') {
      ++depth;
    } else if (c == ']' || c == ')' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 0) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

}  // namespace

Config Config::parse_option_value(std::string_view text, const ConfigLocation& location) {
  text = trim(text);
  // A TOML literal: 0.01, 3, true, [0.5, 0.5], {a = 1}, "x", 'x' (a date reads as a string).
  try {
    std::istringstream stream(fmt::format("v = {}\n", text));
    toml::value parsed = toml::parse(stream, location.file);
    if (parsed.as_table().size() == 1) {
      Config out = ConfigReader::convert(parsed.at("v"), location.file);
      ConfigReader::relocate(out, location);
      return out;
    }
  } catch (const std::exception&) {
  }
  // Else MMEngine's DictAction: lists a,b / [a,b] / (a,b), int, float, true/false in any case,
  // None, and anything else a string.
  bool bracketed = text.size() >= 2 && ((text.front() == '[' && text.back() == ']') ||
                                        (text.front() == '(' && text.back() == ')'));
  std::string_view inner = bracketed ? text.substr(1, text.size() - 2) : text;
  std::vector<std::string_view> parts = split_top_level(inner);
  int64_t i = 0;
  double d = 0;
  const char* end = text.data() + text.size();
  Config out;
  if (bracketed || parts.size() > 1) {
    Array& array = out.value_.emplace<Array>();
    if (!trim(inner).empty()) {
      for (std::string_view part : parts) array.push_back(parse_option_value(part, location));
    }
  } else if (!text.empty() && std::from_chars(text.data(), end, i).ptr == end) {
    out.value_ = i;
  } else if (!text.empty() && std::from_chars(text.data(), end, d).ptr == end) {
    out.value_ = d;
  } else if (iequals(text, "true") || iequals(text, "false")) {
    out.value_ = iequals(text, "true");
  } else if (text != "None") {
    if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
        text.back() == text.front()) {
      text = text.substr(1, text.size() - 2);
    }
    out.value_ = std::string(text);
  }
  ConfigReader::relocate(out, location);
  return out;
}

}  // namespace anvil::engine
