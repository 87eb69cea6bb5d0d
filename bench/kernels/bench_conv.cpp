// Convolution speed in GFLOP/s (2 * N * O * Ho * Wo * C/groups * kH * kW per pass): the forward
// op (output allocated per call, as F.conv2d) and the raw backward-data and backward-weight ops
// (as torch.ops.aten.convolution_backward with one output mask bit), on a 3x3 64->64 layer at
// 32x32 and on the ResNet-50 bottleneck shapes of a 32x32 input. Threads: ANVIL_NUM_THREADS.
#include <benchmark/benchmark.h>

#include "anvil.h"

namespace {

using anvil::Tensor;

struct Conv {
  int64_t n, c, o, h, k, stride, pad;
  int64_t out() const { return (h + 2 * pad - k) / stride + 1; }
  double gflop() const { return 2e-9 * double(n * o * out() * out() * c * k * k); }
  anvil::Conv2dParams params() const {
    anvil::Conv2dParams p;
    p.stride = {stride, stride};
    p.pad_begin = p.pad_end = {pad, pad};
    return p;
  }
};

void set_gflops(benchmark::State& state, const Conv& c) {
  state.counters["GFLOP/s"] = benchmark::Counter(
      c.gflop() * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_conv2d_forward(benchmark::State& state, Conv c) {
  const Tensor x = anvil::rand({c.n, c.c, c.h, c.h}), w = anvil::rand({c.o, c.c, c.k, c.k});
  for (auto _ : state) {
    Tensor y = anvil::conv2d(x, w, {}, {.stride = c.stride, .padding = c.pad});
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_gflops(state, c);
}

void BM_conv2d_backward_input(benchmark::State& state, Conv c) {
  const Tensor g = anvil::rand({c.n, c.o, c.out(), c.out()}), w = anvil::rand({c.o, c.c, c.k, c.k});
  for (auto _ : state) {
    Tensor gi = anvil::ops::conv2d_backward_input(g, w, {c.n, c.c, c.h, c.h}, c.params());
    benchmark::DoNotOptimize(gi.raw_data());
  }
  set_gflops(state, c);
}

void BM_conv2d_backward_weight(benchmark::State& state, Conv c) {
  const Tensor g = anvil::rand({c.n, c.o, c.out(), c.out()}), x = anvil::rand({c.n, c.c, c.h, c.h});
  for (auto _ : state) {
    auto gw = anvil::ops::conv2d_backward_weight(g, x, {c.o, c.c, c.k, c.k}, c.params(), false);
    benchmark::DoNotOptimize(gw.first.raw_data());
  }
  set_gflops(state, c);
}

constexpr Conv k3x3{32, 64, 64, 32, 3, 1, 1};
constexpr Conv k1x1Reduce{32, 256, 64, 8, 1, 1, 0};
constexpr Conv k1x1Expand{32, 64, 256, 8, 1, 1, 0};
constexpr Conv k3x3Stride2{32, 128, 128, 16, 3, 2, 1};

#define ANVIL_CONV_BENCH(fn, name, conv) \
  BENCHMARK_CAPTURE(fn, name, conv)->Unit(benchmark::kMillisecond)->UseRealTime()

ANVIL_CONV_BENCH(BM_conv2d_forward, 3x3_64x64_32x32_b32, k3x3);
ANVIL_CONV_BENCH(BM_conv2d_backward_input, 3x3_64x64_32x32_b32, k3x3);
ANVIL_CONV_BENCH(BM_conv2d_backward_weight, 3x3_64x64_32x32_b32, k3x3);
ANVIL_CONV_BENCH(BM_conv2d_forward, 1x1_256to64_8x8_b32, k1x1Reduce);
ANVIL_CONV_BENCH(BM_conv2d_forward, 1x1_64to256_8x8_b32, k1x1Expand);
ANVIL_CONV_BENCH(BM_conv2d_forward, 3x3s2_128_16x16_b32, k3x3Stride2);

}  // namespace
