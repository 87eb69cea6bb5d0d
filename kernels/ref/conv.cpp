// Reference convolutions: each output element is its defining sum, read and computed in double.
// The backward kernels are written from the index relation of the forward sum, not through it:
// input[n, c, y*stride - pad + i*dilation, ...] meets weight[o, c, i, ...] at output [n, o, y,
// ...].
#include "kernels/ref/ref_loops.h"
#include "tensor/dispatch.h"

namespace anvil::ref {

namespace {

// A 4-D operand read once into doubles (row-major), so that the sums below index plain memory.
struct Dense4 {
  std::vector<double> v;
  int64_t d1, d2, d3;
  explicit Dense4(const Tensor& t) : d1(t.size(1)), d2(t.size(2)), d3(t.size(3)) {
    v.reserve(static_cast<size_t>(t.numel()));
    for_each_index(t.shape(), [&](const std::vector<int64_t>& idx) { v.push_back(load(t, idx)); });
  }
  double operator()(int64_t a, int64_t b, int64_t c, int64_t d) const {
    return v[((a * d1 + b) * d2 + c) * d3 + d];
  }
};

void put(const Tensor& t, int64_t a, int64_t b, int64_t c, int64_t d, double v) {
  store(t, {a, b, c, d}, v);
}

// The input position that output position `y` reads through kernel tap `i` along dim `d`.
int64_t tap(const Conv2dParams& p, int d, int64_t y, int64_t i) {
  return y * p.stride[d] - p.pad_begin[d] + i * p.dilation[d];
}

void conv2d_kernel(const Tensor& out, const Tensor& input, const Tensor& weight, const Tensor& bias,
                   const Conv2dParams& p) {
  const int64_t group_in = weight.size(1), group_out = weight.size(0) / p.groups;
  const int64_t H = input.size(2), W = input.size(3);
  const Dense4 in(input), w(weight);
  for (int64_t n = 0; n < out.size(0); ++n)
    for (int64_t o = 0; o < out.size(1); ++o)
      for (int64_t y = 0; y < out.size(2); ++y)
        for (int64_t x = 0; x < out.size(3); ++x) {
          const int64_t g = o / group_out;
          double sum = bias.defined() ? load(bias, bias.offset() + o * bias.stride(0)) : 0.0;
          for (int64_t c = 0; c < group_in; ++c)
            for (int64_t i = 0; i < weight.size(2); ++i)
              for (int64_t j = 0; j < weight.size(3); ++j) {
                const int64_t iy = tap(p, 0, y, i), ix = tap(p, 1, x, j);
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                sum += in(n, g * group_in + c, iy, ix) * w(o, c, i, j);
              }
          put(out, n, o, y, x, sum);
        }
}

// The output position y with tap(y, i) = iy along dim d, or -1 when there is none.
int64_t source(const Conv2dParams& p, int d, int64_t iy, int64_t i, int64_t out_size) {
  const int64_t num = iy + p.pad_begin[d] - i * p.dilation[d];
  if (num < 0 || num % p.stride[d] != 0 || num / p.stride[d] >= out_size) return -1;
  return num / p.stride[d];
}

// grad_input[n, ci, iy, ix] = sum of grad_output[n, o, y, x] * weight[o, c, i, j] over the
// (o, y, x, i, j) with tap(y, i) = iy and tap(x, j) = ix.
void backward_input_kernel(const Tensor& grad_input, const Tensor& grad_output,
                           const Tensor& weight, const Conv2dParams& p) {
  const int64_t group_in = weight.size(1), group_out = weight.size(0) / p.groups;
  const int64_t Ho = grad_output.size(2), Wo = grad_output.size(3);
  const Dense4 go(grad_output), w(weight);
  for (int64_t n = 0; n < grad_input.size(0); ++n)
    for (int64_t ci = 0; ci < grad_input.size(1); ++ci)
      for (int64_t iy = 0; iy < grad_input.size(2); ++iy)
        for (int64_t ix = 0; ix < grad_input.size(3); ++ix) {
          const int64_t g = ci / group_in, c = ci % group_in;
          double sum = 0;
          for (int64_t o = g * group_out; o < (g + 1) * group_out; ++o)
            for (int64_t i = 0; i < weight.size(2); ++i)
              for (int64_t j = 0; j < weight.size(3); ++j) {
                const int64_t y = source(p, 0, iy, i, Ho), x = source(p, 1, ix, j, Wo);
                if (y < 0 || x < 0) continue;
                sum += go(n, o, y, x) * w(o, c, i, j);
              }
          put(grad_input, n, ci, iy, ix, sum);
        }
}

// grad_weight[o, c, i, j] = sum over n, y, x of grad_output[n, o, y, x] * input at the tap;
// grad_bias[o] = sum over n, y, x of grad_output[n, o, y, x].
void backward_weight_kernel(const Tensor& grad_weight, const Tensor& grad_bias,
                            const Tensor& grad_output, const Tensor& input, const Conv2dParams& p) {
  const int64_t group_in = grad_weight.size(1), group_out = grad_weight.size(0) / p.groups;
  const int64_t N = input.size(0), H = input.size(2), W = input.size(3);
  const int64_t Ho = grad_output.size(2), Wo = grad_output.size(3);
  const Dense4 go(grad_output), in(input);
  for (int64_t o = 0; o < grad_weight.size(0); ++o) {
    const int64_t g = o / group_out;
    for (int64_t c = 0; c < group_in; ++c)
      for (int64_t i = 0; i < grad_weight.size(2); ++i)
        for (int64_t j = 0; j < grad_weight.size(3); ++j) {
          double sum = 0;
          for (int64_t n = 0; n < N; ++n)
            for (int64_t y = 0; y < Ho; ++y)
              for (int64_t x = 0; x < Wo; ++x) {
                const int64_t iy = tap(p, 0, y, i), ix = tap(p, 1, x, j);
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                sum += go(n, o, y, x) * in(n, g * group_in + c, iy, ix);
              }
          put(grad_weight, o, c, i, j, sum);
        }
    if (grad_bias.defined()) {
      double sum = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t y = 0; y < Ho; ++y)
          for (int64_t x = 0; x < Wo; ++x) sum += go(n, o, y, x);
      store(grad_bias, grad_bias.offset() + o * grad_bias.stride(0), sum);
    }
  }
}

}  // namespace

ANVIL_REGISTER_KERNEL(conv2d, ref, kNumericTypes, conv2d_kernel);
ANVIL_REGISTER_KERNEL(conv2d_backward_input, ref, kNumericTypes, backward_input_kernel);
ANVIL_REGISTER_KERNEL(conv2d_backward_weight, ref, kNumericTypes, backward_weight_kernel);

}  // namespace anvil::ref
