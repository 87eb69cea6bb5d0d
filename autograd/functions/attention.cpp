// scaled_dot_product_attention with its derivative: the node saves query, key, value, the mask,
// the output and the row logsumexp (no [L, S] matrix), and its backward is the family's
// backward kernel, which recomputes the probabilities and redraws dropout's mask from the saved
// Philox state. Gradients come over the broadcast batch dims and are summed to each input.
#include "autograd/functions/attention.h"

#include "autograd/autocast.h"
#include "autograd/function.h"
#include "autograd/functions/grad_utils.h"
#include "autograd/saved_tensor.h"

namespace anvil {

namespace {

using autograd::SavedTensor;

struct ScaledDotProductAttentionBackward final : autograd::Node {
  SavedTensor query, key, value, mask, output, logsumexp;
  PhiloxState dropout_state;
  double dropout_p = 0;
  bool is_causal = false;
  std::optional<double> scale;
  std::string name() const override { return "ScaledDotProductAttentionBackward"; }
  void release_variables() override {
    for (SavedTensor* t : {&query, &key, &value, &mask, &output, &logsumexp}) t->release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const Tensor q = query.unpack(name()), k = key.unpack(name()), v = value.unpack(name());
    const Tensor m = mask.unpack(name());
    const ops::AttentionForward forward{output.unpack(name()), logsumexp.unpack(name()),
                                        dropout_state};
    auto grads = ops::attention_backward(
        g[0], q, k, v, m.defined() ? std::optional<Tensor>(m) : std::nullopt, forward, dropout_p,
        is_causal, scale,
        {needs_input_grad(0), needs_input_grad(1), needs_input_grad(2), needs_input_grad(3)});
    const Shape shapes[] = {q.shape(), k.shape(), v.shape(), m.defined() ? m.shape() : Shape{}};
    std::vector<Tensor> out(4);
    for (size_t i = 0; i < 4; ++i)
      if (grads[i].defined()) out[i] = autograd::sum_to(grads[i], shapes[i]);
    return out;
  }
};

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const std::optional<Tensor>& attn_mask, double dropout_p,
                                    bool is_causal, std::optional<double> scale) {
  if (const autocast::Cast cast{autocast::Rule::attention, query, key, value, attn_mask}) {
    return scaled_dot_product_attention(cast(query), cast(key), cast(value), cast(attn_mask),
                                        dropout_p, is_causal, scale);
  }
  ops::AttentionForward f = autograd::raw([&] {
    return ops::attention_forward(query, key, value, attn_mask, dropout_p, is_causal, scale);
  });
  const Tensor mask = attn_mask ? *attn_mask : Tensor();
  // A bool mask is a constant: only a float mask is an input of the graph.
  const Tensor float_mask = mask.defined() && mask.is_floating_point() ? mask : Tensor();
  if (auto node = autograd::record<ScaledDotProductAttentionBackward>(
          {query, key, value, float_mask}, {f.output})) {
    node->query = SavedTensor(query);
    node->key = SavedTensor(key);
    node->value = SavedTensor(value);
    if (mask.defined()) node->mask = SavedTensor(mask);
    node->output = SavedTensor(f.output);
    node->logsumexp = SavedTensor(f.logsumexp);
    node->dropout_state = f.dropout_state;
    node->dropout_p = dropout_p;
    node->is_causal = is_causal;
    node->scale = scale;
  }
  return f.output;
}

}  // namespace anvil
