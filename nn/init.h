// Weight initialisation, as torch.nn.init: in place, without recording autograd, from the default
// generator (anvil::manual_seed makes it reproducible).
#pragma once

#include <string>

#include "tensor/tensor.h"

namespace anvil::nn::init {

enum class FanMode { fan_in, fan_out };

// The recommended gain for a nonlinearity: linear, conv*, sigmoid 1; tanh 5/3; relu sqrt(2);
// leaky_relu sqrt(2 / (1 + slope^2)) (slope defaults to 0.01); selu 3/4.
double calculate_gain(const std::string& nonlinearity, double param = 0.01);
// (fan_in, fan_out) of a weight of at least 2 dims: [out, in, *kernel].
std::pair<int64_t, int64_t> fans(const Tensor& weight);

Tensor& uniform_(Tensor& t, double a = 0, double b = 1);
Tensor& normal_(Tensor& t, double mean = 0, double std = 1);
// Normal(mean, std) values redrawn until they fall in [a, b].
Tensor& trunc_normal_(Tensor& t, double mean = 0, double std = 1, double a = -2, double b = 2);
Tensor& constant_(Tensor& t, double value);
Tensor& zeros_(Tensor& t);
Tensor& ones_(Tensor& t);
Tensor& xavier_uniform_(Tensor& t, double gain = 1);
Tensor& xavier_normal_(Tensor& t, double gain = 1);
// `a`: the negative slope of the leaky_relu that follows (0: relu).
Tensor& kaiming_uniform_(Tensor& t, double a = 0, FanMode mode = FanMode::fan_in,
                         const std::string& nonlinearity = "leaky_relu");
Tensor& kaiming_normal_(Tensor& t, double a = 0, FanMode mode = FanMode::fan_in,
                        const std::string& nonlinearity = "leaky_relu");

}  // namespace anvil::nn::init
