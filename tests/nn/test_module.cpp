// Module mechanics: registration, names, modes, conversion, state dicts, containers, init.
#include <gtest/gtest.h>

#include <cmath>

#include "anvil.h"
#include "common/op_test.h"
#include "nn/nn.h"

namespace anvil {
namespace {

using testing::expect_error;

struct Block : nn::Module {
  std::shared_ptr<nn::Linear> fc1 = register_module("fc1", std::make_shared<nn::Linear>(4, 3));
  std::shared_ptr<nn::Linear> fc2 =
      register_module("fc2", std::make_shared<nn::Linear>(3, 2, nn::LinearOptions{.bias = false}));
  Tensor scale = register_buffer("scale", ones({2}));
  Tensor scratch = register_buffer("scratch", zeros({1}), /*persistent=*/false);
  Tensor forward(const Tensor& x) override { return fc2->forward(relu(fc1->forward(x))) * scale; }
};

std::vector<std::string> names(const nn::NamedTensors& named) {
  std::vector<std::string> out;
  for (const auto& entry : named) out.push_back(entry.first);
  return out;
}

TEST(Module, NamesFollowRegistrationOrder) {
  auto net = std::make_shared<nn::Sequential>(
      std::vector<nn::ModulePtr>{std::make_shared<Block>(), std::make_shared<nn::ReLU>()});
  EXPECT_EQ(names(net->named_parameters()),
            (std::vector<std::string>{"0.fc1.weight", "0.fc1.bias", "0.fc2.weight"}));
  EXPECT_EQ(names(net->named_buffers()), (std::vector<std::string>{"0.scale", "0.scratch"}));
  // As PyTorch: a module's own parameters and buffers come before its children's.
  EXPECT_EQ(names(net->state_dict()),
            (std::vector<std::string>{"0.scale", "0.fc1.weight", "0.fc1.bias", "0.fc2.weight"}));
  std::vector<std::string> modules;
  for (const auto& [name, m] : net->named_modules()) modules.push_back(name);
  EXPECT_EQ(modules, (std::vector<std::string>{"", "0", "0.fc1", "0.fc2", "1"}));
  EXPECT_EQ(net->get_submodule("0.fc2")->type_name(), "Linear");
  expect_error([&] { net->get_submodule("0.fc3"); }, {"get_submodule", "fc3"});
}

TEST(Module, ParametersRequireGradAndSharedOnesAppearOnce) {
  Block b;
  for (const Tensor& p : b.parameters()) EXPECT_TRUE(p.requires_grad());
  auto shared = std::make_shared<nn::Linear>(2, 2);
  nn::Sequential seq({shared, shared});
  EXPECT_EQ(seq.parameters().size(), 2u);
  expect_error([&] { b.register_parameter("fc1", ones({1})); }, {"fc1", "already taken"});
  expect_error([&] { b.register_buffer("a.b", ones({1})); }, {"a.b", "'.'"});
}

TEST(Module, ForwardBackwardAndZeroGrad) {
  Block b;
  b(randn({5, 4})).sum().backward();
  for (const Tensor& p : b.parameters()) EXPECT_TRUE(p.grad().defined());
  b.zero_grad(/*set_to_none=*/false);
  EXPECT_EQ(b.fc1->weight.grad().sum().item<double>(), 0.0);
  b.zero_grad();
  for (const Tensor& p : b.parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Module, TrainEvalAndApply) {
  auto net = std::make_shared<nn::Sequential>(
      std::vector<nn::ModulePtr>{std::make_shared<Block>(), std::make_shared<nn::ReLU>()});
  net->eval();
  for (const auto& [name, m] : net->named_modules()) EXPECT_FALSE(m->is_training()) << name;
  net->train();
  EXPECT_TRUE((*net)[0]->is_training());
  int linears = 0;
  net->apply([&](nn::Module& m) { linears += m.type_name() == "Linear"; });
  EXPECT_EQ(linears, 2);
}

TEST(Module, ToConvertsInPlaceSoMembersStayValid) {
  Block b;
  Tensor weight = b.fc1->weight;
  b(randn({2, 4})).sum().backward();
  b.to(DType::f64);
  EXPECT_EQ(weight.dtype(), DType::f64);  // the same tensor, converted
  EXPECT_EQ(b.fc1->weight.grad().dtype(), DType::f64);
  EXPECT_TRUE(weight.requires_grad());
  EXPECT_EQ(b(randn({2, 4}, TensorOptions(DType::f64))).dtype(), DType::f64);
}

TEST(Module, StateDictRoundTripAndStrictErrors) {
  Block a, b;
  b.load_state_dict(a.state_dict());
  for (const auto& [name, t] : a.state_dict()) {
    const auto other = b.state_dict();
    auto it = std::find_if(other.begin(), other.end(), [&](auto& e) { return e.first == name; });
    EXPECT_EQ(it->second.to_vector<float>(), t.to_vector<float>()) << name;
  }
  nn::NamedTensors partial = a.state_dict();
  partial.erase(partial.begin());  // "scale"
  partial.emplace_back("extra.weight", ones({1}));
  expect_error([&] { b.load_state_dict(partial); },
               {"missing keys [scale]", "unexpected keys [extra.weight]"});
  const nn::LoadResult r = b.load_state_dict(partial, /*strict=*/false);
  EXPECT_EQ(r.missing_keys, (std::vector<std::string>{"scale"}));
  EXPECT_EQ(r.unexpected_keys, (std::vector<std::string>{"extra.weight"}));
  nn::NamedTensors wrong = a.state_dict();
  wrong[1].second = ones({4, 4});  // fc1.weight
  expect_error([&] { b.load_state_dict(wrong, false); },
               {"size mismatch", "fc1.weight", "[4,4]", "[3,4]"});
}

TEST(Module, ReprMatchesPyTorch) {
  nn::Sequential seq({std::make_shared<nn::Linear>(4, 3), std::make_shared<nn::GELU>(),
                      std::make_shared<nn::Flatten>()});
  EXPECT_EQ(seq.repr(),
            "Sequential(\n"
            "  (0): Linear(in_features=4, out_features=3, bias=True)\n"
            "  (1): GELU(approximate='none')\n"
            "  (2): Flatten(start_dim=1, end_dim=-1)\n"
            ")");
}

TEST(Module, ContainersIndexAndErrors) {
  nn::ModuleList list({std::make_shared<nn::ReLU>(), std::make_shared<nn::Tanh>()});
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1]->type_name(), "Tanh");
  expect_error([&] { list[2]; }, {"ModuleList", "index 2", "2 modules"});
  nn::ModuleDict dict;
  dict.insert("act", std::make_shared<nn::SiLU>());
  EXPECT_TRUE(dict.contains("act"));
  EXPECT_EQ(dict.at("act")->type_name(), "SiLU");
  expect_error([&] { dict.at("nope"); }, {"ModuleDict", "nope", "act"});
  expect_error(
      [&] {
        nn::ReLU().forward(ones({1})).sum();
        nn::Module().forward(ones({1}));
      },
      {"no single-tensor forward"});
}

TEST(Init, LinearDefaultsAndFans) {
  manual_seed(0);
  nn::Linear fc(100, 50);
  const double bound = 1 / std::sqrt(100.0);
  EXPECT_LE(amax(abs(fc.weight)).item<double>(), bound);
  EXPECT_GT(amax(abs(fc.weight)).item<double>(), 0.9 * bound);
  EXPECT_EQ(nn::init::fans(zeros({8, 4, 3, 3})), (std::pair<int64_t, int64_t>{36, 72}));
  EXPECT_NEAR(nn::init::calculate_gain("leaky_relu", 0.2), std::sqrt(2 / 1.04), 1e-12);
}

TEST(Init, DistributionsHaveTheirMoments) {
  manual_seed(1);
  Tensor w = empty({256, 512});
  nn::init::kaiming_normal_(w, 0, nn::init::FanMode::fan_out, "relu");
  EXPECT_NEAR(anvil::std(w).item<double>(), std::sqrt(2.0 / 256), 0.02 * std::sqrt(2.0 / 256));
  nn::init::xavier_uniform_(w);
  EXPECT_LE(amax(abs(w)).item<double>(), std::sqrt(6.0 / 768));
  nn::init::trunc_normal_(w, 0.5, 1, -0.5, 1.0);
  EXPECT_GE(amin(w).item<double>(), -0.5);
  EXPECT_LE(amax(w).item<double>(), 1.0);
  Tensor leaf = ones({2}).requires_grad_();
  nn::init::constant_(leaf, 3);  // works on parameters: no recording
  EXPECT_EQ(leaf.to_vector<float>(), (std::vector<float>{3, 3}));
}

}  // namespace
}  // namespace anvil
