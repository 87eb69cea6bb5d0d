// MMEngine's GAN tutorial in C++: a DCGAN trained on Fashion-MNIST by a Runner with two
// optimizers (an OptimWrapperDict), the model's train_step updating each in turn. After every
// epoch a hook draws 64 images from a fixed noise batch and saves them as an 8x8 PNG grid through
// the runner's visualizer: work_dir/<timestamp>/vis_data/vis_image/samples_<epoch>.png.
//   gan [fashion-mnist dir] [--work-dir ./work_dir] [--max-epochs 5] [--batch-size 64]
//       [--num-workers 2]
// Without a directory it reads $ANVIL_FASHION_MNIST or Debian's dataset-fashion-mnist.
#include <map>

#include "anvil.h"
#include "engine/data/readers.h"
#include "engine/runner/runner.h"

using namespace anvil;
using namespace anvil::engine;

const nn::DCGANOptions kDCGAN = {
    .latent_dim = 100, .base_channels = 64, .image_channels = 1, .image_size = 28};

// MMEngine's set_requires_grad: the generator's step leaves the discriminator's gradients alone.
void set_requires_grad(nn::Module& module, bool requires_grad) {
  for (Tensor p : module.parameters()) p.requires_grad_(requires_grad);
}

class GAN : public BaseModel {
 public:
  // Pixels in [0, 255] become [-1, 1], the range of the generator's Tanh.
  GAN()
      : BaseModel(std::make_shared<ImgDataPreprocessor>(
            ImgDataPreprocessorOptions{.mean = {127.5}, .std = {127.5}})) {}

  std::shared_ptr<nn::DCGANGenerator> generator =
      register_module("generator", std::make_shared<nn::DCGANGenerator>(kDCGAN));
  std::shared_ptr<nn::DCGANDiscriminator> discriminator =
      register_module("discriminator", std::make_shared<nn::DCGANDiscriminator>(kDCGAN));

  // Images from a batch of noise (`inputs` [N, latent_dim]), as the tutorial's forward.
  ModelOutput forward(const Batch& batch, Mode) override {
    return Outputs{generator->forward(batch.inputs)};
  }

  Scalars train_step(Batch batch, OptimWrapperDict& optim_wrappers) override {
    const Tensor real = data_preprocessor->process(std::move(batch), /*training=*/true).inputs;
    const double loss_dis = train_discriminator(real, optim_wrappers["discriminator"]);
    set_requires_grad(*discriminator, false);
    const double loss_gen = train_generator(real, optim_wrappers["generator"]);
    set_requires_grad(*discriminator, true);
    return {{"loss_dis", loss_dis}, {"loss_gen", loss_gen}};
  }

 private:
  Tensor noise(const Tensor& real) {
    return randn({real.size(0), kDCGAN.latent_dim}, real.device());
  }

  // Real images should score 1, generated ones 0 (logits: BCE with logits).
  double train_discriminator(const Tensor& real, OptimWrapper& wrapper) {
    const OptimContext context = wrapper.optim_context(*discriminator);
    Tensor fake;
    {
      NoGradGuard no_grad;
      fake = generator->forward(noise(real));
    }
    const Tensor pred_fake = discriminator->forward(fake), pred_real = discriminator->forward(real);
    const Tensor loss = binary_cross_entropy_with_logits(pred_fake, zeros_like(pred_fake)) +
                        binary_cross_entropy_with_logits(pred_real, ones_like(pred_real));
    wrapper.update_params(loss);
    return loss.item<double>();
  }

  // Generated images should fool the discriminator into scoring 1.
  double train_generator(const Tensor& real, OptimWrapper& wrapper) {
    const OptimContext context = wrapper.optim_context(*generator);
    const Tensor pred_fake = discriminator->forward(generator->forward(noise(real)));
    const Tensor loss = binary_cross_entropy_with_logits(pred_fake, ones_like(pred_fake));
    wrapper.update_params(loss);
    return loss.item<double>();
  }
};

// After each epoch: the generator's images for a fixed noise batch, as one 8x8 grid.
class SampleGridHook : public Hook {
 public:
  std::string name() const override { return "SampleGridHook"; }

  void after_train_epoch(Runner& runner) override {
    GAN& gan = dynamic_cast<GAN&>(runner.model());
    Tensor images;  // [64, C, S, S] in (-1, 1)
    {
      NoGradGuard no_grad;
      gan.generator->eval();
      images = gan.generator->forward(noise_.to(gan.data_preprocessor->device())).to(Device::cpu());
      gan.generator->train();
    }
    // To u8 as torchvision's save_image, 2 pixels of black around each image, then the 8x8 grid
    // as [8 * (S + 4), 8 * (S + 4), C].
    Tensor u8 = pad((images + 1) * 127.5 + 0.5, {2, 2, 2, 2}).clamp(0, 255).to(DType::u8);
    const int64_t c = u8.size(1), s = u8.size(2);
    Tensor grid = u8.reshape({8, 8, c, s, s}).permute({0, 3, 1, 4, 2}).reshape({8 * s, 8 * s, c});
    runner.visualizer().add_image("samples", grid, runner.epoch() + 1);
  }

 private:
  Generator seeded_{0};
  Tensor noise_ = randn({64, kDCGAN.latent_dim}, {}, &seeded_);
};

int main(int argc, char** argv) try {
  std::map<std::string, std::string> args = {{"--work-dir", "./work_dir"},
                                             {"--max-epochs", "5"},
                                             {"--batch-size", "64"},
                                             {"--num-workers", "2"}};
  // Flags from the end: each known one takes the value after it; the data directory may remain.
  for (; argc > 2 && args.count(argv[argc - 2]); argc -= 2) args[argv[argc - 2]] = argv[argc - 1];
  ANVIL_CHECK(argc == 1 || (argc == 2 && argv[1][0] != '-'),
              "usage: gan [fashion-mnist dir] [--work-dir D] [--max-epochs N] [--batch-size N] "
              "[--num-workers N]");
  auto n = [&](const char* flag) { return std::stoll(args[flag]); };
  auto dataset = std::make_shared<FashionMnistDataset>(DatasetOptions{
      .data_root = argc == 2 ? std::string(argv[1]) : find_fashion_mnist().string()});
  auto gan = std::make_shared<GAN>();
  auto adam = [&](nn::Module& module) {
    return build_optim_wrapper(
        module, {.optimizer = {"Adam", {{"lr", 2e-4}, {"beta1", 0.5}, {"beta2", 0.999}}}});
  };
  std::map<std::string, std::unique_ptr<OptimWrapper>> wrappers;
  wrappers["generator"] = adam(*gan->generator);
  wrappers["discriminator"] = adam(*gan->discriminator);
  Runner runner({.model = gan,
                 .work_dir = args["--work-dir"],
                 .train_dataloader = std::make_shared<DataLoader>(
                     dataset, std::make_shared<DefaultSampler>(*dataset),
                     DataLoaderOptions{.batch_size = n("--batch-size"),
                                       .num_workers = n("--num-workers"),
                                       .drop_last = true}),
                 .optim_wrapper = std::make_shared<OptimWrapperDict>(std::move(wrappers)),
                 .train_cfg = TrainLoopConfig{.max_epochs = n("--max-epochs")},
                 .custom_hooks = {std::make_shared<SampleGridHook>()}});
  runner.train();
} catch (const std::exception& e) {  // e.g. no Fashion-MNIST: the message says how to get it
  fmt::print(stderr, "gan: {}\n", e.what());
  return 1;
}
