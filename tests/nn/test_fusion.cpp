// Conv-BN eval fusion (nn/fusion.h): the folded convolution equals conv then frozen BN, in values
// and in the gradients of W, b, gamma and beta; a training BN is untouched; misuse throws.
#include <gtest/gtest.h>

#include "anvil.h"
#include "common/op_test.h"
#include "nn/nn.h"

namespace anvil {
namespace {

using testing::expect_error;

double max_abs_diff(const Tensor& a, const Tensor& b) {
  return amax(abs(a - b)).item<double>();
}

// Running statistics and affine parameters away from their defaults, so the fold matters.
void randomize_batch_norms(nn::Module& model) {
  model.apply([](nn::Module& m) {
    if (auto* bn = dynamic_cast<nn::BatchNorm*>(&m)) {
      nn::init::uniform_(bn->running_mean, -0.5, 0.5);
      nn::init::uniform_(bn->running_var, 0.5, 2.0);
      if (!bn->options.affine) return;
      nn::init::uniform_(bn->weight, 0.5, 1.5);
      nn::init::uniform_(bn->bias, -0.5, 0.5);
    }
  });
}

std::shared_ptr<nn::Sequential> conv_bn_net() {
  return std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
      std::make_shared<nn::Conv2d>(3, 8, 3, nn::Conv2dOptions{.padding = 1}),
      std::make_shared<nn::BatchNorm2d>(8), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Conv2d>(8, 4, 3, nn::Conv2dOptions{.stride = 2, .bias = false}),
      std::make_shared<nn::BatchNorm2d>(4, nn::BatchNormOptions{.affine = false})});
}

std::vector<std::string> state_names(const nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& entry : m.state_dict()) out.push_back(entry.first);
  return out;
}

TEST(Fusion, SequentialEvalOutputEqualsConvThenBatchNorm) {
  manual_seed(0);
  auto net = conv_bn_net();
  randomize_batch_norms(*net);
  net->eval();
  const Tensor x = randn({2, 3, 9, 9});
  const Tensor expected = net->forward(x);
  const std::vector<std::string> names = state_names(*net);
  const auto pairs = nn::turn_on_efficient_conv_bn_eval(*net, {""});
  EXPECT_EQ(pairs, (std::vector<std::pair<std::string, std::string>>{{"0", "1"}, {"3", "4"}}));
  EXPECT_LT(max_abs_diff(net->forward(x), expected), 1e-5);
  EXPECT_EQ(state_names(*net), names);
  // Turning it on again finds nothing new; off again runs conv then BN.
  EXPECT_TRUE(nn::turn_on_efficient_conv_bn_eval(*net, {""}).empty());
  nn::turn_off_efficient_conv_bn_eval(*net, {"0"});
  EXPECT_FALSE(std::dynamic_pointer_cast<nn::BatchNorm>((*net)[1])->fusion);
  EXPECT_TRUE(std::dynamic_pointer_cast<nn::BatchNorm>((*net)[4])->fusion);
  EXPECT_LT(max_abs_diff(net->forward(x), expected), 1e-5);
}

// Without autograd the folded W' and b' are kept; changing an operand (in place, or loading a
// state dict) makes the next forward fold again.
TEST(Fusion, KeptFoldFollowsChangedParametersAndStatistics) {
  manual_seed(4);
  auto net = conv_bn_net();
  randomize_batch_norms(*net);
  net->eval();
  nn::turn_on_efficient_conv_bn_eval(*net, {""});
  auto plain = conv_bn_net();  // the same values, not fused
  plain->eval();
  NoGradGuard no_grad;
  const Tensor x = randn({2, 3, 9, 9});
  const auto expect_unfused = [&] {
    plain->load_state_dict(net->state_dict());
    EXPECT_LT(max_abs_diff(net->forward(x), plain->forward(x)), 1e-5);
  };
  expect_unfused();
  const Tensor before = net->forward(x);
  const auto bn = [](const nn::Sequential& s) {
    return std::dynamic_pointer_cast<nn::BatchNorm>(s[1]);
  };
  bn(*net)->running_var.mul_(4.0);
  expect_unfused();
  EXPECT_GT(max_abs_diff(net->forward(x), before), 1e-2);
  auto other = conv_bn_net();
  randomize_batch_norms(*other);
  net->load_state_dict(other->state_dict());
  expect_unfused();
  bn(*net)->options.eps = 0.5;
  bn(*plain)->options.eps = 0.5;
  expect_unfused();
}

void expect_resnet_fusion_exact(const std::shared_ptr<nn::ResNet>& model, size_t pairs) {
  randomize_batch_norms(*model);
  model->eval();
  NoGradGuard no_grad;
  const Tensor x = randn({2, 3, 32, 32});
  const Tensor expected = model->forward(x);
  const std::vector<std::string> names = state_names(*model);
  const auto fused = nn::turn_on_efficient_conv_bn_eval(*model, {"conv1", "layer1", ""});
  EXPECT_EQ(fused.size(), pairs);
  EXPECT_EQ(fused.front(), (std::pair<std::string, std::string>{"layer1.0.conv1", "layer1.0.bn1"}));
  EXPECT_EQ(state_names(*model), names);
  const Tensor out = model->forward(x);
  EXPECT_LT(max_abs_diff(out, expected), 1e-5 * std::max(1.0, amax(abs(expected)).item<double>()));
}

TEST(Fusion, ResNetEvalOutputsEqualUnfused) {
  manual_seed(1);
  // Every conv of torchvision's ResNets is followed by its BN: the stem, two (BasicBlock) or
  // three (Bottleneck) per block and one per downsample branch. "conv1" alone has no pair.
  expect_resnet_fusion_exact(nn::resnet18({.num_classes = 10}), 1 + 8 * 2 + 3);
  expect_resnet_fusion_exact(nn::resnet50({.num_classes = 10}), 1 + 16 * 3 + 4);
}

// Gradients of W, b, gamma, beta (and of the input) through the folded conv equal those through
// conv then frozen BN (MMEngine's use: fine-tuning with eval-mode BN).
TEST(Fusion, GradientsReachConvAndBatchNormParameters) {
  manual_seed(2);
  auto net = conv_bn_net();
  randomize_batch_norms(*net);
  net->eval();
  const Tensor x = randn({2, 3, 9, 9});
  const Tensor g = randn({2, 4, 4, 4});
  const auto run = [&] {
    net->zero_grad();
    Tensor input = x.detach().requires_grad_();
    net->forward(input).backward(g);
    nn::NamedTensors grads{{"input", input.grad()}};
    for (const auto& [name, p] : net->named_parameters()) grads.emplace_back(name, p.grad());
    return grads;
  };
  const nn::NamedTensors expected = run();
  nn::turn_on_efficient_conv_bn_eval(*net, {""});
  const nn::NamedTensors fused = run();
  ASSERT_EQ(fused.size(), 6u);  // input, 0.weight, 0.bias, 1.weight, 1.bias, 3.weight
  for (size_t i = 0; i < fused.size(); ++i) {
    ASSERT_TRUE(fused[i].second.defined()) << fused[i].first;
    EXPECT_LT(max_abs_diff(fused[i].second, expected[i].second), 1e-4) << fused[i].first;
  }
}

TEST(Fusion, TrainingBatchNormRunsAsUsual) {
  manual_seed(3);
  auto plain = conv_bn_net();
  auto fused = conv_bn_net();
  fused->load_state_dict(plain->state_dict());
  nn::turn_on_efficient_conv_bn_eval(*fused, {""});
  const Tensor x = randn({4, 3, 9, 9});
  EXPECT_LT(max_abs_diff(fused->forward(x), plain->forward(x)), 1e-6);
  const auto stats = [](const nn::Sequential& net) {
    return std::dynamic_pointer_cast<nn::BatchNorm>(net[1]);
  };
  EXPECT_LT(max_abs_diff(stats(*fused)->running_var, stats(*plain)->running_var), 1e-7);
  EXPECT_EQ(stats(*fused)->num_batches_tracked.item<int64_t>(), 1);
}

// A block whose forward puts something between its conv and BN: structurally a pair, but the BN
// does not receive the conv's output.
struct MisusedBlock : nn::Module {
  std::shared_ptr<nn::Conv2d> conv = register_module("conv", std::make_shared<nn::Conv2d>(2, 2, 1));
  std::shared_ptr<nn::BatchNorm2d> bn = register_module("bn", std::make_shared<nn::BatchNorm2d>(2));
  Tensor forward(const Tensor& x) override { return bn->forward(relu(conv->forward(x))); }
};

TEST(Fusion, MisuseThrowsNamingBothModules) {
  auto model = std::make_shared<nn::Sequential>(
      std::vector<nn::ModulePtr>{std::make_shared<MisusedBlock>()});
  model->eval();
  nn::turn_on_efficient_conv_bn_eval(*model, {"0"});
  const Tensor x = randn({1, 2, 3, 3});
  expect_error([&] { model->forward(x); },
               {"efficient_conv_bn_eval", "'0.bn'", "'0.conv'", "another tensor"});
  // A conv output kept alive that never reached the BN.
  auto* block = dynamic_cast<MisusedBlock*>((*model)[0].get());
  const Tensor kept = block->conv->forward(x);
  expect_error([&] { block->conv->forward(x); }, {"'0.conv' ran again", "'0.bn'"});
  expect_error([&] { block->bn->forward(x); }, {"'0.bn'", "another tensor"});
  // In training mode the pair is not folded, so nothing is checked.
  model->train();
  EXPECT_EQ(model->forward(x).shape(), (Shape{1, 2, 3, 3}));
}

}  // namespace
}  // namespace anvil
