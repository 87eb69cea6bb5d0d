// CPU scaled-dot-product attention. Work is split into blocks of kRowBlock query rows of one
// batch entry: the block's scores [rows, S] are one GEMM (oneDNN's sgemm for f32, Eigen for f64;
// one thread per block), softmax runs on whole rows with
// Eigen's vectorized exp, and the probabilities times value is a second GEMM; the row
// logsumexp is kept for backward. Causal blocks stop at the block's last row's column. Backward
// runs one batch entry per task (dk and dv sum over its rows), recomputing each block's
// probabilities from the logsumexp. f16/bf16 operands are converted to float per block, f64 runs
// the same code in double.

// GCC 12 flags Eigen's AVX-512 packet code (_mm512_undefined_*) as maybe-uninitialized: a false
// positive inside Eigen.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <oneapi/dnnl/dnnl.h>

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "tensor/dispatch.h"

namespace anvil::cpu {

namespace {

constexpr int64_t kRowBlock = 64;

template <class A>
using RowMat = Eigen::Matrix<A, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class A>
using ConstMap = Eigen::Map<const RowMat<A>, 0, Eigen::OuterStride<>>;

// Element offset of every batch entry (row-major over the batch dims, stride 0 included).
std::vector<int64_t> batch_offsets(const Tensor& t) {
  const int64_t nb = t.dim() - 2;
  int64_t count = 1;
  for (int64_t d = 0; d < nb; ++d) count *= t.size(d);
  std::vector<int64_t> off(static_cast<size_t>(count));
  std::vector<int64_t> idx(static_cast<size_t>(nb), 0);
  int64_t o = t.offset();
  for (int64_t n = 0; n < count; ++n) {
    off[n] = o;
    for (int64_t d = nb - 1; d >= 0; --d) {
      o += t.stride(d);
      if (++idx[d] < t.size(d)) break;
      o -= t.stride(d) * t.size(d);
      idx[d] = 0;
    }
  }
  return off;
}

// Rows [r0, r0 + rows) of one batch entry of a [*, R, C] operand (unit stride along C).
template <class T>
struct Operand {
  const T* base;
  std::vector<int64_t> offsets;
  int64_t cols, row_stride;

  explicit Operand(const Tensor& t)
      : base(static_cast<const T*>(t.storage()->data())),
        offsets(batch_offsets(t)),
        cols(t.size(-1)),
        row_stride(t.stride(-2)) {}

  // The rows as an A matrix: in place when T is A, else converted into buf.
  template <class A>
  ConstMap<A> rows(int64_t n, int64_t r0, int64_t count, std::vector<A>& buf) const {
    const T* p = base + offsets[n] + r0 * row_stride;
    if constexpr (std::is_same_v<T, A>) {
      const int64_t ld = count > 1 ? row_stride : std::max<int64_t>(cols, 1);
      return ConstMap<A>(p, count, cols, Eigen::OuterStride<>(ld));
    } else {
      buf.resize(static_cast<size_t>(count * cols));
      for (int64_t r = 0; r < count; ++r)
        for (int64_t c = 0; c < cols; ++c) buf[r * cols + c] = cast_value<A>(p[r * row_stride + c]);
      return ConstMap<A>(buf.data(), count, cols, Eigen::OuterStride<>(std::max<int64_t>(cols, 1)));
    }
  }
};

// c = alpha * op(a) op(b) + beta * c for row-major a, b (any Eigen matrix with a data pointer and
// an outer stride) and c [m, n] with row stride ldc; op transposes when its flag is set. beta = 0
// does not read c.
template <class X, class Y, class A = typename X::Scalar>
void gemm(const X& a, bool ta, const Y& b, bool tb, A alpha, A beta, A* c, int64_t ldc) {
  const int64_t m = ta ? a.cols() : a.rows(), k = ta ? a.rows() : a.cols();
  const int64_t n = tb ? b.rows() : b.cols();
  if (m == 0 || n == 0) return;
  if constexpr (std::is_same_v<A, float>) {
    if (k > 0 &&
        dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a.data(), a.outerStride(),
                   b.data(), b.outerStride(), beta, c, ldc) == dnnl_success) {
      return;
    }
  }
  Eigen::Map<RowMat<A>, 0, Eigen::OuterStride<>> C(c, m, n, Eigen::OuterStride<>(ldc));
  const auto run = [&](const auto& x, const auto& y) {
    if (beta == A(0)) {
      C.noalias() = alpha * x * y;
    } else {
      C *= beta;
      C.noalias() += alpha * x * y;
    }
  };
  if (ta && tb) {
    run(a.transpose(), b.transpose());
  } else if (ta) {
    run(a.transpose(), b);
  } else if (tb) {
    run(a, b.transpose());
  } else {
    run(a, b);
  }
}

// A contiguous [*, R, C] output written from A values.
template <class T, class A>
void store_rows(const Tensor& t, int64_t n, int64_t r0, const A* src, int64_t count) {
  const int64_t cols = t.size(-1);
  T* p = t.data_ptr<T>() + (n * t.size(-2) + r0) * cols;
  for (int64_t i = 0; i < count * cols; ++i) p[i] = cast_value<T>(src[i]);
}

// Adds the mask to the scores of rows [r0, r0 + rows) (bool: -inf where false) and applies the
// causal triangle. sc is [rows, cols] dense.
template <class T, class A>
void mask_scores(A* sc, int64_t rows, int64_t cols, int64_t n, int64_t r0, const Tensor& mask,
                 const std::vector<int64_t>& mask_offsets, bool causal) {
  constexpr A kNegInf = -std::numeric_limits<A>::infinity();
  if (causal) {
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = r0 + i + 1; j < cols; ++j) sc[i * cols + j] = kNegInf;
  }
  if (!mask.defined()) return;
  const int64_t rs = mask.stride(-2), cs = mask.stride(-1);
  auto apply = [&]<class M>() {
    const M* m = static_cast<const M*>(mask.storage()->data()) + mask_offsets[n] + r0 * rs;
    for (int64_t i = 0; i < rows; ++i) {
      A* s = sc + i * cols;
      const M* mi = m + i * rs;
      for (int64_t j = 0; j < cols; ++j) {
        if constexpr (std::is_same_v<M, bool>) {
          if (!mi[j * cs]) s[j] = kNegInf;
        } else {
          s[j] += cast_value<A>(mi[j * cs]);
        }
      }
    }
  };
  if (mask.dtype() == DType::boolean) {
    apply.template operator()<bool>();
  } else {
    apply.template operator()<T>();
  }
}

// Dropout's keep-scale factors for the rows [r0, r0 + rows) x [0, cols) of batch entry n.
template <class A>
void dropout_factors(A* z, int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t L, int64_t S,
                     const AttentionParams& p) {
  if (p.dropout_p >= 1) {
    std::fill(z, z + rows * cols, A(0));
    return;
  }
  const uint32_t threshold = static_cast<uint32_t>(std::ceil((1.0 - p.dropout_p) * 16777216.0));
  const A scale = A(1.0 / (1.0 - p.dropout_p));
  for (int64_t i = 0; i < rows; ++i) {
    const uint64_t first = static_cast<uint64_t>((n * L + r0 + i) * S);
    uint64_t block = ~uint64_t(0);
    PhiloxBlock words{};
    for (int64_t j = 0; j < cols; ++j) {
      const uint64_t w = first + static_cast<uint64_t>(j);
      if (w / 4 != block) {
        block = w / 4;
        words = philox4x32(p.dropout_state.offset + block, 0, p.dropout_state.seed);
      }
      z[i * cols + j] = (words.w[w % 4] >> 8) < threshold ? scale : A(0);
    }
  }
}

template <class T, class A>
void forward_impl(const Tensor& out, const Tensor& lse, const Tensor& q, const Tensor& k,
                  const Tensor& v, const Tensor& mask, const AttentionParams& p) {
  const Operand<T> Q(q), K(k), V(v);
  const std::vector<int64_t> mask_off =
      mask.defined() ? batch_offsets(mask) : std::vector<int64_t>{};
  const int64_t N = static_cast<int64_t>(Q.offsets.size());
  const int64_t L = q.size(-2), S = k.size(-2), E = q.size(-1), Ev = v.size(-1);
  const int64_t blocks = (L + kRowBlock - 1) / kRowBlock;
  const bool dropout = p.dropout_p > 0;
  A* lse_p = lse.data_ptr<A>();
  // A task is one row block; grain: enough multiply-adds per thread to pay for the region.
  const int64_t work = std::min<int64_t>(L, kRowBlock) * S * (E + Ev);
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(work, 1));
  parallel_for(0, N * blocks, grain, [&](int64_t begin, int64_t end) {
    std::vector<A> qbuf, kbuf, vbuf;
    // Eigen-allocated (aligned) scratch: vectorized row sums then add in the same order
    // whichever thread runs a block.
    RowMat<A> scores, z, o;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / blocks, r0 = (task % blocks) * kRowBlock;
      const int64_t rows = std::min(kRowBlock, L - r0);
      const int64_t cols = p.is_causal ? std::min(S, r0 + rows) : S;
      const ConstMap<A> Qm = Q.template rows<A>(n, r0, rows, qbuf);
      const ConstMap<A> Km = K.template rows<A>(n, 0, cols, kbuf);
      const ConstMap<A> Vm = V.template rows<A>(n, 0, cols, vbuf);
      scores.resize(rows, cols);
      gemm(Qm, false, Km, true, A(p.scale), A(0), scores.data(), cols);
      mask_scores<T, A>(scores.data(), rows, cols, n, r0, mask, mask_off, p.is_causal);
      for (int64_t i = 0; i < rows; ++i) {
        auto row = scores.row(i).array();
        const A m = cols > 0 ? row.maxCoeff() : -std::numeric_limits<A>::infinity();
        if (m == -std::numeric_limits<A>::infinity()) {  // every key masked: zeros
          row.setZero();
          lse_p[n * L + r0 + i] = m;
          continue;
        }
        row = (row - m).exp();
        const A sum = row.sum();
        row *= A(1) / sum;
        lse_p[n * L + r0 + i] = m + std::log(sum);
      }
      if (dropout) {
        z.resize(rows, cols);
        dropout_factors(z.data(), rows, cols, n, r0, L, S, p);
        scores.array() *= z.array();
      }
      o.resize(rows, Ev);
      if (cols == 0) o.setZero();
      gemm(scores, false, Vm, false, A(1), A(0), o.data(), Ev);
      store_rows<T, A>(out, n, r0, o.data(), rows);
    }
  });
}

template <class T, class A>
void backward_impl(const Tensor& dq, const Tensor& dk, const Tensor& dv, const Tensor& dmask,
                   const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                   const Tensor& mask, const Tensor& out, const Tensor& lse,
                   const AttentionParams& p) {
  const Operand<T> Q(q), K(k), V(v), DO(dout), O(out);
  const std::vector<int64_t> mask_off =
      mask.defined() ? batch_offsets(mask) : std::vector<int64_t>{};
  const int64_t N = static_cast<int64_t>(Q.offsets.size());
  const int64_t L = q.size(-2), S = k.size(-2), E = q.size(-1), Ev = v.size(-1);
  const bool dropout = p.dropout_p > 0;
  const A* lse_p = lse.data_ptr<A>();
  const A scale = A(p.scale);
  const int64_t work = L * S * (E + Ev);
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(work, 1));
  parallel_for(0, N, grain, [&](int64_t begin, int64_t end) {
    std::vector<A> qbuf, kbuf, vbuf, dobuf, obuf;
    RowMat<A> P, dP, z, dK, dV, dQ, Pd;
    Eigen::Array<A, Eigen::Dynamic, 1> D;
    for (int64_t n = begin; n < end; ++n) {
      const ConstMap<A> Km = K.template rows<A>(n, 0, S, kbuf);
      const ConstMap<A> Vm = V.template rows<A>(n, 0, S, vbuf);
      if (dk.defined()) dK.setZero(S, E);
      if (dv.defined()) dV.setZero(S, Ev);
      for (int64_t r0 = 0; r0 < L; r0 += kRowBlock) {
        const int64_t rows = std::min(kRowBlock, L - r0);
        const int64_t cols = p.is_causal ? std::min(S, r0 + rows) : S;
        const ConstMap<A> Qm = Q.template rows<A>(n, r0, rows, qbuf);
        const ConstMap<A> dOm = DO.template rows<A>(n, r0, rows, dobuf);
        const ConstMap<A> Om = O.template rows<A>(n, r0, rows, obuf);
        const ConstMap<A> Kc(Km.data(), cols, E, Eigen::OuterStride<>(Km.outerStride()));
        const ConstMap<A> Vc(Vm.data(), cols, Ev, Eigen::OuterStride<>(Vm.outerStride()));
        P.resize(rows, cols);
        // The probabilities again, from the scores and the saved logsumexp.
        gemm(Qm, false, Kc, true, scale, A(0), P.data(), cols);
        mask_scores<T, A>(P.data(), rows, cols, n, r0, mask, mask_off, p.is_causal);
        for (int64_t i = 0; i < rows; ++i) {
          const A l = lse_p[n * L + r0 + i];
          if (l == -std::numeric_limits<A>::infinity()) {
            P.row(i).setZero();
          } else {
            P.row(i).array() = (P.row(i).array() - l).exp();
          }
        }
        // dP = dO V^T (through dropout's factors); D_i = sum_j P_ij dP_ij = dO_i . O_i.
        dP.resize(rows, cols);
        gemm(dOm, false, Vc, true, A(1), A(0), dP.data(), cols);
        if (dropout) {
          z.resize(rows, cols);
          dropout_factors(z.data(), rows, cols, n, r0, L, S, p);
          dP.array() *= z.array();
          if (dv.defined()) {
            Pd = (P.array() * z.array()).matrix();
            gemm(Pd, true, dOm, false, A(1), A(1), dV.data(), Ev);
          }
        } else if (dv.defined()) {
          gemm(P, true, dOm, false, A(1), A(1), dV.data(), Ev);
        }
        D = (dOm.array() * Om.array()).rowwise().sum();
        // dS = P * (dP - D), into dP.
        dP.array() = P.array() * (dP.array().colwise() - D);
        if (dmask.defined()) {
          T* m = dmask.data_ptr<T>() + (n * L + r0) * S;
          for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < S; ++j)
              m[i * S + j] = cast_value<T>(j < cols ? dP(i, j) : A(0));
        }
        if (dq.defined()) {
          dQ.resize(rows, E);
          if (cols == 0) dQ.setZero();
          gemm(dP, false, Kc, false, scale, A(0), dQ.data(), E);
          store_rows<T, A>(dq, n, r0, dQ.data(), rows);
        }
        if (dk.defined()) gemm(dP, true, Qm, false, scale, A(1), dK.data(), E);
      }
      if (dk.defined()) store_rows<T, A>(dk, n, 0, dK.data(), S);
      if (dv.defined()) store_rows<T, A>(dv, n, 0, dV.data(), S);
    }
  });
}

void attention_forward_kernel(const Tensor& out, const Tensor& lse, const Tensor& q,
                              const Tensor& k, const Tensor& v, const Tensor& mask,
                              const AttentionParams& params) {
  visit_dtype(q.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) forward_impl<T, acc_t<T>>(out, lse, q, k, v, mask, params);
  });
}

void attention_backward_kernel(const Tensor& dq, const Tensor& dk, const Tensor& dv,
                               const Tensor& dmask, const Tensor& dout, const Tensor& q,
                               const Tensor& k, const Tensor& v, const Tensor& mask,
                               const Tensor& out, const Tensor& lse,
                               const AttentionParams& params) {
  visit_dtype(q.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      backward_impl<T, acc_t<T>>(dq, dk, dv, dmask, dout, q, k, v, mask, out, lse, params);
    }
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(attention_forward, cpu, kFloatingTypes, attention_forward_kernel);
ANVIL_REGISTER_KERNEL(attention_backward, cpu, kFloatingTypes, attention_backward_kernel);

}  // namespace anvil::cpu
