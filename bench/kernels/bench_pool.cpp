// Pooling, upsampling and dropout on contiguous f32 NCHW: ResNet-50's stem max pool (3x3, stride
// 2, padding 1 on [32,64,112,112]) and head (global average pool of [32,2048,7,7]), forward and
// backward, plus bilinear upsampling and dropout. Bytes processed count every tensor read or
// written once (indices included), the memory-bound ceiling these kernels are measured against.
#include <benchmark/benchmark.h>

#include "anvil.h"

namespace {

using anvil::Tensor;

const std::vector<int64_t> kStemKernel = {3};
const anvil::MaxPool2dOptions kStem = {.stride = {2}, .padding = {1}};

Tensor stem_input() {
  return anvil::rand({32, 64, 112, 112});
}

// Inference: values only.
void BM_max_pool2d_stem(benchmark::State& state) {
  const Tensor x = stem_input();
  int64_t bytes = 0;
  for (auto _ : state) {
    Tensor y = anvil::ops::max_pool2d(x, kStemKernel, kStem);
    bytes = x.nbytes() + y.nbytes();
    benchmark::DoNotOptimize(y);
  }
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_max_pool2d_stem)->Unit(benchmark::kMillisecond)->UseRealTime();

// Training: values and the i64 indices backward needs.
void BM_max_pool2d_stem_indices(benchmark::State& state) {
  const Tensor x = stem_input();
  int64_t bytes = 0;
  for (auto _ : state) {
    auto [y, i] = anvil::ops::max_pool2d_with_indices(x, kStemKernel, kStem);
    bytes = x.nbytes() + y.nbytes() + i.nbytes();
    benchmark::DoNotOptimize(y);
  }
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_max_pool2d_stem_indices)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_max_pool2d_stem_backward(benchmark::State& state) {
  const Tensor x = stem_input();
  const Tensor indices = anvil::ops::max_pool2d_with_indices(x, kStemKernel, kStem).second;
  const Tensor g = anvil::rand(indices.shape());
  for (auto _ : state) {
    benchmark::DoNotOptimize(anvil::ops::max_pool2d_backward(g, indices, x.shape()));
  }
  state.SetBytesProcessed(state.iterations() * (g.nbytes() + indices.nbytes() + x.nbytes()));
}
BENCHMARK(BM_max_pool2d_stem_backward)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_adaptive_avg_pool2d_head(benchmark::State& state) {
  const Tensor x = anvil::rand({32, 2048, 7, 7});
  for (auto _ : state) benchmark::DoNotOptimize(anvil::ops::adaptive_avg_pool2d(x, {1}));
  state.SetBytesProcessed(state.iterations() * (x.nbytes() + 32 * 2048 * 4));
}
BENCHMARK(BM_adaptive_avg_pool2d_head)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_adaptive_avg_pool2d_head_backward(benchmark::State& state) {
  const anvil::Shape shape = {32, 2048, 7, 7};
  const Tensor g = anvil::rand({32, 2048, 1, 1});
  for (auto _ : state) {
    benchmark::DoNotOptimize(anvil::ops::adaptive_avg_pool2d_backward(g, shape));
  }
  state.SetBytesProcessed(state.iterations() * (g.nbytes() + anvil::numel_of(shape) * 4));
}
BENCHMARK(BM_adaptive_avg_pool2d_head_backward)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_avg_pool2d_3x3s2(benchmark::State& state) {
  const Tensor x = anvil::rand({32, 64, 56, 56});
  int64_t bytes = 0;
  for (auto _ : state) {
    Tensor y = anvil::ops::avg_pool2d(x, {3}, {.stride = {2}, .padding = {1}});
    bytes = x.nbytes() + y.nbytes();
    benchmark::DoNotOptimize(y);
  }
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_avg_pool2d_3x3s2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_upsample_bilinear2x(benchmark::State& state) {
  const Tensor x = anvil::rand({8, 64, 64, 64});
  const anvil::InterpolateOptions o = {.scale_factor = {2},
                                       .mode = anvil::InterpolateMode::bilinear};
  for (auto _ : state) benchmark::DoNotOptimize(anvil::ops::interpolate(x, o));
  state.SetBytesProcessed(state.iterations() * 5 * x.nbytes());
}
BENCHMARK(BM_upsample_bilinear2x)->Unit(benchmark::kMillisecond)->UseRealTime();

// Training dropout: output and bool mask.
void BM_dropout(benchmark::State& state) {
  const Tensor x = anvil::rand({int64_t{1} << 24});
  for (auto _ : state) benchmark::DoNotOptimize(anvil::ops::native_dropout(x, 0.1));
  state.SetBytesProcessed(state.iterations() * (2 * x.nbytes() + x.numel()));
}
BENCHMARK(BM_dropout)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
