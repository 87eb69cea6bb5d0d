// Reductions and softmax on contiguous f32: full sum, row and column sums, softmax and
// log_softmax. Bytes processed count every byte read and written once.
#include <benchmark/benchmark.h>

#include "anvil.h"

namespace {

using anvil::Tensor;

constexpr int64_t kRows = 4096, kCols = 4096;

void BM_sum_all(benchmark::State& state) {
  const Tensor x = anvil::rand({int64_t{1} << 24});
  for (auto _ : state) benchmark::DoNotOptimize(anvil::sum(x));
  state.SetBytesProcessed(state.iterations() * x.nbytes());
}
BENCHMARK(BM_sum_all)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_sum_rows(benchmark::State& state) {
  const Tensor x = anvil::rand({kRows, kCols});
  for (auto _ : state) benchmark::DoNotOptimize(anvil::sum(x, {-1}));
  state.SetBytesProcessed(state.iterations() * (x.nbytes() + kRows * 4));
}
BENCHMARK(BM_sum_rows)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_sum_cols(benchmark::State& state) {
  const Tensor x = anvil::rand({kRows, kCols});
  for (auto _ : state) benchmark::DoNotOptimize(anvil::sum(x, {0}));
  state.SetBytesProcessed(state.iterations() * (x.nbytes() + kCols * 4));
}
BENCHMARK(BM_sum_cols)->Unit(benchmark::kMillisecond)->UseRealTime();

// Softmax over rows or columns of [4096, 4096], the functional op (output allocated per call, as
// torch.softmax does; the CPU allocator's cache makes that cheap after the first call).
void softmax_bench(benchmark::State& state, int64_t dim, bool log) {
  const Tensor x = anvil::randn({kRows, kCols});
  for (auto _ : state) {
    benchmark::DoNotOptimize(log ? anvil::log_softmax(x, dim) : anvil::softmax(x, dim));
  }
  state.SetBytesProcessed(state.iterations() * 2 * x.nbytes());
}
void BM_softmax_rows(benchmark::State& state) { softmax_bench(state, 1, false); }
void BM_log_softmax_rows(benchmark::State& state) { softmax_bench(state, 1, true); }
void BM_softmax_cols(benchmark::State& state) { softmax_bench(state, 0, false); }
BENCHMARK(BM_softmax_rows)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_log_softmax_rows)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_softmax_cols)->Unit(benchmark::kMillisecond)->UseRealTime();

// The memory ceiling for comparison: a plain copy of the same matrix (read + write).
void BM_copy_ceiling(benchmark::State& state) {
  const Tensor x = anvil::randn({kRows, kCols});
  Tensor y = anvil::empty({kRows, kCols});
  for (auto _ : state) y.copy_(x);
  state.SetBytesProcessed(state.iterations() * 2 * x.nbytes());
}
BENCHMARK(BM_copy_ceiling)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
