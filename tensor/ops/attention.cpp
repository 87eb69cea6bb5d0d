// Attention front-ends: PyTorch's argument rules for scaled_dot_product_attention, the broadcast
// batch dims, output and logsumexp allocation, and the dropout stream reservation.
#include "tensor/ops/attention.h"

#include <cmath>

#include "tensor/dispatch.h"
#include "tensor/ops/copy.h"
#include "tensor/ops/factory.h"
#include "tensor/ops/view.h"

namespace anvil::ops {

namespace {

Shape batch_of(const Tensor& t) {
  return Shape(t.shape().begin(), t.shape().end() - 2);
}

Shape with_rows(Shape batch, std::initializer_list<int64_t> tail) {
  batch.insert(batch.end(), tail);
  return batch;
}

// The broadcast of two shapes, nullopt when they do not broadcast.
std::optional<Shape> broadcast(const std::optional<Shape>& a, const Shape& b) {
  if (!a) return std::nullopt;
  Shape out(std::max(a->size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t x = i < a->size() ? (*a)[a->size() - 1 - i] : 1;
    const int64_t y = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (x != y && x != 1 && y != 1) return std::nullopt;
    out[out.size() - 1 - i] = x == 1 ? y : x;
  }
  return out;
}

// The kernels read rows with unit stride, at distinct addresses (a zero row stride, as from
// expand, reads as the dense default in a BLAS view).
Tensor unit_inner(const Tensor& t) {
  const bool ok = (t.size(-1) <= 1 || t.stride(-1) == 1) && (t.size(-2) <= 1 || t.stride(-2) != 0);
  return ok ? t : contiguous(t);
}

// The checked arguments as the kernels take them.
struct Resolved {
  Shape batch;
  int64_t L, S, E, Ev;
  Tensor q, k, v, mask;
  AttentionParams params;
};

Resolved resolve(const char* op, const Tensor& q, const Tensor& k, const Tensor& v,
                 const std::optional<Tensor>& attn_mask, double dropout_p, bool is_causal,
                 std::optional<double> scale) {
  ANVIL_CHECK(q.defined() && k.defined() && v.defined(),
              "{}: query, key and value must be defined tensors", op);
  ANVIL_CHECK(q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2,
              "{}: expected query [*, L, E], key [*, S, E] and value [*, S, Ev] of at least 2 "
              "dims, got query {}, key {}, value {}",
              op, q.describe(), k.describe(), v.describe());
  ANVIL_CHECK(q.is_floating_point() && k.dtype() == q.dtype() && v.dtype() == q.dtype(),
              "{}: expected floating query, key and value of one dtype, got query {}, key {}, "
              "value {}",
              op, q.describe(), k.describe(), v.describe());
  ANVIL_CHECK(k.device() == q.device() && v.device() == q.device(),
              "{}: expected query, key and value on one device, got query {}, key {}, value {}", op,
              q.describe(), k.describe(), v.describe());
  ANVIL_CHECK(k.size(-1) == q.size(-1),
              "{}: key's embedding size {} must equal query's {} (query {}, key {})", op,
              k.size(-1), q.size(-1), q.describe(), k.describe());
  ANVIL_CHECK(k.size(-2) == v.size(-2),
              "{}: key and value must have the same sequence length, got key {} and value {}", op,
              k.describe(), v.describe());
  ANVIL_CHECK(dropout_p >= 0 && dropout_p <= 1,
              "{}: dropout_p has to be between 0 and 1, but got {}", op, dropout_p);
  Resolved r;
  r.L = q.size(-2);
  r.S = k.size(-2);
  r.E = q.size(-1);
  r.Ev = v.size(-1);
  const std::optional<Shape> batch = broadcast(broadcast(batch_of(q), batch_of(k)), batch_of(v));
  ANVIL_CHECK(batch, "{}: the batch dims of query {}, key {} and value {} do not broadcast", op,
              q.describe(), k.describe(), v.describe());
  r.batch = *batch;
  if (attn_mask && attn_mask->defined()) {
    const Tensor& m = *attn_mask;
    ANVIL_CHECK(!is_causal, "{}: an explicit attn_mask cannot be combined with is_causal=true", op);
    ANVIL_CHECK(m.dtype() == DType::boolean || m.dtype() == q.dtype(),
                "{}: expected attn_mask of dtype bool or the query's dtype {}, got {}", op,
                dtype_name(q.dtype()), m.describe());
    ANVIL_CHECK(m.device() == q.device(), "{}: expected attn_mask on the query's device {}, got {}",
                op, q.device().str(), m.describe());
    const Shape scores = with_rows(r.batch, {r.L, r.S});
    const std::optional<Shape> full = broadcast(m.shape(), scores);
    ANVIL_CHECK(full && Shape(full->end() - 2, full->end()) == Shape({r.L, r.S}),
                "{}: attn_mask {} does not broadcast to the scores [*, L, S] = {}", op,
                m.describe(), shape_str(scores));
    r.batch = Shape(full->begin(), full->end() - 2);
    r.mask = expand(m, *full);
  }
  r.q = unit_inner(expand(q, with_rows(r.batch, {r.L, r.E})));
  r.k = unit_inner(expand(k, with_rows(r.batch, {r.S, r.E})));
  r.v = unit_inner(expand(v, with_rows(r.batch, {r.S, r.Ev})));
  r.params.scale = scale.value_or(1.0 / std::sqrt(static_cast<double>(r.E)));
  r.params.is_causal = is_causal;
  r.params.dropout_p = dropout_p;
  return r;
}

DType lse_dtype(DType t) {
  return t == DType::f64 ? DType::f64 : DType::f32;
}

}  // namespace

AttentionForward attention_forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                   const std::optional<Tensor>& attn_mask, double dropout_p,
                                   bool is_causal, std::optional<double> scale) {
  Resolved r = resolve("scaled_dot_product_attention", query, key, value, attn_mask, dropout_p,
                       is_causal, scale);
  AttentionForward f;
  f.output = empty(with_rows(r.batch, {r.L, r.Ev}), TensorOptions(query.dtype(), query.device()));
  f.logsumexp =
      empty(with_rows(r.batch, {r.L}), TensorOptions(lse_dtype(query.dtype()), query.device()));
  const int64_t words = numel_of(r.batch) * r.L * r.S;
  if (f.logsumexp.numel() == 0) return f;
  if (dropout_p > 0 && dropout_p < 1 && words > 0) {
    // One 32-bit word per probability, four per Philox block.
    f.dropout_state =
        default_generator(query.device()).reserve(static_cast<uint64_t>(words + 3) / 4);
    r.params.dropout_state = f.dropout_state;
  }
  kernel<OpId::attention_forward>(query.device(), query.dtype())(f.output, f.logsumexp, r.q, r.k,
                                                                 r.v, r.mask, r.params);
  return f;
}

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const std::optional<Tensor>& attn_mask, double dropout_p,
                                    bool is_causal, std::optional<double> scale) {
  return attention_forward(query, key, value, attn_mask, dropout_p, is_causal, scale).output;
}

std::array<Tensor, 4> attention_backward(const Tensor& grad_output, const Tensor& query,
                                         const Tensor& key, const Tensor& value,
                                         const std::optional<Tensor>& attn_mask,
                                         const AttentionForward& forward, double dropout_p,
                                         bool is_causal, std::optional<double> scale,
                                         std::array<bool, 4> output_mask) {
  constexpr const char* op = "scaled_dot_product_attention_backward";
  Resolved r = resolve(op, query, key, value, attn_mask, dropout_p, is_causal, scale);
  const Shape out_shape = with_rows(r.batch, {r.L, r.Ev});
  ANVIL_CHECK(grad_output.defined() && grad_output.shape() == out_shape,
              "{}: expected grad_output of the output's shape {}, got {}", op, shape_str(out_shape),
              grad_output.defined() ? grad_output.describe() : "undefined");
  ANVIL_CHECK(forward.output.defined() && forward.output.shape() == out_shape &&
                  forward.logsumexp.defined() &&
                  forward.logsumexp.shape() == with_rows(r.batch, {r.L}) &&
                  forward.logsumexp.dtype() == lse_dtype(query.dtype()),
              "{}: the forward's output and logsumexp do not match query {}, key {}, value {}", op,
              query.describe(), key.describe(), value.describe());
  const TensorOptions opt(query.dtype(), query.device());
  std::array<Tensor, 4> g;
  if (output_mask[0]) g[0] = empty(with_rows(r.batch, {r.L, r.E}), opt);
  if (output_mask[1]) g[1] = empty(with_rows(r.batch, {r.S, r.E}), opt);
  if (output_mask[2]) g[2] = empty(with_rows(r.batch, {r.S, r.Ev}), opt);
  if (output_mask[3] && r.mask.defined() && r.mask.dtype() != DType::boolean) {
    g[3] = empty(with_rows(r.batch, {r.L, r.S}), opt);
  }
  if (numel_of(r.batch) * r.L * r.S == 0) {
    for (Tensor& t : g)
      if (t.defined()) t = zeros(t.shape(), opt);
    return g;
  }
  r.params.dropout_state = forward.dropout_state;
  kernel<OpId::attention_backward>(query.device(), query.dtype())(
      g[0], g[1], g[2], g[3], contiguous(to(grad_output, query.dtype())), r.q, r.k, r.v, r.mask,
      contiguous(forward.output), contiguous(forward.logsumexp), r.params);
  return g;
}

}  // namespace anvil::ops
