// End-to-end ResNet throughput on CIFAR-sized images (3x32x32, 10 classes): one training step
// (forward, cross-entropy, backward, SGD with momentum), the same step with its forward under
// bf16 autocast (as AmpOptimWrapper runs it on the CPU), and an eval forward, in images/s.
// bench/compare/workloads_e2e.py runs the plain steps in PyTorch.
#include <benchmark/benchmark.h>

#include "anvil.h"

namespace anvil {
namespace {

std::shared_ptr<nn::ResNet> make(int depth) {
  return depth == 18 ? nn::resnet18({.num_classes = 10}) : nn::resnet50({.num_classes = 10});
}

void train_steps(benchmark::State& state, bool autocast) {
  const int depth = static_cast<int>(state.range(0));
  const int64_t batch = state.range(1);
  manual_seed(0);
  auto model = make(depth);
  optim::SGD sgd(model->parameters(), {.lr = 0.01, .momentum = 0.9});
  const Tensor x = randn({batch, 3, 32, 32});
  const Tensor y = randint(0, 10, {batch});
  for (auto _ : state) {
    sgd.zero_grad();
    Tensor loss;
    {
      const AutocastGuard guard(DeviceType::cpu, DType::bf16, autocast);
      loss = cross_entropy(model->forward(x), y);
    }
    loss.backward();
    sgd.step();
  }
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_resnet_train_step(benchmark::State& state) {
  train_steps(state, /*autocast=*/false);
}
BENCHMARK(BM_resnet_train_step)
    ->ArgsProduct({{18, 50}, {32, 128}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_resnet_train_step_autocast_bf16(benchmark::State& state) {
  train_steps(state, /*autocast=*/true);
}
BENCHMARK(BM_resnet_train_step_autocast_bf16)
    ->ArgsProduct({{18, 50}, {32, 128}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_resnet_eval(benchmark::State& state) {
  const int depth = static_cast<int>(state.range(0));
  const int64_t batch = state.range(1);
  manual_seed(0);
  auto model = make(depth);
  model->eval();
  const Tensor x = randn({batch, 3, 32, 32});
  NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(model->forward(x).raw_data());
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_resnet_eval)
    ->ArgsProduct({{18, 50}, {32, 128}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace anvil
