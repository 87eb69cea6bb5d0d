// Checkpoints: a bit-exact round trip of a model, two optimizers with state and JSON states;
// failed and killed saves that leave the previous checkpoint and last_checkpoint intact with no
// temporary directories; truncated, bit-flipped, missing and malformed files as clear errors;
// load_weights with key revision, strict and non-strict; CheckpointHook's file management.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "anvil.h"
#include "common/op_test.h"
#include "engine/checkpoint/checkpoint.h"
#include "engine/checksum.h"
#include "engine/logging/message_hub.h"
#include "nn/serialize.h"
#include "tensor/atomic_file.h"

namespace anvil::engine {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::path(::testing::TempDir()) / ("anvil_ckpt_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Entries of `dir` whose names start with '.' (temporary files and directories).
std::vector<std::string> hidden_entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(".")) out.push_back(name);
  }
  return out;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  const Tensor x = a.contiguous(), y = b.contiguous();
  return std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0;
}

::testing::AssertionResult same_tensors(const nn::NamedTensors& a, const nn::NamedTensors& b) {
  if (a.size() != b.size()) {
    return ::testing::AssertionFailure() << a.size() << " vs " << b.size() << " tensors";
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].first != b[i].first || !same_bits(a[i].second, b[i].second)) {
      return ::testing::AssertionFailure() << "differ at " << a[i].first << " / " << b[i].first;
    }
  }
  return ::testing::AssertionSuccess();
}

struct Net : nn::Module {
  std::shared_ptr<nn::Linear> fc = register_module("fc", std::make_shared<nn::Linear>(4, 3));
  std::shared_ptr<nn::BatchNorm1d> bn = register_module("bn", std::make_shared<nn::BatchNorm1d>(3));
  Tensor forward(const Tensor& x) override { return bn->forward(fc->forward(x)); }
};

// Steps the optimizer `steps` times with fixed pseudo-random gradients.
void train(optim::Optimizer& opt, int steps, uint64_t seed) {
  for (int s = 0; s < steps; ++s) {
    for (auto& group : opt.param_groups()) {
      for (Tensor& p : group.params) {
        p.set_grad(testing::random_tensor(p.shape(), p.dtype(), -1, 1, seed + s));
      }
    }
    opt.step();
  }
}

struct Trained {
  std::shared_ptr<Net> net = std::make_shared<Net>();
  std::unique_ptr<optim::SGD> sgd;
  std::unique_ptr<optim::Adam> adam;
  Trained() {
    sgd = std::make_unique<optim::SGD>(net->fc->parameters(),
                                       optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
    adam = std::make_unique<optim::Adam>(net->bn->parameters(), optim::AdamOptions{.lr = 0.01});
    train(*sgd, 2, 1);
    train(*adam, 3, 7);
    net->bn->running_mean.fill_(0.25);
  }

  Checkpoint checkpoint() const {
    Checkpoint c;
    c.meta = {.epoch = 3,
              .iter = 300,
              .seed = 42,
              .time = "20261126_052000",
              .cfg = "model = {type = \"Net\"}\n",
              .experiment_name = "net_20261126"};
    c.model = net->state_dict();
    c.optimizers["generator"].optimizer = sgd->state_dict();
    c.optimizers["generator"].optimizer.groups[0]["max_norm"] = INFINITY;  // not JSON
    c.optimizers["generator"].base_param_settings = optim::Options{{"lr", 0.1}};
    OptimWrapperState& d = c.optimizers["discriminator"];
    d.optimizer = adam->state_dict();
    d.loss_scaler = std::map<std::string, double>{{"scale", 65536.0}, {"_growth_tracker", 17}};
    MessageHub hub;
    hub.update_scalar("train/loss", 0.1 + 0.2);
    hub.update_scalar("train/loss", 1e-300);
    hub.update_info("epoch", int64_t{3});
    c.states["message_hub"] = hub.state_dict();
    c.states["param_schedulers"] = R"([{"last_step":[300.0],"base_values":[0.1]}])";
    c.states["rng"] = R"({"seed":42,"state":[1,2,3]})";
    return c;
  }
};

void expect_same(const Checkpoint& a, const Checkpoint& b) {
  EXPECT_EQ(a.meta.epoch, b.meta.epoch);
  EXPECT_EQ(a.meta.iter, b.meta.iter);
  EXPECT_EQ(a.meta.seed, b.meta.seed);
  EXPECT_EQ(a.meta.time, b.meta.time);
  EXPECT_EQ(a.meta.cfg, b.meta.cfg);
  EXPECT_EQ(a.meta.experiment_name, b.meta.experiment_name);
  EXPECT_TRUE(same_tensors(a.model, b.model));
  ASSERT_EQ(a.optimizers.size(), b.optimizers.size());
  for (const auto& [name, x] : a.optimizers) {
    const OptimWrapperState& y = b.optimizers.at(name);
    EXPECT_EQ(x.optimizer.groups, y.optimizer.groups) << name;
    EXPECT_EQ(x.optimizer.group_params, y.optimizer.group_params) << name;
    ASSERT_EQ(x.optimizer.state.size(), y.optimizer.state.size()) << name;
    for (const auto& [index, tensors] : x.optimizer.state) {
      const auto& other = y.optimizer.state.at(index);
      ASSERT_EQ(tensors.size(), other.size());
      for (const auto& [key, t] : tensors) {
        EXPECT_TRUE(same_bits(t, other.at(key))) << name << " " << index << " " << key;
      }
    }
    EXPECT_EQ(x.base_param_settings, y.base_param_settings) << name;
    EXPECT_EQ(x.loss_scaler, y.loss_scaler) << name;
  }
  EXPECT_EQ(a.states, b.states);
}

TEST(Checkpoint, RoundTripIsBitExact) {
  const fs::path work = temp_dir("round_trip");
  Trained run;
  const Checkpoint saved = run.checkpoint();
  const fs::path dir = work / checkpoint_name(true, 3);
  save_checkpoint(dir, saved);
  write_last_checkpoint(work, dir);
  for (const char* f : {"model.safetensors", "optimizer.safetensors", "state.json"}) {
    EXPECT_TRUE(fs::is_regular_file(dir / f)) << f;
  }
  EXPECT_TRUE(hidden_entries(work).empty());
  EXPECT_EQ(find_latest_checkpoint(work), dir);

  const Checkpoint loaded = load_checkpoint(dir);
  expect_same(saved, loaded);
  EXPECT_EQ(loaded.meta.anvil_version, ANVIL_VERSION);
  EXPECT_TRUE(std::isinf(loaded.optimizers.at("generator").optimizer.groups[0].at("max_norm")));
  MessageHub hub;
  hub.load_state_dict(loaded.states.at("message_hub"));
  EXPECT_EQ(hub.state_dict(), saved.states.at("message_hub"));

  // Resuming reproduces the uninterrupted run: one more step each, bit for bit.
  Trained resumed;
  resumed.net->load_state_dict(loaded.model);
  resumed.sgd->load_state_dict(loaded.optimizers.at("generator").optimizer);
  resumed.adam->load_state_dict(loaded.optimizers.at("discriminator").optimizer);
  train(*run.sgd, 1, 100);
  train(*run.adam, 1, 200);
  train(*resumed.sgd, 1, 100);
  train(*resumed.adam, 1, 200);
  EXPECT_TRUE(same_tensors(run.net->state_dict(), resumed.net->state_dict()));
}

TEST(Checkpoint, ReplacesACheckpointOfTheSameName) {
  const fs::path work = temp_dir("replace");
  Trained run;
  Checkpoint c = run.checkpoint();
  const fs::path dir = work / "iter_5.ckpt";
  save_checkpoint(dir, c);
  c.meta.iter = 5;
  c.optimizers.clear();
  c.states.clear();
  save_checkpoint(dir.string() + "/", c);  // a trailing slash names the same directory
  const Checkpoint loaded = load_checkpoint(dir);
  EXPECT_EQ(loaded.meta.iter, 5);
  EXPECT_TRUE(loaded.optimizers.empty());
  EXPECT_FALSE(fs::exists(dir / "optimizer.safetensors"));
  EXPECT_TRUE(hidden_entries(work).empty());
  // A directory that is not a checkpoint is never replaced.
  fs::create_directories(work / "data");
  write_bytes(work / "data" / "important.txt", "keep");
  testing::expect_error([&] { save_checkpoint(work / "data", c); },
                        {"not a checkpoint", "not replacing it"});
  EXPECT_EQ(read_bytes(work / "data" / "important.txt"), "keep");
}

TEST(Checkpoint, FailedSaveLeavesThePreviousCheckpoint) {
  const fs::path work = temp_dir("failed_save");
  Trained run;
  const Checkpoint good = run.checkpoint();
  const fs::path dir = work / "epoch_1.ckpt";
  save_checkpoint(dir, good);
  write_last_checkpoint(work, dir);
  const std::string model_bytes = read_bytes(dir / "model.safetensors");
  const std::string state_bytes = read_bytes(dir / "state.json");

  // The state is found invalid after the model file is written: mid-save.
  Checkpoint bad = good;
  bad.states["rng"] = "{not json";
  for (const fs::path& target : {dir, work / "epoch_2.ckpt"}) {
    testing::expect_error([&] { save_checkpoint(target, bad); },
                          {"the state 'rng' is not valid JSON"});
  }
  // Duplicate tensor names make the safetensors writer throw.
  bad = good;
  bad.model.push_back(bad.model.front());
  EXPECT_ANY_THROW(save_checkpoint(dir, bad));
  // A parent that is a file.
  write_bytes(work / "file", "x");
  EXPECT_THROW(save_checkpoint(work / "file" / "epoch_1.ckpt", good), IOError);

  EXPECT_FALSE(fs::exists(work / "epoch_2.ckpt"));
  EXPECT_TRUE(hidden_entries(work).empty());
  EXPECT_EQ(read_bytes(dir / "model.safetensors"), model_bytes);
  EXPECT_EQ(read_bytes(dir / "state.json"), state_bytes);
  EXPECT_EQ(find_latest_checkpoint(work), dir);
  expect_same(good, load_checkpoint(dir));
}

TEST(Checkpoint, KilledSaveLeavesALoadableCheckpoint) {
  const fs::path work = temp_dir("killed");
  const fs::path dir = work / "epoch_1.ckpt";
  // Large enough that a save takes a while.
  Checkpoint c;
  c.model = {{"w", full({1 << 21}, 1.0)}};
  save_checkpoint(dir, c);
  write_last_checkpoint(work, dir);
  // Made before fork(): the child only writes files (no thread pools after a fork).
  Checkpoint twos, threes;
  twos.model = {{"w", full({1 << 21}, 2.0)}};
  threes.model = {{"w", full({1 << 21}, 3.0)}};
  for (int delay_ms : {5, 20, 60}) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Saves forever, alternating the contents and the checkpoint's name.
      for (int i = 0;; ++i) {
        const fs::path target = work / (i % 2 ? "epoch_1.ckpt" : "epoch_2.ckpt");
        save_checkpoint(target, i % 3 ? twos : threes);
        write_last_checkpoint(work, target);
      }
    }
    // Killed at some point of a later save, once the child has completed one.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!fs::exists(work / "epoch_2.ckpt") && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    const std::optional<fs::path> latest = find_latest_checkpoint(work);
    ASSERT_TRUE(latest.has_value());
    const Checkpoint loaded = load_checkpoint(*latest);
    ASSERT_EQ(loaded.model.size(), 1u);
    const double v = loaded.model[0].second.select(0, 0).item<double>();
    EXPECT_TRUE(v == 1 || v == 2 || v == 3) << v;
    EXPECT_TRUE(same_bits(loaded.model[0].second, full({1 << 21}, v)));
  }
  // The next saves clear what the killed ones left behind.
  save_checkpoint(dir, c);
  save_checkpoint(work / "epoch_2.ckpt", c);
  write_last_checkpoint(work, dir);
  EXPECT_TRUE(hidden_entries(work).empty())
      << fmt::format("{}", fmt::join(hidden_entries(work), " "));
}

class CorruptCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    dir_ = work_ / "epoch_3.ckpt";
    save_checkpoint(dir_, Trained().checkpoint());
  }
  void expect_corrupt(const std::vector<std::string>& parts) {
    std::vector<std::string> all = {"checkpoint '" + dir_.string() + "'"};
    all.insert(all.end(), parts.begin(), parts.end());
    testing::expect_error([&] { load_checkpoint(dir_); }, all);
  }
  // Rewrites the state.json body (with a valid frame and CRC) through `edit`.
  void edit_state(const std::function<void(nlohmann::ordered_json&)>& edit) {
    const std::string text = read_bytes(dir_ / "state.json");
    auto j = nlohmann::ordered_json::parse(text);
    auto body = j["checkpoint"];
    edit(body);
    const std::string b = body.dump(1);
    write_bytes(
        dir_ / "state.json",
        fmt::format("{{\n \"crc32c\": \"0x{:08x}\",\n \"checkpoint\": {}\n}}\n", crc32c(b), b));
  }
  fs::path work_, dir_;
};

TEST_F(CorruptCheckpoint, TruncatedFile) {
  fs::resize_file(dir_ / "model.safetensors", fs::file_size(dir_ / "model.safetensors") - 5);
  expect_corrupt({"model.safetensors: ", "bytes != recorded", "(truncated)"});
}

TEST_F(CorruptCheckpoint, BitFlips) {
  for (const char* file : {"model.safetensors", "optimizer.safetensors"}) {
    std::string bytes = read_bytes(dir_ / file);
    bytes[bytes.size() - 3] ^= 0x10;
    write_bytes(dir_ / file, bytes);
    expect_corrupt({std::string(file) + ": CRC32C 0x", "!= recorded 0x"});
    bytes[bytes.size() - 3] ^= 0x10;
    write_bytes(dir_ / file, bytes);
  }
  EXPECT_NO_THROW(load_checkpoint(dir_));
  // A changed digit in state.json ("epoch": 3 -> 4).
  std::string state = read_bytes(dir_ / "state.json");
  const size_t at = state.find("\"epoch\": 3");
  ASSERT_NE(at, std::string::npos);
  state[at + 9] = '4';
  write_bytes(dir_ / "state.json", state);
  expect_corrupt({"state.json: CRC32C 0x", "!= recorded 0x"});
}

TEST_F(CorruptCheckpoint, MissingFiles) {
  fs::remove(dir_ / "optimizer.safetensors");
  expect_corrupt({"optimizer.safetensors: missing"});
  fs::remove(dir_ / "state.json");
  testing::expect_error([&] { load_checkpoint(dir_); }, {"state.json is missing"});
  testing::expect_error([&] { load_checkpoint(work_ / "epoch_9.ckpt"); },
                        {"checkpoint '", "epoch_9.ckpt' does not exist"});
}

TEST_F(CorruptCheckpoint, BadJson) {
  const std::string state = read_bytes(dir_ / "state.json");
  write_bytes(dir_ / "state.json", state.substr(0, state.size() / 2));
  expect_corrupt({"state.json: not valid JSON (truncated?)"});
  write_bytes(dir_ / "state.json", R"({"epoch": 3})");
  expect_corrupt({"state.json: not an anvil checkpoint state"});
  write_bytes(dir_ / "state.json", state);
  edit_state([](auto& body) { body["meta"].erase("epoch"); });
  expect_corrupt({"state.json: unexpected contents", "epoch"});
}

TEST_F(CorruptCheckpoint, SafetensorsErrors) {
  // Recorded size and CRC match, the contents are not safetensors.
  const std::string garbage = "\xff\xff\xff\xff\xff\xff\xff\x7f not safetensors";
  write_bytes(dir_ / "model.safetensors", garbage);
  edit_state([&](auto& body) {
    body["files"]["model.safetensors"] = {{"bytes", garbage.size()},
                                          {"crc32c", fmt::format("0x{:08x}", crc32c(garbage))}};
  });
  expect_corrupt({"safetensors file", "model.safetensors"});
}

TEST_F(CorruptCheckpoint, OptimizerTensorsMustMatchTheState) {
  edit_state([](auto& body) { body["optimizers"]["generator"]["state"]["0"].push_back("extra"); });
  expect_corrupt({"optimizer.safetensors: no tensor 'generator.0.extra'"});
}

TEST(Checkpoint, FindLatest) {
  const fs::path work = temp_dir("find_latest");
  EXPECT_EQ(find_latest_checkpoint(work), std::nullopt);
  write_last_checkpoint(work, work / "epoch_7.ckpt");
  testing::expect_error(
      [&] { find_latest_checkpoint(work); },
      {"last_checkpoint' names the checkpoint", "epoch_7.ckpt", "does not exist"});
}

TEST(LoadWeights, RevisesKeysAndReports) {
  const fs::path work = temp_dir("load_weights");
  Trained run;
  // A DDP model's weights: every key prefixed "module.".
  Checkpoint c;
  for (const auto& [name, t] : run.net->state_dict()) c.model.emplace_back("module." + name, t);
  save_checkpoint(work / "ddp.ckpt", c);

  auto fresh = std::make_shared<Net>();
  const LoadWeightsResult all = load_weights(*fresh, work / "ddp.ckpt", /*strict=*/true);
  EXPECT_TRUE(all.missing_keys.empty() && all.unexpected_keys.empty());
  EXPECT_TRUE(same_tensors(fresh->state_dict(), run.net->state_dict()));

  // Without revision nothing matches: strict is an error and loads nothing.
  auto strict = std::make_shared<Net>();
  const nn::NamedTensors before = strict->state_dict();
  std::vector<Tensor> copies;
  for (const auto& entry : before) copies.push_back(entry.second.clone());
  testing::expect_error([&] { load_weights(*strict, work / "ddp.ckpt", true, {}); },
                        {"missing keys in source state_dict: [fc.weight", "module.fc.weight"});
  for (size_t i = 0; i < copies.size(); ++i) EXPECT_TRUE(same_bits(before[i].second, copies[i]));

  // A .safetensors file with a backbone prefix, an extra key, a missing one and a mismatch.
  nn::NamedTensors weights;
  for (const auto& [name, t] : run.net->state_dict()) {
    if (name == "bn.bias" || name == "bn.num_batches_tracked") continue;
    weights.emplace_back("backbone." + name, name == "fc.bias" ? zeros({5}) : t);
  }
  weights.emplace_back("head.weight", zeros({2}));
  nn::save_safetensors((work / "w.safetensors").string(), weights);
  auto partial = std::make_shared<Net>();
  ::testing::internal::CaptureStderr();
  const LoadWeightsResult r =
      load_weights(*partial, work / "w.safetensors", false, {{"^backbone\\.", ""}});
  const std::string warning = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.missing_keys, std::vector<std::string>{"bn.bias"});  // num_batches_tracked ignored
  EXPECT_EQ(r.unexpected_keys, std::vector<std::string>{"head.weight"});
  ASSERT_EQ(r.mismatched_keys.size(), 1u);
  EXPECT_EQ(r.mismatched_keys[0], "fc.bias: checkpoint [5] vs model [3]");
  EXPECT_NE(warning.find("Warning: load_weights"), std::string::npos) << warning;
  EXPECT_TRUE(same_bits(partial->fc->weight, run.net->fc->weight));
  EXPECT_FALSE(same_bits(partial->fc->bias, run.net->fc->bias));
  EXPECT_TRUE(same_bits(partial->bn->running_mean, run.net->bn->running_mean));

  testing::expect_error([&] { load_weights(*partial, work / "none.safetensors"); },
                        {"none.safetensors' does not exist"});
}

TEST(CheckpointFiles, NamesKeepLastAndBest) {
  EXPECT_EQ(checkpoint_name(true, 3), "epoch_3.ckpt");
  EXPECT_EQ(checkpoint_name(false, 500), "iter_500.ckpt");
  EXPECT_EQ(best_checkpoint_name("accuracy/top1", true, 2), "best_accuracy_top1_epoch_2.ckpt");

  const fs::path work = temp_dir("keep");
  Checkpoint c;
  c.model = {{"w", zeros({2})}};
  std::vector<int64_t> keep;
  for (int64_t epoch = 1; epoch <= 4; ++epoch) {
    save_checkpoint(work / checkpoint_name(true, epoch), c);
    keep_last_checkpoints(work, keep, epoch, 2, true);
  }
  keep_last_checkpoints(work, keep, 4, 2, true);  // the same step again (a best save)
  EXPECT_EQ(keep, (std::vector<int64_t>{3, 4}));
  EXPECT_FALSE(fs::exists(work / "epoch_1.ckpt"));
  EXPECT_FALSE(fs::exists(work / "epoch_2.ckpt"));
  EXPECT_TRUE(fs::exists(work / "epoch_3.ckpt"));

  const fs::path first = save_best_checkpoint(work, "accuracy/top1", true, 2, c, "");
  EXPECT_EQ(first, work / "best_accuracy_top1_epoch_2.ckpt");
  const fs::path second = save_best_checkpoint(work, "accuracy/top1", true, 4, c, first);
  EXPECT_FALSE(fs::exists(first));
  EXPECT_NO_THROW(load_checkpoint(second));

  fs::create_directories(work / "notes");
  testing::expect_error([&] { remove_checkpoint(work / "notes"); },
                        {"not a checkpoint directory", "not deleting it"});
  EXPECT_TRUE(fs::exists(work / "notes"));

  // A removal is a rename out of the way, then a deletion: what a process killed while deleting
  // leaves is a hidden temporary, swept by the next removal or save of that name.
  fs::create_directories(work / ".epoch_3.ckpt.tmp-1-2" / "half");
  remove_checkpoint(work / "epoch_3.ckpt");
  for (const auto& entry : fs::directory_iterator(work)) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(".epoch_3.ckpt"))
        << entry.path().string();
  }
  EXPECT_FALSE(fs::exists(work / "epoch_3.ckpt"));
}

}  // namespace
}  // namespace anvil::engine
