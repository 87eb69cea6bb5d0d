// Config: TOML reading, _base_ inheritance, _delete_, --cfg-options, typed access and its errors,
// unknown keys, dump round trips. Fixture files are written into a temporary directory.
#include "engine/config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/op_test.h"

namespace anvil::engine {
namespace {

namespace fs = std::filesystem;
using testing::expect_error;

class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("anvil_config_{}_{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "_base_");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `text` to dir/name and returns the path.
  fs::path write(const std::string& name, const std::string& text) {
    fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }
  std::string name(const std::string& file) const { return (dir_ / file).string(); }

  fs::path dir_;
};

TEST_F(ConfigFiles, ReadsTomlWithLocationsAndOrder) {
  Config cfg = Config::from_file(write("a.toml", R"(work_dir = "out"
max = 3
[model]
type = "ResNet"
depth = 50
[optim_wrapper.optimizer]
type = "SGD"
lr = 0.1
)"));
  EXPECT_EQ(cfg.get<std::string>("work_dir"), "out");
  EXPECT_EQ(cfg.get<int>("model.depth"), 50);
  EXPECT_DOUBLE_EQ(cfg.get<double>("optim_wrapper.optimizer.lr"), 0.1);
  EXPECT_EQ(cfg["model"].location().line, 3);
  EXPECT_EQ(cfg.at("model.depth").location().line, 5);
  EXPECT_EQ(cfg.at("model.depth").path(), "model.depth");
  std::vector<std::string> keys;
  for (const auto& [key, value] : cfg.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"work_dir", "max", "model", "optim_wrapper"}));
}

TEST_F(ConfigFiles, InheritsTwoLevelsAndListsOfBases) {
  write("_base_/runtime.toml", R"(default_scope = "anvil"
[default_hooks.checkpoint]
type = "CheckpointHook"
interval = 1
[env_cfg]
cudnn_benchmark = false
)");
  write("_base_/schedule.toml",
        R"(param_scheduler = [{type = "LinearLR", end = 5}, {type = "StepLR"}]
[train_cfg]
by_epoch = true
max_epochs = 100
[optim_wrapper.optimizer]
type = "SGD"
lr = 0.1
momentum = 0.9
)");
  write("_base_/model.toml", R"(_base_ = "runtime.toml"
[model]
type = "ResNet"
depth = 50
data_mean = [1, 2, 3]
)");
  Config cfg = Config::from_file(
      write("child.toml", R"(_base_ = ["_base_/model.toml", "_base_/schedule.toml"]
param_scheduler = [{type = "MultiStepLR", milestones = [3, 6]}]
[model]
depth = 18
data_mean = [0.5]
[optim_wrapper.optimizer]
lr = 0.01
[default_hooks.checkpoint]
interval = 5
)"));
  EXPECT_FALSE(cfg.has("_base_"));
  EXPECT_EQ(cfg.get<std::string>("default_scope"), "anvil");  // grandparent
  EXPECT_EQ(cfg.get<std::string>("model.type"), "ResNet");    // kept from the base
  EXPECT_EQ(cfg.get<int>("model.depth"), 18);                 // scalar replaced
  EXPECT_EQ(cfg.get<std::vector<double>>("model.data_mean"), std::vector<double>{0.5});  // array
  EXPECT_DOUBLE_EQ(cfg.get<double>("optim_wrapper.optimizer.lr"), 0.01);
  EXPECT_DOUBLE_EQ(cfg.get<double>("optim_wrapper.optimizer.momentum"), 0.9);
  EXPECT_EQ(cfg.get<int>("default_hooks.checkpoint.interval"), 5);
  EXPECT_EQ(cfg.get<std::string>("default_hooks.checkpoint.type"), "CheckpointHook");
  ASSERT_EQ(cfg["param_scheduler"].size(), 1u);  // arrays replace, never merge
  EXPECT_EQ(cfg.get<std::string>("param_scheduler.0.type"), "MultiStepLR");
  EXPECT_EQ(cfg.get<int>("train_cfg.max_epochs"), 100);
  // Each value still says which file it came from.
  EXPECT_EQ(cfg.at("model.type").location().file, name("_base_/model.toml"));
  EXPECT_EQ(cfg.at("model.depth").location().file, name("child.toml"));
  EXPECT_EQ(cfg.at("train_cfg.max_epochs").location().str(), name("_base_/schedule.toml") + ":4");
}

TEST_F(ConfigFiles, DeleteReplacesTheBaseTable) {
  write("base.toml", R"([optim_wrapper.optimizer]
type = "SGD"
lr = 0.1
momentum = 0.9
nesterov = true
)");
  Config cfg = Config::from_file(write("child.toml", R"(_base_ = "base.toml"
[optim_wrapper.optimizer]
_delete_ = true
type = "AdamW"
lr = 0.001
)"));
  EXPECT_EQ(cfg["optim_wrapper"]["optimizer"], Config::table({{"type", "AdamW"}, {"lr", 0.001}}));
  EXPECT_FALSE(cfg.has("optim_wrapper.optimizer._delete_"));
}

TEST_F(ConfigFiles, InheritanceErrors) {
  write("a.toml", "_base_ = \"b.toml\"\nx = 1\n");
  write("b.toml", "_base_ = \"a.toml\"\ny = 1\n");
  expect_error([&] { Config::from_file(dir_ / "a.toml"); }, {"_base_ cycle", "a.toml", "b.toml"});

  write("missing.toml", "x = 1\n_base_ = [\"nope.toml\"]\n");
  expect_error([&] { Config::from_file(dir_ / "missing.toml"); },
               {name("missing.toml") + ":2", "base config not found", "nope.toml"});
  expect_error([&] { Config::from_file(dir_ / "absent.toml"); },
               {"config file not found", "absent.toml"});

  write("b1.toml", "[model]\ndepth = 1\n");
  write("b2.toml", "[model]\ndepth = 2\n");
  write("dup.toml", "_base_ = [\"b1.toml\", \"b2.toml\"]\n");
  expect_error([&] { Config::from_file(dir_ / "dup.toml"); },
               {"duplicate key 'model' among bases", "b1.toml:1", "b2.toml:1"});

  write("scalar.toml", "model = 3\n");
  write("over.toml", "_base_ = \"scalar.toml\"\n[model]\ndepth = 2\n");
  expect_error([&] { Config::from_file(dir_ / "over.toml"); },
               {name("over.toml") + ":2: model", "integer 3", "_delete_ = true"});

  write("bad.toml", "[model]\ndepth = \n");
  expect_error([&] { Config::from_file(dir_ / "bad.toml"); }, {"bad.toml", "2 | depth ="});
}

TEST(Config, CfgOptions) {
  Config cfg = Config::from_string(R"(work_dir = "w"
param_scheduler = [{type = "LinearLR", end = 5}, {type = "StepLR", end = 100}]
[model]
depth = 18
[optim_wrapper.optimizer]
lr = 0.1
[data]
mean = [1, 2]
)",
                                   "cfg.toml");
  cfg.merge_from_options({"optim_wrapper.optimizer.lr=0.01", "train_cfg.max_epochs=3",
                          "model.depth=50", "param_scheduler.0.end=10", "data.mean=[0.5,0.5,0.5]",
                          "work_dir=out", "flag=true", "model.extra={a = 1, b = \"x\"}",
                          "names=a,b", "words=[cat, dog]", "loud=True", "load_from=None", "lr2=.5",
                          "quoted='x y'"});
  EXPECT_DOUBLE_EQ(cfg.get<double>("optim_wrapper.optimizer.lr"), 0.01);
  EXPECT_EQ(cfg.get<int>("train_cfg.max_epochs"), 3);  // created
  EXPECT_EQ(cfg.get<int>("model.depth"), 50);
  EXPECT_EQ(cfg.get<int>("param_scheduler.0.end"), 10);
  EXPECT_EQ(cfg.get<std::string>("param_scheduler.0.type"), "LinearLR");  // merged into the table
  EXPECT_EQ(cfg.get<int>("param_scheduler.1.end"), 100);
  EXPECT_EQ(cfg.get<std::vector<double>>("data.mean"), (std::vector<double>{0.5, 0.5, 0.5}));
  EXPECT_EQ(cfg.get<std::string>("work_dir"), "out");
  EXPECT_TRUE(cfg.get<bool>("flag"));
  EXPECT_EQ(cfg["model"]["extra"], Config::table({{"a", 1}, {"b", "x"}}));
  EXPECT_EQ(cfg.get<std::vector<std::string>>("names"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(cfg.get<std::vector<std::string>>("words"), (std::vector<std::string>{"cat", "dog"}));
  EXPECT_TRUE(cfg.get<bool>("loud"));
  EXPECT_TRUE(cfg["load_from"].is_null());
  EXPECT_EQ(cfg.get_or<std::string>("load_from", "none"), "none");
  EXPECT_DOUBLE_EQ(cfg.get<double>("lr2"), 0.5);
  EXPECT_EQ(cfg.get<std::string>("quoted"), "x y");
  EXPECT_EQ(cfg.at("train_cfg.max_epochs").location().str(),
            "--cfg-options train_cfg.max_epochs=3");
  EXPECT_EQ(cfg["model"].location().str(), "cfg.toml:3");

  expect_error([&] { cfg.merge_from_options({"param_scheduler.5.end=1"}); },
               {"--cfg-options param_scheduler.5.end=1", "index 5 is out of range",
                "param_scheduler (an array of 2, cfg.toml:2)"});
  expect_error([&] { cfg.merge_from_options({"novalue"}); }, {"novalue", "expected key=value"});
  expect_error([&] { cfg.merge_from_options({"model.depth.x=1"}); },
               {"model.depth", "integer 50", "_delete_"});
}

TEST(Config, TypedAccessErrorsNameFileLineAndKey) {
  Config cfg = Config::from_string(R"([optim_wrapper.optimizer]
type = "SGD"
lr = "x"
momentum = 1
steps = [1, 2.5]
)",
                                   "configs/foo.toml");
  expect_error([&] { cfg.get<double>("optim_wrapper.optimizer.lr"); },
               {"configs/foo.toml:3: optim_wrapper.optimizer.lr: expected a number, got string "
                "\"x\""});
  EXPECT_DOUBLE_EQ(cfg.get<double>("optim_wrapper.optimizer.momentum"), 1.0);  // int → double
  expect_error([&] { cfg.get<int>("optim_wrapper.optimizer.type"); },
               {"foo.toml:2: optim_wrapper.optimizer.type: expected an integer, got string"});
  expect_error([&] { cfg.get<std::vector<int>>("optim_wrapper.optimizer.steps"); },
               {"foo.toml:5: optim_wrapper.optimizer.steps.1: expected an integer, got float 2.5"});
  expect_error([&] { cfg.get<double>("optim_wrapper.optimizer.eps"); },
               {"foo.toml:1", "missing key 'optim_wrapper.optimizer.eps'"});
  expect_error([&] { cfg.get<double>("optim_wrapper.optimizer.lr.x"); },
               {"cannot look up 'x'", "optim_wrapper.optimizer.lr"});
  EXPECT_EQ(cfg.get<uint8_t>("optim_wrapper.optimizer.steps.0"), 1);
  expect_error([&] { Config(-1).as<uint32_t>(); }, {"-1 is out of range [0, 4294967295]"});
  expect_error([&] { Config(300).as<uint8_t>(); }, {"300 is out of range [0, 255]"});
  expect_error([&] { cfg["optim_wrapper"][3]; }, {"expected an array, got table"});
  EXPECT_EQ(cfg.get_or<double>("optim_wrapper.optimizer.eps", 1e-8), 1e-8);
  expect_error([&] { cfg.get_or<double>("optim_wrapper.optimizer.type", 1.0); },
               {"expected a number"});
}

TEST(Config, CheckKeysListsValidKeys) {
  Config cfg =
      Config::from_string("[optimizer]\ntype = \"SGD\"\nlr = 0.1\nmomentun = 0.9\n", "opt.toml");
  expect_error(
      [&] {
        cfg["optimizer"].check_keys({"type", "lr", "momentum", "weight_decay"});
      },
      {"opt.toml:4: unknown key 'momentun' in optimizer (did you mean 'momentum'?)",
       "valid keys: type, lr, momentum, weight_decay"});
}

TEST(Config, BuiltInCppAndRoundTrips) {
  Config cfg = Config::table({
      {"work_dir", "out dir"},
      {"seed", -3},
      {"flags", Config::array({true, false})},
      {"empty", Config::array()},
      {"model", Config::table({{"type", "ResNet"},
                               {"depth", 50},
                               {"scale", 1.0},
                               {"mean", std::vector<double>{0.5, 1e-30, 1e300}},
                               {"odd key", "tab\there \"quoted\" \\ \x01"},
                               {"nested", Config::table({{"deep", Config::table()}})}})},
      {"param_scheduler",
       Config::array({Config::table({{"type", "LinearLR"}, {"end", 5}}),
                      Config::table({{"type", "StepLR"}, {"sub", Config::table({{"a", 1}})}})})},
      {"mixed", Config::array({1, Config::array({"a", 2.5}), Config::table({{"x", 1}})})},
  });
  EXPECT_EQ(cfg.at("model.depth").path(), "model.depth");
  EXPECT_EQ(cfg.at("param_scheduler.1.sub.a").path(), "param_scheduler.1.sub.a");
  EXPECT_EQ(cfg.at("model.depth").location().str(), "<C++>");
  std::string text = cfg.dump();
  Config back = Config::from_string(text, "dumped.toml");
  EXPECT_EQ(back, cfg) << text;
  EXPECT_EQ(Config::from_string(back.dump()).dump(), back.dump());
  EXPECT_NE(cfg.pretty_text().find("depth = 50"), std::string::npos);

  Config changed = cfg;
  changed.set("model.depth", 18);
  EXPECT_NE(changed, cfg);
  changed.set("model.depth", 50);
  EXPECT_EQ(changed, cfg);
  changed.set("a.b.c", 1.5);
  EXPECT_EQ(changed.get<double>("a.b.c"), 1.5);
  EXPECT_EQ(changed.at("a.b.c").path(), "a.b.c");
  EXPECT_EQ(cfg["model"].without("type").size(), 5u);
}

TEST(Config, MergeFromCpp) {
  Config base = Config::table({{"model", Config::table({{"type", "ResNet"}, {"depth", 50}})},
                               {"hooks", Config::array({1, 2})}});
  base.merge(Config::table({
      {"model", Config::table({{"depth", 18}})},
      {"hooks", Config::array({3})},
      {"new", Config::table({{"_delete_", true}, {"x", Config::table({{"_delete_", false}})}})},
  }));
  EXPECT_EQ(base, Config::table({{"model", Config::table({{"type", "ResNet"}, {"depth", 18}})},
                                 {"hooks", Config::array({3})},
                                 {"new", Config::table({{"x", Config::table()}})}}));
  EXPECT_EQ(base.at("new.x").path(), "new.x");
  base.merge(Config::table({{"model", Config::table({{"_delete_", true}, {"type", "MLP"}})}}));
  EXPECT_EQ(base["model"], Config::table({{"type", "MLP"}}));
  expect_error(
      [&] {
        base.merge(Config::table({{"model", Config::table({{"_delete_", 1}})}}));
      },
      {"model._delete_: expected a boolean, got integer 1"});
  expect_error([&] { Config::table({{"a", 1}, {"a", 2}}); }, {"duplicate key 'a'"});
}

TEST(Config, PrettyText) {
  Config cfg = Config::from_string(
      "seed = 1\nparam_scheduler = [{type = \"LinearLR\"}]\n[model]\ntype = \"ResNet\"\n");
  EXPECT_EQ(cfg.pretty_text(),
            "seed = 1\n"
            "param_scheduler = [\n"
            "    {\n"
            "        type = \"LinearLR\"\n"
            "    }\n"
            "]\n"
            "model = {\n"
            "    type = \"ResNet\"\n"
            "}\n");
}

TEST_F(ConfigFiles, DumpToFileIsAtomicAndReadsBack) {
  Config cfg = Config::from_file(write("a.toml", "x = 1.5\n[m]\ny = \"z\"\n"));
  fs::path out = dir_ / "merged.toml";
  cfg.dump(out);
  EXPECT_EQ(Config::from_file(out), cfg);
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 3u);  // _base_/, a.toml, merged.toml: no temporary file left behind
}

}  // namespace
}  // namespace anvil::engine
