// The model zoo: torchvision's ResNet state-dict names and shapes (tests/golden/
// make_resnet_names.py), forward and backward on small inputs.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "anvil.h"
#include "nn/models/resnet.h"

namespace anvil {
namespace {

// "<name> <dims...>" per line, as torchvision lists its state dict.
std::vector<std::string> torchvision_entries(const std::string& file) {
  std::ifstream in(std::string(ANVIL_TEST_DATA_DIR) + "/" + file);
  EXPECT_TRUE(in.good()) << file;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> anvil_entries(const nn::Module& model) {
  std::vector<std::string> lines;
  for (const auto& [name, t] : model.state_dict()) {
    std::string line = name;
    for (int64_t s : t.shape()) line += " " + std::to_string(s);
    lines.push_back(line);
  }
  return lines;
}

TEST(Models, ResNetStateDictsEqualTorchvisions) {
  EXPECT_EQ(anvil_entries(*nn::resnet18()), torchvision_entries("resnet18_state_dict.txt"));
  EXPECT_EQ(anvil_entries(*nn::resnet50()), torchvision_entries("resnet50_state_dict.txt"));
}

TEST(Models, ResNetTrainsOnSmallImages) {
  manual_seed(0);
  auto model = nn::resnet18({.num_classes = 10});
  const Tensor x = randn({2, 3, 32, 32});
  const Tensor logits = model->forward(x);
  EXPECT_EQ(logits.shape(), (Shape{2, 10}));
  logits.sum().backward();
  for (const auto& [name, p] : model->named_parameters()) {
    EXPECT_TRUE(p.grad().defined()) << name;
  }
  EXPECT_EQ(model->bn1->num_batches_tracked.item<int64_t>(), 1);
  model->eval();
  NoGradGuard no_grad;
  EXPECT_EQ(model->forward(x).shape(), (Shape{2, 10}));
  EXPECT_EQ(model->bn1->num_batches_tracked.item<int64_t>(), 1);
}

TEST(Models, ZeroInitResidualZeroesTheLastBatchNormOfEachBlock) {
  auto model = nn::resnet50({.num_classes = 10, .zero_init_residual = true});
  auto block = std::dynamic_pointer_cast<nn::Bottleneck>((*model->layer2)[1]);
  ASSERT_TRUE(block);
  EXPECT_EQ(amax(abs(block->bn3->weight)).item<double>(), 0.0);
  EXPECT_EQ(amin(block->bn2->weight).item<double>(), 1.0);
}

}  // namespace
}  // namespace anvil
