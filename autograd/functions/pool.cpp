// The pool ops with their derivatives: pooling and upsampling call their raw backward kernels
// (tensor/ops/pool.h), embedding index-adds the gradient rows, dropout reapplies its saved mask.
#include "autograd/functions/pool.h"

#include <string>
#include <utility>

#include "autograd/function.h"
#include "autograd/saved_tensor.h"

namespace anvil {

namespace {

using autograd::Node;
using autograd::SavedTensor;

bool records(const Tensor& x) {
  return autograd::should_record(autograd::TensorRefs{x});
}

}  // namespace

// ---- max pooling --------------------------------------------------------------------------------

// y = max over each window (plain or adaptive): the gradient goes to the element each output
// took, by the saved indices (summed where windows overlap).
struct MaxPoolBackward final : Node {
  SavedTensor indices;
  Shape x_shape;
  std::string op;
  explicit MaxPoolBackward(std::string op) : op(std::move(op)) {}
  std::string name() const override { return op; }
  void release_variables() override { indices.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {ops::max_pool2d_backward(g[0], indices.unpack(name()), x_shape)};
  }
};

namespace {

// Records a max pool's values (never its indices) and saves what backward needs.
void record_max_pool(const char* op, const Tensor& x, const Tensor& values, const Tensor& indices) {
  if (auto node = autograd::record<MaxPoolBackward>({x}, {values}, op)) {
    node->indices = SavedTensor(indices);
    node->x_shape = x.shape();
  }
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const std::vector<int64_t>& kernel_size,
                  const MaxPool2dOptions& options) {
  // Indices cost a pass and memory: only a recorded call computes them.
  if (!records(x)) return autograd::raw([&] { return ops::max_pool2d(x, kernel_size, options); });
  auto [out, indices] =
      autograd::raw([&] { return ops::max_pool2d_with_indices(x, kernel_size, options); });
  record_max_pool("MaxPool2DWithIndicesBackward", x, out, indices);
  return out;
}

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x,
                                                  const std::vector<int64_t>& kernel_size,
                                                  const MaxPool2dOptions& options) {
  auto out = autograd::raw([&] { return ops::max_pool2d_with_indices(x, kernel_size, options); });
  record_max_pool("MaxPool2DWithIndicesBackward", x, out.first, out.second);
  return out;
}

Tensor adaptive_max_pool2d(const Tensor& x,
                           const std::vector<std::optional<int64_t>>& output_size) {
  return adaptive_max_pool2d_with_indices(x, output_size).first;
}

std::pair<Tensor, Tensor> adaptive_max_pool2d_with_indices(
    const Tensor& x, const std::vector<std::optional<int64_t>>& output_size) {
  auto out = autograd::raw([&] { return ops::adaptive_max_pool2d_with_indices(x, output_size); });
  record_max_pool("AdaptiveMaxPool2DBackward", x, out.first, out.second);
  return out;
}

// ---- average pooling
// ------------------------------------------------------------------------------

// y = window sum / divisor: each output's gradient over its divisor, spread over its window.
struct AvgPool2dBackward final : Node {
  Shape x_shape;
  std::vector<int64_t> kernel_size;
  AvgPool2dOptions options;
  std::string name() const override { return "AvgPool2DBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {ops::avg_pool2d_backward(g[0], x_shape, kernel_size, options)};
  }
};

Tensor avg_pool2d(const Tensor& x, const std::vector<int64_t>& kernel_size,
                  const AvgPool2dOptions& options) {
  Tensor out = autograd::raw([&] { return ops::avg_pool2d(x, kernel_size, options); });
  if (auto node = autograd::record<AvgPool2dBackward>({x}, {out})) {
    node->x_shape = x.shape();
    node->kernel_size = kernel_size;
    node->options = options;
  }
  return out;
}

// y = window mean over adaptive windows: each output's gradient over its window's size.
struct AdaptiveAvgPool2dBackward final : Node {
  Shape x_shape;
  std::string name() const override { return "AdaptiveAvgPool2DBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {ops::adaptive_avg_pool2d_backward(g[0], x_shape)};
  }
};

Tensor adaptive_avg_pool2d(const Tensor& x,
                           const std::vector<std::optional<int64_t>>& output_size) {
  Tensor out = autograd::raw([&] { return ops::adaptive_avg_pool2d(x, output_size); });
  if (auto node = autograd::record<AdaptiveAvgPool2dBackward>({x}, {out})) {
    node->x_shape = x.shape();
  }
  return out;
}

// ---- interpolate --------------------------------------------------------------------------------

// y = weighted sums of source elements (nearest: weight 1): the gradient goes back to the
// sources with the same weights.
struct InterpolateBackward final : Node {
  Shape x_shape;
  InterpolateOptions options;
  std::string name() const override { return "InterpolateBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {ops::interpolate_backward(g[0], x_shape, options)};
  }
};

Tensor interpolate(const Tensor& x, const InterpolateOptions& options) {
  Tensor out = autograd::raw([&] { return ops::interpolate(x, options); });
  if (auto node = autograd::record<InterpolateBackward>({x}, {out})) {
    node->x_shape = x.shape();
    node->options = options;
  }
  return out;
}

// ---- embedding ----------------------------------------------------------------------------------

// y = weight[indices]: the gradient rows index-added into zeros of weight's shape.
struct EmbeddingBackward final : Node {
  SavedTensor indices;
  int64_t num_weights = 0;
  EmbeddingOptions options;
  std::string name() const override { return "EmbeddingBackward"; }
  void release_variables() override { indices.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {ops::embedding_backward(g[0], indices.unpack(name()), num_weights, options)};
  }
};

Tensor embedding(const Tensor& indices, const Tensor& weight, const EmbeddingOptions& options) {
  Tensor out = autograd::raw([&] { return ops::embedding(indices, weight, options); });
  if (auto node = autograd::record<EmbeddingBackward>({weight}, {out})) {
    node->indices = SavedTensor(indices);
    node->num_weights = weight.size(0);
    node->options = options;
  }
  return out;
}

// ---- dropout ------------------------------------------------------------------------------------

// y = x * mask / (1 - p): the gradient through the same mask and scale.
struct DropoutBackward final : Node {
  SavedTensor mask;
  double p = 0;
  std::string name() const override { return "NativeDropoutBackward"; }
  void release_variables() override { mask.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {ops::dropout_backward(g[0], mask.unpack(name()), p)};
  }
};

Tensor dropout(const Tensor& x, double p, bool training) {
  if (!training || p == 0 || !records(x)) {
    return autograd::raw([&] { return ops::dropout(x, p, training); });
  }
  auto [out, mask] = autograd::raw([&] { return ops::native_dropout(x, p); });
  if (auto node = autograd::record<DropoutBackward>({x}, {out})) {
    node->mask = SavedTensor(mask);
    node->p = p;
  }
  return out;
}

Tensor& dropout_(Tensor& x, double p, bool training) {
  if (!training || p == 0)
    return autograd::raw([&]() -> Tensor& { return ops::dropout_(x, p, training); });
  auto node = autograd::record_inplace<DropoutBackward>("dropout_", x, {});
  Tensor mask = autograd::raw([&] { return ops::native_dropout_(x, p); });
  if (node) {
    node->mask = SavedTensor(mask);
    node->p = p;
    autograd::rebase_history(x, node);
  }
  return x;
}

}  // namespace anvil
