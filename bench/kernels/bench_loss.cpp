// Losses on f32: cross_entropy forward + backward (the fused kernels, through autograd, as a
// training step runs them) on classifier-sized logits, and the elementwise losses' kernels next
// to the same loss composed from public ops. Bytes count the logits read by forward and by
// backward and the gradient written (12 bytes per logit).
#include <benchmark/benchmark.h>

#include "anvil.h"

namespace {

using anvil::Reduction;
using anvil::Tensor;

// One training step's loss: forward, backward into a fresh .grad (as torch with x.grad = None).
void BM_cross_entropy_fwd_bwd(benchmark::State& state) {
  const int64_t n = state.range(0), c = state.range(1);
  Tensor x = anvil::randn({n, c}).requires_grad_();
  const Tensor t = anvil::randint(0, c, {n});
  for (auto _ : state) {
    x.set_grad(Tensor());
    anvil::cross_entropy(x, t).backward();
  }
  state.SetBytesProcessed(state.iterations() * 12 * n * c);
}
BENCHMARK(BM_cross_entropy_fwd_bwd)
    ->Args({256, 1000})
    ->Args({4096, 10})
    ->Args({4096, 32000})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// The same step with label smoothing and class weights (the smoothing term adds a dot product
// per row).
void BM_cross_entropy_smoothing_fwd_bwd(benchmark::State& state) {
  const int64_t n = state.range(0), c = state.range(1);
  Tensor x = anvil::randn({n, c}).requires_grad_();
  const Tensor t = anvil::randint(0, c, {n});
  const Tensor w = anvil::rand({c});
  for (auto _ : state) {
    x.set_grad(Tensor());
    anvil::cross_entropy(x, t, {.weight = w, .label_smoothing = 0.1}).backward();
  }
  state.SetBytesProcessed(state.iterations() * 12 * n * c);
}
BENCHMARK(BM_cross_entropy_smoothing_fwd_bwd)
    ->Args({256, 1000})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Forward alone (inference-style evaluation of the loss).
void BM_cross_entropy_fwd(benchmark::State& state) {
  const int64_t n = state.range(0), c = state.range(1);
  const Tensor x = anvil::randn({n, c});
  const Tensor t = anvil::randint(0, c, {n});
  for (auto _ : state) benchmark::DoNotOptimize(anvil::cross_entropy(x, t));
  state.SetBytesProcessed(state.iterations() * 4 * n * c);
}
BENCHMARK(BM_cross_entropy_fwd)
    ->Args({256, 1000})
    ->Args({4096, 10})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// mse_loss forward + backward of both operands: the fused kernels, and the same loss composed
// from public ops ((a - b)^2 then mean), which makes and reads back two temporaries each way.
constexpr int64_t kElems = int64_t{1} << 22;

template <class F>
void elementwise_step(benchmark::State& state, const F& loss) {
  Tensor a = anvil::randn({kElems}).requires_grad_();
  Tensor b = anvil::randn({kElems}).requires_grad_();
  for (auto _ : state) {
    a.set_grad(Tensor());
    b.set_grad(Tensor());
    loss(a, b).backward();
  }
  // Forward reads a and b; backward reads them and writes both gradients.
  state.SetBytesProcessed(state.iterations() * 6 * 4 * kElems);
}
void BM_mse_loss_fwd_bwd(benchmark::State& state) {
  elementwise_step(state, [](const Tensor& a, const Tensor& b) { return anvil::mse_loss(a, b); });
}
void BM_mse_composed_fwd_bwd(benchmark::State& state) {
  elementwise_step(state,
                   [](const Tensor& a, const Tensor& b) { return anvil::square(a - b).mean(); });
}
void BM_bce_with_logits_fwd_bwd(benchmark::State& state) {
  elementwise_step(state, [](const Tensor& a, const Tensor& b) {
    return anvil::binary_cross_entropy_with_logits(a, b.sigmoid());
  });
}
void BM_smooth_l1_loss_fwd_bwd(benchmark::State& state) {
  elementwise_step(state,
                   [](const Tensor& a, const Tensor& b) { return anvil::smooth_l1_loss(a, b); });
}
BENCHMARK(BM_mse_loss_fwd_bwd)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_mse_composed_fwd_bwd)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_bce_with_logits_fwd_bwd)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_smooth_l1_loss_fwd_bwd)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
