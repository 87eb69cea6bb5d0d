// MMEngine's init_cfg and init_weights() (nn/init.h, Module::init_weights): each initializer's
// values and statistics, layer matching, overrides, order, Pretrained, provenance, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "anvil.h"
#include "common/op_test.h"
#include "nn/nn.h"

namespace anvil {
namespace {

using nn::init::InitCfg;
using testing::expect_error;

double mean_of(const Tensor& t) {
  return t.detach().to(DType::f64).mean().item<double>();
}
double std_of(const Tensor& t) {
  const Tensor d = t.detach().to(DType::f64);
  return std::sqrt((d - d.mean()).square().mean().item<double>());
}
double min_of(const Tensor& t) {
  return amin(t.detach()).item<double>();
}
double max_of(const Tensor& t) {
  return amax(t.detach()).item<double>();
}

void expect_same_state(const nn::Module& actual, const nn::Module& expected) {
  const nn::NamedTensors a = actual.state_dict(), e = expected.state_dict();
  ASSERT_EQ(a.size(), e.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, e[i].first);
    EXPECT_EQ(max_of(abs(a[i].second.to(DType::f64) - e[i].second.to(DType::f64))), 0.0)
        << a[i].first;
  }
}

// A layer initialised by one entry through init_weights().
template <class Layer>
std::shared_ptr<Layer> initialised(std::shared_ptr<Layer> layer, InitCfg cfg) {
  layer->init_cfg = {std::move(cfg)};
  layer->init_weights();
  return layer;
}

TEST(InitCfg, ConstantNormalUniformAndBias) {
  manual_seed(0);
  auto fc = initialised(std::make_shared<nn::Linear>(4, 3),
                        {.type = "Constant", .layer = {"Linear"}, .bias = 2, .val = 3});
  EXPECT_EQ(min_of(fc->weight), 3.0);
  EXPECT_EQ(max_of(fc->weight), 3.0);
  EXPECT_EQ(min_of(fc->bias), 2.0);

  auto normal = initialised(std::make_shared<nn::Linear>(400, 400),
                            {.type = "Normal", .layer = {"Linear"}, .mean = 1, .std = 0.02});
  EXPECT_NEAR(mean_of(normal->weight), 1.0, 2e-4);
  EXPECT_NEAR(std_of(normal->weight), 0.02, 2e-4);
  EXPECT_EQ(max_of(abs(normal->bias)), 0.0);  // bias defaults to 0

  auto uniform = initialised(std::make_shared<nn::Linear>(400, 400),
                             {.type = "Uniform", .layer = {"Linear"}, .a = -1, .b = 2});
  EXPECT_GE(min_of(uniform->weight), -1.0);
  EXPECT_LE(max_of(uniform->weight), 2.0);
  EXPECT_NEAR(mean_of(uniform->weight), 0.5, 0.01);
  EXPECT_NEAR(std_of(uniform->weight), 3 / std::sqrt(12.0), 0.01);

  // bias_prob: the bias whose sigmoid is p.
  auto prob = initialised(std::make_shared<nn::Linear>(4, 3),
                          {.type = "Normal", .layer = {"Linear"}, .bias_prob = 0.01, .std = 0.01});
  EXPECT_NEAR(mean_of(prob->bias), -std::log(99.0), 1e-6);
}

TEST(InitCfg, TruncNormalStaysInItsInterval) {
  manual_seed(1);
  auto fc = initialised(std::make_shared<nn::Linear>(400, 400),
                        {.type = "TruncNormal", .layer = {"Linear"}, .std = 1, .a = -1, .b = 1});
  EXPECT_GE(min_of(fc->weight), -1.0);
  EXPECT_LE(max_of(fc->weight), 1.0);
  // The standard normal truncated to [-1, 1]: variance 1 - 2 phi(1) / (Phi(1) - Phi(-1)).
  const double phi1 = std::exp(-0.5) / std::sqrt(2 * M_PI);
  EXPECT_NEAR(std_of(fc->weight), std::sqrt(1 - 2 * phi1 / std::erf(1 / std::sqrt(2.0))), 3e-3);
  EXPECT_NEAR(mean_of(fc->weight), 0.0, 3e-3);
}

TEST(InitCfg, XavierKaimingAndCaffe2XavierFollowTheirFans) {
  manual_seed(2);
  // Linear [out 200, in 100]: fan_in 100, fan_out 200.
  auto xu =
      initialised(std::make_shared<nn::Linear>(100, 200),
                  {.type = "Xavier", .layer = {"Linear"}, .gain = 2, .distribution = "uniform"});
  const double bound = 2 * std::sqrt(6.0 / 300);
  EXPECT_LE(max_of(abs(xu->weight)), bound);
  EXPECT_NEAR(std_of(xu->weight), bound / std::sqrt(3.0), 3e-3);
  auto xn =
      initialised(std::make_shared<nn::Linear>(100, 200), {.type = "Xavier", .layer = {"Linear"}});
  EXPECT_NEAR(std_of(xn->weight), std::sqrt(2.0 / 300), 1e-3);

  // Conv2d(64, 128, 3): fan_in 576, fan_out 1152. Kaiming's defaults: fan_out, relu, normal.
  auto kn = initialised(std::make_shared<nn::Conv2d>(64, 128, 3),
                        {.type = "Kaiming", .layer = {"Conv2d"}});
  EXPECT_NEAR(std_of(kn->weight), std::sqrt(2.0 / 1152), 3e-4);
  EXPECT_EQ(max_of(abs(kn->bias)), 0.0);
  auto kf = initialised(std::make_shared<nn::Conv2d>(64, 128, 3), {.type = "Kaiming",
                                                                   .layer = {"Conv2d"},
                                                                   .a = 0.2,
                                                                   .mode = "fan_in",
                                                                   .nonlinearity = "leaky_relu",
                                                                   .distribution = "uniform"});
  const double kaiming_bound = std::sqrt(3.0) * std::sqrt(2.0 / 1.04) / std::sqrt(576.0);
  EXPECT_LE(max_of(abs(kf->weight)), kaiming_bound);
  EXPECT_GT(max_of(abs(kf->weight)), 0.99 * kaiming_bound);
  // Caffe2Xavier: Kaiming a=1 (gain 1), fan_in, uniform.
  auto c2 = initialised(std::make_shared<nn::Conv2d>(64, 128, 3),
                        {.type = "Caffe2Xavier", .layer = {"Conv2d"}, .bias = 0.5});
  EXPECT_LE(max_of(abs(c2->weight)), std::sqrt(3.0 / 576));
  EXPECT_NEAR(std_of(c2->weight), 1 / std::sqrt(576.0), 3e-4);
  EXPECT_EQ(min_of(c2->bias), 0.5);
}

std::shared_ptr<nn::Sequential> mixed_net() {
  return std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
      std::make_shared<nn::Conv2d>(2, 2, 1), std::make_shared<nn::BatchNorm2d>(2),
      std::make_shared<nn::Linear>(2, 2), std::make_shared<nn::ConvTranspose2d>(2, 2, 1)});
}

// Which layers of mixed_net() an entry set to 7.
std::vector<bool> touched(const std::vector<std::string>& layer) {
  auto net = mixed_net();
  net->init_cfg = {{.type = "Constant", .layer = layer, .val = 7}};
  net->init_weights();
  std::vector<bool> out;
  for (const auto& [name, m] : net->named_children()) {
    out.push_back(min_of(m->named_parameters().front().second) == 7.0);
  }
  return out;
}

TEST(InitCfg, LayerMatchesClassNamesAndPyTorchDirectBases) {
  EXPECT_EQ(touched({"Conv2d"}), (std::vector<bool>{true, false, false, false}));
  // "_ConvNd" is Conv2d's PyTorch base, not ConvTranspose2d's ("_ConvTransposeNd").
  EXPECT_EQ(touched({"_ConvNd"}), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(touched({"_ConvTransposeNd", "_BatchNorm"}),
            (std::vector<bool>{false, true, false, true}));
  EXPECT_EQ(touched({"Linear", "BatchNorm2d"}), (std::vector<bool>{false, true, true, false}));
  // Names match exactly; no layer initialises nothing.
  EXPECT_EQ(touched({"Conv"}), (std::vector<bool>{false, false, false, false}));
  EXPECT_EQ(touched({}), (std::vector<bool>{false, false, false, false}));
}

// MMEngine's docstring example: feat, reg, cls convolutions.
struct FooNet : nn::Module {
  std::shared_ptr<nn::Conv2d> feat = register_module("feat", std::make_shared<nn::Conv2d>(3, 4, 3));
  std::shared_ptr<nn::Conv2d> reg = register_module("reg", std::make_shared<nn::Conv2d>(4, 2, 3));
  std::shared_ptr<nn::Conv2d> cls = register_module("cls", std::make_shared<nn::Conv2d>(4, 1, 3));
};

TEST(InitCfg, OverrideAppliesToTheNamedChildWithItsOwnOrInheritedArguments) {
  auto net = std::make_shared<FooNet>();
  net->init_cfg = {{.type = "Constant",
                    .layer = {"Conv2d"},
                    .override = {{.type = "Constant", .name = "reg", .bias = 4, .val = 3}},
                    .bias = 2,
                    .val = 1}};
  net->init_weights();
  EXPECT_EQ(min_of(net->feat->weight), 1.0);
  EXPECT_EQ(min_of(net->cls->bias), 2.0);
  EXPECT_EQ(min_of(net->reg->weight), 3.0);
  EXPECT_EQ(min_of(net->reg->bias), 4.0);

  // Only a name: the parent's type and arguments, on the whole child (the parent's layer
  // matches nothing here).
  auto inherit = std::make_shared<FooNet>();
  inherit->init_cfg = {{.type = "Constant",
                        .layer = {"Linear"},
                        .override = {{.name = "cls"}},
                        .bias = 2,
                        .val = 5}};
  inherit->init_weights();
  EXPECT_EQ(min_of(inherit->cls->weight), 5.0);
  EXPECT_EQ(min_of(inherit->cls->bias), 2.0);
  EXPECT_NE(min_of(inherit->feat->weight), 5.0);
}

TEST(InitCfg, ChildEntriesOverrideTheParentsAndPretrainedComesLast) {
  auto inner = mixed_net();
  inner->init_cfg = {{.type = "Constant", .layer = {"Conv2d"}, .val = 5}};
  auto outer = std::make_shared<nn::Sequential>(
      std::vector<nn::ModulePtr>{std::make_shared<nn::Conv2d>(2, 2, 1), inner});
  outer->init_cfg = {{.type = "Constant", .layer = {"Conv2d"}, .val = 1}};
  outer->init_weights();
  EXPECT_EQ(min_of(std::dynamic_pointer_cast<nn::Conv2d>((*outer)[0])->weight), 1.0);
  EXPECT_EQ(min_of(std::dynamic_pointer_cast<nn::Conv2d>((*inner)[0])->weight), 5.0);
  EXPECT_TRUE(outer->is_init());
  EXPECT_TRUE(inner->is_init());

  // Once only: a second call changes nothing and says so.
  nn::init::constant_(std::dynamic_pointer_cast<nn::Conv2d>((*outer)[0])->weight, 9);
  outer->init_weights();
  EXPECT_EQ(min_of(std::dynamic_pointer_cast<nn::Conv2d>((*outer)[0])->weight), 9.0);
  EXPECT_NE(outer->init_info().find("has been called more than once"), std::string::npos);

  // Pretrained is applied after the other entries and the children, whatever its position.
  const std::string path =
      (std::filesystem::temp_directory_path() / "anvil_init_cfg_order.safetensors").string();
  auto source = mixed_net();
  nn::save_safetensors(path, source->state_dict());
  auto target = mixed_net();
  target->init_cfg = {{.type = "Pretrained", .checkpoint = path},
                      {.type = "Constant", .layer = {"Conv2d", "Linear"}, .val = 3}};
  std::dynamic_pointer_cast<nn::Linear>((*target)[2])->init_cfg = {
      {.type = "Constant", .layer = {"Linear"}, .val = 4}};
  target->init_weights();
  expect_same_state(*target, *source);
  EXPECT_NE(target->init_info().find("PretrainedInit: load from " + path), std::string::npos);
  std::filesystem::remove(path);
}

TEST(InitCfg, PretrainedWithPrefixLoadsThatPart) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "anvil_init_cfg_prefix.safetensors").string();
  auto detector = std::make_shared<nn::ModuleDict>();
  detector->insert("backbone", mixed_net());
  detector->insert("head", std::make_shared<nn::Linear>(2, 3));
  nn::save_safetensors(path, detector->state_dict());

  auto backbone = mixed_net();
  backbone->init_cfg = {{.type = "Pretrained", .checkpoint = path, .prefix = "backbone."}};
  backbone->init_weights();
  expect_same_state(*backbone, *detector->at("backbone"));
  EXPECT_NE(backbone->init_info().find("load backbone. in model from"), std::string::npos);

  // Without the trailing dot too; a prefix not in the checkpoint is an error.
  auto again = mixed_net();
  nn::init::initialize(*again, {{.type = "Pretrained", .checkpoint = path, .prefix = "backbone"}});
  expect_same_state(*again, *detector->at("backbone"));
  expect_error(
      [&] {
        nn::init::initialize(*again,
                             {{.type = "Pretrained", .checkpoint = path, .prefix = "neck"}});
      },
      {"Pretrained", "neck.", "not in the checkpoint"});
  std::filesystem::remove(path);
}

struct SelfInitialising : nn::Module {
  std::shared_ptr<nn::Linear> fc = register_module("fc", std::make_shared<nn::Linear>(2, 2));
  void init_weights() override { nn::init::constant_(fc->weight, 0.25); }
};

TEST(InitCfg, InfoRecordsWhatInitialisedEachParameter) {
  auto net = std::make_shared<nn::Sequential>(
      std::vector<nn::ModulePtr>{std::make_shared<FooNet>(), std::make_shared<SelfInitialising>()});
  net->init_cfg = {{.type = "Normal",
                    .layer = {"Conv2d"},
                    .override = {{.type = "Constant", .name = "1", .bias = 1, .val = 3}},
                    .std = 0.5}};
  net->init_weights();
  const std::string& info = net->init_info();
  EXPECT_EQ(info.rfind("Name of parameter - Initialization information\n", 0), 0u) << info;
  EXPECT_NE(info.find("\n0.feat.weight - [4,3,3,3]: \nNormalInit: mean=0, std=0.5, bias=0 \n"),
            std::string::npos)
      << info;
  // The override set fc.weight to 3 (recorded), then the child's own init_weights set it again.
  EXPECT_NE(info.find("\n1.fc.weight - [2,2]: \nInitialized by user-defined `init_weights` in "
                      "SelfInitialising  \n"),
            std::string::npos)
      << info;
  EXPECT_NE(info.find("\n1.fc.bias - [2]: \nConstantInit: val=3, bias=1 \n"), std::string::npos)
      << info;
}

TEST(InitCfg, ErrorsNameTheProblem) {
  auto net = std::make_shared<FooNet>();
  const auto init = [&](const InitCfg& cfg) { nn::init::initialize(*net, {cfg}); };
  expect_error([&] { init({.type = "Orthogonal"}); },
               {"unknown initializer type", "Orthogonal", "Kaiming"});
  expect_error([&] { init({.type = "Normal", .bias = 0, .bias_prob = 0.1}); },
               {"Normal", "both bias and bias_prob"});
  expect_error([&] { init({.type = "Normal", .val = 1}); }, {"Normal", "does not take \"val\""});
  expect_error([&] { init({.type = "Constant"}); }, {"Constant needs val"});
  expect_error([&] { init({.type = "Kaiming", .mode = "fan_avg"}); },
               {"fan_in or fan_out", "fan_avg"});
  expect_error([&] { init({.type = "Constant", .override = {{.name = "head"}}, .val = 1}); },
               {"override name \"head\"", "not a child of FooNet", "feat, reg, cls"});
  expect_error(
      [&] { init({.type = "Constant", .override = {{.name = "reg", .val = 2}}, .val = 1}); },
      {"override \"reg\"", "no \"type\""});
  expect_error(
      [&] { init({.type = "Constant", .override = {{.type = "Constant", .val = 2}}, .val = 1}); },
      {"must contain the key \"name\""});
  expect_error([&] { init({.type = "Pretrained", .checkpoint = "/nonexistent.safetensors"}); },
               {"/nonexistent.safetensors"});
}

}  // namespace
}  // namespace anvil
