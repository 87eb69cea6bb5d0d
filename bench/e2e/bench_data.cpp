// Data loading on CIFAR-10-shaped data: passes over 10,000 images read from generated CIFAR
// binary files, through RandomCrop(32, padding 4) + RandomFlip + Normalize, collated into batches
// of 128, with 0, 1 and 2 worker threads. BM_cifar_loading: images/s of loading alone.
// BM_cifar_step_wait: a consumer that sleeps `step_ms` per batch (a stand-in for a training step
// that leaves the CPU free, as a GPU step does) and the time it then waits for each batch, which
// prefetching workers hide.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/data/data.h"

namespace anvil::engine {
namespace {

namespace fs = std::filesystem;

// Five data_batch files of 2,000 records each, made once per process and removed at exit.
struct CifarFiles {
  CifarFiles() {
    std::string tmpl = (fs::temp_directory_path() / "anvil_bench_data_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
    uint32_t state = 1;
    for (int b = 1; b <= 5; ++b) {
      std::ofstream out(fs::path(dir) / ("data_batch_" + std::to_string(b) + ".bin"),
                        std::ios::binary);
      std::vector<char> record(3073);
      for (int r = 0; r < 2000; ++r) {
        for (char& c : record) c = char((state = state * 1664525u + 1013904223u) >> 24);
        record[0] = char(r % 10);
        out.write(record.data(), std::streamsize(record.size()));
      }
    }
  }
  ~CifarFiles() { fs::remove_all(dir); }
  std::string dir;
};

const std::string& cifar_dir() {
  static const CifarFiles files;
  return files.dir;
}

std::shared_ptr<Dataset> augmented_cifar() {
  return std::make_shared<Cifar10Dataset>(DatasetOptions{
      .data_root = cifar_dir(),
      .pipeline = {std::make_shared<RandomCrop>(RandomCropOptions{.size = {32}, .padding = {4}}),
                   std::make_shared<RandomFlip>(),
                   std::make_shared<Normalize>(NormalizeOptions{
                       .mean = {125.307, 122.961, 113.8575}, .std = {51.5865, 50.847, 51.255}})}});
}

void BM_cifar_loading(benchmark::State& state) {
  auto dataset = augmented_cifar();
  DataLoader loader(dataset,
                    std::make_shared<DefaultSampler>(*dataset, DefaultSamplerOptions{.seed = 0}),
                    {.batch_size = 128, .num_workers = state.range(0)});
  int64_t epoch = 0;
  for (auto _ : state) {
    loader.set_epoch(epoch++);
    for (Batch& batch : loader) benchmark::DoNotOptimize(batch.inputs.raw_data());
  }
  state.counters["images/s"] =
      benchmark::Counter(double(dataset->size()), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_cifar_loading)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_cifar_step_wait(benchmark::State& state) {
  auto dataset = augmented_cifar();
  DataLoader loader(dataset,
                    std::make_shared<DefaultSampler>(*dataset, DefaultSamplerOptions{.seed = 0}),
                    {.batch_size = 128, .num_workers = state.range(0)});
  const auto step = std::chrono::microseconds(state.range(1) * 1000);
  using Clock = std::chrono::steady_clock;
  double waited = 0;
  int64_t batches = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    for (auto it = loader.begin(); it != loader.end();) {
      waited += std::chrono::duration<double>(Clock::now() - t0).count();
      ++batches;
      benchmark::DoNotOptimize(it->inputs.raw_data());
      std::this_thread::sleep_for(step);
      t0 = Clock::now();
      ++it;
    }
  }
  state.counters["wait_ms/batch"] = 1000 * waited / double(batches);
}
BENCHMARK(BM_cifar_step_wait)
    ->ArgsProduct({{0, 1, 2}, {2}})
    ->ArgNames({"workers", "step_ms"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace anvil::engine
