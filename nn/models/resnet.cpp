#include "nn/models/resnet.h"

#include "anvil.h"
#include "nn/init.h"

namespace anvil::nn {

namespace {

std::shared_ptr<Conv2d> conv3x3(int64_t in, int64_t out, int64_t stride = 1, int64_t groups = 1) {
  return std::make_shared<Conv2d>(
      in, out, 3, Conv2dOptions{.stride = stride, .padding = 1, .groups = groups, .bias = false});
}

std::shared_ptr<Conv2d> conv1x1(int64_t in, int64_t out, int64_t stride = 1) {
  return std::make_shared<Conv2d>(in, out, 1, Conv2dOptions{.stride = stride, .bias = false});
}

// The residual sum, then ReLU (out of place: the branches' saved tensors stay intact).
Tensor residual(const Tensor& branch, const Tensor& x, const std::shared_ptr<Module>& downsample) {
  return relu(branch + (downsample ? downsample->forward(x) : x));
}

}  // namespace

BasicBlock::BasicBlock(int64_t inplanes, int64_t planes, int64_t stride,
                       std::shared_ptr<Module> downsample_in, const ResNetOptions& options) {
  ANVIL_CHECK(options.groups == 1 && options.width_per_group == 64,
              "BasicBlock only supports groups=1 and width_per_group=64, got {} and {}",
              options.groups, options.width_per_group);
  conv1 = register_module("conv1", conv3x3(inplanes, planes, stride));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(planes));
  conv2 = register_module("conv2", conv3x3(planes, planes));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
  if (downsample_in) downsample = register_module("downsample", std::move(downsample_in));
}

Tensor BasicBlock::forward(const Tensor& x) {
  const Tensor out = relu(bn1->forward(conv1->forward(x)));
  return residual(bn2->forward(conv2->forward(out)), x, downsample);
}

Bottleneck::Bottleneck(int64_t inplanes, int64_t planes, int64_t stride,
                       std::shared_ptr<Module> downsample_in, const ResNetOptions& options) {
  const int64_t width = planes * options.width_per_group / 64 * options.groups;
  conv1 = register_module("conv1", conv1x1(inplanes, width));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(width));
  conv2 = register_module("conv2", conv3x3(width, width, stride, options.groups));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(width));
  conv3 = register_module("conv3", conv1x1(width, planes * kExpansion));
  bn3 = register_module("bn3", std::make_shared<BatchNorm2d>(planes * kExpansion));
  if (downsample_in) downsample = register_module("downsample", std::move(downsample_in));
}

Tensor Bottleneck::forward(const Tensor& x) {
  Tensor out = relu(bn1->forward(conv1->forward(x)));
  out = relu(bn2->forward(conv2->forward(out)));
  return residual(bn3->forward(conv3->forward(out)), x, downsample);
}

namespace {

template <class Block>
std::shared_ptr<Sequential> make_layer(int64_t& inplanes, int64_t planes, int64_t blocks,
                                       int64_t stride, const ResNetOptions& options) {
  std::shared_ptr<Module> downsample;
  if (stride != 1 || inplanes != planes * Block::kExpansion) {
    downsample = std::make_shared<Sequential>(
        std::vector<ModulePtr>{conv1x1(inplanes, planes * Block::kExpansion, stride),
                               std::make_shared<BatchNorm2d>(planes * Block::kExpansion)});
  }
  auto layer = std::make_shared<Sequential>();
  layer->push_back(std::make_shared<Block>(inplanes, planes, stride, downsample, options));
  inplanes = planes * Block::kExpansion;
  for (int64_t i = 1; i < blocks; ++i) {
    layer->push_back(std::make_shared<Block>(inplanes, planes, 1, nullptr, options));
  }
  return layer;
}

}  // namespace

ResNet::ResNet(bool bottleneck, const std::vector<int64_t>& layers, const ResNetOptions& options) {
  ANVIL_CHECK(layers.size() == 4, "ResNet: expected 4 stage depths, got {}", layers.size());
  int64_t inplanes = 64;
  conv1 = register_module(
      "conv1",
      std::make_shared<Conv2d>(3, 64, 7, Conv2dOptions{.stride = 2, .padding = 3, .bias = false}));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(64));
  maxpool = register_module(
      "maxpool", std::make_shared<MaxPool2d>(std::vector<int64_t>{3},
                                             MaxPool2dOptions{.stride = {2}, .padding = {1}}));
  const auto stage = [&](int64_t planes, int64_t blocks, int64_t stride) {
    return bottleneck ? make_layer<Bottleneck>(inplanes, planes, blocks, stride, options)
                      : make_layer<BasicBlock>(inplanes, planes, blocks, stride, options);
  };
  layer1 = register_module("layer1", stage(64, layers[0], 1));
  layer2 = register_module("layer2", stage(128, layers[1], 2));
  layer3 = register_module("layer3", stage(256, layers[2], 2));
  layer4 = register_module("layer4", stage(512, layers[3], 2));
  avgpool = register_module(
      "avgpool", std::make_shared<AdaptiveAvgPool2d>(std::vector<std::optional<int64_t>>{1, 1}));
  fc = register_module("fc", std::make_shared<Linear>(inplanes, options.num_classes));

  // torchvision's initialisation: He-normal convolutions (fan_out, relu), BN weight 1 bias 0,
  // and optionally a zero last BN per block.
  apply([](Module& m) {
    if (auto* conv = dynamic_cast<Conv2d*>(&m)) {
      init::kaiming_normal_(conv->weight, 0, init::FanMode::fan_out, "relu");
    } else if (auto* bn = dynamic_cast<BatchNorm*>(&m)) {
      init::ones_(bn->weight);
      init::zeros_(bn->bias);
    }
  });
  if (options.zero_init_residual) {
    apply([](Module& m) {
      if (auto* block = dynamic_cast<Bottleneck*>(&m)) init::zeros_(block->bn3->weight);
      if (auto* block = dynamic_cast<BasicBlock*>(&m)) init::zeros_(block->bn2->weight);
    });
  }
}

Tensor ResNet::forward(const Tensor& x) {
  Tensor out = maxpool->forward(relu(bn1->forward(conv1->forward(x))));
  out = layer4->forward(layer3->forward(layer2->forward(layer1->forward(out))));
  return fc->forward(avgpool->forward(out).flatten(1));
}

std::shared_ptr<ResNet> resnet18(const ResNetOptions& options) {
  return std::make_shared<ResNet>(false, std::vector<int64_t>{2, 2, 2, 2}, options);
}
std::shared_ptr<ResNet> resnet34(const ResNetOptions& options) {
  return std::make_shared<ResNet>(false, std::vector<int64_t>{3, 4, 6, 3}, options);
}
std::shared_ptr<ResNet> resnet50(const ResNetOptions& options) {
  return std::make_shared<ResNet>(true, std::vector<int64_t>{3, 4, 6, 3}, options);
}
std::shared_ptr<ResNet> resnet101(const ResNetOptions& options) {
  return std::make_shared<ResNet>(true, std::vector<int64_t>{3, 4, 23, 3}, options);
}
std::shared_ptr<ResNet> resnet152(const ResNetOptions& options) {
  return std::make_shared<ResNet>(true, std::vector<int64_t>{3, 8, 36, 3}, options);
}

}  // namespace anvil::nn
