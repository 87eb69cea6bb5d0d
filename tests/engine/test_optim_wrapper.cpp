// OptimWrapper, AmpOptimWrapper, OptimWrapperDict and the default constructor: accumulation
// against a big-batch step, MMEngine's last-group rule, clipping against hand-computed values,
// the loss scaler with injected overflows, autocast in optim_context (bf16 training, an f16
// overflow skipped), paramwise groups, state dicts.
#include <gtest/gtest.h>

#include <cmath>

#include "anvil.h"
#include "common/op_test.h"
#include "engine/optim/default_constructor.h"
#include "nn/modules/activation.h"
#include "nn/modules/container.h"
#include "nn/modules/conv.h"
#include "nn/modules/linear.h"
#include "nn/modules/normalization.h"
#include "nn/optim/adam.h"
#include "nn/optim/sgd.h"

namespace anvil::engine {
namespace {

using testing::expect_error;

Tensor f64(std::vector<double> v, const Shape& shape) {
  return tensor(v, shape);
}

std::unique_ptr<optim::SGD> sgd_over(std::vector<Tensor> params, double lr = 0.1,
                                     double momentum = 0) {
  return std::make_unique<optim::SGD>(std::move(params),
                                      optim::SGDOptions{.lr = lr, .momentum = momentum});
}

// Least squares on rows [first, first + n) of a fixed data set.
struct Problem {
  Tensor x = (arange(0, 24, 1, TensorOptions(DType::f64)).reshape({8, 3}) * 0.37 - 4).tanh();
  Tensor y = (arange(0, 16, 1, TensorOptions(DType::f64)).reshape({8, 2}) * 0.61 - 5).tanh();
  Tensor loss(const Tensor& w, int64_t first, int64_t n) const {
    return (x.narrow(0, first, n).matmul(w) - y.narrow(0, first, n)).square().mean();
  }
  Tensor w0() const { return full({3, 2}, 0.5, TensorOptions(DType::f64)).requires_grad_(); }
};

TEST(OptimWrapper, AccumulationEqualsBigBatch) {
  Problem p;
  Tensor big = p.w0();
  OptimWrapper one(sgd_over({big}));
  one.update_params(p.loss(big, 0, 8));

  Tensor acc = p.w0();
  OptimWrapper four(sgd_over({acc}), {.accumulative_counts = 4});
  for (int64_t i = 0; i < 4; ++i) {
    four.update_params(p.loss(acc, 2 * i, 2));
    EXPECT_EQ(four.inner_count(), i + 1);
    EXPECT_EQ(acc.grad().defined(), i < 3) << "zero_grad only after the update, at " << i;
  }
  EXPECT_TRUE(testing::all_close(acc, big, {1e-12, 1e-14}));
}

TEST(OptimWrapper, LastGroupRule) {
  // 10 iterations, groups of 4: iterations 8 and 9 form the last group and divide by 2.
  Problem p;
  Tensor w = p.w0();
  OptimWrapper wrapper(sgd_over({w}), {.accumulative_counts = 4});
  nn::Linear model(3, 2);
  wrapper.initialize_count_status(model, 0, 10);
  std::vector<bool> updates;
  for (int64_t i = 0; i < 10; ++i) {
    const Tensor one = ones({}, TensorOptions(DType::f64));
    EXPECT_DOUBLE_EQ(wrapper.scale_loss(one).item<double>(), i < 8 ? 0.25 : 0.5) << i;
    EXPECT_EQ(wrapper.should_sync(), i == 3 || i == 7 || i == 9) << i;
    if (i < 8) {
      wrapper.update_params(p.loss(w, i % 4 * 2, 2));
    } else {
      wrapper.update_params(p.loss(w, (i - 8) * 4, 4));
    }
    updates.push_back(wrapper.should_update());
  }
  EXPECT_EQ(updates, (std::vector<bool>{0, 0, 0, 1, 0, 0, 0, 1, 0, 1}));

  // The last group's step equals one step on the mean of its two micro-batches.
  Tensor a = p.w0(), b = p.w0();
  OptimWrapper last(sgd_over({a}), {.accumulative_counts = 4});
  last.initialize_count_status(model, 8, 10);
  last.update_params(p.loss(a, 0, 4));
  last.update_params(p.loss(a, 4, 4));
  OptimWrapper plain(sgd_over({b}));
  plain.update_params(p.loss(b, 0, 8));
  EXPECT_TRUE(testing::all_close(a, b, {1e-12, 1e-14}));

  // Without max_counts every group divides by accumulative_counts.
  OptimWrapper unknown(sgd_over({p.w0()}), {.accumulative_counts = 3});
  EXPECT_DOUBLE_EQ(unknown.scale_loss(ones({}, TensorOptions(DType::f64))).item<double>(), 1.0 / 3);
}

TEST(OptimWrapper, ClipByNorm) {
  Tensor a = zeros({2}, TensorOptions(DType::f64)).requires_grad_();
  Tensor b = zeros({1}, TensorOptions(DType::f64)).requires_grad_();
  std::vector<std::pair<std::string, double>> logged;
  OptimWrapper w(sgd_over({a, b}, 1.0), {.clip_grad = ClipGradConfig{.max_norm = 6.5}});
  w.set_scalar_sink([&](const std::string& k, double v) { logged.emplace_back(k, v); });
  a.set_grad(f64({3, -4}, {2}));
  b.set_grad(f64({12}, {1}));
  w.step();
  const double coef = 6.5 / (13 + 1e-6);
  EXPECT_DOUBLE_EQ(*w.last_grad_norm(), 13);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].first, "train/grad_norm");
  EXPECT_DOUBLE_EQ(logged[0].second, 13);
  EXPECT_NEAR(a.to_vector<double>()[0], -3 * coef, 1e-15);
  EXPECT_NEAR(a.to_vector<double>()[1], 4 * coef, 1e-15);
  EXPECT_NEAR(b.to_vector<double>()[0], -12 * coef, 1e-15);
}

TEST(OptimWrapper, ClipFunctions) {
  Tensor a = zeros({3}).requires_grad_(), b = zeros({2}).requires_grad_(), none = zeros({1});
  auto set = [&] {
    a.set_grad(tensor(std::vector<float>{1, -2, 3}, {3}));
    b.set_grad(tensor(std::vector<float>{-4, 0.5}, {2}));
  };
  set();
  EXPECT_DOUBLE_EQ(clip_grad_norm_({a, b, none}, 100, kInfNorm), 4);  // below: unchanged
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{1, -2, 3}));
  EXPECT_DOUBLE_EQ(clip_grad_norm_({a, b}, 2.1, 1), 10.5);
  EXPECT_NEAR(b.grad().to_vector<float>()[0], -4 * 2.1 / (10.5 + 1e-6), 1e-6);
  set();
  clip_grad_value_({a, b}, 1.5);
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{1, -1.5, 1.5}));
  EXPECT_EQ(b.grad().to_vector<float>(), (std::vector<float>{-1.5, 0.5}));
  EXPECT_DOUBLE_EQ(clip_grad_norm_({none}, 1), 0);
  b.set_grad(tensor(std::vector<float>{INFINITY, 0}, {2}));
  EXPECT_TRUE(std::isinf(clip_grad_norm_({a, b}, 1)));
  expect_error([&] { clip_grad_norm_({a, b}, 1, 2, true); }, {"clip_grad_norm_", "non-finite"});
}

TEST(OptimWrapper, ClipOnlyOnUpdateSteps) {
  Problem p;
  Tensor w = p.w0();
  OptimWrapper wrapper(
      sgd_over({w}),
      {.accumulative_counts = 2, .clip_grad = ClipGradConfig{.type = "value", .clip_value = 1e-3}});
  wrapper.update_params(p.loss(w, 0, 4));
  const std::vector<double> g = w.grad().to_vector<double>();
  EXPECT_GT(*std::max_element(g.begin(), g.end()), 1e-3);  // accumulated, not clipped yet
  EXPECT_FALSE(wrapper.last_grad_norm().has_value());
  expect_error(
      [] {
        OptimWrapper(sgd_over({zeros({1}).requires_grad_()}),
                     {.clip_grad = ClipGradConfig{.type = "abs"}});
      },
      {"\"norm\" or \"value\"", "abs"});
}

TEST(OptimWrapper, LrMomentumAndStateDict) {
  Problem p;
  std::vector<optim::ParamGroup> groups{{{p.w0()}, {}}, {{p.w0()}, {{"lr", 0.5}}}};
  OptimWrapper w(
      std::make_unique<optim::SGD>(groups, optim::SGDOptions{.lr = 0.1, .momentum = 0.9}));
  EXPECT_EQ(w.get_lr(), (GroupValues{{"base_lr", {0.1}}, {"lr", {0.1, 0.5}}}));
  EXPECT_EQ(w.get_momentum(), (GroupValues{{"momentum", {0.9, 0.9}}}));
  OptimWrapper adam(
      std::make_unique<optim::Adam>(std::vector<Tensor>{p.w0()}, optim::AdamOptions{.beta1 = 0.8}));
  EXPECT_EQ(adam.get_lr(), (GroupValues{{"lr", {1e-3}}}));
  EXPECT_EQ(adam.get_momentum(), (GroupValues{{"momentum", {0.8}}}));

  // Two steps, save, two more; a fresh wrapper loaded with the saved state does the same.
  Tensor a = p.w0(), b = p.w0();
  OptimWrapper first(sgd_over({a}, 0.1, 0.9)), second(sgd_over({b}, 0.1, 0.9));
  for (int i = 0; i < 2; ++i) first.update_params(p.loss(a, 0, 8));
  const OptimWrapperState state = first.state_dict();
  EXPECT_FALSE(state.base_param_settings.has_value());
  b.detach().copy_(a.detach());
  second.load_state_dict(state);
  for (int i = 0; i < 2; ++i) {
    first.update_params(p.loss(a, 0, 8));
    second.update_params(p.loss(b, 0, 8));
  }
  EXPECT_TRUE(testing::all_close(a, b, {0, 0}));
  const OptimWrapperState two = w.state_dict();
  ASSERT_TRUE(two.base_param_settings.has_value());
  EXPECT_DOUBLE_EQ(two.base_param_settings->at("lr"), 0.1);
}

TEST(AmpOptimWrapper, DynamicScaling) {
  Tensor w = zeros({3}, TensorOptions(DType::f32)).requires_grad_();
  const Tensor x = tensor(std::vector<float>{1, 2, 3}, {3});
  AmpOptimWrapper amp(sgd_over({w}, 0.5),
                      {.loss_scale = GradScalerOptions{.init_scale = 8, .growth_interval = 2}});
  EXPECT_EQ(amp.cast_dtype(), DType::f16);
  auto loss = [&] { return (w * x).sum(); };
  amp.backward(loss());
  EXPECT_EQ(w.grad().to_vector<float>(), (std::vector<float>{8, 16, 24}));  // scaled
  amp.step();
  amp.zero_grad();
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{-0.5, -1, -1.5}));  // unscaled update
  EXPECT_DOUBLE_EQ(amp.loss_scaler().get_scale(), 8);
  EXPECT_EQ(amp.loss_scaler().growth_tracker(), 1);
  amp.update_params(loss());
  EXPECT_DOUBLE_EQ(amp.loss_scaler().get_scale(), 16);  // two clean steps: growth
  EXPECT_EQ(amp.loss_scaler().growth_tracker(), 0);

  // An inf gradient: the step is skipped, the scale backs off.
  const std::vector<float> before = w.to_vector<float>();
  amp.backward(loss());
  w.mutable_grad().fill_(Scalar(INFINITY));
  amp.step();
  amp.zero_grad();
  EXPECT_EQ(w.to_vector<float>(), before);
  EXPECT_DOUBLE_EQ(amp.loss_scaler().get_scale(), 8);
  EXPECT_EQ(amp.loss_scaler().growth_tracker(), 0);
  // A nan too.
  amp.backward(loss());
  w.mutable_grad().fill_(Scalar(NAN));
  amp.step();
  amp.zero_grad();
  EXPECT_EQ(w.to_vector<float>(), before);
  EXPECT_DOUBLE_EQ(amp.loss_scaler().get_scale(), 4);

  // State dict round trip (torch's GradScaler keys).
  const OptimWrapperState state = amp.state_dict();
  ASSERT_TRUE(state.loss_scaler.has_value());
  EXPECT_DOUBLE_EQ(state.loss_scaler->at("scale"), 4);
  EXPECT_DOUBLE_EQ(state.loss_scaler->at("growth_interval"), 2);
  AmpOptimWrapper other(sgd_over({zeros({3}).requires_grad_()}, 0.5));
  other.load_state_dict(state);
  EXPECT_DOUBLE_EQ(other.loss_scaler().get_scale(), 4);
}

TEST(AmpOptimWrapper, ClipUnscalesFirst) {
  Tensor w = zeros({2}, TensorOptions(DType::f32)).requires_grad_();
  const Tensor x = tensor(std::vector<float>{3, 4}, {2});
  AmpOptimWrapper amp(sgd_over({w}, 1.0), {.loss_scale = 1024.0},
                      {.clip_grad = ClipGradConfig{.max_norm = 100}});
  amp.update_params((w * x).sum());
  EXPECT_DOUBLE_EQ(*amp.last_grad_norm(), 5);  // of the unscaled gradients
  // Static scale: re-imposed after an overflow.
  amp.backward((w * x).sum());
  w.mutable_grad().fill_(Scalar(INFINITY));
  amp.step();
  EXPECT_DOUBLE_EQ(amp.loss_scaler().get_scale(), 1024);
  expect_error(
      [] { AmpOptimWrapper(sgd_over({zeros({1}).requires_grad_()}), {.dtype = "float8"}); },
      {"float16", "bfloat16", "float8"});
  expect_error(
      [] {
        AmpOptimWrapper(sgd_over({zeros({1}).requires_grad_()}),
                        {.loss_scale = std::string("static")});
      },
      {"loss_scale", "static"});
}

TEST(AmpOptimWrapper, Bfloat16DoesNotScale) {
  Tensor w = zeros({2}, TensorOptions(DType::f32)).requires_grad_();
  const Tensor x = tensor(std::vector<float>{3, 4}, {2});
  AmpOptimWrapper amp(sgd_over({w}, 1.0), {.dtype = "bfloat16"});
  EXPECT_EQ(amp.cast_dtype(), DType::bf16);
  EXPECT_FALSE(amp.loss_scaler().is_enabled());
  EXPECT_DOUBLE_EQ(amp.loss_scaler().get_scale(), 1);
  amp.update_params((w * x).sum());
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{-3, -4}));
  EXPECT_TRUE(amp.state_dict().loss_scaler->empty());
}

// A tiny conv + MLP classifier on 3x8x8 images, 5 classes.
std::shared_ptr<nn::Sequential> conv_mlp() {
  manual_seed(7);
  return std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
      std::make_shared<nn::Conv2d>(3, 4, 3, nn::Conv2dOptions{.stride = 2, .padding = 1}),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Linear>(64, 16), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(16, 5)});
}

struct Batch {
  Tensor x = testing::random_tensor({8, 3, 8, 8}, DType::f32, -1, 1, 99);
  Tensor y = tensor<int64_t>({0, 1, 2, 3, 4, 0, 1, 2});
};

TEST(AmpOptimWrapper, OptimContextAutocastsTheForwardPass) {
  auto model = conv_mlp();
  const Batch b;
  AmpOptimWrapper amp(sgd_over(model->parameters()), {.dtype = "bfloat16"});
  EXPECT_EQ(amp.autocast_dtype(DeviceType::cpu), DType::bf16);
  Tensor logits, loss;
  {
    const OptimContext context = amp.optim_context(*model);
    EXPECT_TRUE(AutocastMode::is_enabled(DeviceType::cpu));
    EXPECT_FALSE(AutocastMode::is_enabled(DeviceType::cuda));
    logits = model->forward(b.x);
    loss = cross_entropy(logits, b.y);
  }
  EXPECT_FALSE(AutocastMode::is_enabled(DeviceType::cpu));
  EXPECT_EQ(logits.dtype(), DType::bf16);
  EXPECT_EQ(loss.dtype(), DType::f32);
  EXPECT_EQ(model->forward(b.x).dtype(), DType::f32);
  // float16 autocasts to bf16 on the CPU (and to f16 on CUDA).
  AmpOptimWrapper fp16(sgd_over(model->parameters()));
  EXPECT_EQ(fp16.autocast_dtype(DeviceType::cpu), DType::bf16);
  EXPECT_EQ(fp16.autocast_dtype(DeviceType::cuda), DType::f16);
  {
    const OptimContext context = fp16.optim_context(*model);
    EXPECT_EQ(AutocastMode::dtype(DeviceType::cpu), DType::bf16);
  }
}

TEST(AmpOptimWrapper, Bfloat16TrainingLowersTheLoss) {
  auto model = conv_mlp();
  const Batch b;
  AmpOptimWrapper amp(sgd_over(model->parameters(), 0.2, 0.9), {.dtype = "bfloat16"});
  std::vector<double> losses;
  for (int step = 0; step < 20; ++step) {
    Tensor loss;
    {
      const OptimContext context = amp.optim_context(*model);
      loss = cross_entropy(model->forward(b.x), b.y);
    }
    losses.push_back(loss.item<double>());
    amp.update_params(loss);
  }
  for (const Tensor& p : model->parameters()) EXPECT_EQ(p.dtype(), DType::f32);
  EXPECT_LT(losses.back(), 0.5 * losses.front()) << losses.front() << " -> " << losses.back();
}

TEST(AmpOptimWrapper, Float16OverflowSkipsTheStepUnderAutocast) {
  auto model = conv_mlp();
  const Batch b;
  // 2^20: the loss gradient reaching the last linear layer exceeds f16's range (65504).
  AmpOptimWrapper amp(sgd_over(model->parameters(), 0.1),
                      {.loss_scale = GradScalerOptions{.init_scale = 1 << 20}});
  auto step = [&](std::optional<DType> dtype) {
    Tensor loss;
    {
      const OptimContext context = amp.optim_context(*model);
      // What the wrapper enters on CUDA; the CPU's own autocast is bf16.
      std::optional<AutocastGuard> f16;
      if (dtype) f16.emplace(DeviceType::cpu, *dtype);
      loss = cross_entropy(model->forward(b.x), b.y);
    }
    amp.update_params(loss);
  };
  const Tensor w = model->parameters().back();
  const std::vector<float> before = w.to_vector<float>();
  step(DType::f16);
  EXPECT_DOUBLE_EQ(amp.loss_scaler().get_scale(), 1 << 19);  // backed off
  EXPECT_EQ(w.to_vector<float>(), before);                   // skipped
  // bf16 has f32's range: the same scale steps.
  step(std::nullopt);
  EXPECT_DOUBLE_EQ(amp.loss_scaler().get_scale(), 1 << 19);
  EXPECT_NE(w.to_vector<float>(), before);
}

TEST(OptimWrapperDict, PerWrapper) {
  std::map<std::string, std::unique_ptr<OptimWrapper>> m;
  Tensor g = zeros({2}).requires_grad_(), d = zeros({2}).requires_grad_();
  m["generator"] = std::make_unique<OptimWrapper>(sgd_over({g}, 0.1, 0.5));
  m["discriminator"] = std::make_unique<OptimWrapper>(
      std::make_unique<optim::Adam>(std::vector<Tensor>{d}, optim::AdamOptions{.lr = 0.2}));
  OptimWrapperDict dict(std::move(m));
  EXPECT_EQ(dict.get_lr(), (GroupValues{{"discriminator.lr", {0.2}}, {"generator.lr", {0.1}}}));
  EXPECT_EQ(dict.get_momentum(),
            (GroupValues{{"discriminator.momentum", {0.9}}, {"generator.momentum", {0.5}}}));
  EXPECT_EQ(dict.keys(), (std::vector<std::string>{"discriminator", "generator"}));
  EXPECT_TRUE(dict.contains("generator"));
  EXPECT_EQ(dict.size(), 2u);
  expect_error([&] { dict.update_params(g.sum()); },
               {"OptimWrapperDict.update_params", "each wrapper"});
  expect_error([&] { dict.step(); }, {"OptimWrapperDict.step"});
  expect_error([&] { dict["critic"]; }, {"no wrapper \"critic\"", "discriminator"});
  g.sum().backward();
  d.sum().backward();
  dict["generator"].step();
  dict.zero_grad();
  EXPECT_FALSE(g.grad().defined());
  EXPECT_FALSE(d.grad().defined());
  const auto state = dict.state_dict();
  EXPECT_EQ(state.size(), 2u);
  EXPECT_EQ(state.at("generator").optimizer.state.size(), 1u);  // its momentum buffer
  dict.load_state_dict(state);
}

struct Net : nn::Module {
  std::shared_ptr<nn::Conv2d> conv = register_module("conv", std::make_shared<nn::Conv2d>(3, 4, 3));
  std::shared_ptr<nn::Conv2d> dw =
      register_module("dw", std::make_shared<nn::Conv2d>(4, 4, 3, nn::Conv2dOptions{.groups = 4}));
  std::shared_ptr<nn::BatchNorm2d> bn = register_module("bn", std::make_shared<nn::BatchNorm2d>(4));
  std::shared_ptr<nn::Linear> fc = register_module("fc", std::make_shared<nn::Linear>(4, 2));
};

TEST(DefaultOptimWrapperConstructor, ParamwiseGroups) {
  Net net;
  const OptimWrapperConfig cfg{
      .optimizer = {.type = "SGD",
                    .options = {{"lr", 0.1}, {"momentum", 0.9}, {"weight_decay", 1e-4}}},
      .paramwise_cfg =
          ParamwiseCfg{.bias_lr_mult = 2,
                       .bias_decay_mult = 0.5,
                       .norm_decay_mult = 0,
                       .dwconv_decay_mult = 0.1,
                       .custom_keys = {{"fc", {{"lr_mult", 0.1}}},
                                       {"fc.weight", {{"lr_mult", 0.01}, {"decay_mult", 0}}}}}};
  std::unique_ptr<OptimWrapper> w = build_optim_wrapper(net, cfg);
  struct Expect {
    std::string name;
    double lr, wd;
  };
  const std::vector<Expect> expected = {{"conv.weight", 0.1, 1e-4}, {"conv.bias", 0.2, 0.5e-4},
                                        {"dw.weight", 0.1, 1e-5},   {"dw.bias", 0.2, 0.5e-4},
                                        {"bn.weight", 0.1, 0},      {"bn.bias", 0.1, 0},
                                        {"fc.weight", 0.001, 0},    {"fc.bias", 0.01, 1e-4}};
  const nn::NamedTensors params = net.named_parameters();
  std::vector<optim::ParamGroup>& groups = w->param_groups();
  ASSERT_EQ(groups.size(), expected.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    ASSERT_EQ(groups[i].params.size(), 1u);
    EXPECT_EQ(params[i].first, expected[i].name);
    EXPECT_EQ(&groups[i].params[0].impl(), &params[i].second.impl()) << expected[i].name;
    EXPECT_DOUBLE_EQ(groups[i].at("lr"), expected[i].lr) << expected[i].name;
    EXPECT_DOUBLE_EQ(groups[i].at("weight_decay"), expected[i].wd) << expected[i].name;
    EXPECT_DOUBLE_EQ(groups[i].at("momentum"), 0.9);
  }
  // The custom entries travel into the group, as MMEngine copies them.
  EXPECT_DOUBLE_EQ(groups[6].at("lr_mult"), 0.01);
  EXPECT_DOUBLE_EQ(groups[7].at("lr_mult"), 0.1);
  EXPECT_EQ(w->get_lr().at("base_lr"), (std::vector<double>{0.1}));

  // flat_decay_mult, a frozen parameter, a top-level ".weight" key.
  net.conv->weight.requires_grad_(false);
  const std::vector<optim::ParamGroup> flat = paramwise_groups(
      net, {.flat_decay_mult = 0.2, .custom_keys = {{"dw.weight", {{"lr_mult", 3}}}}}, 1, 1);
  ASSERT_EQ(flat.size(), 7u);
  EXPECT_DOUBLE_EQ(flat[0].options.at("weight_decay"), 0.2);  // conv.bias
  EXPECT_DOUBLE_EQ(flat[1].options.at("lr"), 3);              // dw.weight
  EXPECT_DOUBLE_EQ(flat[1].options.at("weight_decay"), 1);    // base_wd × decay_mult 1
  EXPECT_FALSE(flat[5].options.count("weight_decay"));        // fc.weight: 2-D

  expect_error([&] { paramwise_groups(net, {.norm_decay_mult = 0}, 0.1, std::nullopt); },
               {"base_wd should not be None"});
  expect_error(
      [&] {
        paramwise_groups(net, {.custom_keys = {{"fc", {{"decay_mult", 0}}}}}, 0.1, std::nullopt);
      },
      {"custom_keys[\"fc\"]", "decay_mult"});
}

TEST(DefaultOptimWrapperConstructor, BuildsOptimizersAndWrappers) {
  Net net;
  std::unique_ptr<OptimWrapper> plain = build_optim_wrapper(net, {});
  EXPECT_EQ(plain->optimizer().type_name(), "SGD");
  EXPECT_EQ(plain->param_groups().size(), 1u);
  EXPECT_EQ(plain->param_groups()[0].params.size(), net.parameters().size());

  std::unique_ptr<OptimWrapper> amp = build_optim_wrapper(
      net, {.type = "AmpOptimWrapper",
            .optimizer = {.type = "AdamW", .options = {{"lr", 0.01}, {"beta1", 0.8}}},
            .accumulative_counts = 2,
            .dtype = "bfloat16"});
  ASSERT_NE(dynamic_cast<AmpOptimWrapper*>(amp.get()), nullptr);
  EXPECT_EQ(amp->optimizer().type_name(), "AdamW");
  EXPECT_EQ(amp->accumulative_counts(), 2);
  EXPECT_DOUBLE_EQ(amp->param_groups()[0].at("beta1"), 0.8);
  EXPECT_DOUBLE_EQ(amp->param_groups()[0].at("weight_decay"), 1e-2);  // AdamW's default

  expect_error([&] { build_optim_wrapper(net, {.optimizer = {.type = "Lion"}}); },
               {"unknown optimizer type \"Lion\"", "AdamW"});
  expect_error(
      [&] {
        build_optim_wrapper(net, {.optimizer = {.options = {{"betas", 0.9}}}});
      },
      {"SGD", "unknown option \"betas\"", "momentum"});
  expect_error([&] { build_optim_wrapper(net, {.type = "ApexOptimWrapper"}); },
               {"unknown type \"ApexOptimWrapper\""});
}

TEST(DefaultOptimWrapperConstructor, AutoScaleLr) {
  std::vector<optim::ParamGroup> groups{{{zeros({1}).requires_grad_()}, {}},
                                        {{zeros({1}).requires_grad_()}, {{"lr", 0.5}}}};
  OptimWrapper w(std::make_unique<optim::SGD>(groups, optim::SGDOptions{.lr = 0.1}));
  EXPECT_FALSE(auto_scale_lr(w, {.base_batch_size = 256}, 64).has_value());
  EXPECT_DOUBLE_EQ(*auto_scale_lr(w, {.enable = true, .base_batch_size = 256}, 64), 0.25);
  EXPECT_EQ(w.get_lr(), (GroupValues{{"base_lr", {0.025}}, {"lr", {0.025, 0.125}}}));
}

}  // namespace
}  // namespace anvil::engine
