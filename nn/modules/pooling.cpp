#include "nn/modules/pooling.h"

#include "anvil.h"

namespace anvil::nn {

namespace {

// PyTorch prints what was given: an int, or a tuple.
std::string sizes(const std::vector<int64_t>& v) {
  return v.size() == 1 ? fmt::format("{}", v[0]) : fmt::format("({})", fmt::join(v, ", "));
}

}  // namespace

MaxPool2d::MaxPool2d(std::vector<int64_t> kernel_size, MaxPool2dOptions options)
    : kernel_size(std::move(kernel_size)), options(std::move(options)) {
  if (this->options.stride.empty()) this->options.stride = this->kernel_size;
}

Tensor MaxPool2d::forward(const Tensor& input) {
  return max_pool2d(input, kernel_size, options);
}

std::string MaxPool2d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}, dilation={}, ceil_mode={}",
                     sizes(kernel_size), sizes(options.stride), sizes(options.padding),
                     sizes(options.dilation), options.ceil_mode ? "True" : "False");
}

AvgPool2d::AvgPool2d(std::vector<int64_t> kernel_size, AvgPool2dOptions options)
    : kernel_size(std::move(kernel_size)), options(std::move(options)) {
  if (this->options.stride.empty()) this->options.stride = this->kernel_size;
}

Tensor AvgPool2d::forward(const Tensor& input) {
  return avg_pool2d(input, kernel_size, options);
}

std::string AvgPool2d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}", sizes(kernel_size),
                     sizes(options.stride), sizes(options.padding));
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& input) {
  return adaptive_avg_pool2d(input, output_size);
}

std::string AdaptiveAvgPool2d::extra_repr() const {
  std::vector<std::string> parts;
  for (const auto& s : output_size) parts.push_back(s ? std::to_string(*s) : "None");
  return parts.size() == 1 ? "output_size=" + parts[0]
                           : fmt::format("output_size=({})", fmt::join(parts, ", "));
}

}  // namespace anvil::nn
