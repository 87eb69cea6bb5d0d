// BaseModel's steps, MMEngine's loss parsing and the data preprocessors.
#include <gtest/gtest.h>

#include "anvil.h"
#include "common/op_test.h"
#include "engine/model/base_model.h"

namespace anvil::engine {
namespace {

using testing::expect_error;

TEST(ParseLosses, SumsTheLossTermsAndLogsEverything) {
  const Losses losses = {{"loss_cls", tensor(std::vector<double>{1.0, 3.0})},
                         {"acc", tensor(std::vector<double>{0.5})},
                         {"loss_box", tensor(std::vector<double>{0.25})}};
  const auto [total, log_vars] = parse_losses(losses);
  EXPECT_DOUBLE_EQ(total.item<double>(), 2.25);  // mean(1, 3) + 0.25; acc is not optimised
  EXPECT_EQ(log_vars,
            (Scalars{{"loss", 2.25}, {"loss_cls", 2.0}, {"acc", 0.5}, {"loss_box", 0.25}}));
  expect_error([] { parse_losses({{"acc", ones({1})}}); }, {"parse_losses", "'loss'", "acc"});
}

// A linear classifier in MMEngine's quick-start form.
struct Net : BaseModel {
  explicit Net(std::shared_ptr<BaseDataPreprocessor> p = nullptr) : BaseModel(std::move(p)) {}
  std::shared_ptr<nn::Linear> fc = register_module("fc", std::make_shared<nn::Linear>(12, 3));
  ModelOutput forward(const Batch& b, Mode mode) override {
    const Tensor x = fc->forward(b.inputs.flatten(1));
    if (mode == Mode::loss) return Losses{{"loss", cross_entropy(x, b.labels)}};
    return Outputs{x, b.labels};
  }
};

Batch batch_of(int64_t n) {
  Batch b;
  b.inputs = randint(0, 256, {n, 3, 2, 2}).to(DType::u8);
  b.labels = randint(0, 3, {n});
  b.indices = arange(n);
  return b;
}

TEST(BaseModel, TrainStepUpdatesAndValStepPredicts) {
  manual_seed(0);
  auto net = std::make_shared<Net>(std::make_shared<ImgDataPreprocessor>(
      ImgDataPreprocessorOptions{.mean = {127.5}, .std = {127.5}}));
  OptimWrapper wrapper(
      std::make_unique<optim::SGD>(net->parameters(), optim::SGDOptions{.lr = 0.5}));
  const Batch b = batch_of(8);
  const Tensor before = net->fc->weight.clone();
  const Scalars first = net->train_step(b, wrapper);
  EXPECT_EQ(first.front().first, "loss");
  EXPECT_NE(net->fc->weight.to_vector<float>(), before.to_vector<float>());
  double last = first.front().second;
  for (int i = 0; i < 20; ++i) last = net->train_step(b, wrapper).front().second;
  EXPECT_LT(last, first.front().second);  // the same batch is being learnt
  const Outputs out = net->val_step(b);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].shape(), (Shape{8, 3}));
  EXPECT_EQ(out[1].to_vector<int64_t>(), b.labels.to_vector<int64_t>());
  // Preprocessor buffers are not state: the state dict holds the layer only.
  EXPECT_EQ(net->state_dict().size(), 2u);
}

TEST(BaseModel, WrongOutputKindIsAnError) {
  struct Bad : BaseModel {
    ModelOutput forward(const Batch&, Mode) override { return Outputs{}; }
  } bad;
  OptimWrapper wrapper(std::make_unique<optim::SGD>(std::vector<Tensor>{}, optim::SGDOptions{}));
  expect_error([&] { bad.train_step(batch_of(2), wrapper); }, {"loss mode", "Losses"});
}

TEST(ImgDataPreprocessor, NormalizesFlipsAndPads) {
  ImgDataPreprocessor p({.mean = {1, 2, 3},
                         .std = {2, 2, 2},
                         .pad_size_divisor = 4,
                         .pad_value = -1,
                         .bgr_to_rgb = true});
  Batch b;
  b.inputs =
      stack({full({2, 3}, 7, DType::u8), full({2, 3}, 9, DType::u8), full({2, 3}, 11, DType::u8)})
          .unsqueeze(0);  // [1, 3, 2, 3], channels 7, 9, 11
  const Tensor x = p.process(b, false).inputs;
  EXPECT_EQ(x.dtype(), DType::f32);
  EXPECT_EQ(x.shape(), (Shape{1, 3, 4, 4}));
  // Flipped to 11, 9, 7, then (x - mean) / std; padding after normalisation.
  EXPECT_FLOAT_EQ(x[0][0][0][0].item<float>(), (11 - 1) / 2.0f);
  EXPECT_FLOAT_EQ(x[0][1][1][2].item<float>(), (9 - 2) / 2.0f);
  EXPECT_FLOAT_EQ(x[0][2][0][0].item<float>(), (7 - 3) / 2.0f);
  EXPECT_FLOAT_EQ(x[0][0][3][3].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(x[0][0][1][3].item<float>(), -1.0f);
  expect_error([] { ImgDataPreprocessor({.mean = {1, 2}, .std = {1, 2}}); }, {"1 or 3"});
  expect_error([] { ImgDataPreprocessor({.mean = {1}}); }, {"both mean and std"});
  Batch flat;
  flat.inputs = zeros({2, 3});
  expect_error([&] { p.process(flat, false); }, {"[N, C, H, W]", "[2,3]"});
}

}  // namespace
}  // namespace anvil::engine
