// CPU loss kernels.
//
// Cross-entropy is one fused pass each way. Rows (one row = the C logits of one element) are
// processed in blocks of about kBlock values, in the compute type A (f32, or f64): a block is
// read straight from the tensor when it is dense f32/f64, else converted into a buffer. Forward
// computes each row's max and log-sum-exp (kept for backward) and its loss; backward writes
// exp(x - lse) * k - (one-hot and smoothing terms) straight into the gradient. For narrow rows
// the exponentials run over the whole block at once, so that they vectorize whatever C is.
// Reduced losses sum per block in double and add the blocks in order: the result does not
// depend on the thread count.
//
// The elementwise losses share one kernel each way: runs of elements go through the loss's
// formula as Eigen arrays (vectorized log/exp), in chunks of kChunk.

// GCC 12 reports false "(may be) used uninitialized" warnings inside Eigen's AVX-512 packet code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/cpu/loops.h"
#include "tensor/dispatch.h"

namespace anvil::cpu {

namespace {

using ops::PointwiseLoss;

template <class A>
using Arr = Eigen::Array<A, Eigen::Dynamic, 1>;
template <class A>
using ArrMap = Eigen::Map<Arr<A>>;
template <class A>
using ConstArrMap = Eigen::Map<const Arr<A>>;

// Values per block of rows: the block and its scratch stay in L1.
constexpr int64_t kBlock = 2048;
// Rows at least this wide run their exponentials row by row, narrower ones per block.
constexpr int64_t kWideRow = 64;

// Records the first class index outside [0, C) that any thread meets; thrown after the loop.
class TargetCheck {
 public:
  explicit TargetCheck(int64_t classes) : classes_(classes) {}
  bool in_range(int64_t t) {
    if (static_cast<uint64_t>(t) < static_cast<uint64_t>(classes_)) return true;
    if (!found_.exchange(true)) bad_ = t;
    return false;
  }
  void throw_if_bad(const char* op) const {
    ANVIL_CHECK_INDEX(!found_, "{}: target {} is out of bounds for {} classes", op, bad_, classes_);
  }

 private:
  int64_t classes_;
  std::atomic<bool> found_{false};
  int64_t bad_ = 0;
};

// Element (n, s) of an [N, S, ...] tensor, numbered r = n * S + s.
class RowIndex {
 public:
  explicit RowIndex(const Tensor& t)
      : base_(static_cast<char*>(t.raw_data())),
        s_(std::max<int64_t>(t.size(1), 1)),
        stride_n_(t.stride(0) * t.element_size()),
        stride_s_(t.stride(1) * t.element_size()) {}
  char* operator()(int64_t r) const {
    // Most losses have S = 1: no division then.
    return s_ == 1 ? base_ + r * stride_n_ : base_ + (r / s_) * stride_n_ + (r % s_) * stride_s_;
  }
  template <class T>
  T at(int64_t r) const {
    return *reinterpret_cast<const T*>((*this)(r));
  }

 private:
  char* base_;
  int64_t s_, stride_n_, stride_s_;
};

// Scratch memory grows on first use only: dense operands never need their copies.
template <class A>
A* sized(std::vector<A>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(n);
  return v.data();
}

// The rows of an [N, S, C] tensor of T, read and written as dense blocks of A.
template <class T, class A>
class Rows {
 public:
  explicit Rows(const Tensor& t)
      : index_(t), classes_(t.size(2)), stride_c_(t.stride(2) * int64_t(sizeof(T))) {
    const int64_t sz = sizeof(T), n = t.size(0), s = t.size(1), c = classes_;
    // Rows follow each other in memory, each a contiguous run of C values.
    dense_ = std::is_same_v<T, A> && (c <= 1 || stride_c_ == sz) &&
             (s <= 1 || t.stride(1) * sz == c * sz) && (n <= 1 || t.stride(0) * sz == s * c * sz);
  }
  bool dense() const { return dense_; }
  // Rows [r0, r0 + count) as count x C values: the tensor itself when dense, else copied to
  // scratch memory.
  const A* load(int64_t r0, int64_t count, std::vector<A>& storage) const {
    if (dense_) return reinterpret_cast<const A*>(index_(r0));
    A* buf = sized(storage, count * classes_);
    for (int64_t i = 0; i < count; ++i) {
      const char* p = index_(r0 + i);
      for (int64_t c = 0; c < classes_; ++c)
        buf[i * classes_ + c] = static_cast<A>(*reinterpret_cast<const T*>(p + c * stride_c_));
    }
    return buf;
  }
  // Where to compute rows [r0, r0 + count) before store(): in place when dense, else scratch.
  A* dest(int64_t r0, int64_t count, std::vector<A>& storage) const {
    return dense_ ? reinterpret_cast<A*>(index_(r0)) : sized(storage, count * classes_);
  }
  void store(int64_t r0, int64_t count, const A* src) const {
    if (dense_) return;
    for (int64_t i = 0; i < count; ++i) {
      char* p = index_(r0 + i);
      for (int64_t c = 0; c < classes_; ++c)
        *reinterpret_cast<T*>(p + c * stride_c_) = static_cast<T>(src[i * classes_ + c]);
    }
  }

 private:
  RowIndex index_;
  int64_t classes_, stride_c_;
  bool dense_ = false;
};

// Class weights in the compute type (empty when there are none).
template <class T, class A>
std::vector<A> class_weights(const Tensor& weight) {
  std::vector<A> w;
  if (!weight.defined()) return w;
  const T* p = static_cast<const T*>(weight.raw_data());
  for (int64_t c = 0; c < weight.numel(); ++c) w.push_back(static_cast<A>(p[c]));
  return w;
}

// E[i, :] = exp(X[i, :] - shift[i]) * mul[i] (mul null: 1) for the R rows of a dense block (E
// may alias X).
template <class A>
void exp_shifted(const A* X, int64_t R, int64_t C, const A* shift, const A* mul, A* E) {
  if (C >= kWideRow) {
    for (int64_t i = 0; i < R; ++i) {
      ArrMap<A> e(E + i * C, C);
      if (mul) {
        e = (ConstArrMap<A>(X + i * C, C) - shift[i]).exp() * mul[i];
      } else {
        e = (ConstArrMap<A>(X + i * C, C) - shift[i]).exp();
      }
    }
    return;
  }
  for (int64_t i = 0; i < R; ++i)
    for (int64_t c = 0; c < C; ++c) E[i * C + c] = X[i * C + c] - shift[i];
  ArrMap<A> e(E, R * C);
  e = e.exp();
  if (mul) {
    for (int64_t i = 0; i < R; ++i)
      for (int64_t c = 0; c < C; ++c) E[i * C + c] *= mul[i];
  }
}

// lse[i] = log(sum(exp(X[i, :]))) for the rows of a dense block, shifted by the row max.
template <class A>
void row_lse(const A* X, int64_t R, int64_t C, std::vector<A>& scratch, A* lse) {
  if (C >= kWideRow) {
    for (int64_t i = 0; i < R; ++i) {
      const ConstArrMap<A> x(X + i * C, C);
      const A m = x.maxCoeff();
      lse[i] = m + std::log((x - m).exp().sum());
    }
    return;
  }
  // Narrow rows: the max and the sums run across rows (class-outer loops), so that rows do not
  // wait on each other's dependency chains; exponentials and logarithms cover the whole block.
  A* E = sized(scratch, R * C + R);
  A* sums = E + R * C;
  for (int64_t i = 0; i < R; ++i) lse[i] = C > 0 ? X[i * C] : -std::numeric_limits<A>::infinity();
  for (int64_t c = 1; c < C; ++c)
    for (int64_t i = 0; i < R; ++i) lse[i] = std::max(lse[i], X[i * C + c]);
  exp_shifted<A>(X, R, C, lse, nullptr, E);
  std::fill(sums, sums + R, A(0));
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < R; ++i) sums[i] += E[i * C + c];
  ArrMap<A>(lse, R) += ConstArrMap<A>(sums, R).log();
}

// Per-thread scratch: copies of logits and targets, a block's exponentials, a value per row.
template <class A>
struct Scratch {
  std::vector<A> x, y, e, rows;
};

// Runs block(b, scratch) for the blocks of `rows_per_block` rows, in parallel.
template <class A, class F>
void for_each_block(int64_t blocks, int64_t rows_per_block, int64_t C, const F& block) {
  const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, rows_per_block * C));
  parallel_for(0, blocks, grain, [&](int64_t b0, int64_t b1) {
    Scratch<A> scratch;
    for (int64_t b = b0; b < b1; ++b) block(b, scratch);
  });
}

// A block's contribution to a reduced loss.
struct Partial {
  double loss = 0;
  double weight = 0;
};

// Where row r's loss goes: its output element with reduction none (out_rows set), else the
// block's sum.
template <class T, class A>
void put_loss(T* out_rows, int64_t r, A loss, Partial& part) {
  if (out_rows) {
    out_rows[r] = static_cast<T>(loss);
  } else {
    part.loss += loss;
  }
}

// The weight of class t: 1 without class weights.
template <class A>
A class_weight(const std::vector<A>& w, int64_t t) {
  return w.empty() ? A(1) : w[t];
}

// Writes the reduced loss (sum, or sum / total weight) and the total weight.
template <class T, class A>
void finish(const Tensor& out, const Tensor& total_weight, const std::vector<Partial>& parts,
            Reduction reduction) {
  double loss = 0, weight = 0;
  for (const Partial& p : parts) loss += p.loss, weight += p.weight;
  *static_cast<A*>(total_weight.raw_data()) = static_cast<A>(weight);
  if (reduction == Reduction::none) return;
  const double v = reduction == Reduction::mean ? loss / weight : loss;
  *static_cast<T*>(out.raw_data()) = static_cast<T>(static_cast<A>(v));
}

// The upstream gradient of row r, with a mean's 1 / total weight folded in.
template <class T, class A>
class GradScale {
 public:
  GradScale(const Tensor& grad_out, const Tensor& total_weight, Reduction reduction)
      : none_(reduction == Reduction::none), rows_(none_ ? grad_out : grad_out.reshape({1, 1})) {
    if (!none_) {
      scalar_ = static_cast<A>(*static_cast<const T*>(grad_out.raw_data()));
      if (reduction == Reduction::mean) scalar_ /= *static_cast<const A*>(total_weight.raw_data());
    }
  }
  A operator()(int64_t r) const { return none_ ? static_cast<A>(rows_.at<T>(r)) : scalar_; }

 private:
  bool none_;
  RowIndex rows_;
  A scalar_ = 0;
};

// ---- cross_entropy ---------------------------------------------------------------------------

struct ClassDims {
  int64_t N, S, C, M, rows_per_block, blocks;
  explicit ClassDims(const Tensor& logits)
      : N(logits.size(0)), S(logits.size(1)), C(logits.size(2)), M(N * S) {
    rows_per_block = std::max<int64_t>(1, kBlock / std::max<int64_t>(C, 1));
    blocks = (M + rows_per_block - 1) / rows_per_block;
  }
};

template <class T>
void ce_forward(const Tensor& out, const Tensor& lse_out, const Tensor& total_weight,
                const Tensor& logits, const Tensor& target, const Tensor& weight,
                const CrossEntropyArgs& args) {
  using A = acc_t<T>;
  const ClassDims d(logits);
  const int64_t C = d.C;
  const Rows<T, A> x(logits);
  const bool probs = target.is_floating_point();
  const Rows<T, A> y(probs ? target : logits);
  const RowIndex index(probs ? logits : target);
  const std::vector<A> w = class_weights<T, A>(weight);
  const A ls = static_cast<A>(args.label_smoothing), keep = A(1) - ls, uniform = ls / A(C);
  T* out_rows = args.reduction == Reduction::none ? static_cast<T*>(out.raw_data()) : nullptr;
  A* lse = static_cast<A*>(lse_out.raw_data());
  std::vector<Partial> parts(d.blocks);
  TargetCheck check(C);
  for_each_block<A>(d.blocks, d.rows_per_block, C, [&](int64_t b, Scratch<A>& sc) {
    const int64_t r0 = b * d.rows_per_block, R = std::min(d.rows_per_block, d.M - r0);
    const A* X = x.load(r0, R, sc.x);
    row_lse(X, R, C, sc.e, lse + r0);
    const A* Y = probs ? y.load(r0, R, sc.y) : nullptr;
    Partial part;
    for (int64_t i = 0; i < R; ++i) {
      const int64_t r = r0 + i;
      const ConstArrMap<A> xr(X + i * C, C);
      A loss = 0;
      if (probs) {
        // -sum_c w_c q_c (x_c - lse), q = (1 - ls) y + ls / C
        const ConstArrMap<A> yr(Y + i * C, C);
        const auto q = yr * keep + uniform;
        if (w.empty()) {
          loss = -(q * (xr - lse[r])).sum();
        } else {
          loss = -(ConstArrMap<A>(w.data(), C) * q * (xr - lse[r])).sum();
        }
        part.weight += 1;
      } else {
        const int64_t t = index.at<int64_t>(r);
        if (t != args.ignore_index && check.in_range(t)) {
          const A wt = class_weight(w, t);
          loss = keep * wt * (lse[r] - xr[t]);
          if (ls > 0) {
            // The smoothing term: sum_c w_c (lse - x_c) / C (summed as differences: no
            // cancellation when the logits are large)
            loss += uniform * (w.empty() ? (lse[r] - xr).sum()
                                         : (ConstArrMap<A>(w.data(), C) * (lse[r] - xr)).sum());
          }
          part.weight += wt;
        }
      }
      put_loss(out_rows, r, loss, part);
    }
    parts[b] = part;
  });
  check.throw_if_bad("cross_entropy");
  finish<T, A>(out, total_weight, parts, args.reduction);
}

void cross_entropy_kernel(const Tensor& out, const Tensor& lse, const Tensor& total_weight,
                          const Tensor& logits, const Tensor& target, const Tensor& weight,
                          const CrossEntropyArgs& args) {
  visit_dtype(logits.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>)
      ce_forward<T>(out, lse, total_weight, logits, target, weight, args);
  });
}

// d loss / d x_c = k * softmax_c - (terms of the target), per row, scaled by the upstream
// gradient: class index t (weight w_t, smoothing ls): k = (1 - ls) w_t + ls sum_w / C, minus
// (1 - ls) w_t at c = t and ls w_c / C everywhere; probabilities q = (1 - ls) y + ls / C:
// k = sum_c w_c q_c, minus w_c q_c. The target's gradient is -(1 - ls) w_c (x_c - lse).
template <class T>
void ce_backward(const Tensor& grad_logits, const Tensor& grad_target, const Tensor& grad_out,
                 const Tensor& logits, const Tensor& lse_in, const Tensor& target,
                 const Tensor& weight, const Tensor& total_weight, const CrossEntropyArgs& args) {
  using A = acc_t<T>;
  const ClassDims d(logits);
  const int64_t C = d.C;
  const Rows<T, A> x(logits);
  const bool probs = target.is_floating_point();
  const Rows<T, A> y(probs ? target : logits);
  const RowIndex index(probs ? logits : target);
  const bool want_x = grad_logits.defined(), want_y = grad_target.defined();
  const Rows<T, A> gx(want_x ? grad_logits : logits), gy(want_y ? grad_target : logits);
  const std::vector<A> w = class_weights<T, A>(weight);
  const A sum_w = w.empty() ? A(C) : ConstArrMap<A>(w.data(), C).sum();
  const A ls = static_cast<A>(args.label_smoothing), keep = A(1) - ls, uniform = ls / A(C);
  const A* lse = static_cast<const A*>(lse_in.raw_data());
  const GradScale<T, A> scale(grad_out, total_weight, args.reduction);
  for_each_block<A>(d.blocks, d.rows_per_block, C, [&](int64_t b, Scratch<A>& sc) {
    const int64_t r0 = b * d.rows_per_block, R = std::min(d.rows_per_block, d.M - r0);
    const A* X = x.load(r0, R, sc.x);
    const A* Y = probs ? y.load(r0, R, sc.y) : nullptr;
    if (want_y) {
      // Stored before the logits' gradient reuses sc.e.
      A* G = gy.dest(r0, R, sc.e);
      for (int64_t i = 0; i < R; ++i) {
        const int64_t r = r0 + i;
        ArrMap<A> g(G + i * C, C);
        g = (ConstArrMap<A>(X + i * C, C) - lse[r]) * (-keep * scale(r));
        if (!w.empty()) g *= ConstArrMap<A>(w.data(), C);
      }
      gy.store(r0, R, G);
    }
    if (!want_x) return;
    // The softmax's multiplier k of each row, then G = softmax * k, then the target's terms.
    A* k = sized(sc.rows, R);
    for (int64_t i = 0; i < R; ++i) {
      const int64_t r = r0 + i;
      if (probs) {
        const ConstArrMap<A> yr(Y + i * C, C);
        const A wq = w.empty() ? yr.sum() : (ConstArrMap<A>(w.data(), C) * yr).sum();
        k[i] = scale(r) * (keep * wq + uniform * sum_w);
      } else {
        const int64_t t = index.at<int64_t>(r);
        k[i] = t == args.ignore_index ? A(0)
                                      : scale(r) * (keep * class_weight(w, t) + uniform * sum_w);
      }
    }
    A* G = gx.dest(r0, R, sc.e);
    exp_shifted(X, R, C, lse + r0, k, G);
    for (int64_t i = 0; i < R; ++i) {
      const int64_t r = r0 + i;
      ArrMap<A> g(G + i * C, C);
      const A s = scale(r);
      if (probs) {
        const ConstArrMap<A> yr(Y + i * C, C);
        if (w.empty()) {
          g -= (yr * keep + uniform) * s;
        } else {
          g -= ConstArrMap<A>(w.data(), C) * (yr * keep + uniform) * s;
        }
        continue;
      }
      const int64_t t = index.at<int64_t>(r);
      if (t == args.ignore_index) {
        g.setZero();
        continue;
      }
      if (ls > 0) {
        if (w.empty()) {
          g -= uniform * s;
        } else {
          g -= ConstArrMap<A>(w.data(), C) * (uniform * s);
        }
      }
      g[t] -= keep * class_weight(w, t) * s;
    }
    gx.store(r0, R, G);
  });
}

void cross_entropy_backward_kernel(const Tensor& grad_logits, const Tensor& grad_target,
                                   const Tensor& grad_out, const Tensor& logits, const Tensor& lse,
                                   const Tensor& target, const Tensor& weight,
                                   const Tensor& total_weight, const CrossEntropyArgs& args) {
  visit_dtype(logits.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      ce_backward<T>(grad_logits, grad_target, grad_out, logits, lse, target, weight, total_weight,
                     args);
    }
  });
}

// ---- nll_loss --------------------------------------------------------------------------------

// Rows per block of nll_loss, which reads one value per row.
constexpr int64_t kNllRows = 4096;

template <class T>
void nll_forward(const Tensor& out, const Tensor& total_weight, const Tensor& input,
                 const Tensor& target, const Tensor& weight, const CrossEntropyArgs& args) {
  using A = acc_t<T>;
  const int64_t C = input.size(2), M = input.size(0) * input.size(1);
  const int64_t stride_c = input.stride(2) * int64_t(sizeof(T));
  const RowIndex rows(input), index(target);
  const std::vector<A> w = class_weights<T, A>(weight);
  T* out_rows = args.reduction == Reduction::none ? static_cast<T*>(out.raw_data()) : nullptr;
  const int64_t blocks = (M + kNllRows - 1) / kNllRows;
  std::vector<Partial> parts(blocks);
  TargetCheck check(C);
  parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      Partial part;
      for (int64_t r = b * kNllRows; r < std::min(M, (b + 1) * kNllRows); ++r) {
        const int64_t t = index.at<int64_t>(r);
        A loss = 0;
        if (t != args.ignore_index && check.in_range(t)) {
          const A wt = class_weight(w, t);
          loss = -wt * static_cast<A>(*reinterpret_cast<const T*>(rows(r) + t * stride_c));
          part.weight += wt;
        }
        put_loss(out_rows, r, loss, part);
      }
      parts[b] = part;
    }
  });
  check.throw_if_bad("nll_loss");
  finish<T, A>(out, total_weight, parts, args.reduction);
}

void nll_loss_kernel(const Tensor& out, const Tensor& total_weight, const Tensor& input,
                     const Tensor& target, const Tensor& weight, const CrossEntropyArgs& args) {
  visit_dtype(input.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) nll_forward<T>(out, total_weight, input, target, weight, args);
  });
}

template <class T>
void nll_backward(const Tensor& grad_input, const Tensor& grad_out, const Tensor& target,
                  const Tensor& weight, const Tensor& total_weight, const CrossEntropyArgs& args) {
  using A = acc_t<T>;
  const int64_t C = grad_input.size(2), M = grad_input.size(0) * grad_input.size(1);
  const int64_t stride_c = grad_input.stride(2) * int64_t(sizeof(T));
  const RowIndex rows(grad_input), index(target);
  const std::vector<A> w = class_weights<T, A>(weight);
  const GradScale<T, A> scale(grad_out, total_weight, args.reduction);
  const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(C, 1));
  parallel_for(0, M, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      char* p = rows(r);
      for (int64_t c = 0; c < C; ++c) *reinterpret_cast<T*>(p + c * stride_c) = T(0);
      const int64_t t = index.at<int64_t>(r);
      if (t == args.ignore_index) continue;
      *reinterpret_cast<T*>(p + t * stride_c) = static_cast<T>(-class_weight(w, t) * scale(r));
    }
  });
}

void nll_loss_backward_kernel(const Tensor& grad_input, const Tensor& grad_out,
                              const Tensor& target, const Tensor& weight,
                              const Tensor& total_weight, const CrossEntropyArgs& args) {
  visit_dtype(grad_input.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      nll_backward<T>(grad_input, grad_out, target, weight, total_weight, args);
    }
  });
}

// ---- elementwise losses ----------------------------------------------------------------------

// Elements per chunk of a run, converted to the compute type where needed.
constexpr int64_t kChunk = 256;

// A chunk of an operand as an array of A: the memory itself for a contiguous run of A, else a
// converted copy in buf (stride 0 repeats one element).
template <class T, class A>
ConstArrMap<A> read_chunk(const char* p, int64_t stride, int64_t n, A* buf) {
  if (std::is_same_v<T, A> && stride == int64_t(sizeof(T)))
    return ConstArrMap<A>(reinterpret_cast<const A*>(p), n);
  for (int64_t i = 0; i < n; ++i)
    buf[i] = static_cast<A>(*reinterpret_cast<const T*>(p + i * stride));
  return ConstArrMap<A>(buf, n);
}

// Where to compute a chunk of an output: in place for a contiguous run of A, else buf (then
// write_chunk converts it out).
template <class T, class A>
A* chunk_dest(char* p, int64_t stride, A* buf) {
  return std::is_same_v<T, A> && stride == int64_t(sizeof(T)) ? reinterpret_cast<A*>(p) : buf;
}
template <class T, class A>
void write_chunk(char* p, int64_t stride, int64_t n, const A* src) {
  if (src == reinterpret_cast<const A*>(p)) return;
  for (int64_t i = 0; i < n; ++i) *reinterpret_cast<T*>(p + i * stride) = static_cast<T>(src[i]);
}

// softplus(-x) = log(1 + exp(-x)), without overflow.
template <class X>
auto softplus_neg(const X& x) {
  return (-x).cwiseMax(0) + (-x.abs()).exp().log1p();
}

// The per-element loss of `kind` into o (x, y: input and target; pw: pos_weight or null).
template <class A>
void loss_values(PointwiseLoss kind, A param, ArrMap<A>& o, const ConstArrMap<A>& x,
                 const ConstArrMap<A>& y, const ConstArrMap<A>* pw) {
  switch (kind) {
    case PointwiseLoss::mse:
      o = (x - y).square();
      return;
    case PointwiseLoss::l1:
      o = (x - y).abs();
      return;
    case PointwiseLoss::smooth_l1:
      o = (x - y).abs();
      o = (o < param).select(A(0.5) * o.square() / param, o - A(0.5) * param);
      return;
    case PointwiseLoss::huber:
      o = (x - y).abs();
      o = (o < param).select(A(0.5) * o.square(), param * (o - A(0.5) * param));
      return;
    case PointwiseLoss::bce:
      // PyTorch clamps each log at -100, so that x = 0 or 1 gives a finite loss.
      o = (y - A(1)) * (-x).log1p().cwiseMax(A(-100)) - y * x.log().cwiseMax(A(-100));
      return;
    case PointwiseLoss::bce_with_logits:
      if (pw) {
        o = (A(1) - y) * x + (A(1) + (*pw - A(1)) * y) * softplus_neg(x);
      } else {
        o = (A(1) - y) * x + softplus_neg(x);
      }
      return;
  }
}

// d loss / d input into o.
template <class A>
void loss_input_grad(PointwiseLoss kind, A param, ArrMap<A>& o, const ConstArrMap<A>& x,
                     const ConstArrMap<A>& y, const ConstArrMap<A>* pw) {
  switch (kind) {
    case PointwiseLoss::mse:
      o = A(2) * (x - y);
      return;
    case PointwiseLoss::l1:
      o = (x - y).sign();
      return;
    case PointwiseLoss::smooth_l1:
      o = ((x - y) / param).cwiseMax(A(-1)).cwiseMin(A(1));
      return;
    case PointwiseLoss::huber:
      o = (x - y).cwiseMax(-param).cwiseMin(param);
      return;
    case PointwiseLoss::bce:
      // As PyTorch: (x - y) / max(x (1 - x), 1e-12)
      o = (x - y) / (x * (A(1) - x)).cwiseMax(A(1e-12));
      return;
    case PointwiseLoss::bce_with_logits: {
      const auto sig = A(1) / (A(1) + (-x).exp());
      if (pw) {
        o = (A(1) + (*pw - A(1)) * y) * sig - *pw * y;
      } else {
        o = sig - y;
      }
      return;
    }
  }
}

// d loss / d target into o.
template <class A>
void loss_target_grad(PointwiseLoss kind, A param, ArrMap<A>& o, const ConstArrMap<A>& x,
                      const ConstArrMap<A>& y, const ConstArrMap<A>* pw) {
  switch (kind) {
    case PointwiseLoss::bce:
      o = (-x).log1p() - x.log();  // -logit(x), unclamped as PyTorch
      return;
    case PointwiseLoss::bce_with_logits:
      if (pw) {
        o = (*pw - A(1)) * softplus_neg(x) - x;
      } else {
        o = -x;
      }
      return;
    default:
      // The difference losses: the input's gradient, negated.
      loss_input_grad(kind, param, o, x, y, pw);
      o = -o;
      return;
  }
}

// Per-thread sums of a reduced loss (padded: threads write their own cache line).
struct alignas(64) ThreadSum {
  double value = 0;
};

template <class T>
void pointwise_forward(const Tensor& out, const Tensor& input, const Tensor& target,
                       const Tensor& weight, const Tensor& pos_weight,
                       const PointwiseLossArgs& args) {
  using A = acc_t<T>;
  const bool none = args.reduction == Reduction::none;
  const bool has_w = weight.defined(), has_pw = pos_weight.defined();
  const A param = static_cast<A>(args.param);
  // Undefined operands are stood in for by the input (never read).
  const Tensor& o_t = none ? out : input;
  const Tensor& w_t = has_w ? weight : input;
  const Tensor& pw_t = has_pw ? pos_weight : input;
  // Sums per thread: a nested call runs on its caller's thread alone.
  const bool nested = omp_in_parallel();
  std::vector<ThreadSum> sums(nested ? 1 : std::max(1, num_threads()));
  std::atomic<bool> out_of_range{false};
  for_each_row<5>({&o_t, &input, &target, &w_t, &pw_t}, [&](char** p, const int64_t* s, int64_t n) {
    alignas(64) A xb[kChunk], yb[kChunk], wb[kChunk], pwb[kChunk], ob[kChunk];
    double sum = 0;
    for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
      const int64_t m = std::min(kChunk, n - i0);
      const ConstArrMap<A> x = read_chunk<T, A>(p[1] + i0 * s[1], s[1], m, xb);
      const ConstArrMap<A> y = read_chunk<T, A>(p[2] + i0 * s[2], s[2], m, yb);
      const ConstArrMap<A> pw =
          read_chunk<T, A>(p[4] + i0 * s[4], has_pw ? s[4] : 0, has_pw ? m : 0, pwb);
      if (args.kind == PointwiseLoss::bce && !((x >= A(0)) && (x <= A(1))).all())
        out_of_range = true;
      char* o_at = p[0] + i0 * s[0];
      ArrMap<A> o(none ? chunk_dest<T, A>(o_at, s[0], ob) : ob, m);
      loss_values(args.kind, param, o, x, y, has_pw ? &pw : nullptr);
      if (has_w) o *= read_chunk<T, A>(p[3] + i0 * s[3], s[3], m, wb);
      if (none) {
        write_chunk<T, A>(o_at, s[0], m, o.data());
      } else {
        sum += static_cast<double>(o.sum());
      }
    }
    if (!none) sums[nested ? 0 : omp_get_thread_num()].value += sum;
  });
  ANVIL_CHECK(!out_of_range,
              "binary_cross_entropy: all elements of input should be between 0 and 1");
  if (none) return;
  double total = 0;
  for (const ThreadSum& t : sums) total += t.value;
  if (args.reduction == Reduction::mean) total /= static_cast<double>(input.numel());
  *static_cast<T*>(out.raw_data()) = static_cast<T>(static_cast<A>(total));
}

void pointwise_loss_kernel(const Tensor& out, const Tensor& input, const Tensor& target,
                           const Tensor& weight, const Tensor& pos_weight,
                           const PointwiseLossArgs& args) {
  visit_dtype(input.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>)
      pointwise_forward<T>(out, input, target, weight, pos_weight, args);
  });
}

template <class T>
void pointwise_backward(const Tensor& grad_input, const Tensor& grad_target, const Tensor& grad_out,
                        const Tensor& input, const Tensor& target, const Tensor& weight,
                        const Tensor& pos_weight, const PointwiseLossArgs& args) {
  using A = acc_t<T>;
  const bool want_x = grad_input.defined(), want_y = grad_target.defined();
  const bool has_w = weight.defined(), has_pw = pos_weight.defined();
  const A param = static_cast<A>(args.param);
  const A mean_scale =
      args.reduction == Reduction::mean ? A(1) / static_cast<A>(input.numel()) : A(1);
  const Tensor& gx_t = want_x ? grad_input : input;
  const Tensor& gy_t = want_y ? grad_target : input;
  const Tensor& w_t = has_w ? weight : input;
  const Tensor& pw_t = has_pw ? pos_weight : input;
  for_each_row<7>({&gx_t, &gy_t, &grad_out, &input, &target, &w_t, &pw_t},
                  [&](char** p, const int64_t* s, int64_t n) {
                    alignas(64) A xb[kChunk], yb[kChunk], wb[kChunk], pwb[kChunk], gb[kChunk],
                        ob[kChunk];
                    for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
                      const int64_t m = std::min(kChunk, n - i0);
                      const ConstArrMap<A> x = read_chunk<T, A>(p[3] + i0 * s[3], s[3], m, xb);
                      const ConstArrMap<A> y = read_chunk<T, A>(p[4] + i0 * s[4], s[4], m, yb);
                      const ConstArrMap<A> pw = read_chunk<T, A>(
                          p[6] + i0 * s[6], has_pw ? s[6] : 0, has_pw ? m : 0, pwb);
                      // The upstream gradient times the weight and a mean's 1 / numel, in gb.
                      ArrMap<A> g(gb, m);
                      g = read_chunk<T, A>(p[2] + i0 * s[2], s[2], m, gb) * mean_scale;
                      if (has_w) g *= read_chunk<T, A>(p[5] + i0 * s[5], s[5], m, wb);
                      for (int k = 0; k < 2; ++k) {
                        if (!(k == 0 ? want_x : want_y)) continue;
                        char* o_at = p[k] + i0 * s[k];
                        ArrMap<A> o(chunk_dest<T, A>(o_at, s[k], ob), m);
                        if (k == 0) {
                          loss_input_grad(args.kind, param, o, x, y, has_pw ? &pw : nullptr);
                        } else {
                          loss_target_grad(args.kind, param, o, x, y, has_pw ? &pw : nullptr);
                        }
                        o *= g;
                        write_chunk<T, A>(o_at, s[k], m, o.data());
                      }
                    }
                  });
}

void pointwise_loss_backward_kernel(const Tensor& grad_input, const Tensor& grad_target,
                                    const Tensor& grad_out, const Tensor& input,
                                    const Tensor& target, const Tensor& weight,
                                    const Tensor& pos_weight, const PointwiseLossArgs& args) {
  visit_dtype(input.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      pointwise_backward<T>(grad_input, grad_target, grad_out, input, target, weight, pos_weight,
                            args);
    }
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(cross_entropy, cpu, kFloatingTypes, cross_entropy_kernel);
ANVIL_REGISTER_KERNEL(cross_entropy_backward, cpu, kFloatingTypes, cross_entropy_backward_kernel);
ANVIL_REGISTER_KERNEL(nll_loss, cpu, kFloatingTypes, nll_loss_kernel);
ANVIL_REGISTER_KERNEL(nll_loss_backward, cpu, kFloatingTypes, nll_loss_backward_kernel);
ANVIL_REGISTER_KERNEL(pointwise_loss, cpu, kFloatingTypes, pointwise_loss_kernel);
ANVIL_REGISTER_KERNEL(pointwise_loss_backward, cpu, kFloatingTypes, pointwise_loss_backward_kernel);

}  // namespace anvil::cpu
