// CPU pooling, upsampling and dropout kernels on contiguous NCHW planes, OpenMP over the N*C
// planes. Max and average pooling are separable: for each output row, a vertical pass over its
// window's input rows (contiguous loads) into a padded per-thread row, then a strided horizontal
// pass over that row; both are loops over whole rows that vectorize, unlike a per-output window
// loop. Max pooling keeps PyTorch's rule exactly: NaN wins, else the first maximum in row-major
// window order.
#if defined(__AVX512F__)
#include <immintrin.h>
// GCC 12 flags its own AVX-512 intrinsics (_mm512_undefined_*) as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "tensor/dispatch.h"

namespace anvil::cpu {

namespace {

// Runs f(plane_begin, plane_end) over `planes` planes of `work` elements each, in parallel when
// the total is worth it.
template <class F>
void for_planes(int64_t planes, int64_t work, const F& f) {
  parallel_for(0, planes, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, work)), f);
}

template <class A>
bool takes(A v, A m) {
  return v > m || v != v;  // NaN always replaces
}

// The first tap of a window starting at `start` (stepping `step`) that is not before 0.
int64_t first_tap(int64_t start, int64_t step) {
  while (start < 0) start += step;
  return start;
}

// ---- max pooling --------------------------------------------------------------------------------

// Loops over a row's outputs run to a multiple of this (the vector width of f32 on AVX-512) into
// scratch buffers, so they never end in a scalar remainder.
constexpr int64_t kLanes = 16;

int64_t round_up(int64_t n, int64_t m) {
  return (n + m - 1) / m * m;
}

// A row of `width` values at buf[pad, pad + width), with `fill` on both sides far enough for every
// tap of `outputs` windows: the horizontal passes then need no bounds checks.
template <class A>
struct PaddedRow {
  std::vector<A> buf;
  PaddedRow(int64_t width, int64_t outputs, int64_t k, int64_t s, int64_t p, int64_t d, A fill)
      : buf(std::max((outputs - 1) * s + (k - 1) * d + 1, p + width), fill) {}
};

// Values and indices with PyTorch's rule: the first maximum in row-major window order, or the
// last NaN. The vertical pass keeps each column's first maximum (last NaN) and its row; the
// horizontal pass then also takes an equal value from an earlier row, and a NaN from the same or
// a later row. Padding columns hold -inf at the initial row, so they never take: an all -inf (or
// all padding) window keeps the index of its first taps at or after the top and left edges, as
// PyTorch's.
template <int SW, class T>
void max_pool_indices_planes(const Tensor& out, const Tensor& indices, const Tensor& x,
                             const Pool2dWindow& w, int64_t begin, int64_t end) {
  using A = acc_t<T>;
  constexpr A kNegInf = -std::numeric_limits<A>::infinity();
  const int64_t H = x.size(2), W = x.size(3), OH = out.size(2), OW = out.size(3);
  const int64_t OWr = round_up(OW, kLanes);
  const int64_t sw = SW > 0 ? SW : w.sw;
  const T* xp = x.data_ptr<T>();
  T* op = out.data_ptr<T>();
  int64_t* ip = indices.data_ptr<int64_t>();
  // Each column's maximum over the window's rows and that row, padded on both sides.
  PaddedRow<A> cols(W, OWr, w.kw, sw, w.pw, w.dw, kNegInf);
  std::vector<int32_t> col_rows(cols.buf.size()), col0(OWr), mr(OWr), mc(OWr);
  std::vector<A> mv(OWr);
  for (int64_t ow = 0; ow < OWr; ++ow) col0[ow] = int32_t(first_tap(ow * sw - w.pw, w.dw));
  for (int64_t plane = begin; plane < end; ++plane) {
    const T* xplane = xp + plane * H * W;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const int64_t start = oh * w.sh - w.ph;
      const auto row0 = int32_t(first_tap(start, w.dh));
      A* c = cols.buf.data() + w.pw;
      int32_t* cr = col_rows.data() + w.pw;
      std::fill(c, c + W, kNegInf);
      std::fill(col_rows.begin(), col_rows.end(), row0);
      for (int64_t r = 0; r < w.kh; ++r) {
        const int64_t ih = start + r * w.dh;
        if (ih < 0 || ih >= H) continue;
        const T* xr = xplane + ih * W;
        for (int64_t iw = 0; iw < W; ++iw) {
          const A v = A(xr[iw]);
          const bool t = takes(v, c[iw]);
          c[iw] = t ? v : c[iw];
          cr[iw] = t ? int32_t(ih) : cr[iw];
        }
      }
      for (int64_t ow = 0; ow < OWr; ++ow) {
        mv[ow] = kNegInf;
        mr[ow] = row0;
        mc[ow] = col0[ow];
      }
      for (int64_t j = 0; j < w.kw; ++j) {
        const A* cj = cols.buf.data() + j * w.dw;
        const int32_t* rj = col_rows.data() + j * w.dw;
        const auto off = int32_t(j * w.dw - w.pw);
        for (int64_t ow = 0; ow < OWr; ++ow) {
          const A v = cj[ow * sw], m = mv[ow];
          const int32_t r = rj[ow * sw];
          const bool t = v > m || (v == m && r < mr[ow]) || (v != v && (m == m || r >= mr[ow]));
          mv[ow] = t ? v : m;
          mr[ow] = t ? r : mr[ow];
          mc[ow] = t ? int32_t(ow * sw) + off : mc[ow];
        }
      }
      T* orow = op + (plane * OH + oh) * OW;
      int64_t* irow = ip + (plane * OH + oh) * OW;
      for (int64_t ow = 0; ow < OW; ++ow) {
        orow[ow] = T(mv[ow]);
        irow[ow] = int64_t(mr[ow]) * W + mc[ow];
      }
    }
  }
}

// Values only. The order of the passes does not change a maximum (NaN included), so the vertical
// pass goes first, straight over the contiguous input rows, and the strided horizontal pass runs
// on OH rows instead of H.
template <int SW, class T>
void max_pool_values_planes(const Tensor& out, const Tensor& x, const Pool2dWindow& w,
                            int64_t begin, int64_t end) {
  using A = acc_t<T>;
  constexpr A kNegInf = -std::numeric_limits<A>::infinity();
  const int64_t H = x.size(2), W = x.size(3), OH = out.size(2), OW = out.size(3);
  const int64_t OWr = round_up(OW, kLanes);
  const int64_t sw = SW > 0 ? SW : w.sw;
  const T* xp = x.data_ptr<T>();
  T* op = out.data_ptr<T>();
  // The column maxima of one output row's window rows, padded with -inf.
  PaddedRow<A> cols(W, OWr, w.kw, sw, w.pw, w.dw, kNegInf);
  std::vector<A> mv(OWr);
  for (int64_t plane = begin; plane < end; ++plane) {
    const T* xplane = xp + plane * H * W;
    for (int64_t oh = 0; oh < OH; ++oh) {
      A* c = cols.buf.data() + w.pw;
      std::fill(c, c + W, kNegInf);
      for (int64_t r = 0; r < w.kh; ++r) {
        const int64_t ih = oh * w.sh - w.ph + r * w.dh;
        if (ih < 0 || ih >= H) continue;
        const T* xr = xplane + ih * W;
        for (int64_t iw = 0; iw < W; ++iw) {
          const A v = A(xr[iw]);
          c[iw] = takes(v, c[iw]) ? v : c[iw];
        }
      }
      std::fill(mv.begin(), mv.end(), kNegInf);
      for (int64_t j = 0; j < w.kw; ++j) {
        const A* cj = cols.buf.data() + j * w.dw;
        for (int64_t ow = 0; ow < OWr; ++ow) {
          const A v = cj[ow * sw];
          mv[ow] = takes(v, mv[ow]) ? v : mv[ow];
        }
      }
      T* orow = op + (plane * OH + oh) * OW;
      for (int64_t ow = 0; ow < OW; ++ow) orow[ow] = T(mv[ow]);
    }
  }
}

void max_pool2d_kernel(const Tensor& out, const Tensor& indices, const Tensor& x,
                       const Pool2dWindow& w) {
  const int64_t planes = x.size(0) * x.size(1);
  const int64_t work = x.size(2) * out.size(3) * w.kw + out.size(2) * out.size(3) * w.kh;
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      for_planes(planes, work, [&](int64_t b, int64_t e) {
        auto run = [&]<int SW>() {
          if (indices.defined()) {
            max_pool_indices_planes<SW, T>(out, indices, x, w, b, e);
          } else {
            max_pool_values_planes<SW, T>(out, x, w, b, e);
          }
        };
        if (w.sw == 1) {
          run.template operator()<1>();
        } else if (w.sw == 2) {
          run.template operator()<2>();
        } else {
          run.template operator()<0>();
        }
      });
    }
  });
}

// Adds each gradient at its index: per plane into a float buffer for 16-bit types (one rounding
// at the end), straight into the plane otherwise. Indices outside the plane (a window that lay
// wholly in the padding) add nothing.
void max_pool2d_backward_kernel(const Tensor& grad_input, const Tensor& grad_output,
                                const Tensor& indices) {
  const int64_t planes = grad_input.size(0) * grad_input.size(1);
  const int64_t hw = grad_input.size(2) * grad_input.size(3);
  const int64_t ohw = grad_output.size(2) * grad_output.size(3);
  visit_dtype(grad_input.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const T* g = grad_output.data_ptr<T>();
      const int64_t* idx = indices.data_ptr<int64_t>();
      T* gi = grad_input.data_ptr<T>();
      for_planes(planes, hw + ohw, [&](int64_t b, int64_t e) {
        std::vector<A> acc(std::is_same_v<A, T> ? 0 : hw);
        for (int64_t plane = b; plane < e; ++plane) {
          A* dst = std::is_same_v<A, T> ? reinterpret_cast<A*>(gi + plane * hw) : acc.data();
          std::fill(dst, dst + hw, A(0));
          const T* gp = g + plane * ohw;
          const int64_t* ipl = idx + plane * ohw;
          for (int64_t i = 0; i < ohw; ++i) {
            const int64_t k = ipl[i];
            if (static_cast<uint64_t>(k) < static_cast<uint64_t>(hw)) dst[k] += A(gp[i]);
          }
          if constexpr (!std::is_same_v<A, T>) {
            for (int64_t i = 0; i < hw; ++i) gi[plane * hw + i] = T(acc[i]);
          }
        }
      });
    }
  });
}

// ---- average pooling
// ------------------------------------------------------------------------------

// One dim of an average pool: for each output, its clipped window [lo, hi) and its divisor part
// (the window clipped to the padded input when counting padding, else to the input).
struct AvgAxis {
  std::vector<int64_t> lo, hi, count;
  AvgAxis(int64_t size, int64_t out, int64_t k, int64_t s, int64_t p, bool include_pad)
      : lo(out), hi(out), count(out) {
    for (int64_t o = 0; o < out; ++o) {
      const int64_t start = o * s - p;
      const int64_t end = std::min(start + k, size + p);
      const int64_t padded = end - start;
      lo[o] = std::max<int64_t>(start, 0);
      hi[o] = std::min(end, size);
      count[o] = include_pad ? padded : std::max<int64_t>(hi[o] - lo[o], 0);
    }
  }
};

// Integers divide as integers (truncating), as PyTorch's avg_pool2d on i64.
template <class A>
A divide(A sum, int64_t divisor) {
  return sum / A(divisor);
}

// Separable like max pooling: each output row's column sums over its (clipped) window rows, then
// the window sums along the zero-padded row, then the divisor.
void avg_pool2d_kernel(const Tensor& out, const Tensor& x, const AvgPool2dParams& p) {
  const Pool2dWindow& w = p.window;
  const int64_t H = x.size(2), W = x.size(3), OH = out.size(2), OW = out.size(3);
  const int64_t OWr = round_up(OW, kLanes);
  const AvgAxis ah(H, OH, w.kh, w.sh, w.ph, p.count_include_pad);
  const AvgAxis aw(W, OW, w.kw, w.sw, w.pw, p.count_include_pad);
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T> || std::is_same_v<T, int64_t>) {
      using A = acc_t<T>;
      const T* xp = x.data_ptr<T>();
      T* op = out.data_ptr<T>();
      for_planes(x.size(0) * x.size(1), OH * (W * w.kh + OW * w.kw), [&](int64_t b, int64_t e) {
        PaddedRow<A> cols(W, OWr, w.kw, w.sw, w.pw, 1, A(0));
        std::vector<A> sums(OWr);
        for (int64_t plane = b; plane < e; ++plane) {
          const T* xplane = xp + plane * H * W;
          for (int64_t oh = 0; oh < OH; ++oh) {
            A* c = cols.buf.data() + w.pw;
            std::fill(c, c + W, A(0));
            for (int64_t ih = ah.lo[oh]; ih < ah.hi[oh]; ++ih) {
              const T* xr = xplane + ih * W;
              for (int64_t iw = 0; iw < W; ++iw) c[iw] += A(xr[iw]);
            }
            std::fill(sums.begin(), sums.end(), A(0));
            for (int64_t j = 0; j < w.kw; ++j) {
              const A* cj = cols.buf.data() + j;
              for (int64_t ow = 0; ow < OWr; ++ow) sums[ow] += cj[ow * w.sw];
            }
            T* orow = op + (plane * OH + oh) * OW;
            for (int64_t ow = 0; ow < OW; ++ow) {
              const int64_t div =
                  p.divisor_override ? p.divisor_override : ah.count[oh] * aw.count[ow];
              const bool empty = ah.hi[oh] <= ah.lo[oh] || aw.hi[ow] <= aw.lo[ow];
              orow[ow] = empty ? T(A(0)) : T(divide(sums[ow], div));
            }
          }
        }
      });
    }
  });
}

// Each output's gradient over its divisor, spread back: vertically into a per-row buffer, then
// horizontally into the plane.
void avg_pool2d_backward_kernel(const Tensor& grad_input, const Tensor& grad_output,
                                const AvgPool2dParams& p) {
  const Pool2dWindow& w = p.window;
  const int64_t H = grad_input.size(2), W = grad_input.size(3);
  const int64_t OH = grad_output.size(2), OW = grad_output.size(3);
  const AvgAxis ah(H, OH, w.kh, w.sh, w.ph, p.count_include_pad);
  const AvgAxis aw(W, OW, w.kw, w.sw, w.pw, p.count_include_pad);
  visit_dtype(grad_input.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const T* gp = grad_output.data_ptr<T>();
      T* gi = grad_input.data_ptr<T>();
      // 1 / divisor per output column (or the override's), and the row factors.
      std::vector<A> rw(OW), rh(OH);
      for (int64_t ow = 0; ow < OW; ++ow) {
        rw[ow] = p.divisor_override ? A(1) : aw.count[ow] ? A(1) / A(aw.count[ow]) : A(0);
      }
      for (int64_t oh = 0; oh < OH; ++oh) {
        rh[oh] = p.divisor_override ? A(1) / A(p.divisor_override)
                 : ah.count[oh]     ? A(1) / A(ah.count[oh])
                                    : A(0);
      }
      for_planes(grad_input.size(0) * grad_input.size(1), H * W + H * OW * w.kw,
                 [&](int64_t b, int64_t e) {
                   std::vector<A> vs(H * OW), row(W);
                   for (int64_t plane = b; plane < e; ++plane) {
                     std::fill(vs.begin(), vs.end(), A(0));
                     for (int64_t oh = 0; oh < OH; ++oh) {
                       const T* grow = gp + (plane * OH + oh) * OW;
                       for (int64_t ih = ah.lo[oh]; ih < ah.hi[oh]; ++ih) {
                         A* vrow = vs.data() + ih * OW;
                         for (int64_t ow = 0; ow < OW; ++ow)
                           vrow[ow] += A(grow[ow]) * rh[oh] * rw[ow];
                       }
                     }
                     for (int64_t ih = 0; ih < H; ++ih) {
                       std::fill(row.begin(), row.end(), A(0));
                       const A* vrow = vs.data() + ih * OW;
                       for (int64_t ow = 0; ow < OW; ++ow) {
                         for (int64_t iw = aw.lo[ow]; iw < aw.hi[ow]; ++iw) row[iw] += vrow[ow];
                       }
                       T* dst = gi + (plane * H + ih) * W;
                       for (int64_t iw = 0; iw < W; ++iw) dst[iw] = T(row[iw]);
                     }
                   }
                 });
    }
  });
}

// ---- adaptive pooling
// -----------------------------------------------------------------------------

int64_t adaptive_start(int64_t o, int64_t in, int64_t out) {
  return (o * in) / out;
}
int64_t adaptive_end(int64_t o, int64_t in, int64_t out) {
  return ((o + 1) * in + out - 1) / out;
}

template <class A, class T>
A sum_span(const T* p, int64_t n) {
  A s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += A(p[i]);
  return s;
}

#if defined(__AVX512F__)
// The sums of 16 vectors, lane j holding v[j]'s: a tree of interleaving adds (32-bit, 64-bit,
// then 128-bit lanes) instead of 16 separate horizontal reductions.
__m512 transpose_sum16(const __m512 (&v)[16]) {
  __m512 a[8], b[4], c[2];
  for (int j = 0; j < 8; ++j) {
    a[j] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * j], v[2 * j + 1]),
                         _mm512_unpackhi_ps(v[2 * j], v[2 * j + 1]));
  }
  for (int j = 0; j < 4; ++j) {
    const __m512d x = _mm512_castps_pd(a[2 * j]), y = _mm512_castps_pd(a[2 * j + 1]);
    b[j] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)),
                         _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
  }
  for (int j = 0; j < 2; ++j) {
    c[j] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * j], b[2 * j + 1], 0x88),
                         _mm512_shuffle_f32x4(b[2 * j], b[2 * j + 1], 0xDD));
  }
  return _mm512_add_ps(_mm512_shuffle_f32x4(c[0], c[1], 0x88),
                       _mm512_shuffle_f32x4(c[0], c[1], 0xDD));
}
#endif

// out[p] = mean of the n contiguous elements of plane p (global average pooling). With AVX-512,
// f32 planes go 16 at a time: a plane's sum per lane, then one transposing reduction for all 16
// (a per-plane horizontal reduction costs more than the loads for ResNet's 7x7 planes).
template <class T>
void plane_means(const T* x, T* out, int64_t begin, int64_t end, int64_t n) {
  using A = acc_t<T>;
  int64_t p = begin;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    const int64_t full = n / 16;
    const __mmask16 tail = static_cast<__mmask16>((1u << (n % 16)) - 1);
    const __m512 inv = _mm512_set1_ps(1.0f / float(n));
    for (; p + 16 <= end; p += 16) {
      __m512 v[16];
      for (int j = 0; j < 16; ++j) {
        const float* r = x + (p + j) * n;
        __m512 s = _mm512_maskz_loadu_ps(tail, r + full * 16);
        for (int64_t i = 0; i < full; ++i) s = _mm512_add_ps(s, _mm512_loadu_ps(r + 16 * i));
        v[j] = s;
      }
      _mm512_storeu_ps(out + p, _mm512_mul_ps(transpose_sum16(v), inv));
    }
  }
#endif
  for (; p < end; ++p) out[p] = T(sum_span<A>(x + p * n, n) / A(n));
}

void adaptive_avg_pool2d_kernel(const Tensor& out, const Tensor& x) {
  const int64_t H = x.size(2), W = x.size(3), OH = out.size(2), OW = out.size(3);
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const T* xp = x.data_ptr<T>();
      T* op = out.data_ptr<T>();
      for_planes(x.size(0) * x.size(1), H * W + OH * OW, [&](int64_t b, int64_t e) {
        if (OH == 1 && OW == 1) {  // global average: one contiguous run per plane
          plane_means(xp, op, b, e, H * W);
          return;
        }
        for (int64_t plane = b; plane < e; ++plane) {
          const T* xplane = xp + plane * H * W;
          T* oplane = op + plane * OH * OW;
          for (int64_t oh = 0; oh < OH; ++oh) {
            const int64_t h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
            for (int64_t ow = 0; ow < OW; ++ow) {
              const int64_t w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
              A s = 0;
              for (int64_t ih = h0; ih < h1; ++ih) s += sum_span<A>(xplane + ih * W + w0, w1 - w0);
              oplane[oh * OW + ow] = T(s / A((h1 - h0) * (w1 - w0)));
            }
          }
        }
      });
    }
  });
}

void adaptive_avg_pool2d_backward_kernel(const Tensor& grad_input, const Tensor& grad_output) {
  const int64_t H = grad_input.size(2), W = grad_input.size(3);
  const int64_t OH = grad_output.size(2), OW = grad_output.size(3);
  visit_dtype(grad_input.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const T* gp = grad_output.data_ptr<T>();
      T* gi = grad_input.data_ptr<T>();
      for_planes(grad_input.size(0) * grad_input.size(1), H * W + OH * OW,
                 [&](int64_t b, int64_t e) {
                   std::vector<A> acc(OH == 1 && OW == 1 ? 0 : H * W);
                   for (int64_t plane = b; plane < e; ++plane) {
                     T* dst = gi + plane * H * W;
                     const T* g = gp + plane * OH * OW;
                     if (OH == 1 && OW == 1) {
                       const T v = T(A(g[0]) / A(H * W));
                       std::fill(dst, dst + H * W, v);
                       continue;
                     }
                     std::fill(acc.begin(), acc.end(), A(0));
                     for (int64_t oh = 0; oh < OH; ++oh) {
                       const int64_t h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
                       for (int64_t ow = 0; ow < OW; ++ow) {
                         const int64_t w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
                         const A v = A(g[oh * OW + ow]) / A((h1 - h0) * (w1 - w0));
                         for (int64_t ih = h0; ih < h1; ++ih)
                           for (int64_t iw = w0; iw < w1; ++iw) acc[ih * W + iw] += v;
                       }
                     }
                     for (int64_t i = 0; i < H * W; ++i) dst[i] = T(acc[i]);
                   }
                 });
    }
  });
}

void adaptive_max_pool2d_kernel(const Tensor& out, const Tensor& indices, const Tensor& x) {
  const int64_t H = x.size(2), W = x.size(3), OH = out.size(2), OW = out.size(3);
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const T* xp = x.data_ptr<T>();
      T* op = out.data_ptr<T>();
      int64_t* ip = indices.data_ptr<int64_t>();
      for_planes(x.size(0) * x.size(1), H * W + OH * OW, [&](int64_t b, int64_t e) {
        for (int64_t plane = b; plane < e; ++plane) {
          const T* xplane = xp + plane * H * W;
          for (int64_t oh = 0; oh < OH; ++oh) {
            const int64_t h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
            for (int64_t ow = 0; ow < OW; ++ow) {
              const int64_t w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
              A m = -std::numeric_limits<A>::infinity();
              int64_t mi = h0 * W + w0;
              for (int64_t ih = h0; ih < h1; ++ih) {
                for (int64_t iw = w0; iw < w1; ++iw) {
                  const A v = A(xplane[ih * W + iw]);
                  if (takes(v, m)) {
                    m = v;
                    mi = ih * W + iw;
                  }
                }
              }
              const int64_t o = (plane * OH + oh) * OW + ow;
              op[o] = T(m);
              ip[o] = mi;
            }
          }
        }
      });
    }
  });
}

// ---- upsampling
// -----------------------------------------------------------------------------------

// PyTorch's scale of a source index: the given scale_factor's inverse, else in/out.
template <class A>
A scale_value(double scale, int64_t in, int64_t out) {
  return scale > 0 ? A(1.0 / scale) : A(in) / A(out);
}

// Nearest source indices along one dim, as PyTorch's contiguous kernel computes them: the
// source position in the op-math type A (double for f64, else float), floored as a float.
template <class A>
std::vector<int64_t> nearest_indices(InterpolateMode mode, int64_t in, int64_t out, double scale) {
  std::vector<int64_t> idx(out);
  const A s = scale_value<A>(scale, in, out);
  const A shift = mode == InterpolateMode::nearest_exact ? A(0.5) : A(0);
  for (int64_t o = 0; o < out; ++o) {
    idx[o] = std::min(static_cast<int64_t>(std::floor(float((A(o) + shift) * s))), in - 1);
  }
  return idx;
}

// Linear interpolation along one dim: out[o] = w0[o] * in[i0[o]] + w1[o] * in[i1[o]].
template <class A>
struct LinearAxis {
  std::vector<int64_t> i0, i1;
  std::vector<A> w0, w1;
  LinearAxis(int64_t in, int64_t out, bool align_corners, double scale)
      : i0(out), i1(out), w0(out), w1(out) {
    const A s =
        align_corners ? (out > 1 ? A(in - 1) / A(out - 1) : A(0)) : scale_value<A>(scale, in, out);
    for (int64_t o = 0; o < out; ++o) {
      A src = align_corners ? s * A(o) : s * (A(o) + A(0.5)) - A(0.5);
      if (src < 0) src = 0;
      const int64_t lo = static_cast<int64_t>(src);
      const A l = std::clamp(src - A(lo), A(0), A(1));
      i0[o] = lo;
      i1[o] = lo + (lo < in - 1 ? 1 : 0);
      w0[o] = A(1) - l;
      w1[o] = l;
    }
  }
};

void upsample2d_kernel(const Tensor& out, const Tensor& x, const Upsample2dParams& p) {
  const int64_t H = x.size(2), W = x.size(3), OH = out.size(2), OW = out.size(3);
  const int64_t planes = x.size(0) * x.size(1);
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T> || std::is_same_v<T, uint8_t>) {
      const T* xp = x.data_ptr<T>();
      T* op = out.data_ptr<T>();
      using A = acc_t<std::conditional_t<std::is_same_v<T, uint8_t>, float, T>>;
      if (p.mode != InterpolateMode::bilinear) {
        const std::vector<int64_t> hi = nearest_indices<A>(p.mode, H, OH, p.scale_h);
        const std::vector<int64_t> wi = nearest_indices<A>(p.mode, W, OW, p.scale_w);
        for_planes(planes, OH * OW, [&](int64_t b, int64_t e) {
          for (int64_t plane = b; plane < e; ++plane) {
            for (int64_t oh = 0; oh < OH; ++oh) {
              const T* src = xp + (plane * H + hi[oh]) * W;
              T* dst = op + (plane * OH + oh) * OW;
              for (int64_t ow = 0; ow < OW; ++ow) dst[ow] = src[wi[ow]];
            }
          }
        });
      } else if constexpr (is_floating_v<T>) {
        const LinearAxis<A> ah(H, OH, p.align_corners, p.scale_h);
        const LinearAxis<A> aw(W, OW, p.align_corners, p.scale_w);
        for_planes(planes, 4 * OH * OW, [&](int64_t b, int64_t e) {
          for (int64_t plane = b; plane < e; ++plane) {
            for (int64_t oh = 0; oh < OH; ++oh) {
              const T* r0 = xp + (plane * H + ah.i0[oh]) * W;
              const T* r1 = xp + (plane * H + ah.i1[oh]) * W;
              const A h0 = ah.w0[oh], h1 = ah.w1[oh];
              T* dst = op + (plane * OH + oh) * OW;
              for (int64_t ow = 0; ow < OW; ++ow) {
                const int64_t c0 = aw.i0[ow], c1 = aw.i1[ow];
                const A a = aw.w0[ow], c = aw.w1[ow];
                dst[ow] =
                    T(h0 * (a * A(r0[c0]) + c * A(r0[c1])) + h1 * (a * A(r1[c0]) + c * A(r1[c1])));
              }
            }
          }
        });
      }
    }
  });
}

void upsample2d_backward_kernel(const Tensor& grad_input, const Tensor& grad_output,
                                const Upsample2dParams& p) {
  const int64_t H = grad_input.size(2), W = grad_input.size(3);
  const int64_t OH = grad_output.size(2), OW = grad_output.size(3);
  const int64_t planes = grad_input.size(0) * grad_input.size(1);
  visit_dtype(grad_input.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const T* gp = grad_output.data_ptr<T>();
      T* gi = grad_input.data_ptr<T>();
      const bool nearest = p.mode != InterpolateMode::bilinear;
      const std::vector<int64_t> nh =
          nearest ? nearest_indices<A>(p.mode, H, OH, p.scale_h) : std::vector<int64_t>();
      const std::vector<int64_t> nw =
          nearest ? nearest_indices<A>(p.mode, W, OW, p.scale_w) : std::vector<int64_t>();
      const LinearAxis<A> ah(nearest ? 0 : H, nearest ? 0 : OH, p.align_corners, p.scale_h);
      const LinearAxis<A> aw(nearest ? 0 : W, nearest ? 0 : OW, p.align_corners, p.scale_w);
      for_planes(planes, H * W + 4 * OH * OW, [&](int64_t b, int64_t e) {
        std::vector<A> acc(H * W);
        for (int64_t plane = b; plane < e; ++plane) {
          std::fill(acc.begin(), acc.end(), A(0));
          for (int64_t oh = 0; oh < OH; ++oh) {
            const T* g = gp + (plane * OH + oh) * OW;
            if (nearest) {
              A* row = acc.data() + nh[oh] * W;
              for (int64_t ow = 0; ow < OW; ++ow) row[nw[ow]] += A(g[ow]);
              continue;
            }
            A* r0 = acc.data() + ah.i0[oh] * W;
            A* r1 = acc.data() + ah.i1[oh] * W;
            const A h0 = ah.w0[oh], h1 = ah.w1[oh];
            for (int64_t ow = 0; ow < OW; ++ow) {
              const A v = A(g[ow]);
              const int64_t c0 = aw.i0[ow], c1 = aw.i1[ow];
              r0[c0] += h0 * aw.w0[ow] * v;
              r0[c1] += h0 * aw.w1[ow] * v;
              r1[c0] += h1 * aw.w0[ow] * v;
              r1[c1] += h1 * aw.w1[ow] * v;
            }
          }
          T* dst = gi + plane * H * W;
          for (int64_t i = 0; i < H * W; ++i) dst[i] = T(acc[i]);
        }
      });
    }
  });
}

// ---- dropout ------------------------------------------------------------------------------------

// Philox blocks per batch: the rounds run on this many counters at once, which vectorizes.
constexpr int64_t kPhiloxBatch = 16;

void dropout_kernel(const Tensor& out, const Tensor& mask, const Tensor& x, double p,
                    PhiloxState state) {
  const int64_t n = x.numel();
  // Kept iff (word >> 8) / 2^24 < 1 - p, i.e. (word >> 8) < ceil((1 - p) * 2^24).
  const uint32_t threshold = static_cast<uint32_t>(std::ceil((1.0 - p) * 16777216.0));
  const int64_t blocks = (n + 3) / 4;
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const A scale = A(1.0 / (1.0 - p));
      const T* xp = x.data_ptr<T>();
      T* op = out.data_ptr<T>();
      bool* mp = mask.data_ptr<bool>();
      const int64_t batches = (blocks + kPhiloxBatch - 1) / kPhiloxBatch;
      parallel_for(0, batches, kGrainSize / (4 * kPhiloxBatch), [&](int64_t b, int64_t e) {
        uint32_t words[4 * kPhiloxBatch];  // in element order: block l's word k is element 4l + k
        for (int64_t batch = b; batch < e; ++batch) {
          const uint64_t first = state.offset + uint64_t(batch * kPhiloxBatch);
          for (int l = 0; l < kPhiloxBatch; ++l) {
            const PhiloxBlock r = philox4x32(first + l, 0, state.seed);
            for (int k = 0; k < 4; ++k) words[4 * l + k] = r.w[k];
          }
          const int64_t i0 = batch * kPhiloxBatch * 4;
          const int64_t count = std::min<int64_t>(kPhiloxBatch * 4, n - i0);
          for (int64_t j = 0; j < count; ++j) {
            const bool keep = (words[j] >> 8) < threshold;
            mp[i0 + j] = keep;
            op[i0 + j] = T(A(xp[i0 + j]) * (keep ? scale : A(0)));
          }
        }
      });
    }
  });
}

void masked_scale_kernel(const Tensor& out, const Tensor& x, const Tensor& mask, double scale) {
  const int64_t n = x.numel();
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const A s = A(scale);
      const T* xp = x.data_ptr<T>();
      const bool* mp = mask.data_ptr<bool>();
      T* op = out.data_ptr<T>();
      parallel_for(0, n, kGrainSize, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) op[i] = T(A(xp[i]) * (mp[i] ? s : A(0)));
      });
    }
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(max_pool2d, cpu, kFloatingTypes, max_pool2d_kernel);
ANVIL_REGISTER_KERNEL(max_pool2d_backward, cpu, kFloatingTypes, max_pool2d_backward_kernel);
ANVIL_REGISTER_KERNEL(avg_pool2d, cpu, kFloatingTypes | DTypeSet{DType::i64}, avg_pool2d_kernel);
ANVIL_REGISTER_KERNEL(avg_pool2d_backward, cpu, kFloatingTypes, avg_pool2d_backward_kernel);
ANVIL_REGISTER_KERNEL(adaptive_avg_pool2d, cpu, kFloatingTypes, adaptive_avg_pool2d_kernel);
ANVIL_REGISTER_KERNEL(adaptive_avg_pool2d_backward, cpu, kFloatingTypes,
                      adaptive_avg_pool2d_backward_kernel);
ANVIL_REGISTER_KERNEL(adaptive_max_pool2d, cpu, kFloatingTypes, adaptive_max_pool2d_kernel);
ANVIL_REGISTER_KERNEL(upsample2d, cpu, kFloatingTypes | DTypeSet{DType::u8}, upsample2d_kernel);
ANVIL_REGISTER_KERNEL(upsample2d_backward, cpu, kFloatingTypes, upsample2d_backward_kernel);
ANVIL_REGISTER_KERNEL(dropout, cpu, kFloatingTypes, dropout_kernel);
ANVIL_REGISTER_KERNEL(masked_scale, cpu, kFloatingTypes, masked_scale_kernel);

}  // namespace anvil::cpu
