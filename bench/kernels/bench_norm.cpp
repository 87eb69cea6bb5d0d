// Norm kernels on f32: batch norm training forward (with the running-statistics update) and its
// backward on ResNet-sized activations [32, C, 56, 56] (NCHW, C = 64 and 256), and layer norm
// forward and backward on [4096, 1024]. Bytes processed count each tensor read or written once
// (forward: x and y; backward: grad_out, x and grad_input).
#include <benchmark/benchmark.h>

#include "anvil.h"

namespace {

using anvil::Tensor;

Tensor activations(int64_t channels) {
  return anvil::randn({32, channels, 56, 56});
}

void BM_batch_norm_train_forward(benchmark::State& state) {
  const int64_t c = state.range(0);
  const Tensor x = activations(c);
  const Tensor w = anvil::rand({c}), b = anvil::rand({c});
  Tensor rm = anvil::zeros({c}), rv = anvil::ones({c});
  for (auto _ : state) {
    benchmark::DoNotOptimize(anvil::ops::batch_norm(x, rm, rv, w, b, {.training = true}));
  }
  state.SetBytesProcessed(state.iterations() * 2 * x.nbytes());
}
BENCHMARK(BM_batch_norm_train_forward)
    ->Arg(64)
    ->Arg(256)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The same on channels-last activations (memory order N, H, W, C).
void BM_batch_norm_train_forward_channels_last(benchmark::State& state) {
  const int64_t c = state.range(0);
  const Tensor x = activations(c).movedim(1, -1).contiguous().movedim(-1, 1);
  const Tensor w = anvil::rand({c}), b = anvil::rand({c});
  Tensor rm = anvil::zeros({c}), rv = anvil::ones({c});
  for (auto _ : state) {
    benchmark::DoNotOptimize(anvil::ops::batch_norm(x, rm, rv, w, b, {.training = true}));
  }
  state.SetBytesProcessed(state.iterations() * 2 * x.nbytes());
}
BENCHMARK(BM_batch_norm_train_forward_channels_last)
    ->Arg(64)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_batch_norm_backward(benchmark::State& state) {
  const int64_t c = state.range(0);
  const Tensor x = activations(c), g = activations(c);
  const Tensor w = anvil::rand({c}), b = anvil::rand({c});
  const auto [y, mean, invstd] =
      anvil::ops::batch_norm_forward(x, std::nullopt, std::nullopt, w, b, {.training = true});
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        anvil::ops::batch_norm_backward(g, x, w, mean, invstd, true, {true, true, true}));
  }
  state.SetBytesProcessed(state.iterations() * 3 * x.nbytes());
}
BENCHMARK(BM_batch_norm_backward)->Arg(64)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

// The whole training step of one batch norm through autograd: forward, then backward into
// the input, weight and bias gradients.
void BM_batch_norm_train_step(benchmark::State& state) {
  const int64_t c = state.range(0);
  Tensor x = activations(c).requires_grad_();
  Tensor w = anvil::rand({c}).requires_grad_(), b = anvil::rand({c}).requires_grad_();
  Tensor rm = anvil::zeros({c}), rv = anvil::ones({c});
  const Tensor g = activations(c);
  for (auto _ : state) {
    x.set_grad(Tensor());
    w.set_grad(Tensor());
    b.set_grad(Tensor());
    anvil::batch_norm(x, rm, rv, w, b, {.training = true}).backward(g);
  }
  state.SetBytesProcessed(state.iterations() * 5 * x.nbytes());
}
BENCHMARK(BM_batch_norm_train_step)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

// The memory ceiling for comparison: a plain copy of the same activations (read + write).
void BM_copy_ceiling(benchmark::State& state) {
  const Tensor x = activations(state.range(0));
  Tensor y = anvil::empty(x.shape());
  for (auto _ : state) y.copy_(x);
  state.SetBytesProcessed(state.iterations() * 2 * x.nbytes());
}
BENCHMARK(BM_copy_ceiling)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

constexpr int64_t kRows = 4096, kCols = 1024;

void BM_layer_norm_forward(benchmark::State& state) {
  const Tensor x = anvil::randn({kRows, kCols});
  const Tensor w = anvil::rand({kCols}), b = anvil::rand({kCols});
  for (auto _ : state) benchmark::DoNotOptimize(anvil::ops::layer_norm(x, {kCols}, w, b));
  state.SetBytesProcessed(state.iterations() * 2 * x.nbytes());
}
BENCHMARK(BM_layer_norm_forward)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_layer_norm_backward(benchmark::State& state) {
  const Tensor x = anvil::randn({kRows, kCols}), g = anvil::randn({kRows, kCols});
  const Tensor w = anvil::rand({kCols}), b = anvil::rand({kCols});
  const auto [y, mean, rstd] = anvil::ops::layer_norm_forward(x, {kCols}, w, b, 1e-5);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        anvil::ops::layer_norm_backward(g, x, {kCols}, mean, rstd, w, {true, true, true}));
  }
  state.SetBytesProcessed(state.iterations() * 3 * x.nbytes());
}
BENCHMARK(BM_layer_norm_backward)->Unit(benchmark::kMillisecond)->UseRealTime();

// Forward then backward, the kernels alone (as torch's native_layer_norm and its backward).
void BM_layer_norm_forward_backward(benchmark::State& state) {
  const Tensor x = anvil::randn({kRows, kCols}), g = anvil::randn({kRows, kCols});
  const Tensor w = anvil::rand({kCols}), b = anvil::rand({kCols});
  for (auto _ : state) {
    const auto [y, mean, rstd] = anvil::ops::layer_norm_forward(x, {kCols}, w, b, 1e-5);
    benchmark::DoNotOptimize(
        anvil::ops::layer_norm_backward(g, x, {kCols}, mean, rstd, w, {true, true, true}));
  }
  state.SetBytesProcessed(state.iterations() * 5 * x.nbytes());
}
BENCHMARK(BM_layer_norm_forward_backward)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
