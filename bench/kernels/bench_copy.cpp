// Copies: a transposed copy (the layout change behind contiguous() of a transposed view), a
// contiguous clone and a dtype conversion, in GB/s counting bytes read plus written.
#include <benchmark/benchmark.h>

#include "anvil.h"

namespace {

void BM_copy_transposed(benchmark::State& state) {
  const int64_t n = state.range(0);
  const anvil::Tensor a = anvil::rand({n, n});
  for (auto _ : state) {
    anvil::Tensor b = a.t().contiguous();
    benchmark::DoNotOptimize(b.raw_data());
  }
  state.SetBytesProcessed(state.iterations() * 2 * n * n * 4);
}
BENCHMARK(BM_copy_transposed)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_clone(benchmark::State& state) {
  const anvil::Tensor a = anvil::rand({state.range(0)});
  for (auto _ : state) {
    anvil::Tensor b = a.clone();
    benchmark::DoNotOptimize(b.raw_data());
  }
  state.SetBytesProcessed(state.iterations() * 2 * state.range(0) * 4);
}
BENCHMARK(BM_clone)->Arg(1 << 24)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_to_f16(benchmark::State& state) {
  const anvil::Tensor a = anvil::rand({state.range(0)});
  for (auto _ : state) {
    anvil::Tensor b = a.to(anvil::DType::f16);
    benchmark::DoNotOptimize(b.raw_data());
  }
  state.SetBytesProcessed(state.iterations() * 6 * state.range(0));
}
BENCHMARK(BM_to_f16)->Arg(1 << 24)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
