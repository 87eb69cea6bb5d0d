// Reference attention: for every batch entry and query row, the scores scale * q_i . k_j + mask
// in double, their softmax (zeros for a row with every key masked), dropout's factor per
// probability from its Philox word, and the output as the weighted sum of value rows. Backward
// is the derivative of those formulas written out: dS = P * (dP - sum_k P_k dP_k).
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/ref/ref_loops.h"
#include "tensor/dispatch.h"

namespace anvil::ref {

namespace {

using Index = std::vector<int64_t>;
using Matrix = std::vector<std::vector<double>>;

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

Index at(Index idx, int64_t i, int64_t j) {
  idx.push_back(i);
  idx.push_back(j);
  return idx;
}

Shape batch_shape(const Tensor& t) {
  return Shape(t.shape().begin(), t.shape().end() - 2);
}

// The masked, scaled scores of batch entry b: [L][S].
Matrix scores(const Tensor& q, const Tensor& k, const Tensor& mask, const Index& b,
              const AttentionParams& p) {
  const int64_t L = q.size(-2), S = k.size(-2), E = q.size(-1);
  Matrix s(L, std::vector<double>(S));
  for (int64_t i = 0; i < L; ++i) {
    for (int64_t j = 0; j < S; ++j) {
      double dot = 0;
      for (int64_t e = 0; e < E; ++e) dot += load(q, at(b, i, e)) * load(k, at(b, j, e));
      double add = 0;
      bool keep = !(p.is_causal && j > i);
      if (mask.defined()) {
        const double m = load(mask, at(b, i, j));
        if (mask.dtype() == DType::boolean) {
          keep = keep && m != 0;
        } else {
          add = m;
        }
      }
      s[i][j] = keep ? p.scale * dot + add : kNegInf;
    }
  }
  return s;
}

// Row softmax in place; returns the row logsumexp (-inf and a zero row when all are -inf).
double softmax(std::vector<double>& row) {
  double mx = kNegInf;
  for (double x : row) mx = std::max(mx, x);
  if (mx == kNegInf) {
    for (double& x : row) x = 0;
    return kNegInf;
  }
  double sum = 0;
  for (double x : row) sum += std::exp(x - mx);
  for (double& x : row) x = std::exp(x - mx) / sum;
  return mx + std::log(sum);
}

// Dropout's factor for probability (n, i, j): 0 or 1 / (1 - p).
double dropout_factor(const AttentionParams& p, int64_t n, int64_t i, int64_t j, int64_t L,
                      int64_t S) {
  if (p.dropout_p == 0) return 1;
  if (p.dropout_p == 1) return 0;
  const uint32_t word = philox_word(p.dropout_state, static_cast<uint64_t>((n * L + i) * S + j));
  const bool keep = static_cast<double>(word >> 8) < std::ceil((1 - p.dropout_p) * 16777216.0);
  return keep ? 1 / (1 - p.dropout_p) : 0;
}

void attention_forward_kernel(const Tensor& out, const Tensor& lse, const Tensor& q,
                              const Tensor& k, const Tensor& v, const Tensor& mask,
                              const AttentionParams& p) {
  const int64_t L = q.size(-2), S = k.size(-2), Ev = v.size(-1);
  int64_t n = 0;
  for_each_index(batch_shape(q), [&](const Index& b) {
    Matrix P = scores(q, k, mask, b, p);
    for (int64_t i = 0; i < L; ++i) {
      Index li = b;
      li.push_back(i);
      store(lse, li, softmax(P[i]));
      for (int64_t c = 0; c < Ev; ++c) {
        double acc = 0;
        for (int64_t j = 0; j < S; ++j)
          acc += P[i][j] * dropout_factor(p, n, i, j, L, S) * load(v, at(b, j, c));
        store(out, at(b, i, c), acc);
      }
    }
    ++n;
  });
}

void attention_backward_kernel(const Tensor& dq, const Tensor& dk, const Tensor& dv,
                               const Tensor& dmask, const Tensor& dout, const Tensor& q,
                               const Tensor& k, const Tensor& v, const Tensor& mask,
                               const Tensor& /*out*/, const Tensor& /*lse*/,
                               const AttentionParams& p) {
  const int64_t L = q.size(-2), S = k.size(-2), E = q.size(-1), Ev = v.size(-1);
  int64_t n = 0;
  for_each_index(batch_shape(q), [&](const Index& b) {
    Matrix P = scores(q, k, mask, b, p);
    for (auto& row : P) softmax(row);
    Matrix Z(L, std::vector<double>(S)), dS(L, std::vector<double>(S));
    for (int64_t i = 0; i < L; ++i) {
      std::vector<double> dP(S);
      double row_dot = 0;
      for (int64_t j = 0; j < S; ++j) {
        Z[i][j] = dropout_factor(p, n, i, j, L, S);
        double g = 0;
        for (int64_t c = 0; c < Ev; ++c) g += load(dout, at(b, i, c)) * load(v, at(b, j, c));
        dP[j] = g * Z[i][j];
        row_dot += P[i][j] * dP[j];
      }
      for (int64_t j = 0; j < S; ++j) dS[i][j] = P[i][j] * (dP[j] - row_dot);
    }
    if (dq.defined()) {
      for (int64_t i = 0; i < L; ++i)
        for (int64_t e = 0; e < E; ++e) {
          double acc = 0;
          for (int64_t j = 0; j < S; ++j) acc += dS[i][j] * load(k, at(b, j, e));
          store(dq, at(b, i, e), p.scale * acc);
        }
    }
    if (dk.defined()) {
      for (int64_t j = 0; j < S; ++j)
        for (int64_t e = 0; e < E; ++e) {
          double acc = 0;
          for (int64_t i = 0; i < L; ++i) acc += dS[i][j] * load(q, at(b, i, e));
          store(dk, at(b, j, e), p.scale * acc);
        }
    }
    if (dv.defined()) {
      for (int64_t j = 0; j < S; ++j)
        for (int64_t c = 0; c < Ev; ++c) {
          double acc = 0;
          for (int64_t i = 0; i < L; ++i) acc += P[i][j] * Z[i][j] * load(dout, at(b, i, c));
          store(dv, at(b, j, c), acc);
        }
    }
    if (dmask.defined()) {
      for (int64_t i = 0; i < L; ++i)
        for (int64_t j = 0; j < S; ++j) store(dmask, at(b, i, j), dS[i][j]);
    }
    ++n;
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(attention_forward, ref, kFloatingTypes, attention_forward_kernel);
ANVIL_REGISTER_KERNEL(attention_backward, ref, kFloatingTypes, attention_backward_kernel);

}  // namespace anvil::ref
