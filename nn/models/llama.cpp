#include "nn/models/llama.h"

#include <cmath>
#include <vector>

#include "anvil.h"
#include "nn/init.h"

namespace anvil::nn {

namespace {

constexpr const char* kOp = "Llama";

std::shared_ptr<Linear> projection(int64_t in, int64_t out, const LlamaOptions& o) {
  return std::make_shared<Linear>(
      in, out, LinearOptions{.bias = false, .dtype = o.dtype, .device = o.device});
}

int64_t kv_heads(const LlamaOptions& o) {
  return o.num_key_value_heads.value_or(o.num_attention_heads);
}

// Hugging Face's rotate_half: (x1, x2) -> (-x2, x1) over the two halves of the last dim.
Tensor rotate_half(const Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return cat({x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)}, -1);
}

Tensor rotary(const Tensor& x, const Tensor& cos, const Tensor& sin) {
  return x * cos + rotate_half(x) * sin;
}

}  // namespace

LlamaAttention::LlamaAttention(const LlamaOptions& o)
    : num_heads(o.num_attention_heads),
      num_key_value_heads(kv_heads(o)),
      head_dim(o.hidden_size / o.num_attention_heads) {
  q_proj = register_module("q_proj", projection(o.hidden_size, num_heads * head_dim, o));
  k_proj = register_module("k_proj", projection(o.hidden_size, num_key_value_heads * head_dim, o));
  v_proj = register_module("v_proj", projection(o.hidden_size, num_key_value_heads * head_dim, o));
  o_proj = register_module("o_proj", projection(num_heads * head_dim, o.hidden_size, o));
}

Tensor LlamaAttention::forward(const Tensor& x, const Tensor& cos, const Tensor& sin) {
  const int64_t b = x.size(0), t = x.size(1), kv = num_key_value_heads;
  const int64_t group = num_heads / kv;
  const Tensor q =
      rotary(q_proj->forward(x).view({b, t, num_heads, head_dim}).transpose(1, 2), cos, sin);
  const Tensor k = rotary(k_proj->forward(x).view({b, t, kv, head_dim}).transpose(1, 2), cos, sin);
  const Tensor v = v_proj->forward(x).view({b, t, kv, head_dim}).transpose(1, 2);
  // Query heads h = g * group + r share key/value head g: [B, kv, group, T, d] against
  // [B, kv, 1, T, d], broadcast by the attention op (no repeated copies of k and v).
  const Tensor out =
      scaled_dot_product_attention(q.reshape({b, kv, group, t, head_dim}), k.unsqueeze(2),
                                   v.unsqueeze(2), std::nullopt, 0, true);
  return o_proj->forward(out.reshape({b, num_heads, t, head_dim})
                             .transpose(1, 2)
                             .reshape({b, t, num_heads * head_dim}));
}

LlamaMLP::LlamaMLP(const LlamaOptions& o) {
  gate_proj = register_module("gate_proj", projection(o.hidden_size, o.intermediate_size, o));
  up_proj = register_module("up_proj", projection(o.hidden_size, o.intermediate_size, o));
  down_proj = register_module("down_proj", projection(o.intermediate_size, o.hidden_size, o));
}

Tensor LlamaMLP::forward(const Tensor& x) {
  return down_proj->forward(silu(gate_proj->forward(x)) * up_proj->forward(x));
}

LlamaDecoderLayer::LlamaDecoderLayer(const LlamaOptions& o) {
  const RMSNormOptions norm{.eps = o.rms_norm_eps, .dtype = o.dtype, .device = o.device};
  self_attn = register_module("self_attn", std::make_shared<LlamaAttention>(o));
  mlp = register_module("mlp", std::make_shared<LlamaMLP>(o));
  input_layernorm =
      register_module("input_layernorm", std::make_shared<RMSNorm>(Shape{o.hidden_size}, norm));
  post_attention_layernorm = register_module("post_attention_layernorm",
                                             std::make_shared<RMSNorm>(Shape{o.hidden_size}, norm));
}

Tensor LlamaDecoderLayer::forward(const Tensor& x, const Tensor& cos, const Tensor& sin) {
  const Tensor h = x + self_attn->forward(input_layernorm->forward(x), cos, sin);
  return h + mlp->forward(post_attention_layernorm->forward(h));
}

LlamaModel::LlamaModel(const LlamaOptions& o) : options(o) {
  ANVIL_CHECK(o.num_attention_heads > 0 && o.hidden_size % o.num_attention_heads == 0 &&
                  (o.hidden_size / o.num_attention_heads) % 2 == 0,
              "{}: hidden_size {} must split into num_attention_heads {} heads of an even size",
              kOp, o.hidden_size, o.num_attention_heads);
  ANVIL_CHECK(kv_heads(o) > 0 && o.num_attention_heads % kv_heads(o) == 0,
              "{}: num_attention_heads {} must be a multiple of num_key_value_heads {}", kOp,
              o.num_attention_heads, kv_heads(o));
  embed_tokens = register_module(
      "embed_tokens",
      std::make_shared<Embedding>(o.vocab_size, o.hidden_size,
                                  EmbeddingLayerOptions{.dtype = o.dtype, .device = o.device}));
  layers = register_module("layers", std::make_shared<ModuleList>());
  for (int64_t i = 0; i < o.num_hidden_layers; ++i)
    layers->push_back(std::make_shared<LlamaDecoderLayer>(o));
  norm = register_module(
      "norm", std::make_shared<RMSNorm>(
                  Shape{o.hidden_size},
                  RMSNormOptions{.eps = o.rms_norm_eps, .dtype = o.dtype, .device = o.device}));
  // cos/sin of position * theta^(-2i/d) for i < d/2, the frequencies repeated over both halves.
  const int64_t d = o.hidden_size / o.num_attention_heads, n = o.max_position_embeddings;
  std::vector<double> c(static_cast<size_t>(n * d)), s(c.size());
  for (int64_t p = 0; p < n; ++p) {
    for (int64_t i = 0; i < d; ++i) {
      const double inv_freq =
          1 / std::pow(o.rope_theta, static_cast<double>(2 * (i % (d / 2))) / d);
      c[p * d + i] = std::cos(p * inv_freq);
      s[p * d + i] = std::sin(p * inv_freq);
    }
  }
  rope_cos = register_buffer("rope_cos", tensor(c, {n, d}).to(o.device, o.dtype), false);
  rope_sin = register_buffer("rope_sin", tensor(s, {n, d}).to(o.device, o.dtype), false);
}

Tensor LlamaModel::forward(const Tensor& input_ids) {
  ANVIL_CHECK(input_ids.dim() == 2 && input_ids.dtype() == DType::i64 &&
                  input_ids.size(1) <= options.max_position_embeddings,
              "{}: expected int64 token ids [B, T] with T <= max_position_embeddings {}, got {}",
              kOp, options.max_position_embeddings, input_ids.describe());
  const int64_t t = input_ids.size(1);
  const Tensor cos = rope_cos.narrow(0, 0, t), sin = rope_sin.narrow(0, 0, t);
  Tensor h = embed_tokens->forward(input_ids);
  for (size_t i = 0; i < layers->size(); ++i)
    h = static_cast<LlamaDecoderLayer&>(*(*layers)[i]).forward(h, cos, sin);
  return norm->forward(h);
}

LlamaForCausalLM::LlamaForCausalLM(const LlamaOptions& o) {
  model = register_module("model", std::make_shared<LlamaModel>(o));
  if (o.tie_word_embeddings) {
    lm_head = register_module("lm_head", std::make_shared<Module>());
    lm_head_weight = lm_head->register_parameter("weight", model->embed_tokens->weight);
  } else {
    auto head = projection(o.hidden_size, o.vocab_size, o);
    lm_head_weight = head->weight;
    lm_head = register_module("lm_head", head);
  }
  // Hugging Face's init: N(0, initializer_range) for linear and embedding weights.
  // (named_modules of the children: this module has no shared_ptr of its own yet.)
  for (const auto& [name, child] : named_children()) {
    for (const auto& [sub, m] : child->named_modules()) {
      if (auto* l = dynamic_cast<Linear*>(m.get()))
        init::normal_(l->weight, 0, o.initializer_range);
      if (auto* e = dynamic_cast<Embedding*>(m.get()))
        init::normal_(e->weight, 0, o.initializer_range);
    }
  }
}

Tensor LlamaForCausalLM::forward(const Tensor& input_ids) {
  return linear(model->forward(input_ids), lm_head_weight);
}

Tensor LlamaForCausalLM::loss(const Tensor& logits, const Tensor& input_ids) {
  const int64_t t = logits.size(1), v = logits.size(2);
  return cross_entropy(logits.narrow(1, 0, t - 1).reshape({-1, v}),
                       input_ids.narrow(1, 1, t - 1).reshape({-1}));
}

}  // namespace anvil::nn
