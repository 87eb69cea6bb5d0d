// ResNet-18/34/50/101/152 with torchvision's structure, defaults and parameter names
// (conv1.weight, layer1.0.bn1.running_mean, fc.bias, ...), so torchvision weights saved as
// safetensors load unchanged. Bottleneck blocks stride in the 3x3 convolution (ResNet v1.5), as
// torchvision does.
#pragma once

#include <memory>
#include <vector>

#include "nn/modules/container.h"
#include "nn/modules/conv.h"
#include "nn/modules/linear.h"
#include "nn/modules/normalization.h"
#include "nn/modules/pooling.h"

namespace anvil::nn {

struct ResNetOptions {
  int64_t num_classes = 1000;
  // The last BN of each residual branch starts at zero, so each block starts as the identity.
  bool zero_init_residual = false;
  int64_t groups = 1;
  int64_t width_per_group = 64;
};

// Two 3x3 convolutions (ResNet-18/34).
class BasicBlock : public Module {
 public:
  static constexpr int64_t kExpansion = 1;
  BasicBlock(int64_t inplanes, int64_t planes, int64_t stride, std::shared_ptr<Module> downsample,
             const ResNetOptions& options);
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<Conv2d> conv2;
  std::shared_ptr<BatchNorm2d> bn2;
  std::shared_ptr<Module> downsample;  // null when the shapes already agree
};

// 1x1 reduce, 3x3, 1x1 expand by 4 (ResNet-50/101/152).
class Bottleneck : public Module {
 public:
  static constexpr int64_t kExpansion = 4;
  Bottleneck(int64_t inplanes, int64_t planes, int64_t stride, std::shared_ptr<Module> downsample,
             const ResNetOptions& options);
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<Conv2d> conv2;
  std::shared_ptr<BatchNorm2d> bn2;
  std::shared_ptr<Conv2d> conv3;
  std::shared_ptr<BatchNorm2d> bn3;
  std::shared_ptr<Module> downsample;
};

class ResNet : public Module {
 public:
  // `bottleneck`: Bottleneck blocks (else BasicBlock); `layers`: blocks per stage.
  ResNet(bool bottleneck, const std::vector<int64_t>& layers, const ResNetOptions& options = {});
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<MaxPool2d> maxpool;
  std::shared_ptr<Sequential> layer1, layer2, layer3, layer4;
  std::shared_ptr<AdaptiveAvgPool2d> avgpool;
  std::shared_ptr<Linear> fc;
};

std::shared_ptr<ResNet> resnet18(const ResNetOptions& options = {});
std::shared_ptr<ResNet> resnet34(const ResNetOptions& options = {});
std::shared_ptr<ResNet> resnet50(const ResNetOptions& options = {});
std::shared_ptr<ResNet> resnet101(const ResNetOptions& options = {});
std::shared_ptr<ResNet> resnet152(const ResNetOptions& options = {});

}  // namespace anvil::nn
