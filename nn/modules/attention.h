// MultiheadAttention as torch.nn.MultiheadAttention: the same options, defaults, parameter names
// (in_proj_weight [3E, E] and in_proj_bias, or q/k/v_proj_weight when kdim or vdim differ from
// embed_dim; bias_k, bias_v; out_proj.weight, out_proj.bias) and initialisation.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include "nn/module.h"
#include "nn/modules/linear.h"

namespace anvil::nn {

struct MultiheadAttentionOptions {
  double dropout = 0;          // on the attention weights, in training
  bool bias = true;            // in_proj_bias and out_proj.bias
  bool add_bias_kv = false;    // a learned key and value appended to the sequence
  bool add_zero_attn = false;  // a zero key and value appended (after bias_k / bias_v)
  std::optional<int64_t> kdim = std::nullopt;  // key features (embed_dim)
  std::optional<int64_t> vdim = std::nullopt;  // value features (embed_dim)
  bool batch_first = false;                    // inputs [N, L, E] instead of [L, N, E]
  DType dtype = DType::f32;
  Device device = Device::cpu();
};

// forward's arguments after query, key and value, with PyTorch's defaults.
struct MultiheadAttentionForwardOptions {
  // [N, S] ([S] unbatched): bool, true = the key is ignored; or float, added to the scores.
  std::optional<Tensor> key_padding_mask = std::nullopt;
  bool need_weights = true;
  // [L, S] or [N * num_heads, L, S]: bool, true = not allowed to attend; or float, added.
  std::optional<Tensor> attn_mask = std::nullopt;
  bool average_attn_weights = true;  // weights [N, L, S] averaged over heads, else [N, H, L, S]
  // A hint that attn_mask is the causal mask (PyTorch requires attn_mask with it, and so does
  // this module); the mask is what is applied.
  bool is_causal = false;
};

// Inputs [L, N, E] (batch_first: [N, L, E]) or unbatched [L, E]; key [S, N, kdim] and value
// [S, N, vdim] likewise. forward returns (output like the query, attention weights or an
// undefined tensor when need_weights is false). Without weights the heads run through
// scaled_dot_product_attention. Rows whose keys are all masked out give zeros without weights
// (scaled_dot_product_attention's rule) and NaN with them (softmax of -inf), where PyTorch 1.13
// gives NaN in both.
class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t embed_dim, int64_t num_heads,
                     const MultiheadAttentionOptions& options = {});
  std::pair<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const MultiheadAttentionForwardOptions& options = {});
  // Self-attention without weights: forward(x, x, x, {.need_weights = false}).first.
  Tensor forward(const Tensor& x) override;
  void reset_parameters();

  int64_t embed_dim, num_heads, head_dim, kdim, vdim;
  MultiheadAttentionOptions options;
  Tensor in_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, in_proj_bias;
  Tensor bias_k, bias_v;
  std::shared_ptr<Linear> out_proj;
};

}  // namespace anvil::nn
