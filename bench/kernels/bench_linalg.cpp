// GEMM speed: anvil's mm in functional form (the output allocated per call, as torch.mm), in
// GFLOP/s, to hold against the machine's FLOP ceiling and torch.mm; and the latency of a tiny
// linear layer, where call overhead dominates. Threads: ANVIL_NUM_THREADS.
#include <benchmark/benchmark.h>

#include "anvil.h"

namespace {

using anvil::Tensor;

void set_gflops(benchmark::State& state, int64_t m, int64_t n, int64_t k) {
  state.counters["GFLOP/s"] = benchmark::Counter(
      2e-9 * static_cast<double>(m * n * k) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}

void BM_sgemm(benchmark::State& state) {
  const int64_t n = state.range(0);
  const Tensor a = anvil::rand({n, n}), b = anvil::rand({n, n});
  for (auto _ : state) {
    Tensor c = anvil::mm(a, b);
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_gflops(state, n, n, n);
}
BENCHMARK(BM_sgemm)
    ->Arg(256)
    ->Arg(512)
    ->Arg(1024)
    ->Arg(2048)
    ->Arg(4096)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// a @ b.t(): the transposed operand goes to the BLAS as transposed, without a copy.
void BM_sgemm_transposed_b(benchmark::State& state) {
  const int64_t n = state.range(0);
  const Tensor a = anvil::rand({n, n}), b = anvil::rand({n, n});
  for (auto _ : state) {
    Tensor c = anvil::mm(a, b.t());
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_gflops(state, n, n, n);
}
BENCHMARK(BM_sgemm_transposed_b)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();

// A 16x16 linear layer with bias on 16 rows: the size of the autograd benchmark's layers.
void BM_linear_small(benchmark::State& state) {
  const Tensor x = anvil::rand({16, 16}), w = anvil::rand({16, 16}), bias = anvil::rand({16});
  for (auto _ : state) {
    Tensor y = anvil::linear(x, w, bias);
    benchmark::DoNotOptimize(y.raw_data());
  }
}
BENCHMARK(BM_linear_small)->Unit(benchmark::kNanosecond);

}  // namespace
