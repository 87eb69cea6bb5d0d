// CPU normalization kernels. Each normalized set of elements (a batch-norm channel, a layer-norm
// row, a group-norm group) is a few rows of contiguous memory that stay in L1/L2 while the
// kernel makes its passes over them: mean, then the squared deviations (two passes: no
// cancellation), then the output. Rows are summed in the statistics type A with Eigen's
// vectorized reductions, in blocks whose sums are added in double. f16/bf16 rows are converted to
// float in a per-thread buffer. Threads split channels (batch norm, NCHW), rows (layer and RMS
// norm, channels-last batch norm) or (sample, group) pairs; column sums (weight and bias
// gradients over rows) go to per-chunk accumulators added at the end.
// oneDNN 2.6's batch normalization is not used: on [32,64,56,56] f32 at one thread (wall time,
// same machine and run), its plain NCHW primitive took 23 ms forward and 26 ms backward against
// 3.8 and 6 ms here; its NHWC one 4-9 and 9-10 ms; only its blocked nChw16c layout, which anvil
// tensors do not use, is close (3-5 and 8-9 ms).

// GCC 12 flags the AVX-512 intrinsics Eigen uses (_mm512_undefined_*) as maybe-uninitialized
// (GCC bug 105593), a false positive repeated for every instantiation.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <Eigen/Core>
#if defined(__SSE2__)
#include <immintrin.h>
#endif
#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>
#include <type_traits>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "tensor/dispatch.h"

namespace anvil::cpu {

namespace {

template <class A>
using Arr = Eigen::Array<A, Eigen::Dynamic, 1>;
template <class A>
using In = Eigen::Map<const Arr<A>>;
template <class A>
using Out = Eigen::Map<Arr<A>>;

// Elements summed in A before the partial sum goes into a double: short enough that float
// rounding stays near 1e-7 relative, long enough that the double adds cost nothing.
constexpr int64_t kBlock = 2048;

// sum over blocks of f(begin, length), each block's sum added in double.
template <class F>
double blocked_sum(int64_t n, const F& f) {
  double s = 0;
  for (int64_t i = 0; i < n; i += kBlock) s += static_cast<double>(f(i, std::min(kBlock, n - i)));
  return s;
}

// p[0..n) in the statistics type A: p itself when T is A, else converted into buf.
template <class A, class T>
const A* load(const T* p, int64_t n, A* buf) {
  if constexpr (std::is_same_v<A, T>) {
    return p;
  } else {
    for (int64_t i = 0; i < n; ++i) buf[i] = static_cast<A>(p[i]);
    return buf;
  }
}

// Outputs larger than this are written with non-temporal stores: half of a 32 MB L3, so that
// with the input it would not stay cached for the next op anyway, and an ordinary store would
// first read each output line from memory (measured: batch norm forward on [32,64,56,56] runs
// 1.6x faster).
constexpr int64_t kStreamBytes = int64_t{16} << 20;

bool streams(const Tensor& out) {
  return out.defined() && out.nbytes() > kStreamBytes;
}

#if defined(__AVX512F__)
constexpr int64_t kStreamAlign = 64;
void stream_block(void* dst, const void* src) {
  _mm512_stream_si512(static_cast<__m512i*>(dst), _mm512_loadu_si512(src));
}
#elif defined(__SSE2__)
constexpr int64_t kStreamAlign = 16;
void stream_block(void* dst, const void* src) {
  _mm_stream_si128(static_cast<__m128i*>(dst), _mm_loadu_si128(static_cast<const __m128i*>(src)));
}
#endif

// dst[0..n) = src[0..n), the aligned middle with non-temporal stores.
template <class A>
void stream_copy(A* dst, const A* src, int64_t n) {
  int64_t i = 0;
#if defined(__SSE2__)
  for (; i < n && reinterpret_cast<uintptr_t>(dst + i) % kStreamAlign != 0; ++i) dst[i] = src[i];
  constexpr int64_t kPer = kStreamAlign / sizeof(A);
  for (; i + kPer <= n; i += kPer) stream_block(dst + i, src + i);
#endif
  for (; i < n; ++i) dst[i] = src[i];
}

// A thread that streamed ends with a fence: non-temporal stores are weakly ordered.
void end_streaming(bool stream) {
#if defined(__SSE2__)
  if (stream) _mm_sfence();
#endif
}

// Elements evaluated at a time before a streamed copy (stays in L1).
constexpr int64_t kStreamChunk = 1024;

// dst[0..n) = e (an Eigen array expression in A), through buf when T is not A. e may read buf.
// stream: with non-temporal stores (f32, f64), evaluated in L1-sized chunks.
template <class T, class A, class E>
void store(T* dst, int64_t n, A* buf, const E& e, bool stream) {
  if constexpr (std::is_same_v<A, T>) {
    if (!stream) {
      Out<A>(dst, n) = e;
      return;
    }
    alignas(64) A chunk[kStreamChunk];
    for (int64_t i = 0; i < n; i += kStreamChunk) {
      const int64_t len = std::min(kStreamChunk, n - i);
      Out<A>(chunk, len) = e.segment(i, len);
      stream_copy(dst + i, chunk, len);
    }
  } else {
    Out<A>(buf, n) = e;
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(buf[i]);
  }
}

// A per-thread conversion buffer: empty when T is A.
template <class T, class A>
std::vector<A> buffer(int64_t n) {
  return std::vector<A>(std::is_same_v<A, T> ? 0 : n);
}

// `count` rows of `len` contiguous elements, `stride` elements apart: a batch-norm channel
// (one row per sample), a group-norm group (one row per channel) or a layer-norm row.
template <class T>
struct Rows {
  T* base;
  int64_t stride, count, len;
  T* row(int64_t i) const { return base + i * stride; }
};

template <class T>
Rows<const T> rows_of(const Rows<T>& r) {
  return {r.base, r.stride, r.count, r.len};
}

// Mean and biased variance of all elements of `r`, in two passes.
template <class T, class A>
std::pair<double, double> moments(const Rows<const T>& r, A* buf) {
  const double n = static_cast<double>(r.count * r.len);
  double s = 0;
  for (int64_t i = 0; i < r.count; ++i) {
    const A* p = load(r.row(i), r.len, buf);
    s += blocked_sum(r.len, [&](int64_t b, int64_t l) { return In<A>(p + b, l).sum(); });
  }
  const double mean = s / n;
  const A m = static_cast<A>(mean);
  double q = 0;
  for (int64_t i = 0; i < r.count; ++i) {
    const A* p = load(r.row(i), r.len, buf);
    q += blocked_sum(r.len,
                     [&](int64_t b, int64_t l) { return (In<A>(p + b, l) - m).square().sum(); });
  }
  return {mean, q / n};
}

// (sum of g, sum of g * (x - mean)) over n elements in one sweep: the sums a backward needs.
template <class A>
std::pair<double, double> grad_sums(const A* x, const A* g, int64_t n, A mean) {
  double sum_g = 0, dot = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    A s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s1, s2)
    for (int64_t i = b; i < e; ++i) {
      s1 += g[i];
      s2 += g[i] * (x[i] - mean);
    }
    sum_g += s1;
    dot += s2;
  }
  return {sum_g, dot};
}

// dst = (src - mean) * scale + bias over one row. Subtracting the mean first keeps the result
// exact where the variance is tiny next to eps (a huge scale): x * scale + shift would cancel.
template <class T, class A>
void affine_row(T* dst, const T* src, int64_t n, A mean, A scale, A bias, A* buf, bool stream) {
  store(dst, n, buf, (In<A>(load(src, n, buf), n) - mean) * scale + bias, stream);
}

template <class A>
A weight_at(const A* w, int64_t i) {
  return w ? w[i] : A(1);
}
template <class A>
A bias_at(const A* b, int64_t i) {
  return b ? b[i] : A(0);
}

template <class A>
A* data_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<A>() : nullptr;
}

// The n values of an optional parameter, or n copies of `absent`.
template <class A>
std::vector<A> values_or(const Tensor& t, int64_t n, A absent) {
  if (!t.defined()) return std::vector<A>(n, absent);
  const A* p = t.data_ptr<A>();
  return std::vector<A>(p, p + n);
}

// Splits [0, n) into chunks of at least `grain` items, at most one per thread.
int64_t num_chunks(int64_t n, int64_t grain) {
  return std::clamp<int64_t>(n / std::max<int64_t>(grain, 1), 1, num_threads());
}

// f(chunk, begin, end) for each of `chunks` parts of [0, n), in parallel.
template <class F>
void for_chunks(int64_t n, int64_t chunks, const F& f) {
  parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) f(c, n * c / chunks, n * (c + 1) / chunks);
  });
}

// Per-chunk accumulators of `width` doubles, summed over chunks into acc[0..width).
struct ChunkSums {
  int64_t width;
  std::vector<double> acc;
  ChunkSums(int64_t chunks, int64_t w) : width(w), acc(chunks * w, 0.0) {}
  double* chunk(int64_t c) { return acc.data() + c * width; }
  // Adds the chunks into the first one.
  const double* total(int64_t chunks) {
    for (int64_t c = 1; c < chunks; ++c)
      for (int64_t i = 0; i < width; ++i) acc[i] += acc[c * width + i];
    return acc.data();
  }
};

// out[i] = sum over chunks of col[chunk * width + i], in double.
template <class A>
void sum_chunks(A* out, const std::vector<A>& col, int64_t chunks, int64_t width) {
  for (int64_t i = 0; i < width; ++i) {
    double s = 0;
    for (int64_t ch = 0; ch < chunks; ++ch) s += col[ch * width + i];
    out[i] = static_cast<A>(s);
  }
}

// ---- batch norm ------------------------------------------------------------------------------

// x as [N, C, S]: with unit stride along S, rows of S elements per (n, c); otherwise (unit stride
// along C) rows of C elements per (n, s).
struct ChannelLayout {
  int64_t n, c, s;
  bool along_s;
  explicit ChannelLayout(const Tensor& x)
      : n(x.size(0)), c(x.size(1)), s(x.size(2)), along_s(x.size(2) > 1 && x.stride(2) == 1) {}
  int64_t rows() const { return along_s ? n * c : n * s; }
  int64_t row_len() const { return along_s ? s : c; }
};

// The rows of t in the layout's row order: (n, c) along S, (n, s) along C. Rows that follow
// each other in memory at one stride (contiguous tensors) are found without dividing: channels-
// last rows are short, and two divisions per row would cost as much as the row's arithmetic.
template <class T>
struct RowIndex {
  T* base;
  int64_t per_sample, outer_stride, inner_stride;
  bool uniform;
  RowIndex(const Tensor& t, const ChannelLayout& l)
      : base(static_cast<T*>(t.raw_data())),
        per_sample(l.along_s ? l.c : l.s),
        outer_stride(t.stride(0)),
        inner_stride(t.stride(l.along_s ? 1 : 2)),
        uniform(l.n == 1 || outer_stride == per_sample * inner_stride) {}
  T* operator[](int64_t r) const {
    return uniform ? base + r * inner_stride
                   : base + (r / per_sample) * outer_stride + (r % per_sample) * inner_stride;
  }
};

// The rows of channel c (one per sample) in the along-S layout.
template <class T>
Rows<T> channel_rows(const Tensor& t, const ChannelLayout& l, int64_t c) {
  return {static_cast<T*>(t.raw_data()) + c * t.stride(1), t.stride(0), l.n, l.s};
}

// Along C: per-channel sum and sum of squares in double, one pass over rows [r0, r1).
template <class T>
void channel_sums(const Tensor& x, const ChannelLayout& l, int64_t r0, int64_t r1, double* sum,
                  double* sq) {
  using A = acc_t<T>;
  std::vector<A> buf = buffer<T, A>(l.c);
  const RowIndex<const T> xr(x, l);
  for (int64_t r = r0; r < r1; ++r) {
    const A* p = load(xr[r], l.c, buf.data());
    for (int64_t c = 0; c < l.c; ++c) {
      const double v = p[c];
      sum[c] += v;
      sq[c] += v * v;
    }
  }
}

// y = (x - mean[c]) * scale[c] + bias[c] over every row, in parallel.
template <class T, class A>
void apply_channels(const Tensor& y, const Tensor& x, const ChannelLayout& l, const A* mean,
                    const A* scale, const A* bias) {
  const int64_t len = l.row_len();
  const bool stream = streams(y);
  const RowIndex<const T> xr(x, l);
  const RowIndex<T> yr(y, l);
  parallel_for(0, l.rows(), std::max<int64_t>(1, kGrainSize / len), [&](int64_t r0, int64_t r1) {
    std::vector<A> buf = buffer<T, A>(len);
    for (int64_t r = r0; r < r1; ++r) {
      const T* src = xr[r];
      T* dst = yr[r];
      if (l.along_s) {
        const int64_t c = r % l.c;
        affine_row(dst, src, len, mean[c], scale[c], bias[c], buf.data(), stream);
      } else {
        store(dst, len, buf.data(),
              (In<A>(load(src, len, buf.data()), len) - In<A>(mean, len)) * In<A>(scale, len) +
                  In<A>(bias, len),
              stream);
      }
    }
    end_streaming(stream);
  });
}

void batch_norm_train_kernel(const Tensor& y, const Tensor& mean, const Tensor& invstd,
                             const Tensor& var, const Tensor& x, const Tensor& weight,
                             const Tensor& bias, double eps) {
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const ChannelLayout l(x);
      A *mp = mean.data_ptr<A>(), *ip = invstd.data_ptr<A>(), *vp = data_or_null<A>(var);
      const A *w = data_or_null<A>(weight), *b = data_or_null<A>(bias);
      const int64_t per_channel = l.n * l.s;
      if (l.along_s) {
        // Per channel: its rows stay in L2 through the statistics passes and the output pass.
        const bool stream = streams(y);
        parallel_for(0, l.c, std::max<int64_t>(1, kGrainSize / per_channel),
                     [&](int64_t c0, int64_t c1) {
                       std::vector<A> buf = buffer<T, A>(l.s);
                       for (int64_t c = c0; c < c1; ++c) {
                         const auto src = channel_rows<const T>(x, l, c);
                         const auto [m, v] = moments(src, buf.data());
                         const double is = 1.0 / std::sqrt(v + eps);
                         mp[c] = static_cast<A>(m);
                         ip[c] = static_cast<A>(is);
                         if (vp) vp[c] = static_cast<A>(v);
                         const A scale = static_cast<A>(weight_at(w, c) * is);
                         const auto dst = channel_rows<T>(y, l, c);
                         for (int64_t n = 0; n < l.n; ++n) {
                           affine_row(dst.row(n), src.row(n), l.s, mp[c], scale, bias_at(b, c),
                                      buf.data(), stream);
                         }
                       }
                       end_streaming(stream);
                     });
        return;
      }
      // Channels contiguous: one pass of sums and sums of squares per chunk of rows (in double:
      // the variance E[x^2] - mean^2 keeps its precision), then the output pass.
      const int64_t rows = l.rows(), chunks = num_chunks(rows * l.c, kGrainSize);
      ChunkSums sums(chunks, 2 * l.c);
      for_chunks(rows, chunks, [&](int64_t k, int64_t r0, int64_t r1) {
        channel_sums<T>(x, l, r0, r1, sums.chunk(k), sums.chunk(k) + l.c);
      });
      const double* total = sums.total(chunks);
      std::vector<A> scale(l.c), shift(l.c);
      for (int64_t c = 0; c < l.c; ++c) {
        const double m = total[c] / per_channel;
        const double v = std::max(0.0, total[l.c + c] / per_channel - m * m);
        const double is = 1.0 / std::sqrt(v + eps);
        mp[c] = static_cast<A>(m);
        ip[c] = static_cast<A>(is);
        if (vp) vp[c] = static_cast<A>(v);
        scale[c] = static_cast<A>(weight_at(w, c) * is);
        shift[c] = bias_at(b, c);
      }
      apply_channels<T>(y, x, l, mp, scale.data(), shift.data());
    }
  });
}

void batch_norm_apply_kernel(const Tensor& y, const Tensor& x, const Tensor& mean,
                             const Tensor& invstd, const Tensor& weight, const Tensor& bias) {
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const ChannelLayout l(x);
      const A *mp = mean.data_ptr<A>(), *ip = invstd.data_ptr<A>();
      const A *w = data_or_null<A>(weight), *b = data_or_null<A>(bias);
      std::vector<A> scale(l.c), shift(l.c);
      for (int64_t c = 0; c < l.c; ++c) {
        scale[c] = weight_at(w, c) * ip[c];
        shift[c] = bias_at(b, c);
      }
      apply_channels<T>(y, x, l, mp, scale.data(), shift.data());
    }
  });
}

// Backward. Per channel: sum_dy = sum(dy), dot = sum(dy * (x - mean)); grad_bias = sum_dy,
// grad_weight = dot * invstd. Training:
//   dx = (dy - sum_dy / n - (x - mean) * invstd^2 * dot / n) * invstd * weight
//      = dy * k + (x - mean) * a + d  with k = invstd * weight, a = -k * invstd^2 * dot / n,
//        d = -k * sum_dy / n;
// eval: dx = dy * k.
void batch_norm_backward_kernel(const Tensor& grad_input, const Tensor& grad_weight,
                                const Tensor& grad_bias, const Tensor& grad_out, const Tensor& x,
                                const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                                bool training) {
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const ChannelLayout l(x);
      const A *mp = mean.data_ptr<A>(), *ip = invstd.data_ptr<A>(), *w = data_or_null<A>(weight);
      A *gw = data_or_null<A>(grad_weight), *gb = data_or_null<A>(grad_bias);
      const bool need_sums = training || gw || gb;
      const bool stream = streams(grad_input);
      const double count = static_cast<double>(l.n * l.s);
      // The per-channel coefficients of dx from the sums.
      auto coefficients = [&](int64_t c, double sum_dy, double dot) {
        if (gw) gw[c] = static_cast<A>(dot * ip[c]);
        if (gb) gb[c] = static_cast<A>(sum_dy);
        const double k = weight_at(w, c) * static_cast<double>(ip[c]);
        if (!training) return std::array<A, 3>{static_cast<A>(k), A(0), A(0)};
        const double a = -k * ip[c] * ip[c] * dot / count;
        return std::array<A, 3>{static_cast<A>(k), static_cast<A>(a),
                                static_cast<A>(-k * sum_dy / count)};
      };
      if (l.along_s) {
        parallel_for(
            0, l.c, std::max<int64_t>(1, kGrainSize / (l.n * l.s)), [&](int64_t c0, int64_t c1) {
              std::vector<A> bx = buffer<T, A>(l.s), bg = buffer<T, A>(l.s);
              for (int64_t c = c0; c < c1; ++c) {
                const auto xs = channel_rows<const T>(x, l, c);
                const auto gs = channel_rows<const T>(grad_out, l, c);
                double sum_dy = 0, dot = 0;
                const A m = mp[c];
                for (int64_t n = 0; n < l.n && need_sums; ++n) {
                  const A* px = load(xs.row(n), l.s, bx.data());
                  const A* pg = load(gs.row(n), l.s, bg.data());
                  const auto [sg, sd] = grad_sums(px, pg, l.s, m);
                  sum_dy += sg;
                  dot += sd;
                }
                const auto [k, a, d] = coefficients(c, sum_dy, dot);
                if (!grad_input.defined()) continue;
                const auto dst = channel_rows<T>(grad_input, l, c);
                for (int64_t n = 0; n < l.n; ++n) {
                  const auto g = In<A>(load(gs.row(n), l.s, bg.data()), l.s);
                  if (training) {
                    store(dst.row(n), l.s, bg.data(),
                          g * k + (In<A>(load(xs.row(n), l.s, bx.data()), l.s) - m) * a + d,
                          stream);
                  } else {
                    store(dst.row(n), l.s, bg.data(), g * k, stream);
                  }
                }
              }
              end_streaming(stream);
            });
        return;
      }
      // Channels contiguous: per-chunk column sums, then the dx pass over rows.
      const RowIndex<const T> xr(x, l), gr(grad_out, l);
      std::vector<A> k(l.c), a(l.c), d(l.c);
      {
        const int64_t rows = l.rows();
        const int64_t chunks = need_sums ? num_chunks(rows * l.c, kGrainSize) : 1;
        ChunkSums sums(chunks, 2 * l.c);
        if (need_sums) {
          for_chunks(rows, chunks, [&](int64_t ch, int64_t r0, int64_t r1) {
            double *sd = sums.chunk(ch), *sdot = sd + l.c;
            std::vector<A> bx = buffer<T, A>(l.c), bg = buffer<T, A>(l.c);
            for (int64_t r = r0; r < r1; ++r) {
              const A* px = load(xr[r], l.c, bx.data());
              const A* pg = load(gr[r], l.c, bg.data());
              for (int64_t c = 0; c < l.c; ++c) {
                sd[c] += pg[c];
                sdot[c] += static_cast<double>(pg[c]) * (static_cast<double>(px[c]) - mp[c]);
              }
            }
          });
        }
        const double* total = sums.total(chunks);
        for (int64_t c = 0; c < l.c; ++c) {
          const auto co = coefficients(c, total[c], total[l.c + c]);
          k[c] = co[0];
          a[c] = co[1];
          d[c] = co[2];
        }
      }
      if (!grad_input.defined()) return;
      const int64_t len = l.c;
      const RowIndex<T> dr(grad_input, l);
      parallel_for(
          0, l.rows(), std::max<int64_t>(1, kGrainSize / len), [&](int64_t r0, int64_t r1) {
            std::vector<A> bx = buffer<T, A>(len), bg = buffer<T, A>(len);
            for (int64_t r = r0; r < r1; ++r) {
              const auto g = In<A>(load(gr[r], len, bg.data()), len);
              const auto xv = In<A>(load(xr[r], len, bx.data()), len);
              store(dr[r], len, bg.data(),
                    g * In<A>(k.data(), len) + (xv - In<A>(mp, len)) * In<A>(a.data(), len) +
                        In<A>(d.data(), len),
                    stream);
            }
            end_streaming(stream);
          });
    }
  });
}

// ---- layer norm ------------------------------------------------------------------------------

// Rows of the [M, K] views: grain in rows.
int64_t row_grain(int64_t k) {
  return std::max<int64_t>(1, kGrainSize / std::max<int64_t>(k, 1));
}

void layer_norm_forward_kernel(const Tensor& y, const Tensor& mean, const Tensor& rstd,
                               const Tensor& x, const Tensor& weight, const Tensor& bias,
                               double eps) {
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const int64_t m = x.size(0), k = x.size(1);
      const T* xp = x.data_ptr<T>();
      T* yp = y.data_ptr<T>();
      A *mp = mean.data_ptr<A>(), *rp = rstd.data_ptr<A>();
      const std::vector<A> w = values_or<A>(weight, k, 1), b = values_or<A>(bias, k, 0);
      const bool stream = streams(y);
      parallel_for(0, m, row_grain(k), [&](int64_t r0, int64_t r1) {
        std::vector<A> buf = buffer<T, A>(k);
        for (int64_t r = r0; r < r1; ++r) {
          const auto [mu, var] = moments(Rows<const T>{xp + r * k, k, 1, k}, buf.data());
          const A rs = static_cast<A>(1.0 / std::sqrt(var + eps)), am = static_cast<A>(mu);
          mp[r] = am;
          rp[r] = rs;
          store(yp + r * k, k, buf.data(),
                (In<A>(load(xp + r * k, k, buf.data()), k) - am) * rs * In<A>(w.data(), k) +
                    In<A>(b.data(), k),
                stream);
        }
        end_streaming(stream);
      });
    }
  });
}

// Per row, with xhat = (x - mean) * rstd and wdy = dy * weight:
//   dx = rstd * (wdy - mean_k(wdy) - xhat * mean_k(wdy * xhat));
// grad_weight = sum over rows of dy * xhat, grad_bias = sum of dy.
void layer_norm_backward_kernel(const Tensor& grad_input, const Tensor& grad_weight,
                                const Tensor& grad_bias, const Tensor& grad_out, const Tensor& x,
                                const Tensor& mean, const Tensor& rstd, const Tensor& weight) {
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const int64_t m = x.size(0), k = x.size(1);
      const T *xp = x.data_ptr<T>(), *gp = grad_out.data_ptr<T>();
      T* dxp = grad_input.defined() ? grad_input.data_ptr<T>() : nullptr;
      const A *mp = mean.data_ptr<A>(), *rp = rstd.data_ptr<A>();
      const std::vector<A> w = values_or<A>(weight, k, 1);
      A *gw = data_or_null<A>(grad_weight), *gb = data_or_null<A>(grad_bias);
      const int64_t chunks = num_chunks(m, row_grain(k));
      const bool stream = streams(grad_input);
      // Per-chunk column sums in A (a chunk's rows), added in double at the end.
      std::vector<A> colw(chunks * k, A(0)), colb(chunks * k, A(0));
      for_chunks(m, chunks, [&](int64_t ch, int64_t r0, int64_t r1) {
        std::vector<A> bx = buffer<T, A>(k), bg = buffer<T, A>(k);
        A *cw = colw.data() + ch * k, *cb = colb.data() + ch * k;
        const A* wp = w.data();
        for (int64_t r = r0; r < r1; ++r) {
          const A* px = load(xp + r * k, k, bx.data());
          const A* pg = load(gp + r * k, k, bg.data());
          const A mu = mp[r], rs = rp[r];
          // One sweep for the column sums and the row's two sums (in blocks, added in double).
          double s_wdy = 0, s_wdy_xhat = 0;
          for (int64_t b = 0; b < k; b += kBlock) {
            const int64_t e = std::min(k, b + kBlock);
            A s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s1, s2)
            for (int64_t i = b; i < e; ++i) {
              const A xhat = (px[i] - mu) * rs, wdy = pg[i] * wp[i];
              cw[i] += pg[i] * xhat;
              cb[i] += pg[i];
              s1 += wdy;
              s2 += wdy * xhat;
            }
            s_wdy += s1;
            s_wdy_xhat += s2;
          }
          if (!dxp) continue;
          // dx = wdy * rs + (x - mean) * a + d.
          const double rsd = rs;
          const A a = static_cast<A>(-rsd * rsd * s_wdy_xhat / k);
          const A d = static_cast<A>(-rsd * s_wdy / k);
          store(dxp + r * k, k, bg.data(),
                In<A>(pg, k) * In<A>(wp, k) * rs + (In<A>(px, k) - mu) * a + d, stream);
        }
        end_streaming(stream);
      });
      if (gw) sum_chunks(gw, colw, chunks, k);
      if (gb) sum_chunks(gb, colb, chunks, k);
    }
  });
}

// ---- group norm ------------------------------------------------------------------------------

void group_norm_forward_kernel(const Tensor& y, const Tensor& mean, const Tensor& rstd,
                               const Tensor& x, const Tensor& weight, const Tensor& bias,
                               double eps) {
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const int64_t n = x.size(0), c = x.size(1), s = x.size(2), groups = mean.size(1);
      const int64_t cg = c / groups;
      const T* xp = x.data_ptr<T>();
      T* yp = y.data_ptr<T>();
      A *mp = mean.data_ptr<A>(), *rp = rstd.data_ptr<A>();
      const A *w = data_or_null<A>(weight), *b = data_or_null<A>(bias);
      const bool stream = streams(y);
      parallel_for(
          0, n * groups, std::max<int64_t>(1, kGrainSize / (cg * s)), [&](int64_t g0, int64_t g1) {
            std::vector<A> buf = buffer<T, A>(s);
            for (int64_t ng = g0; ng < g1; ++ng) {
              const int64_t off = ng * cg * s;  // the group's first element
              const auto [mu, var] = moments(Rows<const T>{xp + off, s, cg, s}, buf.data());
              const double rs = 1.0 / std::sqrt(var + eps);
              mp[ng] = static_cast<A>(mu);
              rp[ng] = static_cast<A>(rs);
              for (int64_t i = 0; i < cg; ++i) {
                const int64_t ch = (ng % groups) * cg + i;
                affine_row(yp + off + i * s, xp + off + i * s, s, mp[ng],
                           static_cast<A>(weight_at(w, ch) * rs), bias_at(b, ch), buf.data(),
                           stream);
              }
            }
            end_streaming(stream);
          });
    }
  });
}

// Per (sample, channel), with the group's mean: dot = sum_s dy * (x - mean), db = sum_s dy.
// Per group, with D = C / G * S, dot_g = sum_c dot * w, db_g = sum_c db * w:
//   dx = dy * rstd * w[c] + (x - mean) * a + d,  a = -dot_g * rstd^3 / D,  d = -db_g * rstd / D;
// grad_weight[c] = sum_n dot * rstd, grad_bias[c] = sum_n db.
void group_norm_backward_kernel(const Tensor& grad_input, const Tensor& grad_weight,
                                const Tensor& grad_bias, const Tensor& grad_out, const Tensor& x,
                                const Tensor& mean, const Tensor& rstd, const Tensor& weight) {
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const int64_t n = x.size(0), c = x.size(1), s = x.size(2), groups = mean.size(1);
      const int64_t cg = c / groups;
      const double dsize = static_cast<double>(cg * s);
      const T *xp = x.data_ptr<T>(), *gp = grad_out.data_ptr<T>();
      T* dxp = grad_input.defined() ? grad_input.data_ptr<T>() : nullptr;
      const A *mp = mean.data_ptr<A>(), *rp = rstd.data_ptr<A>(), *w = data_or_null<A>(weight);
      A *gw = data_or_null<A>(grad_weight), *gb = data_or_null<A>(grad_bias);
      std::vector<double> dot(n * c), db(n * c);  // per (sample, channel)
      const bool stream = streams(grad_input);
      parallel_for(
          0, n * groups, std::max<int64_t>(1, kGrainSize / (cg * s)), [&](int64_t g0, int64_t g1) {
            std::vector<A> bx = buffer<T, A>(s), bg = buffer<T, A>(s);
            for (int64_t ng = g0; ng < g1; ++ng) {
              const int64_t c0 = (ng % groups) * cg, row0 = (ng / groups) * c + c0;
              const A mu = mp[ng];
              double dot_g = 0, db_g = 0;
              for (int64_t i = 0; i < cg; ++i) {
                const int64_t row = row0 + i;
                const A* px = load(xp + row * s, s, bx.data());
                const A* pg = load(gp + row * s, s, bg.data());
                std::tie(db[row], dot[row]) = grad_sums(px, pg, s, mu);
                dot_g += dot[row] * weight_at(w, c0 + i);
                db_g += db[row] * weight_at(w, c0 + i);
              }
              if (!dxp) continue;
              const double rs = rp[ng];
              const A a = static_cast<A>(-dot_g * rs * rs * rs / dsize);
              const A d = static_cast<A>(-db_g * rs / dsize);
              for (int64_t i = 0; i < cg; ++i) {
                const int64_t row = row0 + i;
                const auto g = In<A>(load(gp + row * s, s, bg.data()), s);
                const auto xr = In<A>(load(xp + row * s, s, bx.data()), s);
                store(dxp + row * s, s, bg.data(),
                      g * static_cast<A>(rs * weight_at(w, c0 + i)) + (xr - mu) * a + d, stream);
              }
            }
            end_streaming(stream);
          });
      for (int64_t ch = 0; ch < c; ++ch) {
        double sw = 0, sb = 0;
        for (int64_t i = 0; i < n; ++i) {
          sw += dot[i * c + ch] * rp[i * groups + ch / cg];
          sb += db[i * c + ch];
        }
        if (gw) gw[ch] = static_cast<A>(sw);
        if (gb) gb[ch] = static_cast<A>(sb);
      }
    }
  });
}

// ---- rms norm --------------------------------------------------------------------------------

void rms_norm_forward_kernel(const Tensor& y, const Tensor& rstd, const Tensor& x,
                             const Tensor& weight, double eps) {
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const int64_t m = x.size(0), k = x.size(1);
      const T* xp = x.data_ptr<T>();
      T* yp = y.data_ptr<T>();
      A* rp = rstd.data_ptr<A>();
      const std::vector<A> w = values_or<A>(weight, k, 1);
      const bool stream = streams(y);
      parallel_for(0, m, row_grain(k), [&](int64_t r0, int64_t r1) {
        std::vector<A> buf = buffer<T, A>(k);
        for (int64_t r = r0; r < r1; ++r) {
          const A* p = load(xp + r * k, k, buf.data());
          const double sq =
              blocked_sum(k, [&](int64_t b, int64_t l) { return In<A>(p + b, l).square().sum(); });
          const A rs = static_cast<A>(1.0 / std::sqrt(sq / k + eps));
          rp[r] = rs;
          store(yp + r * k, k, buf.data(), In<A>(p, k) * rs * In<A>(w.data(), k), stream);
        }
        end_streaming(stream);
      });
    }
  });
}

// Per row, with wdy = dy * weight: dx = rstd * wdy - x * rstd^3 * mean_k(wdy * x);
// grad_weight = sum over rows of dy * x * rstd.
void rms_norm_backward_kernel(const Tensor& grad_input, const Tensor& grad_weight,
                              const Tensor& grad_out, const Tensor& x, const Tensor& rstd,
                              const Tensor& weight) {
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const int64_t m = x.size(0), k = x.size(1);
      const T *xp = x.data_ptr<T>(), *gp = grad_out.data_ptr<T>();
      T* dxp = grad_input.defined() ? grad_input.data_ptr<T>() : nullptr;
      const A* rp = rstd.data_ptr<A>();
      const std::vector<A> w = values_or<A>(weight, k, 1);
      A* gw = data_or_null<A>(grad_weight);
      const int64_t chunks = num_chunks(m, row_grain(k));
      const bool stream = streams(grad_input);
      std::vector<A> colw(chunks * k, A(0));
      for_chunks(m, chunks, [&](int64_t ch, int64_t r0, int64_t r1) {
        std::vector<A> bx = buffer<T, A>(k), bg = buffer<T, A>(k);
        A* cw = colw.data() + ch * k;
        const A* wp = w.data();
        for (int64_t r = r0; r < r1; ++r) {
          const A* px = load(xp + r * k, k, bx.data());
          const A* pg = load(gp + r * k, k, bg.data());
          const A rs = rp[r];
          double s = 0;  // sum of wdy * x, in blocks added in double
          for (int64_t b = 0; b < k; b += kBlock) {
            const int64_t e = std::min(k, b + kBlock);
            A sb = 0;
#pragma omp simd reduction(+ : sb)
            for (int64_t i = b; i < e; ++i) {
              cw[i] += pg[i] * px[i] * rs;
              sb += pg[i] * wp[i] * px[i];
            }
            s += sb;
          }
          if (!dxp) continue;
          const double rsd = rs;
          store(dxp + r * k, k, bg.data(),
                In<A>(pg, k) * In<A>(wp, k) * rs +
                    In<A>(px, k) * static_cast<A>(-rsd * rsd * rsd * s / k),
                stream);
        }
        end_streaming(stream);
      });
      if (gw) sum_chunks(gw, colw, chunks, k);
    }
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(batch_norm_train, cpu, kFloatingTypes, batch_norm_train_kernel);
ANVIL_REGISTER_KERNEL(batch_norm_apply, cpu, kFloatingTypes, batch_norm_apply_kernel);
ANVIL_REGISTER_KERNEL(batch_norm_backward, cpu, kFloatingTypes, batch_norm_backward_kernel);
ANVIL_REGISTER_KERNEL(layer_norm_forward, cpu, kFloatingTypes, layer_norm_forward_kernel);
ANVIL_REGISTER_KERNEL(layer_norm_backward, cpu, kFloatingTypes, layer_norm_backward_kernel);
ANVIL_REGISTER_KERNEL(group_norm_forward, cpu, kFloatingTypes, group_norm_forward_kernel);
ANVIL_REGISTER_KERNEL(group_norm_backward, cpu, kFloatingTypes, group_norm_backward_kernel);
ANVIL_REGISTER_KERNEL(rms_norm_forward, cpu, kFloatingTypes, rms_norm_forward_kernel);
ANVIL_REGISTER_KERNEL(rms_norm_backward, cpu, kFloatingTypes, rms_norm_backward_kernel);

}  // namespace anvil::cpu
