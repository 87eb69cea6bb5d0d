// The conv ops with their derivatives, all in the kernels' 4-D form (conv1d and unbatched inputs
// are views of it). For out = conv(x, w) + b:
//   dx = conv2d_backward_input(g, w), dw = conv2d_backward_weight(g, x), db = g summed over
//   N, H, W;
// a transposed convolution is conv2d_backward_input itself, so its derivatives swap roles:
//   dx = conv(g, w), dw = conv2d_backward_weight(x, g), db = g summed over N, H, W.
#include "autograd/functions/conv.h"

#include "autograd/autocast.h"
#include "autograd/function.h"
#include "autograd/saved_tensor.h"
#include "tensor/ops/reduce.h"

namespace anvil {

namespace {

using autograd::SavedTensor;

// What both nodes keep: the problem in 4-D form, the user's shapes, and the saved operands.
struct ConvNode : autograd::Node {
  const char* op;
  SavedTensor input, weight;
  Shape input_shape, weight_shape;
  ops::ConvProblem problem;
  explicit ConvNode(const char* op) : op(op) {}
  std::string name() const override { return op; }
  void release_variables() override {
    input.release();
    weight.release();
  }
  Tensor input4() const { return input.unpack(name()).reshape(problem.input4); }
  Tensor weight4() const { return weight.unpack(name()).reshape(problem.weight4); }
};

// The output's gradient in 4-D form: the output shape with the views' size-1 dims put back.
Tensor grad4(const Tensor& g, const Shape& out4) {
  return g.reshape(out4);
}

Tensor bias_grad(const Tensor& g4) {
  return ops::sum(g4, {0, 2, 3});
}

// out = conv2d_forward(x, w, b) (conv2d and conv1d).
struct ConvBackward final : ConvNode {
  using ConvNode::ConvNode;
  Shape output4;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    const Tensor g = grad4(grads[0], output4);
    Tensor gi, gw, gb;
    if (needs_input_grad(0)) {
      gi = ops::conv2d_backward_input(g, weight4(), problem.input4, problem.params)
               .reshape(input_shape);
    }
    if (needs_input_grad(1)) {
      auto [w, b] = ops::conv2d_backward_weight(g, input4(), problem.weight4, problem.params,
                                                needs_input_grad(2));
      gw = w.reshape(weight_shape);
      gb = b;
    } else if (needs_input_grad(2)) {
      gb = bias_grad(g);
    }
    return {gi, gw, gb};
  }
};

// out = conv2d_backward_input(x, w) + b (conv_transpose2d).
struct ConvTransposeBackward final : ConvNode {
  using ConvNode::ConvNode;
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    const Tensor g = grad4(grads[0], problem.output4);
    Tensor gi, gw, gb;
    if (needs_input_grad(0)) {
      gi = ops::conv2d_forward(g, weight4(), Tensor(), problem.params).reshape(input_shape);
    }
    if (needs_input_grad(1)) {
      gw = ops::conv2d_backward_weight(input4(), g, problem.weight4, problem.params, false).first;
    }
    if (needs_input_grad(2)) gb = bias_grad(g);
    return {gi, gw, gb};
  }
};

// Makes the node of a recorded conv op: saves what the wanted gradients need.
template <class NodeT>
std::shared_ptr<NodeT> record_conv(const char* op, const Tensor& input, const Tensor& weight,
                                   const std::optional<Tensor>& bias, const Tensor& out) {
  const Tensor b = bias ? *bias : Tensor();
  auto node = autograd::record<NodeT>({input, weight, b}, {out}, op);
  if (!node) return nullptr;
  if (node->needs_input_grad(0)) node->weight = SavedTensor(weight);
  if (node->needs_input_grad(1)) node->input = SavedTensor(input);
  node->input_shape = input.shape();
  node->weight_shape = weight.shape();
  return node;
}

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias,
              const Conv2dOptions& options) {
  if (const autocast::Cast cast{autocast::Rule::conv, input, weight, bias}) {
    return conv2d(cast(input), cast(weight), cast(bias), options);
  }
  Tensor out = autograd::raw([&] { return ops::conv2d(input, weight, bias, options); });
  if (auto node = record_conv<ConvBackward>("Conv2dBackward", input, weight, bias, out)) {
    node->problem = ops::conv2d_problem(input, weight, bias, options);
    const Shape& s = out.shape();  // [N,O,Ho,Wo] or [O,Ho,Wo]
    node->output4 = s.size() == 4 ? s : Shape{1, s[0], s[1], s[2]};
  }
  return out;
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias,
              const Conv1dOptions& options) {
  if (const autocast::Cast cast{autocast::Rule::conv, input, weight, bias}) {
    return conv1d(cast(input), cast(weight), cast(bias), options);
  }
  Tensor out = autograd::raw([&] { return ops::conv1d(input, weight, bias, options); });
  if (auto node = record_conv<ConvBackward>("Conv1dBackward", input, weight, bias, out)) {
    node->problem = ops::conv1d_problem(input, weight, bias, options);
    const Shape& s = out.shape();  // [N,O,Lo] or [O,Lo]
    node->output4 = s.size() == 3 ? Shape{s[0], s[1], 1, s[2]} : Shape{1, s[0], 1, s[1]};
  }
  return out;
}

Tensor conv_transpose2d(const Tensor& input, const Tensor& weight,
                        const std::optional<Tensor>& bias, const ConvTranspose2dOptions& options) {
  if (const autocast::Cast cast{autocast::Rule::conv, input, weight, bias}) {
    return conv_transpose2d(cast(input), cast(weight), cast(bias), options);
  }
  Tensor out = autograd::raw([&] { return ops::conv_transpose2d(input, weight, bias, options); });
  if (auto node =
          record_conv<ConvTransposeBackward>("ConvTranspose2dBackward", input, weight, bias, out)) {
    node->problem = ops::conv_transpose2d_problem(input, weight, bias, options);
  }
  return out;
}

}  // namespace anvil
