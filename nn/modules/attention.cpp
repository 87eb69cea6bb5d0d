#include "nn/modules/attention.h"

#include <cmath>
#include <limits>

#include "anvil.h"
#include "nn/init.h"

namespace anvil::nn {

namespace {

constexpr const char* kOp = "MultiheadAttention";

// A bool mask (true = masked out) as the additive float mask PyTorch makes of it.
Tensor additive(const Tensor& mask, DType dtype) {
  if (mask.dtype() != DType::boolean) return mask.to(dtype);
  return where(mask, Scalar(-std::numeric_limits<double>::infinity()), Scalar(0.0)).to(dtype);
}

// Appends `count` zero columns (keys that take part: bias_k and the zero key) along the last dim.
Tensor pad_keys(const Tensor& mask, int64_t count) {
  if (count == 0) return mask;
  Shape s = mask.shape();
  s.back() = count;
  return cat({mask, zeros(s, TensorOptions(mask.dtype(), mask.device()))}, -1);
}

}  // namespace

MultiheadAttention::MultiheadAttention(int64_t embed_dim, int64_t num_heads,
                                       const MultiheadAttentionOptions& options)
    : embed_dim(embed_dim),
      num_heads(num_heads),
      kdim(options.kdim.value_or(embed_dim)),
      vdim(options.vdim.value_or(embed_dim)),
      options(options) {
  ANVIL_CHECK(embed_dim > 0 && num_heads > 0 && embed_dim % num_heads == 0,
              "{}: embed_dim {} must be a positive multiple of num_heads {}", kOp, embed_dim,
              num_heads);
  ANVIL_CHECK(options.dropout >= 0 && options.dropout <= 1,
              "{}: dropout has to be between 0 and 1, got {}", kOp, options.dropout);
  head_dim = embed_dim / num_heads;
  const TensorOptions t(options.dtype, options.device);
  const int64_t e = embed_dim;
  if (kdim == e && vdim == e) {
    in_proj_weight = register_parameter("in_proj_weight", empty({3 * e, e}, t));
  } else {
    q_proj_weight = register_parameter("q_proj_weight", empty({e, e}, t));
    k_proj_weight = register_parameter("k_proj_weight", empty({e, kdim}, t));
    v_proj_weight = register_parameter("v_proj_weight", empty({e, vdim}, t));
  }
  in_proj_bias = register_parameter("in_proj_bias", options.bias ? empty({3 * e}, t) : Tensor());
  if (options.add_bias_kv) {
    bias_k = register_parameter("bias_k", empty({1, 1, e}, t));
    bias_v = register_parameter("bias_v", empty({1, 1, e}, t));
  }
  out_proj = register_module(
      "out_proj",
      std::make_shared<Linear>(
          e, e,
          LinearOptions{.bias = options.bias, .dtype = options.dtype, .device = options.device}));
  reset_parameters();
}

void MultiheadAttention::reset_parameters() {
  for (Tensor* w : {&in_proj_weight, &q_proj_weight, &k_proj_weight, &v_proj_weight})
    if (w->defined()) init::xavier_uniform_(*w);
  if (in_proj_bias.defined()) {
    init::zeros_(in_proj_bias);
    init::zeros_(out_proj->bias);
  }
  if (bias_k.defined()) {
    init::xavier_normal_(bias_k);
    init::xavier_normal_(bias_v);
  }
}

Tensor MultiheadAttention::forward(const Tensor& x) {
  return forward(x, x, x, {.need_weights = false}).first;
}

std::pair<Tensor, Tensor> MultiheadAttention::forward(const Tensor& query, const Tensor& key,
                                                      const Tensor& value,
                                                      const MultiheadAttentionForwardOptions& fo) {
  ANVIL_CHECK((query.dim() == 2 || query.dim() == 3) && key.dim() == query.dim() &&
                  value.dim() == query.dim(),
              "{}: expected query, key and value all batched (3-D) or all unbatched (2-D), got "
              "query {}, key {}, value {}",
              kOp, query.describe(), key.describe(), value.describe());
  ANVIL_CHECK(query.size(-1) == embed_dim && key.size(-1) == kdim && value.size(-1) == vdim,
              "{}: expected query, key and value features {}, {}, {}, got query {}, key {}, "
              "value {}",
              kOp, embed_dim, kdim, vdim, query.describe(), key.describe(), value.describe());
  ANVIL_CHECK(!fo.is_causal || fo.attn_mask,
              "{}: is_causal is a hint that attn_mask is the causal mask; it needs attn_mask", kOp);
  const bool batched = query.dim() == 3;
  // Batch first inside: [N, L, E].
  auto to_inner = [&](const Tensor& t) {
    return !batched ? t.unsqueeze(0) : options.batch_first ? t : t.transpose(0, 1);
  };
  Tensor q = to_inner(query), k = to_inner(key), v = to_inner(value);
  const int64_t n = q.size(0), l = q.size(1), s0 = k.size(1), e = embed_dim;
  ANVIL_CHECK(k.size(0) == n && v.size(0) == n && v.size(1) == s0,
              "{}: key {} and value {} must match query {}'s batch and each other's length", kOp,
              key.describe(), value.describe(), query.describe());

  auto part = [&](const Tensor& t, int64_t i) {
    return t.defined() ? std::optional<Tensor>(t.narrow(0, i * e, e)) : std::nullopt;
  };
  const bool packed = in_proj_weight.defined();
  q = linear(q, packed ? in_proj_weight.narrow(0, 0, e) : q_proj_weight, part(in_proj_bias, 0));
  k = linear(k, packed ? in_proj_weight.narrow(0, e, e) : k_proj_weight, part(in_proj_bias, 1));
  v = linear(v, packed ? in_proj_weight.narrow(0, 2 * e, e) : v_proj_weight, part(in_proj_bias, 2));
  if (bias_k.defined()) {
    k = cat({k, bias_k.expand({n, 1, e})}, 1);
    v = cat({v, bias_v.expand({n, 1, e})}, 1);
  }
  auto heads = [&](const Tensor& t) {
    return t.reshape({n, t.size(1), num_heads, head_dim}).transpose(1, 2);
  };
  q = heads(q);
  k = heads(k);
  v = heads(v);
  if (options.add_zero_attn) {
    const Tensor z = zeros({n, num_heads, 1, head_dim}, TensorOptions(k.dtype(), k.device()));
    k = cat({k, z}, 2);
    v = cat({v, z}, 2);
  }
  const int64_t added = k.size(2) - s0;

  // Both masks as one additive mask broadcastable to [N, H, L, S].
  Tensor mask;
  if (fo.attn_mask) {
    const Tensor& m = *fo.attn_mask;
    const bool ok = (m.dim() == 2 && m.shape() == Shape{l, s0}) ||
                    (m.dim() == 3 && m.shape() == Shape{n * num_heads, l, s0});
    ANVIL_CHECK(
        ok, "{}: expected attn_mask [L, S] = [{},{}] or [N * num_heads, L, S] = [{},{},{}], got {}",
        kOp, l, s0, n * num_heads, l, s0, m.describe());
    mask = pad_keys(
        additive(m, q.dtype()).reshape({m.dim() == 2 ? 1 : n, m.dim() == 2 ? 1 : num_heads, l, s0}),
        added);
  }
  if (fo.key_padding_mask) {
    const Tensor& m = *fo.key_padding_mask;
    ANVIL_CHECK(m.shape() == (batched ? Shape{n, s0} : Shape{s0}),
                "{}: expected key_padding_mask [N, S] = [{},{}] ([S] unbatched), got {}", kOp, n,
                s0, m.describe());
    const Tensor kp = pad_keys(additive(m, q.dtype()).reshape({n, 1, 1, s0}), added);
    mask = mask.defined() ? mask + kp : kp;
  }

  const double p = is_training() ? options.dropout : 0.0;
  Tensor out, weights;
  if (fo.need_weights) {
    Tensor scores = matmul(q * (1 / std::sqrt(static_cast<double>(head_dim))), k.mT());
    if (mask.defined()) scores = scores + mask;
    Tensor w = softmax(scores, -1);
    if (p > 0) w = dropout(w, p);
    out = matmul(w, v);
    weights = fo.average_attn_weights ? w.mean({1}) : w;
    if (!batched) weights = weights.squeeze(0);
  } else {
    out = scaled_dot_product_attention(q, k, v, optional(mask), p);
  }
  out = out_proj->forward(out.transpose(1, 2).reshape({n, l, e}));
  out = !batched ? out.squeeze(0) : options.batch_first ? out : out.transpose(0, 1);
  return {out, weights};
}

}  // namespace anvil::nn
