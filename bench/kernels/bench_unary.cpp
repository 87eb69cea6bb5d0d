// Elementwise unary ops on 16M f32 elements through the functional op (output allocation
// included, as torch.nn.functional.gelu(x)), and in place (the kernel alone: no fresh output
// pages to fault in). Bytes: one read and one write per element.
#include <benchmark/benchmark.h>

#include "anvil.h"

namespace {

template <class F>
void run_unary(benchmark::State& state, const F& f) {
  const int64_t n = state.range(0);
  const anvil::Tensor x = anvil::randn({n});
  for (auto _ : state) {
    anvil::Tensor y = f(x);
    benchmark::DoNotOptimize(y.raw_data());
  }
  state.SetBytesProcessed(state.iterations() * n * int64_t(2 * sizeof(float)));
}

template <class F>
void run_inplace(benchmark::State& state, const F& f) {
  const int64_t n = state.range(0);
  anvil::Tensor x = anvil::randn({n});
  for (auto _ : state) {
    f(x);
    benchmark::DoNotOptimize(x.raw_data());
  }
  state.SetBytesProcessed(state.iterations() * n * int64_t(2 * sizeof(float)));
}

void BM_gelu(benchmark::State& state) {
  run_unary(state, [](const anvil::Tensor& x) { return anvil::gelu(x); });
}
void BM_gelu_tanh(benchmark::State& state) {
  run_unary(state, [](const anvil::Tensor& x) { return anvil::gelu(x, anvil::GeluApprox::tanh); });
}
void BM_exp(benchmark::State& state) {
  run_unary(state, [](const anvil::Tensor& x) { return anvil::exp(x); });
}
void BM_relu(benchmark::State& state) {
  run_unary(state, [](const anvil::Tensor& x) { return anvil::relu(x); });
}
void BM_sigmoid(benchmark::State& state) {
  run_unary(state, [](const anvil::Tensor& x) { return anvil::sigmoid(x); });
}

void BM_gelu_inplace(benchmark::State& state) {
  run_inplace(state, [](anvil::Tensor& x) { anvil::gelu_(x); });
}
void BM_exp_inplace(benchmark::State& state) {
  run_inplace(state, [](anvil::Tensor& x) { anvil::exp_(x); });
}
void BM_relu_inplace(benchmark::State& state) {
  run_inplace(state, [](anvil::Tensor& x) { anvil::relu_(x); });
}
void BM_sigmoid_inplace(benchmark::State& state) {
  run_inplace(state, [](anvil::Tensor& x) { anvil::sigmoid_(x); });
}

}  // namespace

BENCHMARK(BM_gelu)->Arg(1 << 24)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_gelu_tanh)->Arg(1 << 24)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_exp)->Arg(1 << 24)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_relu)->Arg(1 << 24)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sigmoid)->Arg(1 << 24)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_gelu_inplace)->Arg(1 << 24)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_exp_inplace)->Arg(1 << 24)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_relu_inplace)->Arg(1 << 24)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sigmoid_inplace)->Arg(1 << 24)->UseRealTime()->Unit(benchmark::kMillisecond);
