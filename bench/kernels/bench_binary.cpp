// Elementwise binary ops on the CPU: bandwidth of large f32 add/mul (bytes of 3 arrays: two
// inputs and the output), and the fixed cost of one op on a 1-element tensor.
#include <benchmark/benchmark.h>

#include "anvil.h"

namespace {

using anvil::Tensor;

void set_bytes(benchmark::State& state, int64_t arrays) {
  state.SetBytesProcessed(state.iterations() * arrays * state.range(0) * int64_t(sizeof(float)));
}

// The output is allocated per call, as PyTorch's a + b does.
void BM_add(benchmark::State& state) {
  const Tensor a = anvil::rand({state.range(0)}), b = anvil::rand({state.range(0)});
  for (auto _ : state) {
    Tensor c = anvil::add(a, b);
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_bytes(state, 3);
}
BENCHMARK(BM_add)->Arg(1 << 24)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_mul(benchmark::State& state) {
  const Tensor a = anvil::rand({state.range(0)}), b = anvil::rand({state.range(0)});
  for (auto _ : state) {
    Tensor c = anvil::mul(a, b);
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_bytes(state, 3);
}
BENCHMARK(BM_mul)->Arg(1 << 24)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_add_inplace(benchmark::State& state) {
  Tensor a = anvil::rand({state.range(0)});
  const Tensor b = anvil::rand({state.range(0)});
  for (auto _ : state) {
    a.add_(b);
    benchmark::DoNotOptimize(a.raw_data());
  }
  set_bytes(state, 3);
}
BENCHMARK(BM_add_inplace)->Arg(1 << 24)->UseRealTime()->Unit(benchmark::kMillisecond);

// The memory-bandwidth yardstick: a same-dtype contiguous copy into a fresh tensor (2 arrays).
void BM_clone(benchmark::State& state) {
  const Tensor a = anvil::rand({state.range(0)});
  for (auto _ : state) {
    Tensor c = a.clone();
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_bytes(state, 2);
}
BENCHMARK(BM_clone)->Arg(1 << 24)->UseRealTime()->Unit(benchmark::kMillisecond);

// Per-op overhead: argument checks, promotion, output allocation, kernel dispatch.
void BM_add_scalar_overhead(benchmark::State& state) {
  const Tensor a = anvil::rand({state.range(0)}), b = anvil::rand({state.range(0)});
  for (auto _ : state) {
    Tensor c = anvil::add(a, b);
    benchmark::DoNotOptimize(c.raw_data());
  }
}
BENCHMARK(BM_add_scalar_overhead)->Arg(1);

// The same with a Scalar operand (made a 0-d tensor by the front-end).
void BM_add_scalar_operand_overhead(benchmark::State& state) {
  const Tensor a = anvil::rand({state.range(0)});
  for (auto _ : state) {
    Tensor c = anvil::add(a, 2.0);
    benchmark::DoNotOptimize(c.raw_data());
  }
}
BENCHMARK(BM_add_scalar_operand_overhead)->Arg(1);

}  // namespace
