#include "nn/modules/linear.h"

#include <cmath>

#include "anvil.h"
#include "nn/init.h"

namespace anvil::nn {

Linear::Linear(int64_t in_features, int64_t out_features, const LinearOptions& options)
    : in_features(in_features), out_features(out_features) {
  ANVIL_CHECK(in_features >= 0 && out_features >= 0,
              "Linear: feature counts must be non-negative, got in {} out {}", in_features,
              out_features);
  const TensorOptions t(options.dtype, options.device);
  weight = register_parameter("weight", empty({out_features, in_features}, t));
  bias = register_parameter("bias", options.bias ? empty({out_features}, t) : Tensor());
  reset_parameters();
}

void Linear::reset_parameters() {
  // kaiming_uniform_(a = sqrt(5)) is uniform in +-1/sqrt(fan_in), as torch.nn.Linear.
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = in_features > 0 ? 1 / std::sqrt(static_cast<double>(in_features)) : 0;
    init::uniform_(bias, -bound, bound);
  }
}

Tensor Linear::forward(const Tensor& input) {
  return linear(input, weight, optional(bias));
}

std::string Linear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", in_features, out_features,
                     bias.defined() ? "True" : "False");
}

std::string Flatten::extra_repr() const {
  return fmt::format("start_dim={}, end_dim={}", start_dim, end_dim);
}

}  // namespace anvil::nn
