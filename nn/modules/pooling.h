// Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, with torch.nn's printed form.
#pragma once

#include <optional>
#include <vector>

#include "nn/module.h"
#include "tensor/ops/pool.h"

namespace anvil::nn {

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(std::vector<int64_t> kernel_size, MaxPool2dOptions options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  std::vector<int64_t> kernel_size;
  MaxPool2dOptions options;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(std::vector<int64_t> kernel_size, AvgPool2dOptions options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  std::vector<int64_t> kernel_size;
  AvgPool2dOptions options;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(std::vector<std::optional<int64_t>> output_size)
      : output_size(std::move(output_size)) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  std::vector<std::optional<int64_t>> output_size;
};

}  // namespace anvil::nn
