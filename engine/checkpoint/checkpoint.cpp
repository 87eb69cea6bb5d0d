#include "engine/checkpoint/checkpoint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <system_error>

#include "engine/checksum.h"
#include "nn/serialize.h"
#include "tensor/atomic_file.h"
#include "tensor/config.h"

namespace anvil::engine {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr const char* kModelFile = "model.safetensors";
constexpr const char* kOptimizerFile = "optimizer.safetensors";
constexpr const char* kStateFile = "state.json";
constexpr const char* kFormat = "anvil.checkpoint";
constexpr int64_t kVersion = 1;

// ---- state.json framing: {"crc32c": "0x........", "checkpoint": <body>} -------------------------

std::string frame_prefix(uint32_t crc) {
  return fmt::format("{{\n \"crc32c\": \"0x{:08x}\",\n \"checkpoint\": ", crc);
}
constexpr std::string_view kFrameSuffix = "\n}\n";

[[noreturn]] void corrupt(const fs::path& dir, const std::string& fault) {
  throw CheckpointError(fmt::format("corrupt checkpoint '{}': {}", dir.string(), fault));
}

// JSON has no inf/nan; hyper-parameters and scaler values may be either, so they go as strings.
Json number(double v) {
  if (std::isfinite(v)) return v;
  return std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
}
double number(const Json& j) {
  if (j.is_number()) return j.get<double>();
  const std::string s = j.get<std::string>();
  if (s == "nan") return std::nan("");
  if (s == "inf" || s == "-inf") return s[0] == '-' ? -INFINITY : INFINITY;
  throw ValueError(fmt::format("expected a number, got \"{}\"", s));
}
Json numbers(const std::map<std::string, double>& values) {
  Json out = Json::object();
  for (const auto& [k, v] : values) out[k] = number(v);
  return out;
}
std::map<std::string, double> numbers(const Json& j) {
  std::map<std::string, double> out;
  for (const auto& [k, v] : j.items()) out[k] = number(v);
  return out;
}

struct FileRecord {
  uint64_t bytes = 0;
  uint32_t crc = 0;
};

// Streams the file: its size and CRC-32C. `fail` reports an unreadable file.
template <class Fail>
FileRecord read_record(const fs::path& path, Fail fail) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot be opened");
  FileRecord record;
  std::vector<char> buffer(size_t{1} << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<size_t>(in.gcount());
    record.crc = crc32c_extend(record.crc, buffer.data(), n);
    record.bytes += n;
  }
  if (in.bad()) fail("read error");
  return record;
}

std::string read_text(const fs::path& path, const fs::path& dir) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw CheckpointError(fmt::format("checkpoint '{}': {} is missing or unreadable", dir.string(),
                                      path.filename().string()));
  }
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string optimizer_tensor_name(const std::string& optimizer, int64_t index,
                                  const std::string& key) {
  return fmt::format("{}.{}.{}", optimizer, index, key);
}

std::string now_string() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d_%H%M%S", &tm);
  return buf;
}

// The body of state.json, without the file records.
Json state_body(const Checkpoint& c) {
  const CheckpointMeta& m = c.meta;
  Json meta = {{"epoch", m.epoch},
               {"iter", m.iter},
               {"seed", m.seed ? Json(*m.seed) : Json(nullptr)},
               {"time", m.time.empty() ? now_string() : m.time},
               {"cfg", m.cfg},
               {"experiment_name", m.experiment_name},
               {"anvil_version", ANVIL_VERSION}};
  Json optimizers = Json::object();
  for (const auto& [name, w] : c.optimizers) {
    Json o = Json::object();
    o["groups"] = Json::array();
    for (const auto& g : w.optimizer.groups) o["groups"].push_back(numbers(g));
    o["group_params"] = w.optimizer.group_params;
    Json state = Json::object();
    for (const auto& [index, tensors] : w.optimizer.state) {
      Json keys = Json::array();
      for (const auto& entry : tensors) keys.push_back(entry.first);
      state[std::to_string(index)] = keys;
    }
    o["state"] = state;
    if (w.base_param_settings) o["base_param_settings"] = numbers(*w.base_param_settings);
    if (w.loss_scaler) o["loss_scaler"] = numbers(*w.loss_scaler);
    optimizers[name] = o;
  }
  Json states = Json::object();
  for (const auto& [name, text] : c.states) {
    try {
      states[name] = Json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw ValueError(
          fmt::format("save_checkpoint: the state '{}' is not valid JSON: {}", name, e.what()));
    }
  }
  return {{"format", kFormat},       {"version", kVersion},      {"meta", meta},
          {"files", Json::object()}, {"optimizers", optimizers}, {"states", states}};
}

fs::path normalized(const fs::path& dir) {
  fs::path p = dir.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "a/b/" -> "a/b"
  return p;
}

bool is_checkpoint_dir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) && fs::exists(dir / kStateFile, ec);
}

// Removes the directory tree, ignoring errors (cleanup paths must not throw).
void remove_tree(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
}

// A fresh hidden sibling of `target` for it to be written in or moved to before deletion,
// ".<name>.tmp-<pid>-<n>"; those of a killed process are swept by sweep_temporaries.
fs::path temporary_sibling(const fs::path& target) {
  static std::atomic<uint64_t> counter{std::random_device{}()};
  return target.parent_path() /
         fmt::format(".{}.tmp-{}-{}", target.filename().string(), getpid(), counter++);
}

// Removes the temporary siblings of `target` left by a process killed while saving or deleting
// it.
void sweep_temporaries(const fs::path& target) {
  const std::string stale = "." + target.filename().string() + ".tmp-";
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  for (const auto& entry : fs::directory_iterator(parent)) {
    if (entry.path().filename().string().starts_with(stale)) remove_tree(entry.path());
  }
}

// Publishes the complete directory `tmp` as `target`: atomically exchanged with an existing
// target when the file system supports it (then the old one is at `tmp` and deleted), else the
// old one is moved aside first. Returns the path to delete afterwards (empty for none).
fs::path publish(const fs::path& tmp, const fs::path& target, const std::string& op) {
  auto fail = [&](const std::string& what) {
    throw IOError(fmt::format("{}: cannot {}: {}", op, what,
                              std::error_code(errno, std::generic_category()).message()));
  };
  if (!fs::exists(target)) {
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
      fail(fmt::format("rename '{}' to '{}'", tmp.string(), target.string()));
    }
    return {};
  }
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    return tmp;
  }
  if (errno != EINVAL && errno != ENOSYS) {
    fail(fmt::format("exchange '{}' with '{}'", tmp.string(), target.string()));
  }
  const fs::path old = fs::path(tmp).concat(".old");
  if (::rename(target.c_str(), old.c_str()) != 0) {
    fail(fmt::format("move the old '{}' aside", target.string()));
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::rename(old.c_str(), target.c_str());
    errno = err;
    fail(fmt::format("rename '{}' to '{}'", tmp.string(), target.string()));
  }
  return old;
}

}  // namespace

// ---- save -------------------------------------------------------------------------------------

void save_checkpoint(const fs::path& dir, const Checkpoint& checkpoint) {
  const fs::path target = normalized(dir);
  const std::string op = fmt::format("save_checkpoint '{}'", target.string());
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string name = target.filename().string();
  fs::path tmp;
  try {
    fs::create_directories(parent);
    if (fs::exists(target) && !is_checkpoint_dir(target)) {
      throw IOError(fmt::format("{}: it exists and is not a checkpoint; not replacing it", op));
    }
    sweep_temporaries(parent / name);
    tmp = temporary_sibling(parent / name);
    fs::create_directory(tmp);

    Json files = Json::object();
    auto record = [&](const char* file) {
      const FileRecord r = read_record(tmp / file, [&](const char* fault) {
        throw IOError(fmt::format("{}: {} {} after writing it", op, file, fault));
      });
      files[file] = {{"bytes", r.bytes}, {"crc32c", fmt::format("0x{:08x}", r.crc)}};
    };
    nn::save_safetensors((tmp / kModelFile).string(), checkpoint.model, {{"format", "pt"}});
    record(kModelFile);
    if (!checkpoint.optimizers.empty()) {
      nn::NamedTensors tensors;
      for (const auto& [opt, w] : checkpoint.optimizers) {
        for (const auto& [index, state] : w.optimizer.state) {
          for (const auto& [key, t] : state) {
            tensors.emplace_back(optimizer_tensor_name(opt, index, key), t);
          }
        }
      }
      nn::save_safetensors((tmp / kOptimizerFile).string(), tensors);
      record(kOptimizerFile);
    }
    Json body = state_body(checkpoint);
    body["files"] = files;
    const std::string text = body.dump(1);
    write_file_atomically((tmp / kStateFile).string(),
                          frame_prefix(crc32c(text)) + text + std::string(kFrameSuffix), op);
    sync_directory(tmp.string(), op + ":");

    // From here `tmp` is where the replaced checkpoint went (deleted below, or by the handler).
    tmp = publish(tmp, target, op);
    sync_directory(parent.string(), op + ": saved, but");
    if (!tmp.empty()) remove_tree(tmp);
  } catch (const fs::filesystem_error& e) {
    if (!tmp.empty()) remove_tree(tmp);
    throw IOError(fmt::format("{}: {}", op, e.what()));
  } catch (...) {
    if (!tmp.empty()) remove_tree(tmp);
    throw;
  }
}

void write_last_checkpoint(const fs::path& work_dir, const fs::path& checkpoint) {
  // AtomicFile's temporary files (".last_checkpoint.<pid>-<n>.tmp") of a killed process.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(work_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".last_checkpoint.") && name.ends_with(".tmp")) remove_tree(entry.path());
  }
  write_file_atomically((work_dir / "last_checkpoint").string(), normalized(checkpoint).string(),
                        "write_last_checkpoint");
}

// ---- load -------------------------------------------------------------------------------------

namespace {

// state.json: framing, CRC and JSON, or a CheckpointError naming the fault.
Json read_state(const fs::path& dir) {
  const std::string text = read_text(dir / kStateFile, dir);
  const std::string state = std::string(kStateFile) + ": ";
  try {
    [[maybe_unused]] const Json whole = Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    corrupt(dir, state + "not valid JSON (truncated?): " + e.what());
  }
  const std::string zero = frame_prefix(0);
  const size_t prefix_size = zero.size(), hex_at = zero.find("0x") + 2;
  uint32_t recorded = 0;
  if (text.size() < prefix_size + kFrameSuffix.size() ||
      std::from_chars(text.data() + hex_at, text.data() + hex_at + 8, recorded, 16).ec !=
          std::errc() ||
      text.compare(0, prefix_size, frame_prefix(recorded)) != 0 || !text.ends_with(kFrameSuffix)) {
    corrupt(dir, state +
                     "not an anvil checkpoint state (expected {\"crc32c\": ..., "
                     "\"checkpoint\": ...})");
  }
  const std::string_view body(text.data() + prefix_size,
                              text.size() - prefix_size - kFrameSuffix.size());
  const uint32_t actual = crc32c(body);
  if (actual != recorded) {
    corrupt(dir, fmt::format("{}CRC32C 0x{:08x} != recorded 0x{:08x}", state, actual, recorded));
  }
  Json j = Json::parse(body);
  if (!j.is_object() || j.value("format", "") != kFormat) {
    corrupt(dir, state + "not an anvil checkpoint");
  }
  const int64_t version = j.value("version", int64_t{0});
  if (version != kVersion) {
    throw CheckpointError(fmt::format(
        "checkpoint '{}': format version {} is not supported by this anvil (version {})",
        dir.string(), version, kVersion));
  }
  return j;
}

// Every recorded file exists with its recorded size and CRC.
void check_files(const fs::path& dir, const Json& files) {
  if (!files.contains(kModelFile)) corrupt(dir, fmt::format("{} is not recorded", kModelFile));
  for (const auto& [file, recorded] : files.items()) {
    const fs::path path = dir / file;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) corrupt(dir, file + ": missing");
    const auto bytes = recorded.at("bytes").get<uint64_t>();
    const uint64_t size = fs::file_size(path, ec);
    if (ec) corrupt(dir, fmt::format("{}: {}", file, ec.message()));
    if (size != bytes) {
      corrupt(dir, fmt::format("{}: {} bytes != recorded {} bytes{}", file, size, bytes,
                               size < bytes ? " (truncated)" : ""));
    }
    const std::string name = file;
    const FileRecord r =
        read_record(path, [&](const char* fault) { corrupt(dir, name + ": " + fault); });
    const std::string crc = fmt::format("0x{:08x}", r.crc);
    const auto want = recorded.at("crc32c").get<std::string>();
    if (crc != want) corrupt(dir, fmt::format("{}: CRC32C {} != recorded {}", file, crc, want));
  }
}

template <class F>
auto safetensors(const fs::path& dir, F f) {
  try {
    return f();
  } catch (const nn::SafetensorsError& e) {
    corrupt(dir, e.what());
  }
}

CheckpointMeta read_meta(const Json& m) {
  CheckpointMeta meta;
  meta.epoch = m.at("epoch").get<int64_t>();
  meta.iter = m.at("iter").get<int64_t>();
  if (!m.at("seed").is_null()) meta.seed = m.at("seed").get<int64_t>();
  meta.time = m.at("time").get<std::string>();
  meta.cfg = m.at("cfg").get<std::string>();
  meta.experiment_name = m.at("experiment_name").get<std::string>();
  meta.anvil_version = m.at("anvil_version").get<std::string>();
  return meta;
}

}  // namespace

Checkpoint load_checkpoint(const fs::path& path) {
  const fs::path dir = normalized(path);
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    throw CheckpointError(fmt::format("checkpoint '{}' does not exist", dir.string()));
  }
  if (!fs::is_directory(dir, ec)) {
    throw CheckpointError(fmt::format(
        "checkpoint '{}' is not a checkpoint directory (for weights in a .safetensors file use "
        "load_weights)",
        dir.string()));
  }
  const Json j = read_state(dir);
  Checkpoint out;
  try {
    check_files(dir, j.at("files"));
    out.meta = read_meta(j.at("meta"));

    const nn::SafetensorsFile model =
        safetensors(dir, [&] { return nn::SafetensorsFile((dir / kModelFile).string()); });
    out.model = model.tensors();

    const Json& optimizers = j.at("optimizers");
    if (!optimizers.empty()) {
      if (!j.at("files").contains(kOptimizerFile)) {
        corrupt(dir, fmt::format("{} is not recorded", kOptimizerFile));
      }
      const nn::SafetensorsFile file =
          safetensors(dir, [&] { return nn::SafetensorsFile((dir / kOptimizerFile).string()); });
      size_t used = 0;
      for (const auto& [name, o] : optimizers.items()) {
        OptimWrapperState& w = out.optimizers[name];
        for (const Json& g : o.at("groups")) w.optimizer.groups.push_back(numbers(g));
        w.optimizer.group_params = o.at("group_params").get<std::vector<std::vector<int64_t>>>();
        for (const auto& [index, keys] : o.at("state").items()) {
          auto& state = w.optimizer.state[std::stoll(index)];
          for (const Json& key : keys) {
            const std::string t =
                optimizer_tensor_name(name, std::stoll(index), key.get<std::string>());
            if (!file.contains(t)) {
              corrupt(dir, fmt::format("{}: no tensor '{}'", kOptimizerFile, t));
            }
            state[key.get<std::string>()] = file.tensor(t);
            ++used;
          }
        }
        if (o.contains("base_param_settings")) {
          w.base_param_settings = numbers(o.at("base_param_settings"));
        }
        if (o.contains("loss_scaler")) w.loss_scaler = numbers(o.at("loss_scaler"));
      }
      if (used != file.entries().size()) {
        corrupt(dir, fmt::format("{}: {} tensors, {} recorded in {}", kOptimizerFile,
                                 file.entries().size(), used, kStateFile));
      }
    }
    for (const auto& [name, state] : j.at("states").items()) out.states[name] = state.dump();
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception& e) {
    // A missing or mistyped JSON entry, a bad parameter index (stoll), a bad number.
    corrupt(dir, fmt::format("{}: unexpected contents: {}", kStateFile, e.what()));
  }
  return out;
}

std::optional<fs::path> find_latest_checkpoint(const fs::path& work_dir) {
  const fs::path file = work_dir / "last_checkpoint";
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  std::ifstream in(file);
  std::string text(std::istreambuf_iterator<char>(in), {});
  // MMEngine strips the text.
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  text = first == std::string::npos ? "" : text.substr(first, last - first + 1);
  if (text.empty()) {
    throw CheckpointError(
        fmt::format("'{}' is empty: it should name the latest checkpoint", file.string()));
  }
  if (!fs::exists(text, ec)) {
    throw CheckpointError(fmt::format(
        "'{}' names the checkpoint '{}', which does not exist (deleted or moved?); resume from "
        "an existing checkpoint by its path",
        file.string(), text));
  }
  return fs::path(text);
}

// ---- load_from --------------------------------------------------------------------------------

LoadWeightsResult load_weights(
    nn::Module& model, const fs::path& path, bool strict,
    const std::vector<std::pair<std::string, std::string>>& revise_keys) {
  const fs::path p = normalized(path);
  std::error_code ec;
  nn::NamedTensors weights;
  if (fs::is_directory(p, ec)) {
    const Json j = read_state(p);
    try {
      const Json& files = j.at("files");
      check_files(p, Json{{kModelFile, files.at(kModelFile)}});
    } catch (const nlohmann::json::exception& e) {
      corrupt(p, fmt::format("{}: unexpected contents: {}", kStateFile, e.what()));
    }
    weights =
        safetensors(p, [&] { return nn::load_safetensors((p / kModelFile).string()); }).tensors;
  } else {
    if (!fs::exists(p, ec))
      throw CheckpointError(fmt::format("checkpoint '{}' does not exist", p.string()));
    try {
      weights = nn::load_safetensors(p.string()).tensors;
    } catch (const nn::SafetensorsError& e) {
      throw CheckpointError(e.what());
    }
  }
  std::vector<std::pair<std::regex, std::string>> revisions;
  for (const auto& [pattern, replacement] : revise_keys) {
    try {
      revisions.emplace_back(std::regex(pattern), replacement);
    } catch (const std::regex_error& e) {
      throw ValueError(fmt::format(
          "load_weights: revise_keys pattern '{}' is not a valid regex: {}", pattern, e.what()));
    }
  }
  std::map<std::string, Tensor> given;
  for (auto& [name, t] : weights) {
    // EMAHook keeps the raw weights beside the model's (MMEngine's separate ema_state_dict entry,
    // which its load_checkpoint never reads either).
    if (name.starts_with(kEmaPrefix)) continue;
    std::string key = name;
    for (const auto& [re, replacement] : revisions) key = std::regex_replace(key, re, replacement);
    given[key] = t;
  }

  LoadWeightsResult result;
  nn::NamedTensors matching;
  std::set<std::string> own;
  for (const auto& [name, target] : model.state_dict()) {
    own.insert(name);
    auto it = given.find(name);
    if (it == given.end()) {
      if (name.find("num_batches_tracked") == std::string::npos)
        result.missing_keys.push_back(name);
    } else if (it->second.shape() != target.shape()) {
      result.mismatched_keys.push_back(fmt::format("{}: checkpoint {} vs model {}", name,
                                                   shape_str(it->second.shape()),
                                                   shape_str(target.shape())));
    } else {
      matching.emplace_back(name, it->second);
    }
  }
  for (const auto& entry : given) {
    if (!own.count(entry.first)) result.unexpected_keys.push_back(entry.first);
  }
  const bool clean = result.missing_keys.empty() && result.unexpected_keys.empty() &&
                     result.mismatched_keys.empty();
  if (!clean) {
    const std::string report = fmt::format(
        "load_weights '{}': missing keys in source state_dict: [{}]; unexpected keys in source "
        "state_dict: [{}]; size mismatch (not loaded): [{}]",
        p.string(), fmt::join(result.missing_keys, ", "), fmt::join(result.unexpected_keys, ", "),
        fmt::join(result.mismatched_keys, "; "));
    if (strict) throw ValueError(report);
    fmt::print(stderr, "Warning: {}\n", report);
  }
  model.load_state_dict(matching, /*strict=*/false);
  return result;
}

// ---- CheckpointHook's files -------------------------------------------------------------------

std::string checkpoint_name(bool by_epoch, int64_t n) {
  return fmt::format("{}_{}.ckpt", by_epoch ? "epoch" : "iter", n);
}

std::string best_checkpoint_name(const std::string& metric, bool by_epoch, int64_t n) {
  std::string key = metric;
  std::replace(key.begin(), key.end(), '/', '_');
  return "best_" + key + "_" + checkpoint_name(by_epoch, n);
}

void remove_checkpoint(const fs::path& dir) {
  const fs::path p = normalized(dir);
  std::error_code ec;
  if (!fs::exists(p, ec)) return;
  if (!is_checkpoint_dir(p)) {
    throw IOError(fmt::format(
        "remove_checkpoint: '{}' is not a checkpoint directory; not deleting it", p.string()));
  }
  // Moved out of the way first: a process killed while deleting never leaves a partly deleted
  // directory under a checkpoint's name, only a hidden temporary that the next save or removal
  // of that name sweeps.
  sweep_temporaries(p);
  const fs::path doomed = temporary_sibling(p);
  if (::rename(p.c_str(), doomed.c_str()) != 0) {
    throw IOError(fmt::format("remove_checkpoint '{}': rename to '{}': {}", p.string(),
                              doomed.string(), std::strerror(errno)));
  }
  fs::remove_all(doomed, ec);
  if (ec) throw IOError(fmt::format("remove_checkpoint '{}': {}", p.string(), ec.message()));
}

void keep_last_checkpoints(const fs::path& dir, std::vector<int64_t>& keep_ids, int64_t n,
                           int64_t max_keep, bool by_epoch) {
  if (max_keep <= 0) return;
  // A step saved twice (a best save of the same step) is counted once, as MMEngine.
  if (keep_ids.empty() || keep_ids.back() != n) keep_ids.push_back(n);
  while (static_cast<int64_t>(keep_ids.size()) > max_keep) {
    remove_checkpoint(dir / checkpoint_name(by_epoch, keep_ids.front()));
    keep_ids.erase(keep_ids.begin());
  }
}

fs::path save_best_checkpoint(const fs::path& dir, const std::string& metric, bool by_epoch,
                              int64_t n, const Checkpoint& checkpoint,
                              const fs::path& previous_best) {
  const fs::path best = dir / best_checkpoint_name(metric, by_epoch, n);
  save_checkpoint(best, checkpoint);
  if (!previous_best.empty() && normalized(previous_best) != normalized(best)) {
    remove_checkpoint(previous_best);
  }
  return best;
}

}  // namespace anvil::engine
