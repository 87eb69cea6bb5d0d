// DCGAN (nn/models/dcgan.h): the PyTorch example's state-dict names and shapes
// (tests/golden/make_dcgan_names.py), output shapes at 28, 32 and 64 pixels, the DCGAN
// initialisation through init_cfg, and training steps that move the losses.
#include <gtest/gtest.h>

#include <cmath>

#include "anvil.h"
#include "common/golden.h"
#include "common/op_test.h"
#include "nn/nn.h"

namespace anvil {
namespace {

// The lines of dcgan_state_dicts.txt for one model ("g64"), without the model column.
std::vector<std::string> torch_entries(const std::string& model) {
  std::vector<std::string> lines;
  for (const std::string& line : testing::golden_lines("dcgan_state_dicts.txt")) {
    if (line.starts_with(model + " ")) lines.push_back(line.substr(model.size() + 1));
  }
  return lines;
}

TEST(DCGAN, StateDictsEqualThePyTorchExamples) {
  const nn::DCGANOptions example;  // nz 100, 64 channels, RGB 64x64
  EXPECT_EQ(testing::state_dict_entries(nn::DCGANGenerator(example)), torch_entries("g64"));
  EXPECT_EQ(testing::state_dict_entries(nn::DCGANDiscriminator(example)), torch_entries("d64"));
  const nn::DCGANOptions mnist{
      .latent_dim = 64, .base_channels = 32, .image_channels = 1, .image_size = 28};
  EXPECT_EQ(testing::state_dict_entries(nn::DCGANGenerator(mnist)), torch_entries("g28"));
  EXPECT_EQ(testing::state_dict_entries(nn::DCGANDiscriminator(mnist)), torch_entries("d28"));
}

TEST(DCGAN, ShapesAtEverySize) {
  manual_seed(0);
  for (int64_t size : {28, 32, 64}) {
    const nn::DCGANOptions o{
        .latent_dim = 16, .base_channels = 4, .image_channels = 3, .image_size = size};
    nn::DCGANGenerator g(o);
    nn::DCGANDiscriminator d(o);
    const Tensor images = g.forward(randn({2, 16}));
    EXPECT_EQ(images.shape(), (Shape{2, 3, size, size}));
    EXPECT_LE(amax(abs(images)).item<double>(), 1.0);
    EXPECT_EQ(g.forward(randn({2, 16, 1, 1})).shape(), (Shape{2, 3, size, size}));
    EXPECT_EQ(d.forward(images).shape(), (Shape{2}));
  }
  testing::expect_error([] { nn::DCGANGenerator({.image_size = 48}); },
                        {"DCGANGenerator", "28, 32 or 64", "48"});
  nn::DCGANDiscriminator d({.image_size = 28});
  testing::expect_error(
      [&] {
        d.forward(zeros({1, 3, 32, 32}));
      },
      {"DCGANDiscriminator", "[N, 3, 28, 28]"});
}

TEST(DCGAN, InitWeightsGivesTheDCGANInitialisation) {
  manual_seed(1);
  auto g = std::make_shared<nn::DCGANGenerator>();
  g->init_weights();
  const auto stats = [](const Tensor& t) {
    const Tensor d = t.detach().to(DType::f64);
    const double mean = d.mean().item<double>();
    return std::pair{mean, std::sqrt((d - mean).square().mean().item<double>())};
  };
  const auto [conv_mean, conv_std] = stats(g->named_parameters().front().second);  // main.0
  EXPECT_NEAR(conv_mean, 0.0, 1e-3);
  EXPECT_NEAR(conv_std, 0.02, 1e-3);
  auto bn = std::dynamic_pointer_cast<nn::BatchNorm2d>((*g->main)[1]);
  ASSERT_TRUE(bn);
  const auto [bn_mean, bn_std] = stats(bn->weight);
  EXPECT_NEAR(bn_mean, 1.0, 5e-3);
  EXPECT_NEAR(bn_std, 0.02, 5e-3);
  EXPECT_EQ(amax(abs(bn->bias)).item<double>(), 0.0);
  EXPECT_NE(g->init_info().find("main.1.weight - [512]: \nNormalInit: mean=1, std=0.02, bias=0"),
            std::string::npos);
}

// The GAN example's loop at 28x28, on a small fixed "real" batch: each network's loss moves when
// it trains against the other, frozen.
TEST(DCGAN, TrainingStepsMoveTheLosses) {
  manual_seed(2);
  const nn::DCGANOptions o{
      .latent_dim = 16, .base_channels = 8, .image_channels = 1, .image_size = 28};
  auto g = std::make_shared<nn::DCGANGenerator>(o);
  auto d = std::make_shared<nn::DCGANDiscriminator>(o);
  g->init_weights();
  d->init_weights();
  optim::Adam opt_g(g->parameters(), {.lr = 2e-3, .beta1 = 0.5});
  optim::Adam opt_d(d->parameters(), {.lr = 2e-3, .beta1 = 0.5});
  const Tensor real = rand({8, 1, 28, 28}) * 2 - 1;
  const Tensor z = randn({8, 16});
  const Tensor ones_ = ones({8}), zeros_ = zeros({8});

  const auto d_loss = [&] {
    Tensor fake;
    {
      NoGradGuard no_grad;
      fake = g->forward(z);
    }
    return binary_cross_entropy_with_logits(d->forward(real), ones_) +
           binary_cross_entropy_with_logits(d->forward(fake), zeros_);
  };
  const auto g_loss = [&] {
    return binary_cross_entropy_with_logits(d->forward(g->forward(z)), ones_);
  };

  std::vector<double> d_losses;
  for (int step = 0; step < 5; ++step) {
    opt_d.zero_grad();
    Tensor loss = d_loss();
    loss.backward();
    opt_d.step();
    d_losses.push_back(loss.item<double>());
  }
  EXPECT_LT(d_losses.back(), d_losses.front());

  std::vector<double> g_losses;
  for (int step = 0; step < 5; ++step) {
    opt_g.zero_grad();
    Tensor loss = g_loss();
    loss.backward();
    opt_g.step();
    g_losses.push_back(loss.item<double>());
  }
  EXPECT_LT(g_losses.back(), g_losses.front());
  for (const auto& [name, p] : g->named_parameters()) EXPECT_TRUE(p.grad().defined()) << name;
  for (double l : d_losses) EXPECT_TRUE(std::isfinite(l));
}

}  // namespace
}  // namespace anvil
