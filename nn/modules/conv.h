// Convolution layers: Conv1d, Conv2d, ConvTranspose2d, with torch.nn's arguments, defaults,
// initialisation and printed form.
#pragma once

#include "nn/module.h"
#include "tensor/ops/conv.h"

namespace anvil::nn {

class ConvBnFusion;

struct Conv2dOptions {
  ConvPair stride = 1;
  ConvPadding<ConvPair> padding = 0;
  ConvPair dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  DType dtype = DType::f32;
  Device device = Device::cpu();
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, ConvPair kernel_size,
         const Conv2dOptions& options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  void reset_parameters();
  // This layer's convolution with the given parameters (torch's _conv_forward).
  Tensor conv_forward(const Tensor& input, const Tensor& weight,
                      const std::optional<Tensor>& bias) const;

  int64_t in_channels, out_channels;
  ConvPair kernel_size;
  Conv2dOptions options;
  Tensor weight, bias;
  // Set by turn_on_efficient_conv_bn_eval (nn/fusion.h): the BatchNorm this conv folds in.
  std::shared_ptr<ConvBnFusion> fusion;
};

struct Conv1dOptions {
  int64_t stride = 1;
  ConvPadding<int64_t> padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  DType dtype = DType::f32;
  Device device = Device::cpu();
};

class Conv1d : public Module {
 public:
  Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
         const Conv1dOptions& options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  int64_t in_channels, out_channels, kernel_size;
  Conv1dOptions options;
  Tensor weight, bias;
};

struct ConvTranspose2dOptions {
  ConvPair stride = 1;
  ConvPair padding = 0;
  ConvPair output_padding = 0;
  int64_t groups = 1;
  bool bias = true;
  ConvPair dilation = 1;
  DType dtype = DType::f32;
  Device device = Device::cpu();
};

class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, ConvPair kernel_size,
                  const ConvTranspose2dOptions& options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  int64_t in_channels, out_channels;
  ConvPair kernel_size;
  ConvTranspose2dOptions options;
  Tensor weight, bias;
};

}  // namespace anvil::nn
