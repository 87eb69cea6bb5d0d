// Shape and indexing ops on f32, the functional forms (output allocated per call), in ms.
#include <benchmark/benchmark.h>

#include "anvil.h"

namespace {

using anvil::Tensor;

constexpr int64_t kRows = 4096, kCols = 1024;

template <class F>
void run(benchmark::State& state, const F& op) {
  for (auto _ : state) benchmark::DoNotOptimize(op().raw_data());
}

void BM_gather(benchmark::State& state) {
  const Tensor x = anvil::rand({kRows, kCols});
  const Tensor index = anvil::randint(0, kCols, {kRows, kCols});
  run(state, [&] { return anvil::gather(x, 1, index); });
}

void BM_index_select_rows(benchmark::State& state) {
  const Tensor table = anvil::rand({50000, 512});
  const Tensor rows = anvil::randint(0, 50000, {8192});
  run(state, [&] { return anvil::index_select(table, 0, rows); });
}

void BM_scatter_add(benchmark::State& state) {
  const Tensor x = anvil::zeros({kRows, kCols});
  const Tensor src = anvil::rand({kRows, kCols});
  const Tensor index = anvil::randint(0, kCols, {kRows, kCols});
  run(state, [&] { return anvil::scatter_add(x, 1, index, src); });
}

void BM_masked_select(benchmark::State& state) {
  const Tensor x = anvil::rand({kRows, kCols});
  const Tensor mask = anvil::rand({kRows, kCols}).lt(anvil::full({}, 0.5));
  run(state, [&] { return anvil::masked_select(x, mask); });
}

void BM_cat_dim1(benchmark::State& state) {
  const Tensor x = anvil::rand({kRows, kCols});
  run(state, [&] { return anvil::cat({x, x}, 1); });
}

void BM_sort_rows(benchmark::State& state) {
  const Tensor x = anvil::rand({1024, 4096});
  run(state, [&] { return anvil::sort(x).first; });
}

void BM_topk10_rows(benchmark::State& state) {
  const Tensor x = anvil::rand({1024, 4096});
  run(state, [&] { return anvil::topk(x, 10).first; });
}

void BM_flip_last_dim(benchmark::State& state) {
  const Tensor x = anvil::rand({kRows, kCols});
  run(state, [&] { return anvil::flip(x, {-1}); });
}

BENCHMARK(BM_gather)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_index_select_rows)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_scatter_add)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_masked_select)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_cat_dim1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_sort_rows)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_topk10_rows)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_flip_last_dim)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
