// The cost of autograd itself: recording and replaying tiny ops, where the kernels cost nearly
// nothing. bench/compare/compare.py runs the same loops in PyTorch.
#include <benchmark/benchmark.h>

#include "anvil.h"

namespace anvil {
namespace {

// A 1-element add, forward and backward: one node recorded, replayed, two leaves accumulated.
void BM_add_backward_1elem(benchmark::State& state) {
  Tensor a = rand({1}).requires_grad_();
  Tensor b = rand({1}).requires_grad_();
  for (auto _ : state) {
    (a + b).backward();
  }
  benchmark::DoNotOptimize(a.grad().raw_data());
}
BENCHMARK(BM_add_backward_1elem);

// One training-step skeleton on a 16 -> 16 linear layer (batch 16): zero the gradients, forward,
// sum, backward.
void BM_linear16_step(benchmark::State& state) {
  Tensor x = rand({16, 16});
  Tensor w = rand({16, 16}).requires_grad_();
  Tensor bias = rand({16}).requires_grad_();
  for (auto _ : state) {
    for (Tensor* p : {&w, &bias}) {
      if (p->grad().defined()) p->mutable_grad().zero_();
    }
    linear(x, w, bias).sum().backward();
  }
  benchmark::DoNotOptimize(w.grad().raw_data());
}
BENCHMARK(BM_linear16_step);

// Recording alone (no backward): a chain of 16 tiny adds on a tensor that requires grad.
void BM_record_add_chain16(benchmark::State& state) {
  Tensor a = rand({1}).requires_grad_();
  for (auto _ : state) {
    Tensor y = a;
    for (int i = 0; i < 16; ++i) y = y + a;
    benchmark::DoNotOptimize(y.raw_data());
  }
  state.SetItemsProcessed(state.iterations() * 16);
}
BENCHMARK(BM_record_add_chain16);

}  // namespace
}  // namespace anvil
