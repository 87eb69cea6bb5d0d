// scaled_dot_product_attention on f32 [B=8, H=8, L=S=256, E=64]: the forward alone (the raw op)
// and forward + backward through autograd (gradients of query, key and value), without and with
// the causal mask (arg 1). Times only: the causal rows do about half the work.
#include <benchmark/benchmark.h>

#include "anvil.h"

namespace {

using anvil::Tensor;

constexpr int64_t kB = 8, kH = 8, kL = 256, kE = 64;

Tensor input() {
  return anvil::randn({kB, kH, kL, kE});
}

void BM_sdpa_forward(benchmark::State& state) {
  const bool causal = state.range(0) != 0;
  const Tensor q = input(), k = input(), v = input();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        anvil::ops::scaled_dot_product_attention(q, k, v, std::nullopt, 0, causal));
  }
}
BENCHMARK(BM_sdpa_forward)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_sdpa_forward_backward(benchmark::State& state) {
  const bool causal = state.range(0) != 0;
  Tensor q = input().requires_grad_(), k = input().requires_grad_(), v = input().requires_grad_();
  const Tensor g = input();
  for (auto _ : state) {
    for (Tensor* t : {&q, &k, &v}) t->set_grad(Tensor());
    anvil::scaled_dot_product_attention(q, k, v, std::nullopt, 0, causal).backward(g);
  }
}
BENCHMARK(BM_sdpa_forward_backward)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
