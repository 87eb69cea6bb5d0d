// Conv-BN eval fusion (nn/fusion.h), eval forward without autograd: one Conv2d 64->64 3x3 +
// BatchNorm2d on [32, 64, 32, 32], and ResNet-50 on a batch of 32 32x32 images; argument 0 runs
// conv then BN, 1 the folded convolution. On a shared machine compare CPU times with
// OMP_NUM_THREADS=1 and --benchmark_enable_random_interleaving=true --benchmark_repetitions=N.
#include <benchmark/benchmark.h>

#include "anvil.h"

namespace {

using anvil::Tensor;

void run_eval(benchmark::State& state, const std::shared_ptr<anvil::nn::Module>& model,
              const Tensor& x) {
  model->eval();
  if (state.range(0) == 1) anvil::nn::turn_on_efficient_conv_bn_eval(*model, {""});
  anvil::NoGradGuard no_grad;
  model->forward(x);  // steady state: the fold and the convolutions' weight copies are made
  for (auto _ : state) benchmark::DoNotOptimize(model->forward(x));
}

void BM_conv_bn_eval(benchmark::State& state) {
  auto model = std::make_shared<anvil::nn::Sequential>(std::vector<anvil::nn::ModulePtr>{
      std::make_shared<anvil::nn::Conv2d>(64, 64, 3,
                                          anvil::nn::Conv2dOptions{.padding = 1, .bias = false}),
      std::make_shared<anvil::nn::BatchNorm2d>(64)});
  run_eval(state, model, anvil::randn({32, 64, 32, 32}));
}
BENCHMARK(BM_conv_bn_eval)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_resnet50_eval(benchmark::State& state) {
  run_eval(state, anvil::nn::resnet50(), anvil::randn({32, 3, 32, 32}));
}
BENCHMARK(BM_resnet50_eval)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
