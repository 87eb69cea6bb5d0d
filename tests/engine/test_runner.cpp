// The Runner and its loops and default hooks: the order of hook points, MMEngine's loop counting
// (epochs, iterations, val_begin, val_interval, dynamic intervals), checkpoints (interval,
// max_keep_ckpts, save_best, last_checkpoint), bit-exact resume (epoch- and iteration-based,
// with accumulation), the work directory and log lines, and config errors.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "anvil.h"
#include "common/op_test.h"
#include "engine/data/dataset.h"
#include "engine/registry/registries.h"
#include "engine/runner/runner.h"
#include "engine/runner_fixtures.h"

namespace anvil::engine {
namespace {

using testing::expect_error;
using namespace fixtures;
namespace fs = std::filesystem;

// Records every hook point it sees as "point" or "point@iter".
class RecordingHook final : public Hook {
 public:
  std::string name() const override { return "RecordingHook"; }
  std::vector<std::string> seen;
  void before_run(Runner&) override { seen.push_back("before_run"); }
  void before_train(Runner&) override { seen.push_back("before_train"); }
  void before_train_epoch(Runner& r) override {
    seen.push_back("before_train_epoch" + std::to_string(r.epoch()));
  }
  void before_train_iter(Runner&, int64_t i, const Batch&) override {
    seen.push_back("before_train_iter" + std::to_string(i));
  }
  void after_train_iter(Runner& r, int64_t i, const Batch&, const Scalars&) override {
    seen.push_back("after_train_iter" + std::to_string(i) + "@" + std::to_string(r.iter()));
  }
  void after_train_epoch(Runner&) override { seen.push_back("after_train_epoch"); }
  void before_val(Runner& r) override {
    seen.push_back("before_val@" + std::to_string(r.epoch()) + "/" + std::to_string(r.iter()));
  }
  void before_val_epoch(Runner&) override { seen.push_back("before_val_epoch"); }
  void before_val_iter(Runner&, int64_t i, const Batch&) override {
    seen.push_back("before_val_iter" + std::to_string(i));
  }
  void after_val_iter(Runner&, int64_t i, const Batch&, const Outputs&) override {
    seen.push_back("after_val_iter" + std::to_string(i));
  }
  void after_val_epoch(Runner&, const Scalars&) override { seen.push_back("after_val_epoch"); }
  void after_val(Runner&) override { seen.push_back("after_val"); }
  void before_save_checkpoint(Runner&, Checkpoint&) override {
    seen.push_back("before_save_checkpoint");
  }
  void after_train(Runner&) override { seen.push_back("after_train"); }
  void before_test(Runner&) override { seen.push_back("before_test"); }
  void after_test_epoch(Runner&, const Scalars&) override { seen.push_back("after_test_epoch"); }
  void after_test(Runner&) override { seen.push_back("after_test"); }
  void after_run(Runner&) override { seen.push_back("after_run"); }
  std::vector<std::string> only(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& s : seen)
      if (s.starts_with(prefix)) out.push_back(s);
    return out;
  }
};

std::vector<double> weights(Runner& runner) {
  std::vector<double> out;
  for (const auto& [name, t] : runner.model().state_dict()) {
    for (double v : t.to(DType::f64).to_vector<double>()) out.push_back(v);
  }
  return out;
}

std::vector<double> logged(Runner& runner, const std::string& key) {
  const auto& values = runner.message_hub().get_scalar(key).values();
  return {values.begin(), values.end()};
}

TEST(Runner, HookPointsInMMEngineOrder) {
  const fs::path dir = fresh_dir("order");
  auto runner = Runner::from_cfg(toy_config(dir, "{by_epoch = true, max_epochs = 2}"));
  auto hook = std::make_shared<RecordingHook>();
  runner->register_hook(hook);
  runner->train();
  // 24 samples / 4 = 6 iterations per epoch; validation (2 batches) after each epoch.
  std::vector<std::string> expected = {"before_run", "before_train"};
  for (int e = 0; e < 2; ++e) {
    expected.push_back("before_train_epoch" + std::to_string(e));
    for (int i = 0; i < 6; ++i) {
      expected.push_back("before_train_iter" + std::to_string(i));
      expected.push_back("after_train_iter" + std::to_string(i) + "@" + std::to_string(e * 6 + i));
    }
    expected.push_back("after_train_epoch");
    expected.push_back("before_save_checkpoint");  // CheckpointHook (VERY_LOW) after this hook
    expected.push_back("before_val@" + std::to_string(e + 1) + "/" + std::to_string(6 * (e + 1)));
    for (const char* s : {"before_val_epoch", "before_val_iter0", "after_val_iter0",
                          "before_val_iter1", "after_val_iter1", "after_val_epoch", "after_val"}) {
      expected.push_back(s);
    }
  }
  expected.push_back("after_train");
  expected.push_back("after_run");
  EXPECT_EQ(hook->seen, expected);
  EXPECT_EQ(runner->epoch(), 2);
  EXPECT_EQ(runner->iter(), 12);

  // The default hooks in MMEngine's order, the custom NORMAL hook among the NORMAL ones.
  std::vector<std::string> names;
  for (const auto& [p, h] : runner->hooks().hooks()) names.push_back(h->name());
  EXPECT_EQ(names, (std::vector<std::string>{"RuntimeInfoHook", "IterTimerHook",
                                             "DistSamplerSeedHook", "RecordingHook", "LoggerHook",
                                             "ParamSchedulerHook", "CheckpointHook"}));
}

TEST(Runner, EpochValidationScheduleWithDynamicIntervals) {
  const fs::path dir = fresh_dir("dynamic");
  auto runner = Runner::from_cfg(
      write_config(dir, toy_config_text(dir,
                                        "{by_epoch = true, max_epochs = 6, val_interval = 2, "
                                        "dynamic_intervals = [[4, 1]]}",
                                        "[default_hooks]\ncheckpoint = false\n")));
  auto hook = std::make_shared<RecordingHook>();
  runner->register_hook(hook);
  runner->train();
  // MMEngine: interval 2 until epoch 3 counts as milestone 4 (bisect on epoch + 1), then 1.
  EXPECT_EQ(hook->only("before_val@"),
            (std::vector<std::string>{"before_val@2/12", "before_val@3/18", "before_val@4/24",
                                      "before_val@5/30", "before_val@6/36"}));
  EXPECT_TRUE(hook->only("before_save_checkpoint").empty());  // checkpoint = false removed it
}

TEST(Runner, IterBasedLoopValBeginIntervalAndLoaderRestart) {
  const fs::path dir = fresh_dir("iter");
  auto runner = Runner::from_cfg(write_config(
      dir,
      toy_config_text(dir, "{by_epoch = false, max_iters = 10, val_begin = 4, val_interval = 3}",
                      "[default_hooks]\ncheckpoint = {type = \"CheckpointHook\", interval = 4, "
                      "by_epoch = false}\n")));
  auto hook = std::make_shared<RecordingHook>();
  runner->register_hook(hook);
  runner->train();
  EXPECT_EQ(hook->only("before_val@"),
            (std::vector<std::string>{"before_val@0/6", "before_val@0/9", "before_val@0/10"}));
  // One epoch for the whole run, 10 iterations over a loader of 6 batches.
  EXPECT_EQ(hook->only("before_train_epoch"), std::vector<std::string>{"before_train_epoch0"});
  EXPECT_EQ(runner->iter(), 10);
  EXPECT_EQ(runner->train_dataloader()->state().epoch, 1);
  // Saved at iterations 4 and 8, and the last (10).
  for (const char* name : {"iter_4.ckpt", "iter_8.ckpt", "iter_10.ckpt"}) {
    EXPECT_TRUE(fs::exists(dir / name)) << name;
  }
  EXPECT_FALSE(fs::exists(dir / "iter_6.ckpt"));
}

TEST(Runner, CheckpointsKeepLastAndBest) {
  const fs::path dir = fresh_dir("ckpt");
  auto runner = Runner::from_cfg(write_config(
      dir,
      toy_config_text(dir, "{by_epoch = true, max_epochs = 4}",
                      "[default_hooks]\ncheckpoint = {type = \"CheckpointHook\", interval = 1, "
                      "max_keep_ckpts = 2, save_best = \"auto\"}\n")));
  runner->train();
  EXPECT_FALSE(fs::exists(dir / "epoch_1.ckpt"));
  EXPECT_FALSE(fs::exists(dir / "epoch_2.ckpt"));
  EXPECT_TRUE(fs::exists(dir / "epoch_3.ckpt"));
  EXPECT_TRUE(fs::exists(dir / "epoch_4.ckpt"));
  EXPECT_EQ(read(dir / "last_checkpoint"), (dir / "epoch_4.ckpt").string());
  int best = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with("best_accuracy_top1_epoch_")) ++best;
  }
  EXPECT_EQ(best, 1);
  const InfoValue* best_ckpt = runner->message_hub().get_info("best_ckpt");
  ASSERT_NE(best_ckpt, nullptr);
  EXPECT_TRUE(fs::exists(std::get<std::string>(*best_ckpt)));
  // The checkpoint holds the run's state.
  const Checkpoint c = load_checkpoint(dir / "epoch_4.ckpt");
  EXPECT_EQ(c.meta.epoch, 4);
  EXPECT_EQ(c.meta.iter, 24);
  EXPECT_EQ(c.meta.seed, 3);
  for (const char* key : {"message_hub", "param_schedulers", "data_loader", "rng"}) {
    EXPECT_TRUE(c.states.count(key)) << key;
  }
  EXPECT_TRUE(c.optimizers.count("optimizer"));
}

TEST(Runner, WorkDirLogLinesAndScalars) {
  const fs::path dir = fresh_dir("logs");
  auto runner = Runner::from_cfg(write_config(
      dir, toy_config_text(dir, "{by_epoch = true, max_epochs = 1}",
                           "[default_hooks]\nlogger = {type = \"LoggerHook\", interval = 2}\n")));
  runner->train();
  EXPECT_TRUE(fs::exists(dir / "toy.toml"));  // the merged config
  const fs::path log_dir = runner->log_dir();
  EXPECT_EQ(log_dir.parent_path(), fs::absolute(dir));
  const std::string log = read(log_dir / (runner->timestamp() + ".log"));
  EXPECT_TRUE(std::regex_search(
      log, std::regex(R"(Epoch\(train\) +\[1\]\[2/6\]  lr: 6\.6667e-02  eta: 0:00:\d\d  time: )"
                      R"(\d+\.\d{4}  data_time: \d+\.\d{4}  memory: \d+  loss: \d\.\d{4})")))
      << log;
  EXPECT_TRUE(std::regex_search(
      log, std::regex(R"(Epoch\(val\) \[1\]\[2/2\]    accuracy/top1: \d+\.\d{4}  data_time: )")))
      << log;
  const std::string scalars = read(log_dir / "vis_data" / "scalars.json");
  EXPECT_NE(scalars.find(",\"step\":2}"), std::string::npos) << scalars;
  EXPECT_NE(scalars.find("\"accuracy/top1\""), std::string::npos) << scalars;
}

// Training 4 epochs straight, and 2 epochs, stopping, then resuming for 2, give the same weights
// and the same logged losses, bit for bit (shuffling, random flips, dropout, momentum and
// schedulers all continue exactly).
TEST(Runner, EpochBasedResumeIsBitExact) {
  const fs::path straight = fresh_dir("resume_straight"), split = fresh_dir("resume_split");
  auto a = Runner::from_cfg(toy_config(straight, "{by_epoch = true, max_epochs = 4}"));
  a->train();

  const std::string cfg = toy_config_text(split, "{by_epoch = true, max_epochs = 4}");
  {
    auto b = Runner::from_cfg(write_config(split, cfg));
    b->register_hook(std::make_shared<StopHook>(2, -1));
    b->train();
    EXPECT_EQ(b->epoch(), 2);
  }
  Config resumed = write_config(split, cfg);
  resumed.merge_from_options({"resume=true"});
  auto c = Runner::from_cfg(resumed);
  c->train();
  EXPECT_EQ(c->epoch(), 4);
  EXPECT_EQ(weights(*c), weights(*a));
  EXPECT_EQ(logged(*c, "train/loss"), logged(*a, "train/loss"));
  EXPECT_EQ(logged(*c, "train/lr"), logged(*a, "train/lr"));
  // Epoch 2's checkpoint was saved before its validation (as MMEngine's): the resumed run's
  // history lacks that one value.
  std::vector<double> val = logged(*a, "val/accuracy/top1");
  val.erase(val.begin() + 1);
  EXPECT_EQ(logged(*c, "val/accuracy/top1"), val);
}

// The same for an iteration-based run with gradient accumulation, stopped in the middle of the
// loader's epoch at an accumulation boundary: the loader continues at its next batch.
TEST(Runner, IterBasedResumeWithAccumulationIsBitExact) {
  const std::string train_cfg = "{by_epoch = false, max_iters = 15, val_interval = 5}";
  const std::string extra =
      "accumulative_counts = 3\n[default_hooks]\ncheckpoint = {type = \"CheckpointHook\", "
      "interval = 3, by_epoch = false}\n";
  const fs::path straight = fresh_dir("iresume_straight"), split = fresh_dir("iresume_split");
  auto a = Runner::from_cfg(toy_config(straight, train_cfg, extra));
  a->train();
  {
    auto b = Runner::from_cfg(toy_config(split, train_cfg, extra));
    b->register_hook(std::make_shared<StopHook>(-1, 9));
    b->train();
    EXPECT_EQ(b->iter(), 9);
  }
  Config resumed = toy_config(split, train_cfg, extra);
  resumed.merge_from_options({"resume=true"});
  auto c = Runner::from_cfg(resumed);
  c->train();
  EXPECT_EQ(c->iter(), 15);
  EXPECT_EQ(weights(*c), weights(*a));
  EXPECT_EQ(logged(*c, "train/loss"), logged(*a, "train/loss"));
}

TEST(Runner, LoadFromAndTest) {
  const fs::path dir = fresh_dir("load_from");
  std::string text = toy_config_text(dir, "{by_epoch = true, max_epochs = 1}");
  auto trained = Runner::from_cfg(write_config(dir, text));
  trained->train();
  const Scalars val = trained->val();

  // A test-only runner with the trained weights gives the same accuracy on the same data.
  const fs::path test_dir = fresh_dir("load_from_test");
  Config cfg = toy_config(test_dir, "{by_epoch = true, max_epochs = 1}");
  for (const char* key : {"train_dataloader", "train_cfg", "optim_wrapper", "param_scheduler"}) {
    cfg.erase(key);
  }
  cfg.set("test_dataloader", cfg["val_dataloader"]);
  cfg.set("test_evaluator", cfg["val_evaluator"]);
  cfg.set("load_from", (dir / "epoch_1.ckpt").string());
  auto tester = Runner::from_cfg(cfg);
  const Scalars test = tester->test();
  ASSERT_EQ(test.size(), 1u);
  EXPECT_EQ(test[0].first, "accuracy/top1");
  EXPECT_EQ(test[0].second, val[0].second);
  expect_error([&] { tester->train(); }, {"Runner::train", "train_dataloader"});
}

std::vector<double> parameters(Runner& runner) {
  std::vector<double> out;
  for (const auto& [name, t] : runner.model().named_parameters()) {
    for (double v : t.detach().to(DType::f64).to_vector<double>()) out.push_back(v);
  }
  return out;
}

// efficient_conv_bn_eval and activation_checkpointing by module path, from the config: training
// with them gives the same parameters (the checkpointed layers are recomputed exactly; the fused
// pair is only active while its BN is frozen).
TEST(Runner, ModelPatchesFromConfig) {
  const std::string backbone = R"(
[model.backbone]
type = "Sequential"
layers = [{type = "Conv2d", in_channels = 1, out_channels = 4, kernel_size = 3, padding = 1},
          {type = "BatchNorm2d", num_features = 4}, {type = "ReLU"},
          {type = "Sequential", layers = [{type = "Flatten"},
                                          {type = "Linear", in_features = 64, out_features = 2}]}]
)";
  auto config = [&](const fs::path& dir, const std::string& patches) {
    std::string text = toy_config_text(dir, "{by_epoch = true, max_epochs = 2}");
    // The toy backbone replaced by a conv net; the patches are top-level keys.
    text = patches + text.substr(0, text.find("[model.backbone]")) +
           text.substr(text.find("[train_dataloader]"));
    return write_config(dir, text + backbone);
  };
  const fs::path plain_dir = fresh_dir("patch_plain"), patched_dir = fresh_dir("patch_on");
  auto plain = Runner::from_cfg(config(plain_dir, ""));
  plain->train();
  auto patched = Runner::from_cfg(config(
      patched_dir,
      "efficient_conv_bn_eval = [\"backbone\"]\nactivation_checkpointing = [\"backbone.3\"]\n"));
  patched->train();
  EXPECT_EQ(parameters(*patched), parameters(*plain));
  const std::string log = read(patched->log_dir() / (patched->timestamp() + ".log"));
  EXPECT_NE(log.find("Enabled efficient_conv_bn_eval for backbone"), std::string::npos);
  EXPECT_NE(log.find("Enabled activation checkpointing for backbone.3"), std::string::npos);

  const fs::path bad_dir = fresh_dir("patch_bad");
  auto bad = Runner::from_cfg(config(bad_dir, "activation_checkpointing = [\"backbone.0\"]\n"));
  expect_error([&] { bad->train(); },
               {"activation_checkpointing", "'backbone.0' is a Conv2d", "Sequential"});
}

// optim_wrapper as one table per submodule (MMEngine's multi-optimizer form) builds an
// OptimWrapperDict over each submodule, with param_scheduler lists by wrapper name; a model
// without a train_step for several wrappers says so.
TEST(Runner, SeveralOptimizerWrappersFromConfig) {
  const fs::path dir = fresh_dir("wrapper_dict");
  std::string text = toy_config_text(dir, "{by_epoch = true, max_epochs = 1}");
  text = text.substr(0, text.find("[optim_wrapper]")) + R"(
[optim_wrapper.backbone]
optimizer = {type = "Adam", lr = 0.01}
clip_grad = {max_norm = 1.0}
)";
  Config cfg = write_config(dir, text);
  cfg.set("param_scheduler",
          Config::from_string("backbone = [{type = \"LinearLR\", start_factor = 0.5, end = 2}]",
                              "schedulers.toml"));
  auto runner = Runner::from_cfg(cfg);
  expect_error([&] { runner->train(); },
               {"ImageClassifier::train_step", "several optimizer wrappers (backbone)",
                "train_step(Batch, OptimWrapperDict&)"});
  ASSERT_NE(runner->optim_wrapper_dict(), nullptr);
  EXPECT_EQ(runner->optim_wrapper_dict()->keys(), std::vector<std::string>{"backbone"});
  ASSERT_EQ(runner->param_schedulers().size(), 1u);
  EXPECT_EQ(runner->get_lr().at("backbone.lr"), std::vector<double>{0.005});

  Config typo = write_config(dir, text);
  typo.merge_from_options({"optim_wrapper.backbone_typo.optimizer.type=SGD",
                           "optim_wrapper.backbone_typo.optimizer.lr=0.1"});
  expect_error([&] { Runner::from_cfg(typo); },
               {"optim_wrapper.backbone_typo", "names no submodule"});
}

TEST(Runner, ConfigErrorsNameTheKeyAndPlace) {
  const fs::path dir = fresh_dir("errors");
  expect_error(
      [&] {
        Runner::from_cfg(write_config(
            dir, toy_config_text(dir, "{by_epoch = true, max_epochs = 1, val_intreval = 2}")));
      },
      {"toy.toml:4", "val_intreval", "val_interval"});
  expect_error(
      [&] {
        std::string text = toy_config_text(dir, "{by_epoch = true, max_epochs = 1}");
        text += "\n[model.extra]\n";
        Config cfg = write_config(dir, text);
        cfg.set("model", Config::from_string("type = \"Linear\"\nin_features = 2\nout_features = 2",
                                             "model.toml"));
        Runner::from_cfg(cfg);
      },
      {"Linear", "not a BaseModel", "ImageClassifier"});
  expect_error(
      [&] {
        Config cfg = toy_config(dir, "{by_epoch = true, max_epochs = 1}");
        cfg.erase("optim_wrapper");
        cfg.erase("param_scheduler");
        Runner::from_cfg(cfg);
      },
      {"train_dataloader, train_cfg and optim_wrapper must be given together"});
}

}  // namespace
}  // namespace anvil::engine
