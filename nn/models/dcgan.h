// DCGAN (Radford et al. 2015) as the PyTorch DCGAN example and MMEngine's GAN tutorial build it:
// a generator of ConvTranspose2d / BatchNorm2d / ReLU stages ending in Tanh, and a discriminator
// of strided Conv2d / BatchNorm2d / LeakyReLU(0.2) stages ending in one logit per image. Both
// hold their layers in a Sequential "main", so their parameter names are the example's
// ("main.0.weight", "main.1.running_mean", ...).
//
// Sizes: 64x64 is the example's network (4x4 -> 8 -> 16 -> 32 -> 64, widths 8/4/2/1 x base);
// 32x32 drops one stage (4 -> 8 -> 16 -> 32, widths 4/2/1 x base); 28x28 (Fashion-MNIST)
// starts from 7x7 (7 -> 14 -> 28, widths 2/1 x base) and the discriminator ends in a 7x7
// convolution. The DCGAN initialisation (convolution weights N(0, 0.02), BN weights N(1, 0.02)
// and biases 0) is each model's init_cfg: call init_weights() before training.
#pragma once

#include <memory>

#include "nn/modules/container.h"

namespace anvil::nn {

struct DCGANOptions {
  int64_t latent_dim = 100;    // nz
  int64_t base_channels = 64;  // ngf (generator) / ndf (discriminator)
  int64_t image_channels = 3;  // nc
  int64_t image_size = 64;     // 28, 32 or 64
};

class DCGANGenerator : public Module {
 public:
  explicit DCGANGenerator(const DCGANOptions& options = {});
  // z [N, latent_dim] or [N, latent_dim, 1, 1] -> images [N, C, S, S] in (-1, 1).
  Tensor forward(const Tensor& z) override;

  DCGANOptions options;
  std::shared_ptr<Sequential> main;
};

class DCGANDiscriminator : public Module {
 public:
  explicit DCGANDiscriminator(const DCGANOptions& options = {});
  // images [N, C, S, S] -> logits [N] (the example's Sigmoid is left to the loss:
  // binary_cross_entropy_with_logits).
  Tensor forward(const Tensor& image) override;

  DCGANOptions options;
  std::shared_ptr<Sequential> main;
};

}  // namespace anvil::nn
