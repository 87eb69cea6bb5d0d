// Runner overhead: the same training steps through engine::Runner::train() (default hooks, the
// logger every 50 iterations, no checkpoints) and through a bare loop (DataLoader iteration +
// model.train_step), on a tiny model where the fixed cost per iteration shows (Linear(16, 2),
// batch 8) and on ResNet-18 at batch 32 (3x32x32). MMEngine's Runner adds 0.6-0.8 ms per
// iteration over a bare PyTorch loop.
//
// Each benchmark iteration runs both loops over the same in-memory data (alternating which goes
// first); the model stamps when each train_step starts and ends. Counters, per iteration after
// the warm-up:
//   bare_us, runner_us, overhead_us, overhead_%  the mean period from one step's start to the
//       next (everything included), and the difference;
//   bare_gap_us, runner_gap_us, overhead_gap_us  the median time between one step's end and the
//       next one's start: loading the batch, plus the hooks for the Runner. Everything the
//       Runner adds happens in these gaps; the median leaves out what it adds only now and then
//       (a log line every 50 iterations, the epoch ends), which the means include. A gap is
//       short, so load from other processes (which makes whole ResNet-18 steps vary by far more
//       than 1% on a shared machine) rarely falls into it.
// The reported time is runner_us. Read the medians over the repetitions.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
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
};

Workload workload(int64_t kind) {
  if (kind == 18) {
    return {[] { return nn::resnet18({.num_classes = 10}); }, {3, 32, 32}, 32, 12, 1, 2};
  }
  return {[] { return std::make_shared<nn::Linear>(16, 2); }, {16}, 8, 100, 20, 50};
}

// An ImageClassifier that stamps the start and end of every train_step.
class StampedClassifier final : public ImageClassifier {
 public:
  StampedClassifier(std::shared_ptr<nn::Module> backbone, int64_t steps)
      : ImageClassifier(std::move(backbone), {}, std::make_shared<BaseDataPreprocessor>()) {
    starts.reserve(size_t(steps));
    ends.reserve(size_t(steps));
  }
  Scalars train_step(Batch batch, OptimWrapper& optim_wrapper) override {
    starts.push_back(Clock::now());
    Scalars log_vars = ImageClassifier::train_step(std::move(batch), optim_wrapper);
    ends.push_back(Clock::now());
    return log_vars;
  }
  std::vector<Clock::time_point> starts, ends;
};

// A fresh model, optimizer and loader for one run; both loops get identical ones.
struct Setup {
  std::shared_ptr<StampedClassifier> model;
  std::shared_ptr<OptimWrapper> wrapper;
  std::shared_ptr<DataLoader> loader;
};

Setup make_setup(const Workload& w) {
  manual_seed(0);
  Shape shape = w.sample_shape;
  shape.insert(shape.begin(), w.batch_size * w.batches_per_epoch);
  auto dataset = std::make_shared<InMemoryDataset>(randn(shape), randint(0, 2, {shape[0]}));
  Setup s;
  s.model = std::make_shared<StampedClassifier>(w.backbone(), w.epochs * w.batches_per_epoch);
  if (cuda_device_count() > 0) s.model->to(Device::cuda(0));
  s.wrapper = std::make_shared<OptimWrapper>(std::make_unique<optim::SGD>(
      s.model->parameters(), optim::SGDOptions{.lr = 0.01, .momentum = 0.9}));
  s.loader = std::make_shared<DataLoader>(
      dataset, std::make_shared<DefaultSampler>(*dataset, DefaultSamplerOptions{.seed = 0}),
      DataLoaderOptions{.batch_size = w.batch_size});
  return s;
}

std::shared_ptr<StampedClassifier> bare_loop(const Workload& w) {
  Setup s = make_setup(w);
  s.model->train();
  for (int64_t epoch = 0; epoch < w.epochs; ++epoch) {
    s.loader->set_epoch(epoch);
    for (Batch& batch : *s.loader) s.model->train_step(batch, *s.wrapper);
  }
  return s.model;
}

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

std::shared_ptr<StampedClassifier> runner_loop(const Workload& w,
                                               const std::filesystem::path& work_dir) {
  Setup s = make_setup(w);
  QuietStdout quiet;
  Runner runner({.model = s.model,
                 .work_dir = work_dir,
                 .train_dataloader = s.loader,
                 .optim_wrapper = s.wrapper,
                 .train_cfg = TrainLoopConfig{.max_epochs = w.epochs},
                 .default_hooks = {{"logger", std::make_shared<LoggerHook>(
                                                  LoggerHookOptions{.interval = 50})},
                                   {"checkpoint", nullptr}},
                 .randomness = {.seed = 0}});
  runner.train();
  return s.model;
}

// Seconds per iteration over runs: the mean period and the median gap between steps.
class IterTimes {
 public:
  explicit IterTimes(int64_t warmup) : warmup_(size_t(warmup)) {}
  // Returns the run's mean period.
  double add(const StampedClassifier& model) {
    const auto &starts = model.starts, &ends = model.ends;
    for (size_t i = warmup_; i + 1 < starts.size(); ++i)
      gaps_.push_back(seconds(starts[i + 1] - ends[i]));
    const double period =
        seconds(starts.back() - starts[warmup_]) / double(starts.size() - 1 - warmup_);
    total_ += period;
    ++runs_;
    return period;
  }
  double mean_period() const { return total_ / double(runs_); }
  double median_gap() {
    const auto middle = gaps_.begin() + std::ptrdiff_t(gaps_.size() / 2);
    std::nth_element(gaps_.begin(), middle, gaps_.end());
    return *middle;
  }

 private:
  static double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
  size_t warmup_;
  std::vector<double> gaps_;
  double total_ = 0;
  int64_t runs_ = 0;
};

void BM_runner_overhead(benchmark::State& state) {
  const Workload w = workload(state.range(0));
  const auto work_dir = std::filesystem::temp_directory_path() / "anvil_bench_runner";
  IterTimes bare(w.warmup), runner(w.warmup);
  bool bare_first = true;
  for (auto _ : state) {
    if (bare_first) bare.add(*bare_loop(w));
    state.SetIterationTime(runner.add(*runner_loop(w, work_dir)));
    if (!bare_first) bare.add(*bare_loop(w));
    bare_first = !bare_first;
  }
  std::filesystem::remove_all(work_dir);
  const double bare_period = bare.mean_period(), runner_period = runner.mean_period();
  state.counters["bare_us"] = bare_period * 1e6;
  state.counters["runner_us"] = runner_period * 1e6;
  state.counters["overhead_us"] = (runner_period - bare_period) * 1e6;
  state.counters["overhead_%"] = 100 * (runner_period - bare_period) / bare_period;
  const double bare_gap = bare.median_gap(), runner_gap = runner.median_gap();
  state.counters["bare_gap_us"] = bare_gap * 1e6;
  state.counters["runner_gap_us"] = runner_gap * 1e6;
  state.counters["overhead_gap_us"] = (runner_gap - bare_gap) * 1e6;
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
