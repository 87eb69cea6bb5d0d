// Reference pooling, upsampling and dropout kernels: each output from its textbook definition,
// window by window, in double (PyTorch's formulas for windows and source indices).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/ref/ref_loops.h"
#include "tensor/dispatch.h"

namespace anvil::ref {

namespace {

// Calls f(n, c, h, w) for every element of a 4-D shape.
template <class F>
void for_each_nchw(const Shape& s, const F& f) {
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t c = 0; c < s[1]; ++c)
      for (int64_t h = 0; h < s[2]; ++h)
        for (int64_t w = 0; w < s[3]; ++w) f(n, c, h, w);
}

int64_t offset4(const Tensor& t, int64_t n, int64_t c, int64_t h, int64_t w) {
  const Strides& s = t.strides();
  return t.offset() + n * s[0] + c * s[1] + h * s[2] + w * s[3];
}
double at(const Tensor& t, int64_t n, int64_t c, int64_t h, int64_t w) {
  return load(t, offset4(t, n, c, h, w));
}
void put(const Tensor& t, int64_t n, int64_t c, int64_t h, int64_t w, double v) {
  store(t, offset4(t, n, c, h, w), v);
}
void add_to(const Tensor& t, int64_t n, int64_t c, int64_t h, int64_t w, double v) {
  const int64_t o = offset4(t, n, c, h, w);
  store(t, o, load(t, o) + v);
}

void zero(const Tensor& t) {
  for_each_nchw(t.shape(),
                [&](int64_t n, int64_t c, int64_t h, int64_t w) { put(t, n, c, h, w, 0); });
}

// ---- max pooling: taps in row-major order; a NaN or a strictly larger value takes over --------

void max_pool2d_kernel(const Tensor& out, const Tensor& indices, const Tensor& x,
                       const Pool2dWindow& k) {
  const int64_t H = x.size(2), W = x.size(3);
  for_each_nchw(out.shape(), [&](int64_t n, int64_t c, int64_t oh, int64_t ow) {
    const int64_t hs = oh * k.sh - k.ph, ws = ow * k.sw - k.pw;
    int64_t h0 = hs, w0 = ws;
    while (h0 < 0) h0 += k.dh;
    while (w0 < 0) w0 += k.dw;
    double best = -std::numeric_limits<double>::infinity();
    int64_t best_i = h0 * W + w0;
    for (int64_t i = 0; i < k.kh; ++i) {
      for (int64_t j = 0; j < k.kw; ++j) {
        const int64_t h = hs + i * k.dh, w = ws + j * k.dw;
        if (h < 0 || h >= H || w < 0 || w >= W) continue;
        const double v = at(x, n, c, h, w);
        if (v > best || std::isnan(v)) {
          best = v;
          best_i = h * W + w;
        }
      }
    }
    put(out, n, c, oh, ow, best);
    if (indices.defined()) put(indices, n, c, oh, ow, double(best_i));
  });
}

void max_pool2d_backward_kernel(const Tensor& grad_input, const Tensor& grad_output,
                                const Tensor& indices) {
  const int64_t H = grad_input.size(2), W = grad_input.size(3);
  zero(grad_input);
  for_each_nchw(grad_output.shape(), [&](int64_t n, int64_t c, int64_t oh, int64_t ow) {
    const auto i = static_cast<int64_t>(at(indices, n, c, oh, ow));
    if (i >= 0 && i < H * W) add_to(grad_input, n, c, i / W, i % W, at(grad_output, n, c, oh, ow));
  });
}

// ---- average pooling
// ------------------------------------------------------------------------------

// An output's window clipped to the input, and its divisor.
struct AvgWindow {
  int64_t h0, h1, w0, w1;
  double divisor;
};

AvgWindow avg_window(const AvgPool2dParams& p, int64_t H, int64_t W, int64_t oh, int64_t ow) {
  const Pool2dWindow& k = p.window;
  int64_t h0 = oh * k.sh - k.ph, w0 = ow * k.sw - k.pw;
  int64_t h1 = std::min(h0 + k.kh, H + k.ph), w1 = std::min(w0 + k.kw, W + k.pw);
  const int64_t padded = (h1 - h0) * (w1 - w0);
  h0 = std::max<int64_t>(h0, 0);
  w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, H);
  w1 = std::min(w1, W);
  const int64_t divisor = p.divisor_override    ? p.divisor_override
                          : p.count_include_pad ? padded
                                                : (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, double(divisor)};
}

void avg_pool2d_kernel(const Tensor& out, const Tensor& x, const AvgPool2dParams& p) {
  const int64_t H = x.size(2), W = x.size(3);
  const bool integral = !is_floating(x.dtype());
  for_each_nchw(out.shape(), [&](int64_t n, int64_t c, int64_t oh, int64_t ow) {
    const AvgWindow a = avg_window(p, H, W, oh, ow);
    if (a.h0 >= a.h1 || a.w0 >= a.w1) {
      put(out, n, c, oh, ow, 0);
      return;
    }
    double sum = 0;
    for (int64_t h = a.h0; h < a.h1; ++h)
      for (int64_t w = a.w0; w < a.w1; ++w) sum += at(x, n, c, h, w);
    const double v = sum / a.divisor;
    put(out, n, c, oh, ow, integral ? std::trunc(v) : v);
  });
}

void avg_pool2d_backward_kernel(const Tensor& grad_input, const Tensor& grad_output,
                                const AvgPool2dParams& p) {
  const int64_t H = grad_input.size(2), W = grad_input.size(3);
  zero(grad_input);
  for_each_nchw(grad_output.shape(), [&](int64_t n, int64_t c, int64_t oh, int64_t ow) {
    const AvgWindow a = avg_window(p, H, W, oh, ow);
    const double g = at(grad_output, n, c, oh, ow) / a.divisor;
    for (int64_t h = a.h0; h < a.h1; ++h)
      for (int64_t w = a.w0; w < a.w1; ++w) add_to(grad_input, n, c, h, w, g);
  });
}

// ---- adaptive pooling: rows [floor(o*in/out), ceil((o+1)*in/out)) ------------------------------

int64_t window_start(int64_t o, int64_t in, int64_t out) {
  return static_cast<int64_t>(std::floor(double(o) * double(in) / double(out)));
}
int64_t window_end(int64_t o, int64_t in, int64_t out) {
  return static_cast<int64_t>(std::ceil(double(o + 1) * double(in) / double(out)));
}

void adaptive_avg_pool2d_kernel(const Tensor& out, const Tensor& x) {
  const int64_t H = x.size(2), W = x.size(3), OH = out.size(2), OW = out.size(3);
  for_each_nchw(out.shape(), [&](int64_t n, int64_t c, int64_t oh, int64_t ow) {
    const int64_t h0 = window_start(oh, H, OH), h1 = window_end(oh, H, OH);
    const int64_t w0 = window_start(ow, W, OW), w1 = window_end(ow, W, OW);
    double sum = 0;
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w) sum += at(x, n, c, h, w);
    put(out, n, c, oh, ow, sum / double((h1 - h0) * (w1 - w0)));
  });
}

void adaptive_avg_pool2d_backward_kernel(const Tensor& grad_input, const Tensor& grad_output) {
  const int64_t H = grad_input.size(2), W = grad_input.size(3);
  const int64_t OH = grad_output.size(2), OW = grad_output.size(3);
  zero(grad_input);
  for_each_nchw(grad_output.shape(), [&](int64_t n, int64_t c, int64_t oh, int64_t ow) {
    const int64_t h0 = window_start(oh, H, OH), h1 = window_end(oh, H, OH);
    const int64_t w0 = window_start(ow, W, OW), w1 = window_end(ow, W, OW);
    const double g = at(grad_output, n, c, oh, ow) / double((h1 - h0) * (w1 - w0));
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w) add_to(grad_input, n, c, h, w, g);
  });
}

void adaptive_max_pool2d_kernel(const Tensor& out, const Tensor& indices, const Tensor& x) {
  const int64_t H = x.size(2), W = x.size(3), OH = out.size(2), OW = out.size(3);
  for_each_nchw(out.shape(), [&](int64_t n, int64_t c, int64_t oh, int64_t ow) {
    const int64_t h0 = window_start(oh, H, OH), h1 = window_end(oh, H, OH);
    const int64_t w0 = window_start(ow, W, OW), w1 = window_end(ow, W, OW);
    double best = -std::numeric_limits<double>::infinity();
    int64_t best_i = h0 * W + w0;
    for (int64_t h = h0; h < h1; ++h) {
      for (int64_t w = w0; w < w1; ++w) {
        const double v = at(x, n, c, h, w);
        if (v > best || std::isnan(v)) {
          best = v;
          best_i = h * W + w;
        }
      }
    }
    put(out, n, c, oh, ow, best);
    put(indices, n, c, oh, ow, double(best_i));
  });
}

// ---- upsampling
// ----------------------------------------------------------------------------------

// PyTorch's nearest source index (its contiguous kernel): the scale is 1 / scale_factor when one
// was given, else in / out; the source position is computed in double for f64 (float for the
// other dtypes) and floored as a float.
template <class A>
int64_t nearest_source_in(InterpolateMode mode, int64_t o, int64_t in, int64_t out, double scale) {
  const A s = scale > 0 ? A(1.0 / scale) : A(in) / A(out);
  const A src = (A(o) + A(mode == InterpolateMode::nearest_exact ? 0.5 : 0.0)) * s;
  return std::min(static_cast<int64_t>(std::floor(float(src))), in - 1);
}

int64_t nearest_source(const Tensor& x, InterpolateMode mode, int64_t o, int64_t in, int64_t out,
                       double scale) {
  return x.dtype() == DType::f64 ? nearest_source_in<double>(mode, o, in, out, scale)
                                 : nearest_source_in<float>(mode, o, in, out, scale);
}

// The two source indices and weights of output o along one dim.
struct Linear {
  int64_t i0, i1;
  double w0, w1;
};

Linear linear_source(int64_t o, int64_t in, int64_t out, bool align_corners, double scale) {
  double src;
  if (align_corners) {
    src = out > 1 ? double(in - 1) / double(out - 1) * double(o) : 0.0;
  } else {
    const double s = scale > 0 ? 1.0 / scale : double(in) / double(out);
    src = std::max(0.0, s * (double(o) + 0.5) - 0.5);
  }
  const auto i0 = static_cast<int64_t>(std::floor(src));
  const double l = std::clamp(src - double(i0), 0.0, 1.0);
  return {i0, std::min(i0 + 1, in - 1), 1.0 - l, l};
}

void upsample2d_kernel(const Tensor& out, const Tensor& x, const Upsample2dParams& p) {
  const int64_t H = x.size(2), W = x.size(3), OH = out.size(2), OW = out.size(3);
  for_each_nchw(out.shape(), [&](int64_t n, int64_t c, int64_t oh, int64_t ow) {
    if (p.mode != InterpolateMode::bilinear) {
      put(out, n, c, oh, ow,
          at(x, n, c, nearest_source(x, p.mode, oh, H, OH, p.scale_h),
             nearest_source(x, p.mode, ow, W, OW, p.scale_w)));
      return;
    }
    const Linear h = linear_source(oh, H, OH, p.align_corners, p.scale_h);
    const Linear w = linear_source(ow, W, OW, p.align_corners, p.scale_w);
    put(out, n, c, oh, ow,
        h.w0 * (w.w0 * at(x, n, c, h.i0, w.i0) + w.w1 * at(x, n, c, h.i0, w.i1)) +
            h.w1 * (w.w0 * at(x, n, c, h.i1, w.i0) + w.w1 * at(x, n, c, h.i1, w.i1)));
  });
}

void upsample2d_backward_kernel(const Tensor& grad_input, const Tensor& grad_output,
                                const Upsample2dParams& p) {
  const int64_t H = grad_input.size(2), W = grad_input.size(3);
  const int64_t OH = grad_output.size(2), OW = grad_output.size(3);
  zero(grad_input);
  for_each_nchw(grad_output.shape(), [&](int64_t n, int64_t c, int64_t oh, int64_t ow) {
    const double g = at(grad_output, n, c, oh, ow);
    if (p.mode != InterpolateMode::bilinear) {
      add_to(grad_input, n, c, nearest_source(grad_input, p.mode, oh, H, OH, p.scale_h),
             nearest_source(grad_input, p.mode, ow, W, OW, p.scale_w), g);
      return;
    }
    const Linear h = linear_source(oh, H, OH, p.align_corners, p.scale_h);
    const Linear w = linear_source(ow, W, OW, p.align_corners, p.scale_w);
    add_to(grad_input, n, c, h.i0, w.i0, g * h.w0 * w.w0);
    add_to(grad_input, n, c, h.i0, w.i1, g * h.w0 * w.w1);
    add_to(grad_input, n, c, h.i1, w.i0, g * h.w1 * w.w0);
    add_to(grad_input, n, c, h.i1, w.i1, g * h.w1 * w.w1);
  });
}

// ---- dropout ------------------------------------------------------------------------------------

void dropout_kernel(const Tensor& out, const Tensor& mask, const Tensor& x, double p,
                    PhiloxState state) {
  uint64_t i = 0;  // the row-major element number: it draws word i of the stream
  for_each_index(x.shape(), [&](const std::vector<int64_t>& idx) {
    const double u = double(philox_word(state, i++) >> 8) / 16777216.0;
    const bool keep = u < 1.0 - p;
    store(mask, idx, keep ? 1.0 : 0.0);
    store(out, idx, load(x, idx) * (keep ? 1.0 / (1.0 - p) : 0.0));
  });
}

void masked_scale_kernel(const Tensor& out, const Tensor& x, const Tensor& mask, double scale) {
  for_each_index(x.shape(), [&](const std::vector<int64_t>& i) {
    store(out, i, load(x, i) * (load(mask, i) != 0 ? scale : 0.0));
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(max_pool2d, ref, kFloatingTypes, max_pool2d_kernel);
ANVIL_REGISTER_KERNEL(max_pool2d_backward, ref, kFloatingTypes, max_pool2d_backward_kernel);
ANVIL_REGISTER_KERNEL(avg_pool2d, ref, kFloatingTypes | DTypeSet{DType::i64}, avg_pool2d_kernel);
ANVIL_REGISTER_KERNEL(avg_pool2d_backward, ref, kFloatingTypes, avg_pool2d_backward_kernel);
ANVIL_REGISTER_KERNEL(adaptive_avg_pool2d, ref, kFloatingTypes, adaptive_avg_pool2d_kernel);
ANVIL_REGISTER_KERNEL(adaptive_avg_pool2d_backward, ref, kFloatingTypes,
                      adaptive_avg_pool2d_backward_kernel);
ANVIL_REGISTER_KERNEL(adaptive_max_pool2d, ref, kFloatingTypes, adaptive_max_pool2d_kernel);
ANVIL_REGISTER_KERNEL(upsample2d, ref, kFloatingTypes | DTypeSet{DType::u8}, upsample2d_kernel);
ANVIL_REGISTER_KERNEL(upsample2d_backward, ref, kFloatingTypes, upsample2d_backward_kernel);
ANVIL_REGISTER_KERNEL(dropout, ref, kFloatingTypes, dropout_kernel);
ANVIL_REGISTER_KERNEL(masked_scale, ref, kFloatingTypes, masked_scale_kernel);

}  // namespace anvil::ref
