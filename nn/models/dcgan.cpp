#include "nn/models/dcgan.h"

#include "anvil.h"

namespace anvil::nn {

namespace {

struct Plan {
  int64_t start;   // the side of the first feature map
  int64_t stages;  // stride-2 stages from there to the image
};

Plan plan(const DCGANOptions& o, const char* model) {
  ANVIL_CHECK(o.image_size == 28 || o.image_size == 32 || o.image_size == 64,
              "{}: image_size must be 28, 32 or 64, got {}", model, o.image_size);
  ANVIL_CHECK(o.latent_dim > 0 && o.base_channels > 0 && o.image_channels > 0,
              "{}: latent_dim, base_channels and image_channels must be positive, got {}, {}, {}",
              model, o.latent_dim, o.base_channels, o.image_channels);
  if (o.image_size == 28) return {7, 2};
  return {4, o.image_size == 32 ? 3 : 4};
}

// The DCGAN paper's initialisation, as the PyTorch example's weights_init.
std::vector<init::InitCfg> dcgan_init() {
  return {{.type = "Normal", .layer = {"Conv2d", "ConvTranspose2d"}, .mean = 0, .std = 0.02},
          {.type = "Normal", .layer = {"BatchNorm2d"}, .bias = 0, .mean = 1, .std = 0.02}};
}

ModulePtr conv_transpose(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return std::make_shared<ConvTranspose2d>(
      in, out, kernel, ConvTranspose2dOptions{.stride = stride, .padding = padding, .bias = false});
}

ModulePtr conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return std::make_shared<Conv2d>(
      in, out, kernel, Conv2dOptions{.stride = stride, .padding = padding, .bias = false});
}

}  // namespace

DCGANGenerator::DCGANGenerator(const DCGANOptions& options) : options(options) {
  const Plan p = plan(options, "DCGANGenerator");
  main = register_module("main", std::make_shared<Sequential>());
  int64_t channels = options.base_channels << (p.stages - 1);
  main->push_back(conv_transpose(options.latent_dim, channels, p.start, 1, 0));
  main->push_back(std::make_shared<BatchNorm2d>(channels));
  main->push_back(std::make_shared<ReLU>());
  for (int64_t i = 1; i < p.stages; ++i, channels /= 2) {
    main->push_back(conv_transpose(channels, channels / 2, 4, 2, 1));
    main->push_back(std::make_shared<BatchNorm2d>(channels / 2));
    main->push_back(std::make_shared<ReLU>());
  }
  main->push_back(conv_transpose(channels, options.image_channels, 4, 2, 1));
  main->push_back(std::make_shared<Tanh>());
  init_cfg = dcgan_init();
}

Tensor DCGANGenerator::forward(const Tensor& z) {
  ANVIL_CHECK((z.dim() == 2 || (z.dim() == 4 && z.size(2) == 1 && z.size(3) == 1)) &&
                  z.size(1) == options.latent_dim,
              "DCGANGenerator: expected z [N, {}] or [N, {}, 1, 1], got {}", options.latent_dim,
              options.latent_dim, z.describe());
  return main->forward(z.dim() == 2 ? z.reshape({z.size(0), z.size(1), 1, 1}) : z);
}

DCGANDiscriminator::DCGANDiscriminator(const DCGANOptions& options) : options(options) {
  const Plan p = plan(options, "DCGANDiscriminator");
  main = register_module("main", std::make_shared<Sequential>());
  int64_t channels = options.base_channels;
  main->push_back(conv(options.image_channels, channels, 4, 2, 1));
  main->push_back(std::make_shared<LeakyReLU>(0.2));
  for (int64_t i = 1; i < p.stages; ++i, channels *= 2) {
    main->push_back(conv(channels, channels * 2, 4, 2, 1));
    main->push_back(std::make_shared<BatchNorm2d>(channels * 2));
    main->push_back(std::make_shared<LeakyReLU>(0.2));
  }
  main->push_back(conv(channels, 1, p.start, 1, 0));
  init_cfg = dcgan_init();
}

Tensor DCGANDiscriminator::forward(const Tensor& image) {
  const int64_t s = options.image_size;
  ANVIL_CHECK(image.dim() == 4 && image.size(1) == options.image_channels && image.size(2) == s &&
                  image.size(3) == s,
              "DCGANDiscriminator: expected images [N, {}, {}, {}], got {}", options.image_channels,
              s, s, image.describe());
  return main->forward(image).reshape({image.size(0)});
}

}  // namespace anvil::nn
