#include "nn/modules/activation.h"

#include "anvil.h"

namespace anvil::nn {

Tensor ReLU::forward(const Tensor& input) {
  return relu(input);
}

Tensor LeakyReLU::forward(const Tensor& input) {
  return leaky_relu(input, negative_slope);
}
std::string LeakyReLU::extra_repr() const {
  return fmt::format("negative_slope={}", negative_slope);
}

Tensor GELU::forward(const Tensor& input) {
  return gelu(input, approximate);
}
std::string GELU::extra_repr() const {
  return fmt::format("approximate='{}'", approximate == GeluApprox::tanh ? "tanh" : "none");
}

Tensor SiLU::forward(const Tensor& input) {
  return silu(input);
}

Tensor Sigmoid::forward(const Tensor& input) {
  return sigmoid(input);
}

Tensor Tanh::forward(const Tensor& input) {
  return tanh(input);
}

Tensor Softmax::forward(const Tensor& input) {
  return softmax(input, dim);
}
std::string Softmax::extra_repr() const {
  return fmt::format("dim={}", dim);
}

}  // namespace anvil::nn
