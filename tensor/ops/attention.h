// Scaled-dot-product attention: the forward kernel keeps each row's logsumexp, and the backward
// kernel recomputes the probabilities from it (dropout's mask is redrawn from the same Philox
// counters), so no [L, S] matrix outlives a call.
#pragma once

#include <array>
#include <optional>

#include "tensor/generator.h"
#include "tensor/tensor.h"

namespace anvil {

namespace ops {

#include "tensor/ops/attention.inc"  // IWYU pragma: export

// The raw forward and backward ops the autograd layer records (not public API).
struct AttentionForward {
  Tensor output;     // [*, L, Ev], * the broadcast batch dims of query, key, value and mask
  Tensor logsumexp;  // [*, L]: log sum_j exp(score_ij), f32 (f64 for f64 inputs); -inf for a
                     // row with every key masked out
  PhiloxState dropout_state;  // where the dropout mask was drawn (unused when dropout_p = 0)
};
AttentionForward attention_forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                   const std::optional<Tensor>& attn_mask, double dropout_p,
                                   bool is_causal, std::optional<double> scale);

// (grad_query, grad_key, grad_value, grad_attn_mask) from the forward's output, logsumexp and
// dropout state. The gradients have the broadcast batch dims * (the caller sums them to the
// inputs' shapes): [*, L, E], [*, S, E], [*, S, Ev] and [*, L, S] (a float mask only). An
// output_mask entry that is false leaves that gradient undefined (and uncomputed).
std::array<Tensor, 4> attention_backward(const Tensor& grad_output, const Tensor& query,
                                         const Tensor& key, const Tensor& value,
                                         const std::optional<Tensor>& attn_mask,
                                         const AttentionForward& forward, double dropout_p,
                                         bool is_causal, std::optional<double> scale,
                                         std::array<bool, 4> output_mask);

}  // namespace ops

// ---- kernels ----------------------------------------------------------------------------------
// Operands have the same batch dims * (expanded: stride 0 where broadcast), any batch and row
// strides; q, k, v have unit stride along their last dim; mask is bool or of q's dtype, or
// undefined. Outputs are contiguous. The flat batch index n runs row-major over *.
struct AttentionParams {
  double scale = 1;
  bool is_causal = false;
  double dropout_p = 0;
  // Element (n, i, j) of the probabilities is kept iff (word >> 8) < ceil((1 - p) * 2^24), word
  // being word n*L*S + i*S + j of the stream (as dropout's kernel decides).
  PhiloxState dropout_state;
};
// out [*, L, Ev] in q's dtype, lse [*, L] f32 (f64 for f64 inputs).
using AttentionForwardKernel = void (*)(const Tensor& out, const Tensor& lse, const Tensor& q,
                                        const Tensor& k, const Tensor& v, const Tensor& mask,
                                        const AttentionParams& params);
// dq [*, L, E], dk [*, S, E], dv [*, S, Ev], dmask [*, L, S] (each undefined when not wanted);
// dout and out [*, L, Ev] contiguous, lse as the forward wrote it.
using AttentionBackwardKernel = void (*)(const Tensor& dq, const Tensor& dk, const Tensor& dv,
                                         const Tensor& dmask, const Tensor& dout, const Tensor& q,
                                         const Tensor& k, const Tensor& v, const Tensor& mask,
                                         const Tensor& out, const Tensor& lse,
                                         const AttentionParams& params);

#define ANVIL_ATTENTION_OPS(X)                 \
  X(attention_forward, AttentionForwardKernel) \
  X(attention_backward, AttentionBackwardKernel)

}  // namespace anvil
