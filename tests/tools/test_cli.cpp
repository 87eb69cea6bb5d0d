// The `anvil` command end to end: help and usage errors, `anvil train` of the Fashion-MNIST
// example config on a small generated dataset (work directory, logs, checkpoints), resume,
// a run killed at an arbitrary moment while it checkpoints every iteration, `anvil test` and
// `anvil infer`.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "anvil.h"
#include "engine/checkpoint/checkpoint.h"
#include "engine/data/data_loader.h"
#include "engine/data_fixtures.h"
#include "engine/visualization/png.h"

namespace anvil::engine {
namespace {

namespace fs = std::filesystem;
using fixtures::Bytes;

const fs::path kConfig = fs::path(ANVIL_SOURCE_DIR) / "examples/fashion_mnist/fashion_mnist.toml";

struct Result {
  int status;
  std::string output;
};

// Runs `anvil ARGS` through the shell, stdout and stderr together.
Result run(const std::string& args) {
  const std::string command = std::string(ANVIL_CLI) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// The 28×28 image of sample i of class `label`: a bright bar whose row is the class, on noise.
Bytes image(int64_t i, int64_t label) {
  Bytes pixels(28 * 28);
  for (int64_t p = 0; p < 28 * 28; ++p) pixels[p] = static_cast<uint8_t>((i * 131 + p * 29) % 50);
  for (int64_t r = 2 * label + 4; r < 2 * label + 6; ++r) {
    for (int64_t c = 3; c < 25; ++c) pixels[r * 28 + c] = 230;
  }
  return pixels;
}

// Fashion-MNIST's four idx files with n_train and n_test samples of 10 classes.
void write_dataset(const fs::path& dir, int64_t n_train, int64_t n_test) {
  for (const auto& [prefix, n] : {std::pair{"train", n_train}, std::pair{"t10k", n_test}}) {
    Bytes images, labels;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t label = i % 10;
      const Bytes pixels = image(i + (n == n_test ? 7 : 0), label);
      images.insert(images.end(), pixels.begin(), pixels.end());
      labels.push_back(static_cast<uint8_t>(label));
    }
    fixtures::write_file(dir / (std::string(prefix) + "-images-idx3-ubyte"),
                         fixtures::idx_file(3, {uint32_t(n), 28, 28}, images));
    fixtures::write_file(dir / (std::string(prefix) + "-labels-idx1-ubyte"),
                         fixtures::idx_file(1, {uint32_t(n)}, labels));
  }
}

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("anvil_cli_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    write_dataset(dir_ / "data", 160, 40);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The example config on the generated data: small batches, short epochs, quiet logs.
  std::string options(const std::string& extra = "") const {
    const std::string data = (dir_ / "data").string();
    return fmt::format(
        "--work-dir {} --cfg-options train_dataloader.dataset.data_root={} "
        "val_dataloader.dataset.data_root={} test_dataloader.dataset.data_root={} "
        "train_dataloader.batch_size=16 val_dataloader.batch_size=20 test_dataloader.batch_size=20 "
        "default_hooks.logger.interval=5 {}",
        (dir_ / "work").string(), data, data, data, extra);
  }

  fs::path dir_;
};

TEST_F(Cli, HelpAndUsageErrors) {
  Result r = run("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"train CONFIG", "test CONFIG CHECKPOINT", "infer CONFIG CHECKPOINT"}) {
    EXPECT_NE(r.output.find(s), std::string::npos) << s;
  }
  r = run("train --help");
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"--work-dir", "--resume", "--amp", "--cfg-options"}) {
    EXPECT_NE(r.output.find(s), std::string::npos) << s;
  }
  r = run("infer --help");
  for (const char* s : {"--batch-size", "--topk", "--color", "--out"}) {
    EXPECT_NE(r.output.find(s), std::string::npos) << s;
  }
  r = run("train cfg.toml --epochs 3");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("unknown option --epochs"), std::string::npos) << r.output;
  r = run("fit");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("unknown command 'fit'"), std::string::npos) << r.output;
  r = run("train " + (dir_ / "missing.toml").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("missing.toml"), std::string::npos) << r.output;
}

TEST_F(Cli, TrainResumeTestAndInfer) {
  Result r = run("train " + kConfig.string() + " " +
                 options("train_cfg.max_epochs=2 param_scheduler.1.end=2"));
  ASSERT_EQ(r.status, 0) << r.output;
  const fs::path work = dir_ / "work";
  EXPECT_NE(r.output.find("[1][ 5/10]  lr: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Epoch(val) [2][2/2]    accuracy/top1: "), std::string::npos);
  for (const char* name :
       {"epoch_1.ckpt", "epoch_2.ckpt", "last_checkpoint", "fashion_mnist.toml"}) {
    EXPECT_TRUE(fs::exists(work / name)) << name;
  }

  // Resume for a third epoch from the latest checkpoint.
  r = run("train " + kConfig.string() + " " +
          options("train_cfg.max_epochs=3 param_scheduler.1.end=3") + " --resume");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("resumed epoch: 2, iter: 20"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[3][10/10]  lr: "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("[2][ 5/10]"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(work / "epoch_3.ckpt"));

  r = run("test " + kConfig.string() + " " + (work / "epoch_3.ckpt").string() + " " + options());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("accuracy/top1: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Epoch(test) [2/2]"), std::string::npos) << r.output;

  // Two images of classes 3 and 7 as PNG files.
  for (int64_t label : {3, 7}) {
    const Bytes pixels = image(1000 + label, label);
    write_png((dir_ / fmt::format("class{}.png", label)).string(),
              tensor(std::vector<uint8_t>(pixels.begin(), pixels.end()), {28, 28}));
  }
  r = run("infer " + kConfig.string() + " " + (work / "epoch_3.ckpt").string() + " " +
          (dir_ / "class3.png").string() + " " + (dir_ / "class7.png").string() +
          " --topk 3 --out " + (dir_ / "pred.jsonl").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("class3.png\t"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("top-3:"), std::string::npos) << r.output;
  const std::string lines = read(dir_ / "pred.jsonl");
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2) << lines;
}

// A run killed (SIGKILL) at arbitrary moments while it writes a checkpoint every iteration
// leaves the latest complete checkpoint loadable, and --resume finishes the run.
TEST_F(Cli, KilledWhileCheckpointingResumes) {
  const std::string args =
      "train " + kConfig.string() + " " +
      options(
          "train_cfg.by_epoch=false train_cfg.max_iters=40 train_cfg.val_interval=40 "
          "param_scheduler=[] default_hooks.checkpoint.by_epoch=false "
          "default_hooks.checkpoint.interval=1 default_hooks.checkpoint.max_keep_ckpts=2 "
          "default_hooks.checkpoint.save_best=[] log_processor.by_epoch=false");
  const fs::path work = dir_ / "work";
  for (int attempt = 0; attempt < 3; ++attempt) {
    const std::string before = read(work / "last_checkpoint");
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const std::string command = std::string(ANVIL_CLI) + " " + args + " --resume >/dev/null 2>&1";
      execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    // Once this process has saved a checkpoint, kill it at a moment that differs per attempt.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (read(work / "last_checkpoint") == before &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(13 * attempt + 3));
    ::kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    const std::optional<fs::path> latest = find_latest_checkpoint(work);
    ASSERT_TRUE(latest.has_value());
    EXPECT_NO_THROW(load_checkpoint(*latest)) << latest->string();
  }
  const Result r = run(args + " --resume");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("resumed epoch: 0, iter: "), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(work / "iter_40.ckpt"));
}

}  // namespace
}  // namespace anvil::engine
