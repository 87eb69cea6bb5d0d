#include "nn/modules/normalization.h"

#include <algorithm>

#include "anvil.h"
#include "nn/fusion.h"

namespace anvil::nn {

namespace {

const char* py_bool(bool b) {
  return b ? "True" : "False";
}

// Python's tuple form: (32,) or (4, 8).
std::string shape_tuple(const Shape& s) {
  return s.size() == 1 ? fmt::format("({},)", s[0]) : fmt::format("({})", fmt::join(s, ", "));
}

}  // namespace

BatchNorm::BatchNorm(int64_t num_features, const BatchNormOptions& options,
                     std::vector<int64_t> input_dims)
    : num_features(num_features), options(options), input_dims_(std::move(input_dims)) {
  const TensorOptions t(options.dtype, options.device);
  weight = register_parameter("weight", options.affine ? ones({num_features}, t) : Tensor());
  bias = register_parameter("bias", options.affine ? zeros({num_features}, t) : Tensor());
  if (options.track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({num_features}, t));
    running_var = register_buffer("running_var", ones({num_features}, t));
    num_batches_tracked = register_buffer("num_batches_tracked",
                                          zeros({}, TensorOptions(DType::i64, options.device)));
  }
}

void BatchNorm::reset_running_stats() {
  if (!options.track_running_stats) return;
  NoGradGuard no_grad;
  running_mean.zero_();
  running_var.fill_(1.0);
  num_batches_tracked.zero_();
}

Tensor BatchNorm::forward(const Tensor& input) {
  ANVIL_CHECK(std::find(input_dims_.begin(), input_dims_.end(), input.dim()) != input_dims_.end(),
              "{}: expected {}D input (got {}D input {})", type_name(),
              fmt::join(input_dims_, "D or "), input.dim(), input.describe());
  if (fusion) {
    if (std::optional<Tensor> folded = fusion->bn_forward(input)) return *folded;
  }
  double factor = options.momentum.value_or(0.0);
  if (is_training() && options.track_running_stats) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1);
    if (!options.momentum) factor = 1.0 / num_batches_tracked.item<double>();
  }
  // Batch statistics in training, or when there are no running statistics to use.
  const bool use_batch_stats = is_training() || !options.track_running_stats;
  const bool pass_stats = !is_training() || options.track_running_stats;
  return batch_norm(input, pass_stats ? optional(running_mean) : std::nullopt,
                    pass_stats ? optional(running_var) : std::nullopt, optional(weight),
                    optional(bias),
                    {.training = use_batch_stats, .momentum = factor, .eps = options.eps});
}

std::string BatchNorm::extra_repr() const {
  return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}", num_features,
                     options.eps, options.momentum ? fmt::format("{}", *options.momentum) : "None",
                     py_bool(options.affine), py_bool(options.track_running_stats));
}

LayerNorm::LayerNorm(Shape normalized_shape, const LayerNormOptions& options)
    : normalized_shape(std::move(normalized_shape)), options(options) {
  const TensorOptions t(options.dtype, options.device);
  const bool affine = options.elementwise_affine;
  weight = register_parameter("weight", affine ? ones(this->normalized_shape, t) : Tensor());
  bias = register_parameter("bias",
                            affine && options.bias ? zeros(this->normalized_shape, t) : Tensor());
}

Tensor LayerNorm::forward(const Tensor& input) {
  return layer_norm(input, normalized_shape, optional(weight), optional(bias), options.eps);
}

std::string LayerNorm::extra_repr() const {
  return fmt::format("{}, eps={}, elementwise_affine={}", shape_tuple(normalized_shape),
                     options.eps, py_bool(options.elementwise_affine));
}

GroupNorm::GroupNorm(int64_t num_groups, int64_t num_channels, const GroupNormOptions& options)
    : num_groups(num_groups), num_channels(num_channels), options(options) {
  ANVIL_CHECK(num_groups > 0 && num_channels % num_groups == 0,
              "GroupNorm: num_channels {} must be divisible by num_groups {}", num_channels,
              num_groups);
  const TensorOptions t(options.dtype, options.device);
  weight = register_parameter("weight", options.affine ? ones({num_channels}, t) : Tensor());
  bias = register_parameter("bias", options.affine ? zeros({num_channels}, t) : Tensor());
}

Tensor GroupNorm::forward(const Tensor& input) {
  return group_norm(input, num_groups, optional(weight), optional(bias), options.eps);
}

std::string GroupNorm::extra_repr() const {
  return fmt::format("{}, {}, eps={}, affine={}", num_groups, num_channels, options.eps,
                     py_bool(options.affine));
}

RMSNorm::RMSNorm(Shape normalized_shape, const RMSNormOptions& options)
    : normalized_shape(std::move(normalized_shape)), options(options) {
  weight = register_parameter(
      "weight", options.elementwise_affine
                    ? ones(this->normalized_shape, TensorOptions(options.dtype, options.device))
                    : Tensor());
}

Tensor RMSNorm::forward(const Tensor& input) {
  return rms_norm(input, normalized_shape, optional(weight), options.eps);
}

std::string RMSNorm::extra_repr() const {
  return fmt::format("{}, eps={}, elementwise_affine={}", shape_tuple(normalized_shape),
                     options.eps ? fmt::format("{}", *options.eps) : "None",
                     py_bool(options.elementwise_affine));
}

}  // namespace anvil::nn
