// The model zoo: torchvision's ResNet state-dict names and shapes (tests/golden/
// make_resnet_names.py), forward and backward on small inputs.
#include <gtest/gtest.h>

#include "anvil.h"
#include "common/golden.h"
#include "nn/models/resnet.h"

namespace anvil {
namespace {

TEST(Models, ResNetStateDictsEqualTorchvisions) {
  EXPECT_EQ(testing::state_dict_entries(*nn::resnet18()),
            testing::golden_lines("resnet18_state_dict.txt"));
  EXPECT_EQ(testing::state_dict_entries(*nn::resnet50()),
            testing::golden_lines("resnet50_state_dict.txt"));
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
