// Runner overhead: the same training steps through engine::Runner::train() (default hooks, the
// logger every 50 iterations, no checkpoints) and through a bare loop (DataLoader iteration +
// model.train_step), on a tiny model where the fixed cost per iteration shows (Linear(16, 2),
// batch 8) and on ResNet-18 at batch 32 (3x32x32). MMEngine's Runner adds 0.6-0.8 ms per
// iteration over a bare PyTorch loop.
//
// Each benchmark iteration runs both loops over the same in-memory data (alternating which goes
// first) and times the steady state: from the end of the warm-up iterations to the end of the
// last one, epoch boundaries included. The reported time is the Runner's per iteration; the
// counters are both loops' microseconds per iteration, the difference and the difference in
// percent.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>

#include "anvil.h"
#include "engine/hooks/logger_hook.h"
#include "engine/model/image_classifier.h"
#include "engine/runner/runner.h"

namespace anvil::engine {
namespace {

using Clock = std::chrono::steady_clock;

// Samples are rows of one tensor: no decoding, no transforms.
class InMemoryDataset final : public Dataset {
 public:
  InMemoryDataset(Tensor inputs, Tensor labels)
      : inputs_(std::move(inputs)), labels_(labels.to_vector<int64_t>()) {}
  int64_t size() const override { return inputs_.size(0); }
  Metainfo metainfo() const override { return {}; }
  void full_init() const override {}

 protected:
  Sample fetch(int64_t idx, const RandomKey&) const override {
    Sample sample;
    sample.inputs = inputs_.select(0, idx);
    sample.label = labels_[size_t(idx)];
    return sample;
  }

 private:
  Tensor inputs_;
  std::vector<int64_t> labels_;
};

struct Workload {
  std::function<std::shared_ptr<nn::Module>()> backbone;
  Shape sample_shape;
  int64_t batch_size, batches_per_epoch, epochs, warmup;
  int64_t timed() const { return epochs * batches_per_epoch - warmup; }
};

Workload workload(int64_t kind) {
  if (kind == 18) {
    return {[] { return nn::resnet18({.num_classes = 10}); }, {3, 32, 32}, 32, 12, 1, 2};
  }
  return {[] { return std::make_shared<nn::Linear>(16, 2); }, {16}, 8, 100, 20, 50};
}

// A fresh model, optimizer and loader for one run; both loops get identical ones.
struct Setup {
  std::shared_ptr<BaseModel> model;
  std::shared_ptr<OptimWrapper> wrapper;
  std::shared_ptr<DataLoader> loader;
};

Setup make_setup(const Workload& w) {
  manual_seed(0);
  Shape shape = w.sample_shape;
  shape.insert(shape.begin(), w.batch_size * w.batches_per_epoch);
  auto dataset = std::make_shared<InMemoryDataset>(randn(shape), randint(0, 2, {shape[0]}));
  Setup s;
  s.model = std::make_shared<ImageClassifier>(w.backbone(), ImageClassifierOptions{},
                                              std::make_shared<BaseDataPreprocessor>());
  if (cuda_device_count() > 0) s.model->to(Device::cuda(0));
  s.wrapper = std::make_shared<OptimWrapper>(std::make_unique<optim::SGD>(
      s.model->parameters(), optim::SGDOptions{.lr = 0.01, .momentum = 0.9}));
  s.loader = std::make_shared<DataLoader>(
      dataset, std::make_shared<DefaultSampler>(*dataset, DefaultSamplerOptions{.seed = 0}),
      DataLoaderOptions{.batch_size = w.batch_size});
  return s;
}

// Seconds per iteration after the warm-up.
double bare_loop(const Workload& w) {
  Setup s = make_setup(w);
  s.model->train();
  int64_t iter = 0;
  Clock::time_point start;
  for (int64_t epoch = 0; epoch < w.epochs; ++epoch) {
    s.loader->set_epoch(epoch);
    for (Batch& batch : *s.loader) {
      s.model->train_step(batch, *s.wrapper);
      if (++iter == w.warmup) start = Clock::now();
    }
  }
  return std::chrono::duration<double>(Clock::now() - start).count() / double(w.timed());
}

// Times the runner's loop from the end of the warm-up iterations to the end of the last one. Its
// LOWEST priority puts its after_train_iter after every other hook's.
class StopwatchHook final : public Hook {
 public:
  explicit StopwatchHook(int64_t warmup) : warmup_(warmup) {}
  std::string name() const override { return "StopwatchHook"; }
  int priority() const override { return static_cast<int>(Priority::LOWEST); }
  void after_train_iter(Runner& runner, int64_t, const Batch&, const Scalars&) override {
    if (runner.iter() + 1 == warmup_) start = Clock::now();
    end = Clock::now();
  }
  Clock::time_point start, end;

 private:
  int64_t warmup_;
};

// The runner's console lines go to /dev/null while it runs (they are still formatted and
// written); the benchmark's report stays on stdout.
class QuietStdout {
 public:
  QuietStdout() : saved_(dup(STDOUT_FILENO)) {
    std::cout.flush();
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    close(null);
  }
  ~QuietStdout() {
    std::cout.flush();
    dup2(saved_, STDOUT_FILENO);
    close(saved_);
  }

 private:
  int saved_;
};

double runner_loop(const Workload& w, const std::filesystem::path& work_dir) {
  Setup s = make_setup(w);
  auto stopwatch = std::make_shared<StopwatchHook>(w.warmup);
  {
    QuietStdout quiet;
    Runner runner({.model = s.model,
                   .work_dir = work_dir,
                   .train_dataloader = s.loader,
                   .optim_wrapper = s.wrapper,
                   .train_cfg = TrainLoopConfig{.max_epochs = w.epochs},
                   .default_hooks = {{"logger", std::make_shared<LoggerHook>(
                                                    LoggerHookOptions{.interval = 50})},
                                     {"checkpoint", nullptr}},
                   .custom_hooks = {stopwatch},
                   .randomness = {.seed = 0}});
    runner.train();
  }
  return std::chrono::duration<double>(stopwatch->end - stopwatch->start).count() /
         double(w.timed());
}

void BM_runner_overhead(benchmark::State& state) {
  const Workload w = workload(state.range(0));
  const auto work_dir = std::filesystem::temp_directory_path() / "anvil_bench_runner";
  double bare = 0, runner = 0;
  int64_t runs = 0;
  for (auto _ : state) {
    double b, r;
    if (runs % 2 == 0) {
      b = bare_loop(w);
      r = runner_loop(w, work_dir);
    } else {
      r = runner_loop(w, work_dir);
      b = bare_loop(w);
    }
    state.SetIterationTime(r);
    bare += b;
    runner += r;
    ++runs;
  }
  std::filesystem::remove_all(work_dir);
  bare /= double(runs);
  runner /= double(runs);
  state.counters["bare_us"] = bare * 1e6;
  state.counters["runner_us"] = runner * 1e6;
  state.counters["overhead_us"] = (runner - bare) * 1e6;
  state.counters["overhead_%"] = 100 * (runner - bare) / bare;
}
// Arg 0: Linear(16, 2), batch 8, 2000 iterations (50 warm-up); 18: ResNet-18, batch 32, 12
// iterations (2 warm-up). The medians of 5 repetitions are the numbers to read.
BENCHMARK(BM_runner_overhead)
    ->Arg(0)
    ->Iterations(10)
    ->Repetitions(5)
    ->ReportAggregatesOnly()
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_runner_overhead)
    ->Arg(18)
    ->Iterations(2)
    ->Repetitions(5)
    ->ReportAggregatesOnly()
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace anvil::engine
