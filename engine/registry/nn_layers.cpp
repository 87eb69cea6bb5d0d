// The MODELS registrations of nn/'s layers with torch.nn's class names, argument names and
// defaults (PyTorch 1.13), so that a config describes a network layer by layer:
//   [model.backbone]
//   type = "Sequential"
//   layers = [{type = "Conv2d", in_channels = 1, out_channels = 8, kernel_size = 3}, ...]
// and MMEngine's data preprocessors. torch's tuples are lists here (kernel_size = [3, 2]); the
// device and dtype factory arguments are left out (the runner moves the model).
#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "engine/model/base_model.h"
#include "engine/registry/registries.h"
#include "nn/modules/activation.h"
#include "nn/modules/container.h"
#include "nn/modules/conv.h"
#include "nn/modules/dropout.h"
#include "nn/modules/linear.h"
#include "nn/modules/normalization.h"
#include "nn/modules/pooling.h"

namespace anvil::engine {
namespace {

using ModulePtr = std::shared_ptr<nn::Module>;

// The converted value at `key`, or `fallback` when the key is missing or null (get_or's rule).
template <class T, class Convert>
T converted_or(const Config& cfg, std::string_view key, T fallback, Convert convert) {
  const Config* value = cfg.find(key);
  return value == nullptr || value->is_null() ? fallback : T(convert(*value));
}

// torch's "int or tuple of two ints": kernel_size = 3 or kernel_size = [3, 2].
std::vector<int64_t> int_or_pair(const Config& value) {
  if (value.kind() == Config::Kind::integer) return {value.as_int()};
  if (value.is_array() && value.size() == 2) return value.as<std::vector<int64_t>>();
  throw ConfigError(fmt::format("{}: expected an int or a list of two ints, got {}", value.where(),
                                value.describe()));
}

ConvPair conv_pair(const Config& value) {
  const std::vector<int64_t> v = int_or_pair(value);
  return v.size() == 1 ? ConvPair(v[0]) : ConvPair(v[0], v[1]);
}

// Conv2d's padding: a pair, or "same" / "valid" (checked here as torch.nn does at construction).
ConvPadding<ConvPair> conv_padding(const Config& value) {
  if (value.is_string()) {
    const std::string& mode = value.as_string();
    if (mode != "same" && mode != "valid") {
      throw ConfigError(fmt::format("{}: padding must be numbers, 'same' or 'valid', got '{}'",
                                    value.where(), mode));
    }
    return {mode};
  }
  const ConvPair p = conv_pair(value);
  return {p.h, p.w};
}

// torch's padding_mode: anvil's convolutions pad with zeros only.
void check_zeros_padding(const Config& cfg) {
  const Config* mode = cfg.find("padding_mode");
  if (mode != nullptr && !mode->is_null() && mode->as_string() != "zeros") {
    throw ConfigError(fmt::format("{}: padding_mode '{}' is not supported; only 'zeros' is",
                                  mode->where(), mode->as_string()));
  }
}

// torch's inplace flag only saves memory: it is checked to be a bool, and the layer computes out
// of place with the same result.
void check_inplace(const Config& cfg) {
  static_cast<void>(cfg.get_or("inplace", false));
}

ANVIL_REGISTER(MODELS, "Sequential", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"layers"});
  auto sequential = std::make_shared<nn::Sequential>();
  if (const Config* layers = cfg.find("layers"); layers != nullptr && !layers->is_null()) {
    for (const Config& layer : layers->elements()) sequential->push_back(MODELS.build(layer));
  }
  return sequential;
});

// ---- convolution and linear ---------------------------------------------------------------------

ANVIL_REGISTER(MODELS, "Conv2d", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                  "groups", "bias", "padding_mode"});
  check_zeros_padding(cfg);
  nn::Conv2dOptions o;
  o.stride = converted_or(cfg, "stride", o.stride, conv_pair);
  o.padding = converted_or(cfg, "padding", o.padding, conv_padding);
  o.dilation = converted_or(cfg, "dilation", o.dilation, conv_pair);
  o.groups = cfg.get_or("groups", o.groups);
  o.bias = cfg.get_or("bias", o.bias);
  return std::make_shared<nn::Conv2d>(cfg.get<int64_t>("in_channels"),
                                      cfg.get<int64_t>("out_channels"),
                                      conv_pair(cfg["kernel_size"]), o);
});

ANVIL_REGISTER(MODELS, "ConvTranspose2d", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"in_channels", "out_channels", "kernel_size", "stride", "padding",
                  "output_padding", "groups", "bias", "dilation", "padding_mode"});
  check_zeros_padding(cfg);
  nn::ConvTranspose2dOptions o;
  o.stride = converted_or(cfg, "stride", o.stride, conv_pair);
  o.padding = converted_or(cfg, "padding", o.padding, conv_pair);
  o.output_padding = converted_or(cfg, "output_padding", o.output_padding, conv_pair);
  o.groups = cfg.get_or("groups", o.groups);
  o.bias = cfg.get_or("bias", o.bias);
  o.dilation = converted_or(cfg, "dilation", o.dilation, conv_pair);
  return std::make_shared<nn::ConvTranspose2d>(cfg.get<int64_t>("in_channels"),
                                               cfg.get<int64_t>("out_channels"),
                                               conv_pair(cfg["kernel_size"]), o);
});

ANVIL_REGISTER(MODELS, "Linear", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"in_features", "out_features", "bias"});
  return std::make_shared<nn::Linear>(cfg.get<int64_t>("in_features"),
                                      cfg.get<int64_t>("out_features"),
                                      nn::LinearOptions{.bias = cfg.get_or("bias", true)});
});

// ---- normalization ------------------------------------------------------------------------------

// torch's momentum = None (a cumulative average) has no TOML form: a missing or null momentum is
// the default 0.1.
nn::BatchNormOptions batch_norm_options(const Config& cfg) {
  cfg.check_keys({"num_features", "eps", "momentum", "affine", "track_running_stats"});
  nn::BatchNormOptions o;
  o.eps = cfg.get_or("eps", o.eps);
  o.momentum = cfg.get_or("momentum", *o.momentum);
  o.affine = cfg.get_or("affine", o.affine);
  o.track_running_stats = cfg.get_or("track_running_stats", o.track_running_stats);
  return o;
}

ANVIL_REGISTER(MODELS, "BatchNorm1d", [](const Config& cfg) -> ModulePtr {
  const nn::BatchNormOptions o = batch_norm_options(cfg);
  return std::make_shared<nn::BatchNorm1d>(cfg.get<int64_t>("num_features"), o);
});

ANVIL_REGISTER(MODELS, "BatchNorm2d", [](const Config& cfg) -> ModulePtr {
  const nn::BatchNormOptions o = batch_norm_options(cfg);
  return std::make_shared<nn::BatchNorm2d>(cfg.get<int64_t>("num_features"), o);
});

// `bias` is torch 2.1's (1.13 has no bias = false).
ANVIL_REGISTER(MODELS, "LayerNorm", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"normalized_shape", "eps", "elementwise_affine", "bias"});
  nn::LayerNormOptions o;
  o.eps = cfg.get_or("eps", o.eps);
  o.elementwise_affine = cfg.get_or("elementwise_affine", o.elementwise_affine);
  o.bias = cfg.get_or("bias", o.bias);
  const Config& shape = cfg["normalized_shape"];
  return std::make_shared<nn::LayerNorm>(
      shape.is_array() ? shape.as<Shape>() : Shape{shape.as_int()}, o);
});

ANVIL_REGISTER(MODELS, "GroupNorm", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"num_groups", "num_channels", "eps", "affine"});
  nn::GroupNormOptions o;
  o.eps = cfg.get_or("eps", o.eps);
  o.affine = cfg.get_or("affine", o.affine);
  return std::make_shared<nn::GroupNorm>(cfg.get<int64_t>("num_groups"),
                                         cfg.get<int64_t>("num_channels"), o);
});

// ---- activations --------------------------------------------------------------------------------

ANVIL_REGISTER(MODELS, "ReLU", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"inplace"});
  check_inplace(cfg);
  return std::make_shared<nn::ReLU>();
});

ANVIL_REGISTER(MODELS, "LeakyReLU", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"negative_slope", "inplace"});
  check_inplace(cfg);
  return std::make_shared<nn::LeakyReLU>(cfg.get_or("negative_slope", 0.01));
});

ANVIL_REGISTER(MODELS, "GELU", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"approximate"});
  const std::string approximate = cfg.get_or<std::string>("approximate", "none");
  if (approximate != "none" && approximate != "tanh") {
    throw ConfigError(fmt::format("{}: approximate must be 'none' or 'tanh', got '{}'",
                                  cfg["approximate"].where(), approximate));
  }
  return std::make_shared<nn::GELU>(approximate == "tanh" ? GeluApprox::tanh : GeluApprox::none);
});

ANVIL_REGISTER(MODELS, "SiLU", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"inplace"});
  check_inplace(cfg);
  return std::make_shared<nn::SiLU>();
});

ANVIL_REGISTER(MODELS, "Sigmoid", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({});
  return std::make_shared<nn::Sigmoid>();
});

ANVIL_REGISTER(MODELS, "Tanh", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({});
  return std::make_shared<nn::Tanh>();
});

// `dim` is required: torch's dim = None (a dim guessed from the input's rank) is deprecated.
ANVIL_REGISTER(MODELS, "Softmax", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"dim"});
  return std::make_shared<nn::Softmax>(cfg.get<int64_t>("dim"));
});

// ---- pooling ------------------------------------------------------------------------------------

ANVIL_REGISTER(MODELS, "MaxPool2d", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"});
  if (cfg.get_or("return_indices", false)) {
    throw ConfigError(fmt::format(
        "{}: return_indices = true gives two outputs, which a layer in a model cannot pass on",
        cfg["return_indices"].where()));
  }
  MaxPool2dOptions o;
  o.stride = converted_or(cfg, "stride", o.stride, int_or_pair);
  o.padding = converted_or(cfg, "padding", o.padding, int_or_pair);
  o.dilation = converted_or(cfg, "dilation", o.dilation, int_or_pair);
  o.ceil_mode = cfg.get_or("ceil_mode", o.ceil_mode);
  return std::make_shared<nn::MaxPool2d>(int_or_pair(cfg["kernel_size"]), o);
});

ANVIL_REGISTER(MODELS, "AvgPool2d", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys(
      {"kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"});
  AvgPool2dOptions o;
  o.stride = converted_or(cfg, "stride", o.stride, int_or_pair);
  o.padding = converted_or(cfg, "padding", o.padding, int_or_pair);
  o.ceil_mode = cfg.get_or("ceil_mode", o.ceil_mode);
  o.count_include_pad = cfg.get_or("count_include_pad", o.count_include_pad);
  o.divisor_override = converted_or(cfg, "divisor_override", o.divisor_override,
                                    [](const Config& v) { return v.as_int(); });
  return std::make_shared<nn::AvgPool2d>(int_or_pair(cfg["kernel_size"]), o);
});

// output_size = 7 or [7, 7]; a null entry (from C++ or --cfg-options) keeps that input size.
ANVIL_REGISTER(MODELS, "AdaptiveAvgPool2d", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"output_size"});
  const Config& size = cfg["output_size"];
  std::vector<std::optional<int64_t>> output_size;
  if (size.is_array() && size.size() == 2) {
    for (const Config& s : size.elements()) {
      output_size.push_back(s.is_null() ? std::nullopt : std::optional(s.as_int()));
    }
  } else {
    output_size = {int_or_pair(size)[0]};
  }
  return std::make_shared<nn::AdaptiveAvgPool2d>(std::move(output_size));
});

// ---- others -------------------------------------------------------------------------------------

ANVIL_REGISTER(MODELS, "Dropout", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"p", "inplace"});
  check_inplace(cfg);
  return std::make_shared<nn::Dropout>(cfg.get_or("p", 0.5));
});

ANVIL_REGISTER(MODELS, "Flatten", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"start_dim", "end_dim"});
  return std::make_shared<nn::Flatten>(cfg.get_or<int64_t>("start_dim", 1),
                                       cfg.get_or<int64_t>("end_dim", -1));
});

ANVIL_REGISTER(MODELS, "Identity", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({});
  return std::make_shared<nn::Identity>();
});

// ---- MMEngine's data preprocessors --------------------------------------------------------------

ANVIL_REGISTER(MODELS, "BaseDataPreprocessor", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({});
  return std::make_shared<BaseDataPreprocessor>();
});

ANVIL_REGISTER(MODELS, "ImgDataPreprocessor", [](const Config& cfg) -> ModulePtr {
  cfg.check_keys({"mean", "std", "pad_size_divisor", "pad_value", "bgr_to_rgb", "rgb_to_bgr"});
  ImgDataPreprocessorOptions o;
  o.mean = cfg.get_or("mean", o.mean);
  o.std = cfg.get_or("std", o.std);
  o.pad_size_divisor = cfg.get_or("pad_size_divisor", o.pad_size_divisor);
  o.pad_value = cfg.get_or("pad_value", o.pad_value);
  o.bgr_to_rgb = cfg.get_or("bgr_to_rgb", o.bgr_to_rgb);
  o.rgb_to_bgr = cfg.get_or("rgb_to_bgr", o.rgb_to_bgr);
  return std::make_shared<ImgDataPreprocessor>(std::move(o));
});

}  // namespace
}  // namespace anvil::engine
