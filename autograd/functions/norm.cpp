// The norm ops with their derivatives. Each forward runs the raw op that also returns its
// statistics (mean and invstd/rstd); the node saves them with the input and weight, and its
// backward is the family's fused backward kernel (tensor/ops/norm.h), which gives the input,
// weight and bias gradients in one call. Running statistics are buffers, not graph inputs.
#include "autograd/functions/norm.h"

#include "autograd/autocast.h"
#include "autograd/function.h"
#include "autograd/saved_tensor.h"

namespace anvil {

namespace {

using autograd::SavedTensor;

// What every norm node keeps: the input, the weight (when given) and the forward's statistics.
struct NormNode : autograd::Node {
  SavedTensor input, weight, mean, rstd;
  Shape bias_shape;
  void release_variables() override {
    input.release();
    weight.release();
    mean.release();
    rstd.release();
  }
  std::optional<Tensor> unpack_weight() const {
    const Tensor w = weight.unpack(name());
    return w.defined() ? std::optional<Tensor>(w) : std::nullopt;
  }
  // The flat bias gradient in the bias's shape.
  Tensor as_bias(const Tensor& gb) const { return gb.defined() ? gb.view(bias_shape) : gb; }
};

// Records `node` for an op with inputs (input, weight, bias) and saves what every norm backward
// needs.
template <class NodeT>
std::shared_ptr<NodeT> record_norm(const Tensor& input, const std::optional<Tensor>& weight,
                                   const std::optional<Tensor>& bias, const Tensor& out,
                                   const Tensor& mean, const Tensor& rstd) {
  const Tensor w = weight ? *weight : Tensor(), b = bias ? *bias : Tensor();
  auto node = autograd::record<NodeT>({input, w, b}, {out});
  if (node) {
    node->input = SavedTensor(input);
    if (w.defined()) node->weight = SavedTensor(w);
    node->mean = SavedTensor(mean);
    node->rstd = SavedTensor(rstd);
    if (b.defined()) node->bias_shape = b.shape();
  }
  return node;
}

std::array<bool, 3> wanted(const autograd::Node& node) {
  return {node.needs_input_grad(0), node.needs_input_grad(1), node.needs_input_grad(2)};
}

// ---- batch norm -------------------------------------------------------------------------------

// The fused kernel from the saved batch statistics (training), or the affine map
// grad_out * invstd * weight with the running statistics as constants (eval).
struct BatchNormBackward final : NormNode {
  bool training = false;
  std::string name() const override { return "BatchNormBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    auto [gi, gw, gb] =
        ops::batch_norm_backward(g[0], input.unpack(name()), unpack_weight(), mean.unpack(name()),
                                 rstd.unpack(name()), training, wanted(*this));
    return {gi, gw, as_bias(gb)};
  }
};

}  // namespace

Tensor batch_norm(const Tensor& input, const std::optional<Tensor>& running_mean,
                  const std::optional<Tensor>& running_var, const std::optional<Tensor>& weight,
                  const std::optional<Tensor>& bias, const BatchNormOptions& options) {
  auto [out, mean, invstd] = autograd::raw([&] {
    return ops::batch_norm_forward(input, running_mean, running_var, weight, bias, options);
  });
  if (auto node = record_norm<BatchNormBackward>(input, weight, bias, out, mean, invstd)) {
    node->training = options.training;
  }
  return out;
}

// ---- layer norm -------------------------------------------------------------------------------

namespace {

struct LayerNormBackward final : NormNode {
  Shape normalized_shape;
  std::string name() const override { return "LayerNormBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    auto [gi, gw, gb] =
        ops::layer_norm_backward(g[0], input.unpack(name()), normalized_shape, mean.unpack(name()),
                                 rstd.unpack(name()), unpack_weight(), wanted(*this));
    return {gi, gw, as_bias(gb)};
  }
};

}  // namespace

Tensor layer_norm(const Tensor& input, const Shape& normalized_shape,
                  const std::optional<Tensor>& weight, const std::optional<Tensor>& bias,
                  double eps) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, input, weight, bias}) {
    return layer_norm(cast(input), normalized_shape, cast(weight), cast(bias), eps);
  }
  auto [out, mean, rstd] = autograd::raw(
      [&] { return ops::layer_norm_forward(input, normalized_shape, weight, bias, eps); });
  if (auto node = record_norm<LayerNormBackward>(input, weight, bias, out, mean, rstd)) {
    node->normalized_shape = normalized_shape;
  }
  return out;
}

// ---- group norm -------------------------------------------------------------------------------

namespace {

struct GroupNormBackward final : NormNode {
  int64_t num_groups = 1;
  std::string name() const override { return "GroupNormBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    auto [gi, gw, gb] =
        ops::group_norm_backward(g[0], input.unpack(name()), num_groups, mean.unpack(name()),
                                 rstd.unpack(name()), unpack_weight(), wanted(*this));
    return {gi, gw, as_bias(gb)};
  }
};

}  // namespace

Tensor group_norm(const Tensor& input, int64_t num_groups, const std::optional<Tensor>& weight,
                  const std::optional<Tensor>& bias, double eps) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, input, weight, bias}) {
    return group_norm(cast(input), num_groups, cast(weight), cast(bias), eps);
  }
  auto [out, mean, rstd] =
      autograd::raw([&] { return ops::group_norm_forward(input, num_groups, weight, bias, eps); });
  if (auto node = record_norm<GroupNormBackward>(input, weight, bias, out, mean, rstd)) {
    node->num_groups = num_groups;
  }
  return out;
}

// ---- rms norm ---------------------------------------------------------------------------------

namespace {

// mean is unused (RMS norm has no centering); rstd is the forward's 1 / sqrt(mean(x^2) + eps).
struct RmsNormBackward final : NormNode {
  Shape normalized_shape;
  std::string name() const override { return "RmsNormBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    auto [gi, gw] =
        ops::rms_norm_backward(g[0], input.unpack(name()), normalized_shape, rstd.unpack(name()),
                               unpack_weight(), {needs_input_grad(0), needs_input_grad(1)});
    return {gi, gw};
  }
};

}  // namespace

Tensor rms_norm(const Tensor& input, const Shape& normalized_shape,
                const std::optional<Tensor>& weight, std::optional<double> eps) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, input, weight}) {
    return rms_norm(cast(input), normalized_shape, cast(weight), eps);
  }
  auto [out, rstd] =
      autograd::raw([&] { return ops::rms_norm_forward(input, normalized_shape, weight, eps); });
  const Tensor w = weight ? *weight : Tensor();
  if (auto node = autograd::record<RmsNormBackward>({input, w}, {out})) {
    node->input = SavedTensor(input);
    if (w.defined()) node->weight = SavedTensor(w);
    node->rstd = SavedTensor(rstd);
    node->normalized_shape = normalized_shape;
  }
  return out;
}

}  // namespace anvil
