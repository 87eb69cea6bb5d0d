// A Llama-style decoder-only language model with Hugging Face LlamaForCausalLM's structure and
// parameter names (model.embed_tokens.weight, model.layers.0.self_attn.q_proj.weight, ...,
// model.layers.0.mlp.gate_proj.weight, model.layers.0.input_layernorm.weight,
// model.norm.weight, lm_head.weight), so its state dicts match:
// token embedding, N blocks of [RMSNorm -> causal self-attention with rotary position
// embedding (rotate_half form) and grouped-query heads -> residual -> RMSNorm -> SwiGLU MLP ->
// residual], a final RMSNorm and the lm_head (optionally tied to the embedding).
#pragma once

#include <memory>
#include <optional>

#include "nn/modules/container.h"
#include "nn/modules/dropout.h"
#include "nn/modules/linear.h"
#include "nn/modules/normalization.h"

namespace anvil::nn {

// LlamaConfig's fields and defaults (Llama-2 7B).
struct LlamaOptions {
  int64_t vocab_size = 32000;
  int64_t hidden_size = 4096;
  int64_t intermediate_size = 11008;
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 32;
  std::optional<int64_t> num_key_value_heads = std::nullopt;  // num_attention_heads
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000;
  bool tie_word_embeddings = false;
  double initializer_range = 0.02;  // the std of the normal init of linear and embedding weights
  DType dtype = DType::f32;
  Device device = Device::cpu();
};

// Causal self-attention: q/k/v/o projections without bias; num_key_value_heads key and value
// heads, each shared by num_attention_heads / num_key_value_heads query heads.
class LlamaAttention : public Module {
 public:
  explicit LlamaAttention(const LlamaOptions& options);
  // x [B, T, hidden]; cos, sin [T, head_dim] (the rotary tables of positions 0..T-1).
  Tensor forward(const Tensor& x, const Tensor& cos, const Tensor& sin);

  int64_t num_heads, num_key_value_heads, head_dim;
  std::shared_ptr<Linear> q_proj, k_proj, v_proj, o_proj;
};

// down_proj(silu(gate_proj(x)) * up_proj(x)), no biases.
class LlamaMLP : public Module {
 public:
  explicit LlamaMLP(const LlamaOptions& options);
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<Linear> gate_proj, up_proj, down_proj;
};

class LlamaDecoderLayer : public Module {
 public:
  explicit LlamaDecoderLayer(const LlamaOptions& options);
  Tensor forward(const Tensor& x, const Tensor& cos, const Tensor& sin);

  std::shared_ptr<LlamaAttention> self_attn;
  std::shared_ptr<LlamaMLP> mlp;
  std::shared_ptr<RMSNorm> input_layernorm, post_attention_layernorm;
};

// The decoder without its head: token ids [B, T] (int64) -> hidden states [B, T, hidden].
// The rotary tables cos, sin [max_position_embeddings, head_dim] are non-persistent buffers
// (Hugging Face's rotate_half layout: the frequencies theta^(-2i/d) repeated over both halves).
class LlamaModel : public Module {
 public:
  explicit LlamaModel(const LlamaOptions& options);
  Tensor forward(const Tensor& input_ids) override;

  LlamaOptions options;
  std::shared_ptr<Embedding> embed_tokens;
  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<RMSNorm> norm;
  Tensor rope_cos, rope_sin;
};

class LlamaForCausalLM : public Module {
 public:
  explicit LlamaForCausalLM(const LlamaOptions& options);
  // Token ids [B, T] (int64) -> logits [B, T, vocab_size].
  Tensor forward(const Tensor& input_ids) override;
  // The mean next-token cross entropy: logits[:, t] predicts input_ids[:, t + 1].
  static Tensor loss(const Tensor& logits, const Tensor& input_ids);

  std::shared_ptr<LlamaModel> model;
  // A Linear (no bias) or, with tied embeddings, a module whose one parameter "weight" is
  // model.embed_tokens.weight itself.
  std::shared_ptr<Module> lm_head;
  Tensor lm_head_weight;  // the [vocab_size, hidden] weight the logits use
};

}  // namespace anvil::nn
