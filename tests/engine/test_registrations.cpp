// The registrations of engine/data and engine/optim: every registered type built from a TOML
// table behaves as the same type built from its C++ options, and each registry's builders reject
// unknown keys with the file:line and the valid keys.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "anvil.h"
#include "common/op_test.h"
#include "data_fixtures.h"
#include "engine/data/readers.h"
#include "engine/data/sampler.h"
#include "engine/data/transforms.h"
#include "engine/optim/amp_optim_wrapper.h"
#include "engine/optim/param_scheduler.h"
#include "engine/registry/registries.h"
#include "nn/optim/adam.h"
#include "nn/optim/sgd.h"

namespace anvil::engine {

namespace {

namespace fs = std::filesystem;
using testing::expect_error;

// ---- transforms

Tensor ramp(int64_t c, int64_t h, int64_t w) {
  return arange(c * h * w, TensorOptions(DType::i64)).to(DType::u8).reshape({c, h, w});
}

Sample apply(const Transform& t, const Tensor& image, int64_t position) {
  Sample s;
  s.inputs = image;
  Rng rng(RandomKey{.seed = 5, .position = position});
  t.apply(s, rng);
  return s;
}

// Same output (shape, dtype, values, meta) on several random streams.
void expect_same_transform(const Transform& built, const Transform& expected) {
  EXPECT_EQ(built.name(), expected.name());
  const Tensor image = ramp(3, 8, 10);
  for (int64_t position = 0; position < 6; ++position) {
    const Sample a = apply(built, image, position);
    const Sample b = apply(expected, image, position);
    ASSERT_EQ(a.inputs.shape(), b.inputs.shape()) << expected.name() << " at " << position;
    ASSERT_EQ(a.inputs.dtype(), b.inputs.dtype()) << expected.name();
    EXPECT_EQ(a.inputs.to(DType::f64).to_vector<double>(),
              b.inputs.to(DType::f64).to_vector<double>())
        << expected.name() << " at " << position;
    EXPECT_EQ(a.meta, b.meta) << expected.name();
  }
}

std::shared_ptr<Transform> transform(const std::string& toml) {
  return TRANSFORMS.build(Config::from_string(toml, "transform.toml"));
}

TEST(Registrations, Transforms) {
  expect_same_transform(
      *transform("type = \"RandomCrop\"\nsize = [6, 7]\npadding = [1, 2]\npad_if_needed = true\n"
                 "fill = 3\npadding_mode = \"reflect\""),
      RandomCrop({.size = {6, 7},
                  .padding = {1, 2},
                  .pad_if_needed = true,
                  .fill = 3,
                  .padding_mode = "reflect"}));
  expect_same_transform(*transform("type = \"RandomCrop\"\ncrop_size = 5\npadding = 1"),
                        RandomCrop({.size = {5}, .padding = {1}}));
  expect_same_transform(*transform("type = \"RandomFlip\"\nprob = 0.7\ndirection = \"vertical\""),
                        RandomFlip({.prob = 0.7, .direction = "vertical"}));
  expect_same_transform(*transform("type = \"RandomFlip\""), RandomFlip());
  expect_same_transform(
      *transform("type = \"RandomResizedCrop\"\nsize = [5, 4]\nscale = [0.5, 1]\n"
                 "ratio = [0.8, 1.25]"),
      RandomResizedCrop({.size = {5, 4}, .scale = {0.5, 1.0}, .ratio = {0.8, 1.25}}));
  expect_same_transform(*transform("type = \"RandomResizedCrop\"\nsize = 6"),
                        RandomResizedCrop({.size = {6}}));
  expect_same_transform(*transform("type = \"Resize\"\nsize = [4, 6]"), Resize({.size = {4, 6}}));
  expect_same_transform(*transform("type = \"Resize\"\nsize = 5"), Resize({.size = {5}}));
  expect_same_transform(
      *transform("type = \"Normalize\"\nmean = [125.3, 123, 113.9]\nstd = [51.6, 50.8, 51.3]"),
      Normalize({.mean = {125.3, 123, 113.9}, .std = {51.6, 50.8, 51.3}}));
  expect_same_transform(*transform("type = \"ToTensor\""), ToTensor());

  expect_error([] { transform("type = \"RandomCrop\"\nsize = 4\npading = 1"); },
               {"transform.toml:3: unknown key 'pading'", "did you mean 'padding'?",
                "valid keys: size, crop_size, padding, pad_if_needed, fill, padding_mode"});
  expect_error([] { transform("type = \"RandomCrop\"\nsize = 4\ncrop_size = 4"); },
               {"exactly one of 'size' and 'crop_size'"});
  expect_error([] { transform("type = \"RandomResizedCrop\"\nsize = 4\nscale = [0.5]"); },
               {"transform.toml:3: scale: expected two numbers, got array of 1"});
}

// ---- datasets

using fixtures::Bytes;
using fixtures::cifar_records;
using fixtures::idx_file;
using fixtures::write_file;

class RegisteredDatasets : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "anvil_registrations_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    for (int b = 0; b < 5; ++b) {
      write_file(dir_ / "cifar10" / fmt::format("data_batch_{}.bin", b + 1),
                 cifar_records({{uint8_t(2 * b)}, {uint8_t(2 * b + 1)}}, 2 * b));
    }
    write_file(dir_ / "cifar10" / "test_batch.bin", cifar_records({{3}, {1}, {4}}, 100));
    write_file(dir_ / "cifar100" / "train.bin", cifar_records({{4, 99}, {19, 7}, {2, 3}}, 0));
    for (auto [prefix, n] : {std::pair{"train", 4}, std::pair{"t10k", 2}}) {
      Bytes pixels, labels;
      for (int k = 0; k < n * 6; ++k) pixels.push_back(uint8_t(k * 5));
      for (int k = 0; k < n; ++k) labels.push_back(uint8_t(9 - k));
      write_file(dir_ / "mnist" / (std::string(prefix) + "-images-idx3-ubyte"),
                 idx_file(3, {uint32_t(n), 2, 3}, pixels));
      write_file(dir_ / "mnist" / (std::string(prefix) + "-labels-idx1-ubyte"),
                 idx_file(1, {uint32_t(n)}, labels));
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The TOML with @ROOT@ replaced by the data directory.
  Config config(std::string toml) const {
    for (size_t at; (at = toml.find("@ROOT@")) != std::string::npos;) {
      toml.replace(at, 6, dir_.string());
    }
    return Config::from_string(toml, "data.toml");
  }

  std::string root(const std::string& sub) const { return (dir_ / sub).string(); }

  fs::path dir_;
};

// Same size, metainfo and samples (through the pipelines, on two random streams).
void expect_same_dataset(const Dataset& built, const Dataset& expected) {
  ASSERT_EQ(built.size(), expected.size());
  EXPECT_EQ(built.metainfo(), expected.metainfo());
  for (int64_t i = 0; i < expected.size(); ++i) {
    for (uint64_t seed : {0, 9}) {
      const RandomKey key{.seed = seed, .position = i};
      const Sample a = built.get(i, key);
      const Sample b = expected.get(i, key);
      EXPECT_EQ(a.label, b.label) << i;
      EXPECT_EQ(a.index, b.index) << i;
      EXPECT_EQ(a.meta, b.meta) << i;
      ASSERT_EQ(a.inputs.shape(), b.inputs.shape()) << i;
      EXPECT_EQ(a.inputs.to(DType::f64).to_vector<double>(),
                b.inputs.to(DType::f64).to_vector<double>())
          << i;
    }
  }
}

TEST_F(RegisteredDatasets, Readers) {
  Config cfg = config(R"(
[cifar10]
type = "CIFAR10"
data_root = "@ROOT@/cifar10"
indices = [0, 3, 7, 9]
metainfo = {classes = ["a", "b"], version = 2, note = "x", weights = [0.5, 1.5], ids = [1, 2]}
pipeline = [{type = "RandomCrop", size = 30, padding = 2},
            {type = "RandomFlip"},
            {type = "Normalize", mean = [125.0, 123.0, 114.0], std = [51.0, 51.0, 51.0]}]
[cifar10_test]
type = "CIFAR10"
data_root = "@ROOT@/cifar10"
split = "test"
test_mode = true
indices = -2
lazy_init = true
[cifar100]
type = "CIFAR100"
data_root = "@ROOT@/cifar100"
[mnist]
type = "MNIST"
data_root = "@ROOT@/mnist"
split = "test"
pipeline = [{type = "ToTensor"}]
[fashion]
type = "FashionMNIST"
data_root = "@ROOT@/mnist"
)");
  const Pipeline cifar_pipeline = {
      std::make_shared<RandomCrop>(RandomCropOptions{.size = {30}, .padding = {2}}),
      std::make_shared<RandomFlip>(),
      std::make_shared<Normalize>(
          NormalizeOptions{.mean = {125.0, 123.0, 114.0}, .std = {51.0, 51.0, 51.0}})};
  expect_same_dataset(*DATASETS.build(cfg["cifar10"]),
                      Cifar10Dataset({.data_root = root("cifar10"),
                                      .metainfo = {{"classes", std::vector<std::string>{"a", "b"}},
                                                   {"version", int64_t(2)},
                                                   {"note", std::string("x")},
                                                   {"weights", std::vector<double>{0.5, 1.5}},
                                                   {"ids", std::vector<int64_t>{1, 2}}},
                                      .pipeline = cifar_pipeline,
                                      .indices = std::vector<int64_t>{0, 3, 7, 9}}));

  auto lazy = std::dynamic_pointer_cast<Cifar10Dataset>(DATASETS.build(cfg["cifar10_test"]));
  ASSERT_TRUE(lazy);
  EXPECT_FALSE(lazy->fully_initialized());
  EXPECT_TRUE(lazy->options().test_mode);
  expect_same_dataset(*lazy, Cifar10Dataset({.data_root = root("cifar10"),
                                             .split = "test",
                                             .indices = int64_t(-2),
                                             .test_mode = true,
                                             .lazy_init = true}));

  auto cifar100 = DATASETS.build(cfg["cifar100"]);
  ASSERT_TRUE(std::dynamic_pointer_cast<Cifar100Dataset>(cifar100));
  expect_same_dataset(*cifar100, Cifar100Dataset({.data_root = root("cifar100")}));
  expect_same_dataset(*DATASETS.build(cfg["mnist"]),
                      MnistDataset({.data_root = root("mnist"),
                                    .split = "test",
                                    .pipeline = {std::make_shared<ToTensor>()}}));
  auto fashion = DATASETS.build(cfg["fashion"]);
  ASSERT_TRUE(std::dynamic_pointer_cast<FashionMnistDataset>(fashion));
  expect_same_dataset(*fashion, FashionMnistDataset({.data_root = root("mnist")}));
}

TEST_F(RegisteredDatasets, WrappersAndErrors) {
  Config cfg = config(R"(
[concat]
type = "ConcatDataset"
datasets = [{type = "MNIST", data_root = "@ROOT@/mnist"},
            {type = "MNIST", data_root = "@ROOT@/mnist", split = "test"}]
[repeat]
type = "RepeatDataset"
times = 3
dataset = {type = "MNIST", data_root = "@ROOT@/mnist", pipeline = [{type = "RandomFlip"}]}
[typo]
type = "MNIST"
data_root = "@ROOT@/mnist"
lazy_int = true
[bad_transform]
type = "MNIST"
data_root = "@ROOT@/mnist"
pipeline = [{type = "Flip"}]
)");
  auto mnist = [&](const std::string& split, Pipeline pipeline = {}) {
    return std::make_shared<MnistDataset>(
        DatasetOptions{.data_root = root("mnist"), .split = split, .pipeline = pipeline});
  };
  auto concat = DATASETS.build(cfg["concat"]);
  ASSERT_TRUE(std::dynamic_pointer_cast<ConcatDataset>(concat));
  expect_same_dataset(*concat, ConcatDataset({mnist("train"), mnist("test")}));
  auto repeat = DATASETS.build(cfg["repeat"]);
  ASSERT_TRUE(std::dynamic_pointer_cast<RepeatDataset>(repeat));
  expect_same_dataset(*repeat, RepeatDataset(mnist("train", {std::make_shared<RandomFlip>()}), 3));

  expect_error([&] { DATASETS.build(cfg["typo"]); },
               {"data.toml:13: unknown key 'lazy_int' in typo", "did you mean 'lazy_init'?",
                "valid keys: data_root, split, test_mode, indices, lazy_init, metainfo, pipeline"});
  expect_error(
      [&] { DATASETS.build(cfg["bad_transform"]); },
      {"data.toml:17: bad_transform.pipeline.0.type: 'Flip' is not registered in TRANSFORMS"});
}

// ---- samplers

class CountDataset : public Dataset {
 public:
  explicit CountDataset(int64_t n) : n_(n) {}
  int64_t size() const override { return n_; }
  Metainfo metainfo() const override { return {}; }
  void full_init() const override {}

 protected:
  Sample fetch(int64_t idx, const RandomKey&) const override { return {.index = idx}; }

 private:
  int64_t n_;
};

std::vector<int64_t> stream(Sampler& sampler, int64_t epoch, int64_t n) {
  sampler.set_epoch(epoch);
  std::vector<int64_t> out;
  for (int64_t p = 0; p < n; ++p) out.push_back(sampler.index_at(p).value_or(-1));
  return out;
}

void expect_same_sampler(Sampler& built, Sampler& expected) {
  EXPECT_EQ(built.size(), expected.size());
  EXPECT_EQ(built.endless(), expected.endless());
  EXPECT_EQ(built.seed(), expected.seed());
  for (int64_t epoch : {0, 1, 2}) {
    EXPECT_EQ(stream(built, epoch, 25), stream(expected, epoch, 25)) << epoch;
  }
}

TEST(Registrations, Samplers) {
  const CountDataset dataset(11);
  Config cfg = Config::from_string(R"(
default = {type = "DefaultSampler", shuffle = true, seed = 7, round_up = false}
sequential = {type = "DefaultSampler", shuffle = false}
infinite = {type = "InfiniteSampler", seed = 3}
infinite_sequential = {type = "InfiniteSampler", shuffle = false, seed = 3}
typo = {type = "InfiniteSampler", round_up = true}
)",
                                   "sampler.toml");
  DefaultSampler sampler(dataset, {.shuffle = true, .seed = 7, .round_up = false});
  expect_same_sampler(*DATA_SAMPLERS.build(cfg["default"], dataset), sampler);
  auto sequential = DATA_SAMPLERS.build(cfg["sequential"], dataset);
  DefaultSampler expected_sequential(dataset, {.shuffle = false, .seed = sequential->seed()});
  expect_same_sampler(*sequential, expected_sequential);
  InfiniteSampler infinite(dataset, {.seed = 3});
  expect_same_sampler(*DATA_SAMPLERS.build(cfg["infinite"], dataset), infinite);
  InfiniteSampler infinite_sequential(dataset, {.shuffle = false, .seed = 3});
  expect_same_sampler(*DATA_SAMPLERS.build(cfg["infinite_sequential"], dataset),
                      infinite_sequential);
  expect_error([&] { DATA_SAMPLERS.build(cfg["typo"], dataset); },
               {"sampler.toml:6: unknown key 'round_up' in typo", "valid keys: shuffle, seed"});
}

// ---- optimizer wrappers

struct Problem {
  Tensor x = (arange(0, 24, 1, TensorOptions(DType::f64)).reshape({8, 3}) * 0.37 - 4).tanh();
  Tensor y = (arange(0, 16, 1, TensorOptions(DType::f64)).reshape({8, 2}) * 0.61 - 5).tanh();
  Tensor loss(const Tensor& w, int64_t first) const {
    return (x.narrow(0, first, 2).matmul(w) - y.narrow(0, first, 2)).square().sum() * 40;
  }
  Tensor w0() const { return full({3, 2}, 0.5, TensorOptions(DType::f64)).requires_grad_(); }
};

std::unique_ptr<optim::Optimizer> sgd_over(const Tensor& w) {
  return std::make_unique<optim::SGD>(std::vector<Tensor>{w},
                                      optim::SGDOptions{.lr = 0.01, .momentum = 0.9});
}

// Four update_params calls on each; the weights and the wrappers' state must agree.
void expect_same_training(const Problem& p, OptimWrapper& built, const Tensor& wb,
                          OptimWrapper& expected, const Tensor& we) {
  EXPECT_EQ(built.accumulative_counts(), expected.accumulative_counts());
  for (int64_t i = 0; i < 4; ++i) {
    built.update_params(p.loss(wb, 2 * i));
    expected.update_params(p.loss(we, 2 * i));
    EXPECT_EQ(built.last_grad_norm(), expected.last_grad_norm()) << i;
  }
  EXPECT_EQ(wb.to_vector<double>(), we.to_vector<double>());
  EXPECT_EQ(built.state_dict().loss_scaler, expected.state_dict().loss_scaler);
}

std::shared_ptr<OptimWrapper> wrapper(const Config& cfg, const Tensor& w) {
  return OPTIM_WRAPPERS.build(cfg, sgd_over(w));
}

TEST(Registrations, OptimWrappers) {
  Problem p;
  Config cfg = Config::from_string(R"(
norm = {type = "OptimWrapper", accumulative_counts = 2, clip_grad = {max_norm = 1, norm_type = 2}}
value = {type = "OptimWrapper", clip_grad = {type = "value", clip_value = 0.05}}
amp_static = {type = "AmpOptimWrapper", loss_scale = 512.0, clip_grad = {max_norm = 0.5}}
amp_table = {type = "AmpOptimWrapper", loss_scale = {init_scale = 1024, growth_interval = 1}}
amp_bf16 = {type = "AmpOptimWrapper", dtype = "bfloat16"}
typo = {type = "AmpOptimWrapper", loss_scal = "dynamic"}
clip_typo = {type = "OptimWrapper", clip_grad = {max_norm = 1, clip_value = 2}}
static = {type = "AmpOptimWrapper", loss_scale = "static"}
)",
                                   "wrapper.toml");
  {
    Tensor wb = p.w0(), we = p.w0();
    auto built = wrapper(cfg["norm"], wb);
    EXPECT_EQ(built->optimizer().type_name(), "SGD");
    OptimWrapper expected(sgd_over(we),
                          {.accumulative_counts = 2, .clip_grad = ClipGradConfig{.max_norm = 1}});
    expect_same_training(p, *built, wb, expected, we);
  }
  {
    Tensor wb = p.w0(), we = p.w0();
    auto built = wrapper(cfg["value"], wb);
    OptimWrapper expected(sgd_over(we),
                          {.clip_grad = ClipGradConfig{.type = "value", .clip_value = 0.05}});
    expect_same_training(p, *built, wb, expected, we);
  }
  {
    Tensor wb = p.w0(), we = p.w0();
    auto built = std::dynamic_pointer_cast<AmpOptimWrapper>(wrapper(cfg["amp_static"], wb));
    ASSERT_TRUE(built);
    AmpOptimWrapper expected(sgd_over(we), {.loss_scale = 512.0},
                             {.clip_grad = ClipGradConfig{.max_norm = 0.5}});
    EXPECT_EQ(built->loss_scaler().get_scale(), 512.0);
    expect_same_training(p, *built, wb, expected, we);
  }
  {
    Tensor wb = p.w0(), we = p.w0();
    auto built = std::dynamic_pointer_cast<AmpOptimWrapper>(wrapper(cfg["amp_table"], wb));
    ASSERT_TRUE(built);
    AmpOptimWrapper expected(
        sgd_over(we), {.loss_scale = GradScalerOptions{.init_scale = 1024, .growth_interval = 1}});
    expect_same_training(p, *built, wb, expected, we);
    EXPECT_EQ(built->loss_scaler().get_scale(), 1024.0 * 16);  // grew after each of 4 steps
  }
  {
    Tensor wb = p.w0(), we = p.w0();
    auto built = std::dynamic_pointer_cast<AmpOptimWrapper>(wrapper(cfg["amp_bf16"], wb));
    ASSERT_TRUE(built);
    AmpOptimWrapper expected(sgd_over(we), {.dtype = "bfloat16"});
    EXPECT_EQ(built->cast_dtype(), DType::bf16);
    EXPECT_FALSE(built->loss_scaler().is_enabled());
    expect_same_training(p, *built, wb, expected, we);
  }

  Tensor w = p.w0();
  expect_error([&] { wrapper(cfg["typo"], w); },
               {"wrapper.toml:7: unknown key 'loss_scal' in typo", "did you mean 'loss_scale'?",
                "valid keys: accumulative_counts, clip_grad, loss_scale, dtype"});
  expect_error([&] { wrapper(cfg["clip_typo"], w); },
               {"unknown key 'clip_value' in clip_typo.clip_grad",
                "valid keys: type, max_norm, norm_type, error_if_nonfinite"});
  // The wrappers' own checks come back with the table's location.
  expect_error([&] { wrapper(cfg["static"], w); },
               {"wrapper.toml:9: static: building OPTIM_WRAPPERS 'AmpOptimWrapper'",
                "loss_scale must be \"dynamic\""});
}

TEST(Registrations, OptimWrapperKeepsOptimizerState) {
  // An Adam optimizer that already stepped keeps its type, groups and moments in the wrapper.
  Problem p;
  Tensor wb = p.w0(), we = p.w0();
  auto adam = [](const Tensor& w) {
    return std::make_unique<optim::Adam>(std::vector<Tensor>{w},
                                         optim::AdamOptions{.lr = 0.01, .amsgrad = true});
  };
  std::unique_ptr<optim::Optimizer> ob = adam(wb), oe = adam(we);
  for (auto [o, w] : {std::pair{ob.get(), wb}, std::pair{oe.get(), we}}) {
    p.loss(w, 0).backward();
    o->step();
    o->zero_grad();
  }
  auto built = OPTIM_WRAPPERS.build(Config::table({{"type", "OptimWrapper"}}), std::move(ob));
  OptimWrapper expected(std::move(oe));
  EXPECT_EQ(built->optimizer().type_name(), "Adam");
  EXPECT_EQ(built->param_groups()[0].options, expected.param_groups()[0].options);
  expect_same_training(p, *built, wb, expected, we);
}

// ---- parameter schedulers

std::shared_ptr<OptimWrapper> scheduled_sgd() {
  return std::make_shared<OptimWrapper>(std::make_unique<optim::SGD>(
      std::vector<Tensor>{zeros({2}).requires_grad_()},
      optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-2}));
}

// The scheduled option after each of 30 steps (metrics for ReduceOnPlateau).
std::vector<double> trajectory(ParamScheduler& s, OptimWrapper& w) {
  std::vector<double> out;
  for (int64_t i = 0; i < 30; ++i) {
    out.push_back(w.scheduled_groups()[0]->at(s.param_name()));
    if (s.need_val_args()) {
      s.step({{"loss", 1.0 + (i % 7 == 0 ? -0.5 / (i + 1) : 0.0)}});
    } else {
      s.step();
    }
  }
  return out;
}

struct SchedulerCase {
  std::string toml;
  std::function<std::unique_ptr<ParamScheduler>(OptimWrapper&)> make;
  std::function<bool(const ParamScheduler&)> is_built_class;
};

template <class S>
bool is(const ParamScheduler& s) {
  return dynamic_cast<const S*>(&s) != nullptr;
}

template <class S, class O>
SchedulerCase twin(std::string toml, O o) {
  return {std::move(toml), [o](OptimWrapper& w) { return std::make_unique<S>(w, o); }, is<S>};
}

template <class S, class O>
SchedulerCase generic(std::string toml, std::string param_name, O o) {
  return {std::move(toml),
          [o, param_name](OptimWrapper& w) { return std::make_unique<S>(w, param_name, o); },
          is<S>};
}

TEST(Registrations, ParamSchedulers) {
  const std::vector<SchedulerCase> cases = {
      twin<ConstantLR>("type = 'ConstantLR'\nfactor = 0.5\nend = 5\nby_epoch = false",
                       ConstantOptions{.factor = 0.5, .end = 5, .by_epoch = false}),
      twin<ConstantMomentum>("type = 'ConstantMomentum'\nbegin = 2\nend = 9",
                             ConstantOptions{.begin = 2, .end = 9}),
      generic<ConstantParamScheduler>(
          "type = 'ConstantParamScheduler'\nparam_name = 'weight_decay'\nfactor = 0.2",
          "weight_decay", ConstantOptions{.factor = 0.2}),
      twin<LinearLR>("type = 'LinearLR'\nstart_factor = 0.1\nend_factor = 0.9\nend = 10",
                     LinearOptions{.start_factor = 0.1, .end_factor = 0.9, .end = 10}),
      twin<LinearMomentum>("type = 'LinearMomentum'\nend = 6", LinearOptions{.end = 6}),
      generic<LinearParamScheduler>(
          "type = 'LinearParamScheduler'\nparam_name = 'weight_decay'\nend = 4\nlast_step = -1",
          "weight_decay", LinearOptions{.end = 4}),
      twin<StepLR>("type = 'StepLR'\nstep_size = 4\ngamma = 0.5\nbegin = 3",
                   StepOptions{.step_size = 4, .gamma = 0.5, .begin = 3}),
      twin<StepMomentum>("type = 'StepMomentum'\nstep_size = 5", StepOptions{.step_size = 5}),
      generic<StepParamScheduler>("type = 'StepParamScheduler'\nparam_name = 'lr'\nstep_size = 3",
                                  "lr", StepOptions{.step_size = 3}),
      twin<MultiStepLR>("type = 'MultiStepLR'\nmilestones = [3, 7, 7]\ngamma = 0.3",
                        MultiStepOptions{.milestones = {3, 7, 7}, .gamma = 0.3}),
      twin<MultiStepMomentum>("type = 'MultiStepMomentum'\nmilestones = [5]",
                              MultiStepOptions{.milestones = {5}}),
      generic<MultiStepParamScheduler>(
          "type = 'MultiStepParamScheduler'\nparam_name = 'weight_decay'\nmilestones = [2, 4]",
          "weight_decay", MultiStepOptions{.milestones = {2, 4}}),
      twin<ExponentialLR>("type = 'ExponentialLR'\ngamma = 0.9\nend = 20",
                          ExponentialOptions{.gamma = 0.9, .end = 20}),
      twin<ExponentialMomentum>("type = 'ExponentialMomentum'\ngamma = 0.99",
                                ExponentialOptions{.gamma = 0.99}),
      generic<ExponentialParamScheduler>(
          "type = 'ExponentialParamScheduler'\nparam_name = 'lr'\ngamma = 0.8", "lr",
          ExponentialOptions{.gamma = 0.8}),
      twin<CosineAnnealingLR>("type = 'CosineAnnealingLR'\nT_max = 12\neta_min = 0.001",
                              CosineAnnealingOptions{.T_max = 12, .eta_min = 0.001}),
      twin<CosineAnnealingMomentum>(
          "type = 'CosineAnnealingMomentum'\neta_min_ratio = 0.1\nend = 15",
          CosineAnnealingOptions{.eta_min_ratio = 0.1, .end = 15}),
      generic<CosineAnnealingParamScheduler>(
          "type = 'CosineAnnealingParamScheduler'\nparam_name = 'lr'\nend = 25", "lr",
          CosineAnnealingOptions{.end = 25}),
      twin<PolyLR>("type = 'PolyLR'\neta_min = 0.01\npower = 2.0\nend = 20",
                   PolyOptions{.eta_min = 0.01, .power = 2.0, .end = 20}),
      twin<PolyMomentum>("type = 'PolyMomentum'\nend = 10", PolyOptions{.end = 10}),
      generic<PolyParamScheduler>(
          "type = 'PolyParamScheduler'\nparam_name = 'weight_decay'\nend = 10\npower = 0.5",
          "weight_decay", PolyOptions{.power = 0.5, .end = 10}),
      twin<OneCycleLR>(
          "type = 'OneCycleLR'\neta_max = 1.0\ntotal_steps = 30\npct_start = 0.25\n"
          "anneal_strategy = 'linear'\ndiv_factor = 10\nfinal_div_factor = 100\nthree_phase = true",
          OneCycleOptions{.eta_max = {1.0},
                          .total_steps = 30,
                          .pct_start = 0.25,
                          .anneal_strategy = "linear",
                          .div_factor = 10,
                          .final_div_factor = 100,
                          .three_phase = true}),
      generic<OneCycleParamScheduler>(
          "type = 'OneCycleParamScheduler'\nparam_name = 'lr'\neta_max = [0.5]\nend = 30", "lr",
          OneCycleOptions{.eta_max = {0.5}, .end = 30}),
      twin<CosineRestartLR>(
          "type = 'CosineRestartLR'\nperiods = [5, 10, 15]\nrestart_weights = [1, 0.5, 0.25]\n"
          "eta_min = 0.01",
          CosineRestartOptions{
              .periods = {5, 10, 15}, .restart_weights = {1, 0.5, 0.25}, .eta_min = 0.01}),
      twin<CosineRestartMomentum>(
          "type = 'CosineRestartMomentum'\nperiods = [10, 20]\nrestart_weights = [1, 1]\n"
          "eta_min_ratio = 0.5",
          CosineRestartOptions{
              .periods = {10, 20}, .restart_weights = {1, 1}, .eta_min_ratio = 0.5}),
      generic<CosineRestartParamScheduler>(
          "type = 'CosineRestartParamScheduler'\nparam_name = 'lr'\nperiods = [30]\neta_min = 0",
          "lr", CosineRestartOptions{.periods = {30}, .eta_min = 0}),
      twin<ReduceOnPlateauLR>(
          "type = 'ReduceOnPlateauLR'\nmonitor = 'loss'\nrule = 'less'\nfactor = 0.5\n"
          "patience = 2\nthreshold = 0.01\nthreshold_rule = 'abs'\ncooldown = 1\n"
          "min_value = 0.001\neps = 1e-9",
          ReduceOnPlateauOptions{.factor = 0.5,
                                 .patience = 2,
                                 .threshold = 0.01,
                                 .threshold_rule = "abs",
                                 .cooldown = 1,
                                 .min_value = {0.001},
                                 .eps = 1e-9}),
      twin<ReduceOnPlateauMomentum>(
          "type = 'ReduceOnPlateauMomentum'\npatience = 1\nmin_value = [0.5]",
          ReduceOnPlateauOptions{.patience = 1, .min_value = {0.5}}),
      generic<ReduceOnPlateauParamScheduler>(
          "type = 'ReduceOnPlateauParamScheduler'\nparam_name = 'weight_decay'\npatience = 3",
          "weight_decay", ReduceOnPlateauOptions{.patience = 3}),
  };
  std::set<std::string> covered;
  for (const SchedulerCase& c : cases) {
    SCOPED_TRACE(c.toml);
    const Config cfg = Config::from_string(c.toml, "scheduler.toml");
    covered.insert(cfg.get<std::string>("type"));
    auto wb = scheduled_sgd(), we = scheduled_sgd();
    std::shared_ptr<ParamScheduler> built = PARAM_SCHEDULERS.build(cfg, wb);
    std::unique_ptr<ParamScheduler> expected = c.make(*we);
    EXPECT_TRUE(c.is_built_class(*built));
    EXPECT_EQ(built->param_name(), expected->param_name());
    EXPECT_EQ(built->begin(), expected->begin());
    EXPECT_EQ(built->end(), expected->end());
    EXPECT_EQ(built->by_epoch(), expected->by_epoch());
    EXPECT_EQ(trajectory(*built, *wb), trajectory(*expected, *we));
  }
  const std::vector<std::string> names = PARAM_SCHEDULERS.names();
  EXPECT_EQ(covered, std::set<std::string>(names.begin(), names.end()));
}

TEST(Registrations, ParamSchedulerKeepsItsWrapperAlive) {
  auto w = scheduled_sgd();
  OptimWrapper* raw = w.get();
  auto s =
      PARAM_SCHEDULERS.build(Config::table({{"type", "StepLR"}, {"step_size", 2}}), std::move(w));
  for (int i = 0; i < 4; ++i) s->step();
  EXPECT_NEAR(raw->get_lr().at("lr").at(0), 0.1 * 0.1 * 0.1, 1e-15);
}

TEST(Registrations, ConvertToIterBased) {
  const Config cfg = Config::from_string(
      "type = 'MultiStepLR'\nmilestones = [1, 3]\nbegin = 1\nend = 5\nconvert_to_iter_based = "
      "true",
      "convert.toml");
  auto wb = scheduled_sgd(), we = scheduled_sgd();
  auto built = build_param_scheduler(cfg, wb, 4);
  MultiStepLR expected(
      *we, build_iter_from_epoch(MultiStepOptions{.milestones = {1, 3}, .begin = 1, .end = 5}, 4));
  EXPECT_FALSE(built->by_epoch());
  EXPECT_EQ(built->begin(), 4);
  EXPECT_EQ(built->end(), 20);
  EXPECT_EQ(trajectory(*built, *wb), trajectory(expected, *we));
  // Without the epoch length, and on the one scheduler that only works by epoch.
  expect_error(
      [&] { PARAM_SCHEDULERS.build(cfg, scheduled_sgd()); },
      {"convert.toml:5: convert_to_iter_based: converting to iterations needs the epoch length",
       "build_param_scheduler(table, wrapper, epoch_length)"});
  expect_error(
      [&] {
        build_param_scheduler(
            Config::table({{"type", "ReduceOnPlateauLR"}, {"convert_to_iter_based", true}}),
            scheduled_sgd(), 4);
      },
      {"cannot be converted to iterations"});
  // A plain build after build_param_scheduler does not see its epoch length.
  expect_error([&] { PARAM_SCHEDULERS.build(cfg, scheduled_sgd()); },
               {"converting to iterations needs the epoch length"});
}

TEST(Registrations, ParamSchedulerErrors) {
  const Config cfg = Config::from_string(R"(
step = {type = "StepLR", step_size = 2, milestones = [3]}
generic = {type = "StepParamScheduler", step_size = 2}
)",
                                         "sched.toml");
  expect_error([&] { PARAM_SCHEDULERS.build(cfg["step"], scheduled_sgd()); },
               {"sched.toml:2: unknown key 'milestones' in step",
                "valid keys: step_size, gamma, begin, end, by_epoch, last_step, "
                "convert_to_iter_based"});
  expect_error([&] { PARAM_SCHEDULERS.build(cfg["generic"], scheduled_sgd()); },
               {"generic", "param_name"});
}

}  // namespace
}  // namespace anvil::engine
