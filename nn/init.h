// Weight initialisation, as torch.nn.init: in place, without recording autograd, from the default
// generator (anvil::manual_seed makes it reproducible). Below them, MMEngine's init_cfg
// initializers (mmengine/model/weight_init.py), which Module::init_weights() applies.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace anvil::nn {
class Module;
}

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

// ---- MMEngine's init_cfg ------------------------------------------------------------------------
//
// One init_cfg entry. The fields are MMEngine's keys, so a config entry such as
// {type="Kaiming", layer="Conv2d", a=0.1} maps onto it field by field; an unset field takes the
// initializer's default, and a field the type does not take is an error (as the Python
// initializer's unexpected keyword argument).
//
//   type         Constant(val), Xavier(gain=1, distribution="normal"), Normal(mean=0, std=1),
//                TruncNormal(mean=0, std=1, a=-2, b=2), Uniform(a=0, b=1),
//                Kaiming(a=0, mode="fan_out", nonlinearity="relu", distribution="normal"),
//                Caffe2Xavier (Kaiming a=1, fan_in, leaky_relu, uniform),
//                Pretrained(checkpoint, prefix): all but Pretrained also take layer, bias (0) or
//                bias_prob, and override. They set a module's own "weight" parameter by their
//                rule and its "bias" parameter to `bias` (or -log((1 - p) / p) for bias_prob).
//   layer        class names: the initializer visits every module of the tree it is applied to
//                and initialises those whose type_name() ("Conv2d") or PyTorch direct base class
//                name is listed. The base names are PyTorch's for the built-in layers, as
//                MMEngine sees them: "_ConvNd" (Conv1d, Conv2d), "_ConvTransposeNd"
//                (ConvTranspose2d), "_BatchNorm" (BatchNorm1d/2d), "_MaxPoolNd", "_AvgPoolNd",
//                "_AdaptiveAvgPoolNd", "_DropoutNd". Names are matched exactly ("Conv" matches
//                nothing), and the catch-all direct base "Module" is not matched. No layer: the
//                entry initialises nothing itself (only its overrides act).
//   override     entries for named children ("name" = the child's registered name), each applied
//                to that whole sub-module, layer ignored. An override with only a name takes the
//                parent entry's type and arguments; one with more keys must give its own type.
//   checkpoint   Pretrained: a safetensors file loaded non-strictly (missing and unexpected keys
//                and shape mismatches are logged and skipped); "module." key prefixes (saved from
//                a wrapped model) are dropped; `prefix` ("backbone." or "backbone") loads only
//                that part of the checkpoint, without the prefix.
struct InitCfg {
  // Every field has an initializer, so designated initialisers may give any subset.
  std::string type{};
  std::vector<std::string> layer{};
  std::vector<InitCfg> override{};
  std::string name{};  // in an override entry
  std::optional<double> bias{}, bias_prob{};
  std::optional<double> val{}, mean{}, std{}, a{}, b{}, gain{};
  std::optional<std::string> mode{}, nonlinearity{}, distribution{};
  std::optional<std::string> checkpoint{}, prefix{};
};

// MMEngine's bias_init_with_prob: the bias whose sigmoid is prior_prob.
double bias_init_with_prob(double prior_prob);

// MMEngine's initialize(module, init_cfg): each entry on `module`'s tree, then its overrides.
// Throws ValueError for an unknown type, an invalid or unexpected argument, bias together with
// bias_prob, or an override without name, without type (when it gives arguments) or naming no
// child of `module`.
void initialize(Module& module, const std::vector<InitCfg>& cfgs);

// Per-parameter provenance during a top-level Module::init_weights() (MMEngine's
// _params_init_info): what last changed each parameter, detected by its mean changing.
struct InitRecord {
  struct Entry {
    std::string info;
    double mean = 0;
  };
  std::map<const TensorImpl*, Entry> params;
  std::vector<std::string> log;  // what MMEngine prints while initialising (loads, repeats)
};

// Marks the parameters of `module` whose mean changed since last recorded as initialised by
// `info` (MMEngine's update_init_info); nothing outside init_weights().
void update_init_info(const Module& module, const std::string& info);

}  // namespace anvil::nn::init
