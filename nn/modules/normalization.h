// Normalization layers: BatchNorm1d/2d (running statistics, momentum or cumulative average),
// LayerNorm, GroupNorm, RMSNorm, with torch.nn's arguments, defaults and printed form.
#pragma once

#include <optional>

#include "nn/module.h"

namespace anvil::nn {

class ConvBnFusion;

struct BatchNormOptions {
  double eps = 1e-5;
  std::optional<double> momentum = 0.1;  // nullopt: cumulative moving average
  bool affine = true;
  bool track_running_stats = true;
  DType dtype = DType::f32;
  Device device = Device::cpu();
};

// BatchNorm over channel dim 1; BatchNorm1d takes [N, C] or [N, C, L], BatchNorm2d [N, C, H, W].
class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  void reset_running_stats();

  int64_t num_features;
  BatchNormOptions options;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  // Set by turn_on_efficient_conv_bn_eval (nn/fusion.h): the conv this BN is folded into.
  std::shared_ptr<ConvBnFusion> fusion;

 protected:
  BatchNorm(int64_t num_features, const BatchNormOptions& options, std::vector<int64_t> input_dims);

 private:
  std::vector<int64_t> input_dims_;  // the accepted input ranks
};

class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, const BatchNormOptions& options = {})
      : BatchNorm(num_features, options, {2, 3}) {}
};

class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, const BatchNormOptions& options = {})
      : BatchNorm(num_features, options, {4}) {}
};

struct LayerNormOptions {
  double eps = 1e-5;
  bool elementwise_affine = true;
  bool bias = true;
  DType dtype = DType::f32;
  Device device = Device::cpu();
};

class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, const LayerNormOptions& options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  Shape normalized_shape;
  LayerNormOptions options;
  Tensor weight, bias;
};

struct GroupNormOptions {
  double eps = 1e-5;
  bool affine = true;
  DType dtype = DType::f32;
  Device device = Device::cpu();
};

class GroupNorm : public Module {
 public:
  GroupNorm(int64_t num_groups, int64_t num_channels, const GroupNormOptions& options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  int64_t num_groups, num_channels;
  GroupNormOptions options;
  Tensor weight, bias;
};

struct RMSNormOptions {
  std::optional<double> eps = std::nullopt;  // the input dtype's machine epsilon
  bool elementwise_affine = true;
  DType dtype = DType::f32;
  Device device = Device::cpu();
};

class RMSNorm : public Module {
 public:
  explicit RMSNorm(Shape normalized_shape, const RMSNormOptions& options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  Shape normalized_shape;
  RMSNormOptions options;
  Tensor weight;
};

}  // namespace anvil::nn
