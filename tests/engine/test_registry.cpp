// Registry: registration from a program, build errors (missing/unknown type, factory errors with
// the location), and the built-in SGD/Adam/AdamW/ResNet entries built from config tables.
#include "engine/registry/registry.h"

#include <gtest/gtest.h>

#include "common/op_test.h"
#include "engine/registry/registries.h"
#include "nn/models/resnet.h"
#include "nn/modules/linear.h"
#include "nn/optim/adam.h"
#include "nn/optim/sgd.h"
#include "tensor/ops/factory.h"
#include "tensor/tensor.h"

namespace anvil::engine {
namespace {

using testing::expect_error;

struct Shape {
  virtual ~Shape() = default;
  virtual double area() const = 0;
};

struct Square : Shape {
  explicit Square(double side) : side(side) {}
  double area() const override { return side * side * scale; }
  double side;
  double scale = 1;
};

// A registry with an extra build argument, filled the way user programs fill theirs.
Registry<Shape, double> SHAPES{"SHAPES"};

ANVIL_REGISTER(SHAPES, "Square", [](const Config& cfg, double scale) {
  cfg.check_keys({"side"});
  auto square = std::make_shared<Square>(cfg.get<double>("side"));
  square->scale = scale;
  return square;
});
ANVIL_REGISTER(SHAPES, "Broken", [](const Config&, double) -> std::shared_ptr<Shape> {
  throw std::runtime_error("no broken shapes today");
});

// A user program adding its own model to libanvil's MODELS while it loads.
ANVIL_REGISTER(MODELS, "TestLinear", [](const Config& cfg) {
  cfg.check_keys({"in_features", "out_features"});
  return std::make_shared<nn::Linear>(cfg.get<int64_t>("in_features"),
                                      cfg.get<int64_t>("out_features"));
});

TEST(Registry, BuildsByType) {
  EXPECT_TRUE(SHAPES.contains("Square"));
  EXPECT_FALSE(SHAPES.contains("Circle"));
  EXPECT_EQ(SHAPES.names(), (std::vector<std::string>{"Broken", "Square"}));
  auto shape = SHAPES.build(Config::table({{"type", "Square"}, {"side", 3}}), 2.0);
  EXPECT_DOUBLE_EQ(shape->area(), 18.0);
}

TEST(Registry, Errors) {
  Config cfg = Config::from_string(R"([a]
side = 2
[b]
type = "Sqare"
[c]
type = "Square"
side = 1
colour = "red"
[d]
type = "Broken"
[e]
type = 3
)",
                                   "shapes.toml");
  expect_error([&] { SHAPES.build(cfg["a"], 1.0); },
               {"shapes.toml:1: a: missing key 'type'", "SHAPES", "Broken, Square"});
  expect_error([&] { SHAPES.build(cfg["b"], 1.0); },
               {"shapes.toml:4: b.type: 'Sqare' is not registered in SHAPES",
                "did you mean 'Square'?", "registered: Broken, Square"});
  expect_error([&] { SHAPES.build(cfg["c"], 1.0); },
               {"shapes.toml:8: unknown key 'colour' in c", "valid keys: side"});
  expect_error([&] { SHAPES.build(cfg["d"], 1.0); },
               {"shapes.toml:9: d: building SHAPES 'Broken': no broken shapes today"});
  expect_error([&] { SHAPES.build(cfg["e"], 1.0); }, {"e.type: expected a string, got integer 3"});
  expect_error([&] { SHAPES.build(Config(5), 1.0); }, {"expected a table with a 'type' key"});
  expect_error([&] { SHAPES.add("Square", nullptr); }, {"SHAPES: 'Square' is already registered"});
}

TEST(Registry, EngineRegistriesAreDeclared) {
  EXPECT_EQ(MODELS.name(), "MODELS");
  EXPECT_EQ(VISBACKENDS.name(), "VISBACKENDS");
  for (const char* type : {"SGD", "Adam", "AdamW"}) EXPECT_TRUE(OPTIMIZERS.contains(type)) << type;
  EXPECT_TRUE(MODELS.contains("ResNet"));
  auto linear = std::dynamic_pointer_cast<nn::Linear>(MODELS.build(
      Config::table({{"type", "TestLinear"}, {"in_features", 3}, {"out_features", 2}})));
  ASSERT_TRUE(linear);
  EXPECT_EQ(linear->weight.size(0), 2);
}

TEST(Registry, BuildsSGDFromAConfig) {
  Config cfg = Config::from_string(R"([optim_wrapper.optimizer]
type = "SGD"
lr = 0.01
momentum = 0.9
nesterov = true
)",
                                   "sgd.toml");
  Tensor w = ones({3}).requires_grad_();
  auto optimizer = OPTIMIZERS.build(cfg["optim_wrapper"]["optimizer"], {{.params = {w}}});
  ASSERT_TRUE(std::dynamic_pointer_cast<optim::SGD>(optimizer));
  EXPECT_EQ(optimizer->type_name(), "SGD");
  const auto& group = optimizer->param_groups().at(0);
  EXPECT_DOUBLE_EQ(group.at("lr"), 0.01);
  EXPECT_DOUBLE_EQ(group.at("momentum"), 0.9);
  EXPECT_DOUBLE_EQ(group.at("nesterov"), 1.0);

  Config bad = cfg;
  bad.set("optim_wrapper.optimizer.betas", Config::array({0.9, 0.99}));
  expect_error(
      [&] { OPTIMIZERS.build(bad["optim_wrapper"]["optimizer"], {{.params = {w}}}); },
      {"<C++>: unknown key 'betas' in optim_wrapper.optimizer", "valid keys: lr, momentum"});
  // The optimizer's own checks come back with the table's location.
  Config dampened = cfg;
  dampened.merge_from_options({"optim_wrapper.optimizer.dampening=0.5"});
  expect_error([&] { OPTIMIZERS.build(dampened["optim_wrapper"]["optimizer"], {{.params = {w}}}); },
               {"sgd.toml:1: optim_wrapper.optimizer: building OPTIMIZERS 'SGD'",
                "nesterov momentum requires"});
}

TEST(Registry, BuildsAdamW) {
  Tensor w = ones({2}).requires_grad_();
  auto optimizer = OPTIMIZERS.build(
      Config::table({{"type", "AdamW"}, {"lr", 1e-3}, {"betas", Config::array({0.8, 0.9})}}),
      {{.params = {w}}});
  ASSERT_TRUE(std::dynamic_pointer_cast<optim::AdamW>(optimizer));
  const auto& group = optimizer->param_groups().at(0);
  EXPECT_DOUBLE_EQ(group.at("beta1"), 0.8);
  EXPECT_DOUBLE_EQ(group.at("beta2"), 0.9);
  EXPECT_DOUBLE_EQ(group.at("weight_decay"), 1e-2);  // AdamW's own default
  expect_error(
      [&] {
        OPTIMIZERS.build(Config::table({{"type", "Adam"}, {"betas", Config::array({0.9})}}),
                         {{.params = {w}}});
      },
      {"betas: expected two betas, got array of 1"});
}

TEST(Registry, BuildsResNetFromAConfig) {
  Config cfg = Config::from_string("[model]\ntype = \"ResNet\"\ndepth = 18\nnum_classes = 10\n",
                                   "model.toml");
  std::shared_ptr<nn::Module> model = MODELS.build(cfg["model"]);
  auto resnet = std::dynamic_pointer_cast<nn::ResNet>(model);
  ASSERT_TRUE(resnet);
  EXPECT_EQ(resnet->fc->weight.size(0), 10);
  EXPECT_EQ(resnet->layer1->size(), 2u);  // BasicBlocks [2, 2, 2, 2]

  cfg.merge_from_options({"model.depth=51"});
  expect_error([&] { MODELS.build(cfg["model"]); },
               {"--cfg-options model.depth=51: model.depth: ResNet depth must be 18, 34, 50, 101 "
                "or 152, got 51"});
}

}  // namespace
}  // namespace anvil::engine
