// CPU reductions, cumsum and softmax. Every op first views its input as (outer, red, inner) over
// contiguous memory: a row reduction (inner == 1) runs independent vector lanes along each
// row; a reduction over a non-innermost dim sweeps whole rows of the inner dim and accumulates
// a block of columns at a time, so memory is always read contiguously.

// GCC 12 flags the AVX-512 intrinsics Eigen uses (_mm512_undefined_*) as maybe-uninitialized
// (GCC bug 105593), a false positive repeated for every instantiation.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "kernels/cpu/loops.h"
#include "tensor/dispatch.h"

namespace anvil::cpu {

namespace {

// Sums accumulate floating values in double and integers in i64: cheap next to the memory
// traffic, and accurate without pairwise bookkeeping (16M f32 ones sum exactly).
template <class T>
using wide_t = std::conditional_t<is_floating_v<T>, double, int64_t>;

// Independent accumulators per row: enough to fill several vector registers, so the adds
// neither wait on each other nor depend on the evaluation order the compiler chooses.
constexpr int kLanes = 32;
// The most columns processed together along a non-innermost dim: rows are read in long
// contiguous runs (short runs that restart on every page defeat the hardware prefetcher) and
// the per-column state still fits in L1/L2.
constexpr int64_t kCols = 4096;

struct Plan {
  Tensor src;  // contiguous
  int64_t outer = 1, red = 1, inner = 1;
};

// Lays the reduction out as (outer, red, inner) over contiguous memory: in place when `in` is
// contiguous and the reduced dims are adjacent, else from a copy with the reduced dims last.
Plan make_plan(const Tensor& in, uint64_t mask) {
  Plan p;
  // Walking the dims of size > 1: before the reduced block, inside it, after it.
  enum { kBefore, kInside, kAfter } state = kBefore;
  bool block = true;
  int first = -1;
  for (int d = 0; d < in.dim(); ++d) {
    if (in.size(d) == 1) continue;
    if (mask & (1ull << d)) {
      if (state == kAfter) block = false;
      if (state == kBefore) first = d;
      state = kInside;
    } else if (state == kInside) {
      state = kAfter;
    }
  }
  if (in.is_contiguous() && block) {
    for (int d = 0; d < in.dim(); ++d) {
      const int64_t s = in.size(d);
      if (mask & (1ull << d))
        p.red *= s;
      else if (first < 0 || d < first)
        p.outer *= s;
      else
        p.inner *= s;
    }
    p.src = in;
    return p;
  }
  std::vector<int64_t> perm;
  for (int d = 0; d < in.dim(); ++d)
    if (!(mask & (1ull << d))) perm.push_back(d), p.outer *= in.size(d);
  for (int d = 0; d < in.dim(); ++d)
    if (mask & (1ull << d)) perm.push_back(d), p.red *= in.size(d);
  p.src = in.permute(perm).contiguous();
  return p;
}

// The (outer, red, inner) layout of a same-shape op along one dim.
Plan dim_plan(const Tensor& in, int64_t dim) {
  Plan p;
  p.src = in.contiguous();
  for (int64_t d = 0; d < in.dim(); ++d) {
    if (d < dim)
      p.outer *= in.size(d);
    else if (d > dim)
      p.inner *= in.size(d);
  }
  p.red = in.size(dim);
  return p;
}

// Calls f(o, i0, w) for the column blocks [i0, i0 + w) of every outer index, in parallel, with
// blocks narrow enough that every thread gets one.
template <class F>
void for_each_column_block(int64_t outer, int64_t red, int64_t inner, const F& f) {
  const int64_t per_outer = std::max<int64_t>(1, num_threads() / std::max<int64_t>(outer, 1));
  const int64_t want = ((inner + per_outer - 1) / per_outer + 15) / 16 * 16;
  const int64_t width = std::clamp<int64_t>(want, 16, kCols);
  const int64_t blocks = (inner + width - 1) / width;
  const int64_t grain = kGrainSize / std::max<int64_t>(red * std::min(width, inner), 1);
  parallel_for(0, outer * blocks, std::max<int64_t>(grain, 1), [&](int64_t b, int64_t e) {
    for (int64_t item = b; item < e; ++item) {
      const int64_t o = item / blocks, i0 = (item % blocks) * width;
      f(o, i0, std::min(width, inner - i0));
    }
  });
}

template <class T, class Acc, class Step, class Merge>
Acc reduce_run(const T* x, int64_t n, int64_t k, Acc init, const Step& step, const Merge& merge) {
  Acc lanes[kLanes];
  std::fill(lanes, lanes + kLanes, init);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) lanes[j] = step(lanes[j], x[i + j], k);
  Acc acc = init;
  for (; i < n; ++i) acc = step(acc, x[i], k);
  for (int j = 0; j < kLanes; ++j) acc = merge(acc, lanes[j]);
  return acc;
}

// res[k] for every output k = o * inner + i: `init` folded with step(acc, x, k) over the reduced
// elements; merge combines partial results of one output.
template <class T, class Acc, class Step, class Merge>
void reduce_plan(const Plan& p, Acc init, const Step& step, const Merge& merge, Acc* res) {
  const T* x = static_cast<const T*>(p.src.raw_data());
  const int64_t outer = p.outer, red = p.red, inner = p.inner;
  if (inner == 1) {
    const int64_t chunks = std::clamp<int64_t>(red / kGrainSize, 1, num_threads());
    if (outer >= num_threads() || chunks == 1) {
      parallel_for(0, outer, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(red, 1)),
                   [&](int64_t b, int64_t e) {
                     for (int64_t o = b; o < e; ++o)
                       res[o] = reduce_run(x + o * red, red, o, init, step, merge);
                   });
      return;
    }
    // Few long rows: every thread reduces one piece of a row.
    std::unique_ptr<Acc[]> part(new Acc[outer * chunks]);  // not vector<bool>: threads write it
    parallel_for(0, outer * chunks, 1, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) {
        const int64_t o = c / chunks, piece = c % chunks;
        const int64_t lo = red * piece / chunks, hi = red * (piece + 1) / chunks;
        part[c] = reduce_run(x + o * red + lo, hi - lo, o, init, step, merge);
      }
    });
    for (int64_t o = 0; o < outer; ++o) {
      Acc acc = part[o * chunks];
      for (int64_t c = 1; c < chunks; ++c) acc = merge(acc, part[o * chunks + c]);
      res[o] = acc;
    }
    return;
  }
  for_each_column_block(outer, red, inner, [&](int64_t o, int64_t i0, int64_t w) {
    Acc acc[kCols];
    const int64_t k0 = o * inner + i0;
    std::fill(acc, acc + w, init);
    const T* row = x + o * red * inner + i0;
    int64_t r = 0;
    // Four rows per sweep: the accumulators are loaded and stored a quarter as often.
    for (; r + 4 <= red; r += 4, row += 4 * inner) {
      const T *r1 = row + inner, *r2 = row + 2 * inner, *r3 = row + 3 * inner;
      for (int64_t i = 0; i < w; ++i) {
        const int64_t k = k0 + i;
        acc[i] = step(step(step(step(acc[i], row[i], k), r1[i], k), r2[i], k), r3[i], k);
      }
    }
    for (; r < red; ++r, row += inner)
      for (int64_t i = 0; i < w; ++i) acc[i] = step(acc[i], row[i], k0 + i);
    std::copy(acc, acc + w, res + k0);
  });
}

// Reduces `in` into the contiguous `out` (element type TOut): out[k] = finish(res[k], k).
template <class T, class TOut, class Acc, class Step, class Merge, class Finish>
void reduce_to(const Tensor& out, const Plan& p, Acc init, const Step& step, const Merge& merge,
               const Finish& finish) {
  const int64_t n = p.outer * p.inner;
  std::unique_ptr<Acc[]> res(new Acc[n]);
  reduce_plan<T>(p, init, step, merge, res.get());
  TOut* o = static_cast<TOut*>(out.raw_data());
  for (int64_t k = 0; k < n; ++k) o[k] = finish(res[k], k);
}

template <class T>
double as_double(T x) {
  return static_cast<double>(static_cast<acc_t<T>>(x));
}

// max / min that propagate NaN, as PyTorch's reductions do.
template <class A>
A nan_max(A a, A b) {
  return (b > a || b != b) ? b : a;
}
template <class A>
A nan_min(A a, A b) {
  return (b < a || b != b) ? b : a;
}

const auto plus = [](auto a, auto b) { return a + b; };

void sum_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar&) {
  visit_dtype(in.dtype(), [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) {
      using W = wide_t<T>;
      reduce_to<T, T>(
          out, make_plan(in, mask), W(0), [](W a, T x, int64_t) { return a + W(acc_t<T>(x)); },
          plus, [](W a, int64_t) { return static_cast<T>(static_cast<acc_t<T>>(a)); });
    }
  });
}

void mean_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar&) {
  visit_dtype(in.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      const Plan p = make_plan(in, mask);
      const double n = static_cast<double>(p.red);
      reduce_to<T, T>(
          out, p, 0.0, [](double a, T x, int64_t) { return a + as_double(x); }, plus,
          [n](double a, int64_t) { return static_cast<T>(static_cast<acc_t<T>>(a / n)); });
    }
  });
}

void prod_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar&) {
  visit_dtype(in.dtype(), [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) {
      using W = wide_t<T>;
      const auto mul = [](W a, W b) { return a * b; };
      reduce_to<T, T>(
          out, make_plan(in, mask), W(1), [](W a, T x, int64_t) { return a * W(acc_t<T>(x)); }, mul,
          [](W a, int64_t) { return static_cast<T>(static_cast<acc_t<T>>(a)); });
    }
  });
}

template <bool kMax>
void extreme_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar&) {
  visit_dtype(in.dtype(), [&]<class T>() {
    using A = acc_t<T>;
    constexpr A init =
        std::numeric_limits<A>::has_infinity
            ? (kMax ? -std::numeric_limits<A>::infinity() : std::numeric_limits<A>::infinity())
            : (kMax ? std::numeric_limits<A>::lowest() : std::numeric_limits<A>::max());
    const auto pick = [](A a, A b) { return kMax ? nan_max(a, b) : nan_min(a, b); };
    reduce_to<T, T>(
        out, make_plan(in, mask), init, [pick](A a, T x, int64_t) { return pick(a, A(x)); }, pick,
        [](A a, int64_t) { return static_cast<T>(a); });
  });
}

template <bool kStd>
void var_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar& correction) {
  visit_dtype(in.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      // Two passes: the mean, then the squared deviations from it.
      const Plan p = make_plan(in, mask);
      std::vector<double> mu(p.outer * p.inner);
      reduce_plan<T>(
          p, 0.0, [](double a, T x, int64_t) { return a + as_double(x); }, plus, mu.data());
      const double n = static_cast<double>(p.red);
      for (double& m : mu) m /= n;
      const double divisor = std::max(0.0, n - correction.to_double());
      const double* c = mu.data();
      reduce_to<T, T>(
          out, p, 0.0,
          [c](double a, T x, int64_t k) {
            const double d = as_double(x) - c[k];
            return a + d * d;
          },
          plus,
          [divisor](double a, int64_t) {
            const double v = a / divisor;
            return static_cast<T>(static_cast<acc_t<T>>(kStd ? std::sqrt(v) : v));
          });
    }
  });
}

void norm_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar& arg) {
  visit_dtype(in.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      const Plan p = make_plan(in, mask);
      const double pw = arg.to_double();
      const auto to_t = [](double v) { return static_cast<T>(static_cast<acc_t<T>>(v)); };
      const auto run = [&](double init, auto step, auto merge, auto finish) {
        reduce_to<T, T>(
            out, p, init,
            [step](double a, T x, int64_t) { return step(a, std::abs(as_double(x))); }, merge,
            [&](double a, int64_t) { return to_t(finish(a)); });
      };
      const auto id = [](double a) { return a; };
      const auto vmax = [](double a, double b) { return nan_max(a, b); };
      const auto vmin = [](double a, double b) { return nan_min(a, b); };
      if (pw == INFINITY) {
        run(0.0, vmax, vmax, id);
      } else if (pw == -INFINITY) {
        run(INFINITY, vmin, vmin, id);
      } else if (pw == 0) {
        run(
            0.0, [](double a, double v) { return a + (v != 0 ? 1.0 : 0.0); }, plus, id);
      } else if (pw == 1) {
        run(0.0, plus, plus, id);
      } else if (pw == 2) {
        run(
            0.0, [](double a, double v) { return a + v * v; }, plus,
            [](double a) { return std::sqrt(a); });
      } else {
        run(
            0.0, [pw](double a, double v) { return a + std::pow(v, pw); }, plus,
            [pw](double a) { return std::pow(a, 1.0 / pw); });
      }
    }
  });
}

void logsumexp_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar&) {
  visit_dtype(in.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      // Shift by the max so exp cannot overflow; an infinite max (all -inf, or some +inf)
      // shifts by 0 so that the sum gives -inf or inf instead of NaN.
      const Plan p = make_plan(in, mask);
      std::vector<double> m(p.outer * p.inner);
      const auto vmax = [](double a, double b) { return nan_max(a, b); };
      reduce_plan<T>(
          p, -double(INFINITY), [vmax](double a, T x, int64_t) { return vmax(a, as_double(x)); },
          vmax, m.data());
      for (double& v : m)
        if (std::isinf(v)) v = 0;
      const double* s = m.data();
      reduce_to<T, T>(
          out, p, 0.0, [s](double a, T x, int64_t k) { return a + std::exp(as_double(x) - s[k]); },
          plus,
          [s](double a, int64_t k) {
            return static_cast<T>(static_cast<acc_t<T>>(std::log(a) + s[k]));
          });
    }
  });
}

template <bool kAll>
void all_any_kernel(const Tensor& out, const Tensor& in, uint64_t mask, const Scalar&) {
  visit_dtype(in.dtype(), [&]<class T>() {
    const auto combine = [](bool a, bool b) { return kAll ? (a && b) : (a || b); };
    // bool and u8 results are both one byte holding 0 or 1.
    reduce_to<T, uint8_t>(
        out, make_plan(in, mask), kAll,
        [combine](bool a, T x, int64_t) { return combine(a, cast_value<bool>(x)); }, combine,
        [](bool a, int64_t) { return static_cast<uint8_t>(a); });
  });
}

// ---- max / min along a dim, with indices ---------------------------------------------------

template <bool kMax, class A>
bool better(A x, A best) {
  if constexpr (std::is_floating_point_v<A>) {
    if (x != x) return best == best;  // the first NaN wins
  }
  return kMax ? x > best : x < best;
}

template <bool kMax>
void arg_extreme_kernel(const Tensor& values, const Tensor& indices, const Tensor& in,
                        int64_t dim) {
  visit_dtype(in.dtype(), [&]<class T>() {
    using A = acc_t<T>;
    const Plan p = make_plan(in, 1ull << dim);
    const T* x = static_cast<const T*>(p.src.raw_data());
    T* vo = static_cast<T*>(values.raw_data());
    int64_t* io = indices.data_ptr<int64_t>();
    const int64_t red = p.red, inner = p.inner;
    if (inner == 1) {
      parallel_for(0, p.outer, std::max<int64_t>(1, kGrainSize / red), [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) {
          const T* row = x + o * red;
          A best = A(row[0]);
          int64_t at = 0;
          for (int64_t r = 1; r < red; ++r) {
            if (better<kMax>(A(row[r]), best)) best = A(row[r]), at = r;
          }
          vo[o] = static_cast<T>(best);
          io[o] = at;
        }
      });
      return;
    }
    for_each_column_block(p.outer, red, inner, [&](int64_t o, int64_t i0, int64_t w) {
      A best[kCols];
      int64_t at[kCols];
      const int64_t k0 = o * inner + i0;
      const T* base = x + o * red * inner + i0;
      for (int64_t i = 0; i < w; ++i) best[i] = A(base[i]), at[i] = 0;
      for (int64_t r = 1; r < red; ++r) {
        const T* row = base + r * inner;
        for (int64_t i = 0; i < w; ++i) {
          if (better<kMax>(A(row[i]), best[i])) best[i] = A(row[i]), at[i] = r;
        }
      }
      for (int64_t i = 0; i < w; ++i) vo[k0 + i] = static_cast<T>(best[i]), io[k0 + i] = at[i];
    });
  });
}

// ---- cumsum --------------------------------------------------------------------------------

void cumsum_kernel(const Tensor& out, const Tensor& in, int64_t dim) {
  visit_dtype(in.dtype(), [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) {
      using W = wide_t<T>;
      const auto to_t = [](W a) { return static_cast<T>(static_cast<acc_t<T>>(a)); };
      const Plan p = dim_plan(in, dim);
      const T* x = static_cast<const T*>(p.src.raw_data());
      T* y = static_cast<T*>(out.raw_data());
      const int64_t red = p.red, inner = p.inner;
      for_each_column_block(p.outer, red, inner, [&](int64_t o, int64_t i0, int64_t w) {
        W acc[kCols];
        const int64_t base = o * red * inner + i0;
        std::fill(acc, acc + w, W(0));
        for (int64_t r = 0; r < red; ++r) {
          const int64_t at = base + r * inner;
          for (int64_t i = 0; i < w; ++i) {
            acc[i] += W(acc_t<T>(x[at + i]));
            y[at + i] = to_t(acc[i]);
          }
        }
      });
    }
  });
}

// ---- softmax / log_softmax -------------------------------------------------------------------

template <class A>
using Arr = Eigen::Array<A, Eigen::Dynamic, 1>;

// Softmax of one contiguous row in the compute type A (in place allowed): a pass for the max, a
// fused exp + sum, then a scale (softmax) or a shift (log_softmax).
template <bool kLog, class A>
void softmax_row(const A* x, A* y, int64_t n) {
  Eigen::Map<const Arr<A>> xs(x, n);
  Eigen::Map<Arr<A>> ys(y, n);
  const A m = xs.maxCoeff();
  if constexpr (kLog) {
    const A s = (xs - m).exp().sum();
    ys = xs - (m + std::log(s));
  } else {
    ys = (xs - m).exp();
    ys *= A(1) / ys.sum();
  }
}

// The elements p[0..n) in the compute type: p itself when T is A, else converted into `buf`.
template <class A, class T>
const A* to_compute(const T* p, int64_t n, A* buf) {
  if constexpr (std::is_same_v<A, T>) {
    return p;
  } else {
    for (int64_t i = 0; i < n; ++i) buf[i] = static_cast<A>(p[i]);
    return buf;
  }
}

template <class T, class A>
void from_compute(const A* src, int64_t n, T* dst) {
  if constexpr (!std::is_same_v<A, T>) {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(src[i]);
  }
}

template <bool kLog>
void softmax_kernel(const Tensor& out, const Tensor& in, int64_t dim) {
  visit_dtype(in.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const Plan p = dim_plan(in, dim);
      const T* x = static_cast<const T*>(p.src.raw_data());
      T* y = static_cast<T*>(out.raw_data());
      const int64_t red = p.red, inner = p.inner;
      if (inner == 1) {
        parallel_for(0, p.outer, std::max<int64_t>(1, kGrainSize / red), [&](int64_t b, int64_t e) {
          std::vector<A> buf(std::is_same_v<A, T> ? 0 : red);
          for (int64_t o = b; o < e; ++o) {
            A* dst = std::is_same_v<A, T> ? reinterpret_cast<A*>(y + o * red) : buf.data();
            softmax_row<kLog>(to_compute(x + o * red, red, buf.data()), dst, red);
            from_compute(dst, red, y + o * red);
          }
        });
        return;
      }
      // Along a non-innermost dim, on blocks of columns: the same three passes, each sweeping
      // the rows of the block.
      for_each_column_block(p.outer, red, inner, [&](int64_t o, int64_t i0, int64_t w) {
        alignas(64) A mbuf[kCols], sbuf[kCols], tmp[kCols];
        Eigen::Map<Arr<A>> m(mbuf, w), s(sbuf, w);
        const int64_t base = o * red * inner + i0;
        auto row = [&](const T* p) { return Eigen::Map<const Arr<A>>(to_compute(p, w, tmp), w); };
        auto store = [&](T* dst, const auto& v) {
          if constexpr (std::is_same_v<A, T>) {
            Eigen::Map<Arr<A>>(reinterpret_cast<A*>(dst), w) = v;
          } else {
            Eigen::Map<Arr<A>>(tmp, w) = v;
            from_compute(tmp, w, dst);
          }
        };
        m.setConstant(-std::numeric_limits<A>::infinity());
        for (int64_t r = 0; r < red; ++r) m = m.max(row(x + base + r * inner));
        s.setZero();
        for (int64_t r = 0; r < red; ++r) {
          const auto e = (row(x + base + r * inner) - m).exp();
          if constexpr (kLog) {
            s += e;
          } else {
            // Keep exp(x - m) in the output; the last pass scales it.
            store(y + base + r * inner, e);
            s += row(y + base + r * inner);
          }
        }
        if constexpr (kLog) {
          m += s.log();  // the shift: m + log(sum)
        } else {
          s = s.inverse();
        }
        for (int64_t r = 0; r < red; ++r) {
          T* yr = y + base + r * inner;
          if constexpr (kLog) {
            store(yr, row(x + base + r * inner) - m);
          } else {
            store(yr, row(yr) * s);
          }
        }
      });
    }
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(sum, cpu, kNumericTypes, sum_kernel);
ANVIL_REGISTER_KERNEL(prod, cpu, kNumericTypes, prod_kernel);
ANVIL_REGISTER_KERNEL(mean, cpu, kFloatingTypes, mean_kernel);
ANVIL_REGISTER_KERNEL(amax, cpu, kAllTypes, extreme_kernel<true>);
ANVIL_REGISTER_KERNEL(amin, cpu, kAllTypes, extreme_kernel<false>);
ANVIL_REGISTER_KERNEL(var, cpu, kFloatingTypes, var_kernel<false>);
ANVIL_REGISTER_KERNEL(std, cpu, kFloatingTypes, var_kernel<true>);
ANVIL_REGISTER_KERNEL(norm, cpu, kFloatingTypes, norm_kernel);
ANVIL_REGISTER_KERNEL(logsumexp, cpu, kFloatingTypes, logsumexp_kernel);
ANVIL_REGISTER_KERNEL(all, cpu, kAllTypes, all_any_kernel<true>);
ANVIL_REGISTER_KERNEL(any, cpu, kAllTypes, all_any_kernel<false>);
ANVIL_REGISTER_KERNEL(max_dim, cpu, kAllTypes, arg_extreme_kernel<true>);
ANVIL_REGISTER_KERNEL(min_dim, cpu, kAllTypes, arg_extreme_kernel<false>);
ANVIL_REGISTER_KERNEL(cumsum, cpu, kNumericTypes, cumsum_kernel);
ANVIL_REGISTER_KERNEL(softmax, cpu, kFloatingTypes, softmax_kernel<false>);
ANVIL_REGISTER_KERNEL(log_softmax, cpu, kFloatingTypes, softmax_kernel<true>);

}  // namespace anvil::cpu
