// MMEngine's other hooks: the averaged models and EMAHook (the average against a hand-computed
// lerp sequence, evaluation and checkpoints with the average, bit-exact resume, load_from),
// EarlyStoppingHook, EmptyCacheHook, ProfilerHook (its table and trace), the HookList observer
// they use, and their registrations.
//
// The runs use the toy problem of runner_fixtures.h.
#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "anvil.h"
#include "common/op_test.h"
#include "engine/hooks/checkpoint_hook.h"
#include "engine/hooks/early_stopping_hook.h"
#include "engine/hooks/ema_hook.h"
#include "engine/hooks/empty_cache_hook.h"
#include "engine/hooks/profiler_hook.h"
#include "engine/registry/registries.h"
#include "engine/runner/runner.h"
#include "engine/runner_fixtures.h"
#include "tensor/allocator.h"

namespace anvil::engine {
namespace {

using testing::expect_error;
using namespace fixtures;
namespace fs = std::filesystem;
using Values = std::vector<float>;

std::string log_text(Runner& runner) {
  return read(runner.log_dir() / (runner.timestamp() + ".log"));
}

// Every element of the entries, in order.
Values flatten(const nn::NamedTensors& state) {
  Values out;
  for (const auto& [name, t] : state) {
    for (float v : t.to_vector<float>()) out.push_back(v);
  }
  return out;
}

template <class H>
std::shared_ptr<H> find_hook(Runner& runner) {
  for (const auto& [p, hook] : runner.hooks().hooks()) {
    if (auto h = std::dynamic_pointer_cast<H>(hook)) return h;
  }
  return nullptr;
}

// ---- averaged models ---------------------------------------------------------------------------

// Parameters, floating buffers (running statistics) and an integer one (num_batches_tracked).
std::shared_ptr<nn::Module> small_model() {
  return std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
      std::make_shared<nn::Linear>(2, 2), std::make_shared<nn::BatchNorm1d>(2)});
}

void set_all(nn::Module& model, int value) {
  for (auto& [name, t] : model.state_dict()) t.fill_(value);
}

// The value of each entry (all its elements are equal here) by name.
std::map<std::string, double> entry_values(const nn::NamedTensors& state) {
  std::map<std::string, double> out;
  for (const auto& [name, t] : state) out[name] = t.reshape({-1})[0].item<double>();
  return out;
}

TEST(AveragedModel, ExponentialMovingAverageCopiesThenLerpsParameters) {
  auto model = small_model();
  set_all(*model, 1);
  ExponentialMovingAverage ema(*model, 0.25);
  std::vector<std::string> names;
  for (const auto& [name, t] : ema.module()) names.push_back(name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                      "1.running_var", "1.num_batches_tracked"}));
  set_all(*model, 2);
  ema.update_parameters(*model);  // steps 0: a copy
  EXPECT_EQ(entry_values(ema.module())["0.weight"], 2);
  set_all(*model, 4);
  ema.update_parameters(*model);
  auto v = entry_values(ema.module());
  EXPECT_EQ(v["0.weight"], 2.5);  // 2 + 0.25 * (4 - 2)
  EXPECT_EQ(v["1.bias"], 2.5);
  EXPECT_EQ(v["1.running_mean"], 4);  // buffers follow the model
  EXPECT_EQ(v["1.num_batches_tracked"], 4);
  EXPECT_EQ(ema.steps(), 2);
  // The model's tensors are its own.
  EXPECT_EQ(entry_values(model->state_dict())["0.weight"], 4);
}

TEST(AveragedModel, IntervalUpdateBuffersAnnealingAndSwa) {
  auto model = small_model();
  set_all(*model, 2);
  ExponentialMovingAverage every_2(*model, 0.5, {.interval = 2, .update_buffers = true});
  every_2.update_parameters(*model);  // copy
  set_all(*model, 4);
  every_2.update_parameters(*model);  // steps 1: 1 % 2 != 0, nothing
  EXPECT_EQ(entry_values(every_2.module())["0.weight"], 2);
  EXPECT_EQ(entry_values(every_2.module())["1.running_var"], 2);
  every_2.update_parameters(*model);  // steps 2
  auto v = entry_values(every_2.module());
  EXPECT_EQ(v["0.weight"], 3);
  EXPECT_EQ(v["1.running_var"], 3);          // averaged with update_buffers
  EXPECT_EQ(v["1.num_batches_tracked"], 2);  // integers are not averaged

  set_all(*model, 2);
  MomentumAnnealingEMA annealing(*model, 0.01, 1.0);
  annealing.update_parameters(*model);
  set_all(*model, 4);
  annealing.update_parameters(*model);  // momentum max(0.01, 1 / (1 + 1)) = 0.5
  EXPECT_EQ(entry_values(annealing.module())["0.weight"], 3);

  set_all(*model, 2);
  StochasticWeightAverage swa(*model, {});
  for (int x : {2, 4, 9}) {
    set_all(*model, x);
    swa.update_parameters(*model);
  }
  EXPECT_EQ(entry_values(swa.module())["0.weight"], 5);  // the mean of 2, 4, 9
  EXPECT_EQ(swa.steps(), 3);
}

TEST(AveragedModel, StateDictLoadAndSwap) {
  auto model = small_model();
  set_all(*model, 3);
  ExponentialMovingAverage ema(*model, 0.5);
  ema.update_parameters(*model);
  set_all(*model, 5);
  ema.update_parameters(*model);  // parameters 4, buffers 5
  const nn::NamedTensors state = ema.state_dict();
  ASSERT_EQ(state.size(), 8u);
  EXPECT_EQ(state[0].first, "steps");
  EXPECT_EQ(state[0].second.item<int64_t>(), 2);
  EXPECT_EQ(state[1].first, "module.0.weight");

  set_all(*model, 0);
  ExponentialMovingAverage loaded(*model, 0.5);
  EXPECT_TRUE(loaded.load_state_dict(state, /*strict=*/true).missing_keys.empty());
  EXPECT_EQ(loaded.steps(), 2);
  EXPECT_EQ(flatten(loaded.module()), flatten(ema.module()));

  nn::NamedTensors partial(state.begin(), state.end() - 1);
  expect_error([&] { loaded.load_state_dict(partial, true); },
               {"ExponentialMovingAverage", "missing keys [module.1.num_batches_tracked]"});
  nn::NamedTensors wrong = model->state_dict();
  wrong[0].second = zeros({3, 2});
  const LoadWeightsResult result = loaded.load_module(wrong, /*strict=*/false);
  ASSERT_EQ(result.mismatched_keys.size(), 1u);
  EXPECT_NE(result.mismatched_keys[0].find("0.weight: checkpoint [3,2] vs averaged model [2,2]"),
            std::string::npos);
  auto v = entry_values(loaded.module());
  EXPECT_EQ(v["0.weight"], 4);  // skipped
  EXPECT_EQ(v["0.bias"], 0);    // loaded
  expect_error([&] { loaded.load_module(wrong, true); }, {"size mismatch", "0.weight"});

  // Parameters trade places; buffers (not averaged) stay.
  set_all(*model, 7);
  ema.swap_parameters(*model);
  v = entry_values(model->state_dict());
  EXPECT_EQ(v["0.weight"], 4);
  EXPECT_EQ(v["1.running_mean"], 7);
  v = entry_values(ema.module());
  EXPECT_EQ(v["0.weight"], 7);
  EXPECT_EQ(v["1.running_mean"], 5);
}

TEST(AveragedModel, Errors) {
  auto model = small_model();
  expect_error([&] { ExponentialMovingAverage(*model, 1.5); }, {"momentum", "(0, 1)", "1.5"});
  expect_error([&] { MomentumAnnealingEMA(*model, 0.1, 0.0); }, {"gamma", "positive"});
  expect_error([&] { StochasticWeightAverage(*model, {.interval = 0}); }, {"interval"});
  expect_error([&] { build_averaged_model("EMA", *model, {}, {}, {}); },
               {"'EMA' is not an averaged model", "ExponentialMovingAverage"});
  expect_error([&] { build_averaged_model("ExponentialMovingAverage", *model, {}, 3.0, {}); },
               {"takes no gamma"});
  expect_error([&] { build_averaged_model("StochasticWeightAverage", *model, 0.1, {}, {}); },
               {"takes no momentum"});
  EXPECT_EQ(build_averaged_model("MomentumAnnealingEMA", *model, {}, {}, {})->name(),
            "MomentumAnnealingEMA");
  auto other = std::make_shared<nn::Linear>(2, 2);
  ExponentialMovingAverage ema(*model, 0.1);
  expect_error([&] { ema.update_parameters(*other); }, {"2 state-dict entries", "7"});
}

// ---- EMAHook ---------------------------------------------------------------------------------

// Runs after EMAHook (a NORMAL hook registered later): what the model and the average hold.
class EmaProbe final : public Hook {
 public:
  explicit EmaProbe(std::shared_ptr<EMAHook> ema) : ema_(std::move(ema)) {}
  std::string name() const override { return "EmaProbe"; }
  void before_train(Runner& r) override {
    at_start_model = flatten(r.model().state_dict());
    at_start_ema = flatten(ema_->ema_model().module());
    at_start_steps = ema_->ema_model().steps();
  }
  void after_train_iter(Runner& r, int64_t, const Batch&, const Scalars&) override {
    model.push_back(flatten(r.model().state_dict()));
    ema.push_back(flatten(ema_->ema_model().module()));
  }
  void before_val_epoch(Runner& r) override { in_val.push_back(flatten(r.model().state_dict())); }
  void after_val_epoch(Runner& r, const Scalars&) override {
    after_val.push_back(flatten(r.model().state_dict()));
  }

  std::vector<Values> model, ema, in_val, after_val;
  Values at_start_model, at_start_ema;
  int64_t at_start_steps = -1;

 private:
  std::shared_ptr<EMAHook> ema_;
};

const char* kEmaHook = "[[custom_hooks]]\ntype = \"EMAHook\"\nmomentum = 0.1\nbegin_iter = 3\n";

TEST(EMAHook, AveragesAfterEachIterationAndEvaluatesAndSavesTheAverage) {
  const fs::path dir = fresh_dir("ema");
  auto runner = Runner::from_cfg(toy_config(dir, "{by_epoch = true, max_epochs = 2}", kEmaHook));
  auto hook = find_hook<EMAHook>(*runner);
  ASSERT_NE(hook, nullptr);
  auto probe = std::make_shared<EmaProbe>(hook);
  runner->register_hook(probe);
  runner->train();

  // Iterations 0 and 1 (before begin_iter) copy; iteration 2 starts the average with a copy
  // (steps 0); from then on ema = lerp(ema, model, 0.1), computed here in float.
  ASSERT_EQ(probe->model.size(), 12u);
  for (size_t t = 0; t < 12; ++t) {
    const Values& w = probe->model[t];
    const Values& e = probe->ema[t];
    ASSERT_EQ(e.size(), w.size());
    if (t <= 2) {
      EXPECT_EQ(e, w) << t;
      continue;
    }
    EXPECT_NE(e, w) << t;
    const Values& previous = probe->ema[t - 1];
    for (size_t k = 0; k < w.size(); ++k) {
      const float expected = previous[k] + 0.1f * (w[k] - previous[k]);
      ASSERT_NEAR(e[k], expected, 1e-6) << "iteration " << t << ", element " << k;
    }
  }
  EXPECT_EQ(hook->ema_model().steps(), 10);

  // Validation (after epochs 1 and 2) ran with the average in the model, training on its own.
  ASSERT_EQ(probe->in_val.size(), 2u);
  EXPECT_EQ(probe->in_val[0], probe->ema[5]);
  EXPECT_EQ(probe->in_val[1], probe->ema[11]);
  EXPECT_EQ(probe->after_val[0], probe->model[5]);
  EXPECT_EQ(flatten(runner->model().state_dict()), probe->model[11]);
  EXPECT_EQ(flatten(hook->ema_model().module()), probe->ema[11]);

  // The checkpoint's model entries are the average; ema_state_dict has the model's own.
  const Checkpoint c = load_checkpoint(dir / "epoch_2.ckpt");
  nn::NamedTensors weights, ema_state;
  Tensor steps;
  for (const auto& [name, t] : c.model) {
    if (name == "ema_state_dict.steps") {
      steps = t;
    } else if (name.starts_with("ema_state_dict.module.")) {
      ema_state.emplace_back(name, t);
    } else {
      weights.emplace_back(name, t);
    }
  }
  EXPECT_EQ(flatten(weights), probe->ema[11]);
  EXPECT_EQ(flatten(ema_state), probe->model[11]);
  ASSERT_TRUE(steps.defined());
  EXPECT_EQ(steps.item<int64_t>(), 10);
  // Loadable as they are, strictly: load_weights gives a model the average and skips the raw
  // weights.
  const LoadWeightsResult loaded = load_weights(runner->model(), dir / "epoch_2.ckpt", true);
  EXPECT_TRUE(loaded.unexpected_keys.empty());
  EXPECT_TRUE(loaded.missing_keys.empty());
  EXPECT_EQ(flatten(runner->model().state_dict()), probe->ema[11]);
}

// Training 4 epochs straight, and 2 + 2 with a resume, give the same model, average and
// validation, bit for bit.
TEST(EMAHook, ResumeIsBitExact) {
  const std::string hooks =
      "[[custom_hooks]]\ntype = \"EMAHook\"\nmomentum = 0.2\ninterval = 2\nupdate_buffers = "
      "true\n";
  const std::string train_cfg = "{by_epoch = true, max_epochs = 4}";
  const fs::path straight = fresh_dir("ema_straight"), split = fresh_dir("ema_split");
  auto a = Runner::from_cfg(toy_config(straight, train_cfg, hooks));
  a->train();
  {
    auto b = Runner::from_cfg(toy_config(split, train_cfg, hooks));
    b->register_hook(std::make_shared<StopHook>(2, -1));
    b->train();
    ASSERT_EQ(b->epoch(), 2);
  }
  Config resumed = toy_config(split, train_cfg, hooks);
  resumed.merge_from_options({"resume=true"});
  auto c = Runner::from_cfg(resumed);
  c->train();
  EXPECT_EQ(c->epoch(), 4);
  EXPECT_EQ(flatten(c->model().state_dict()), flatten(a->model().state_dict()));
  const BaseAveragedModel& ema_a = find_hook<EMAHook>(*a)->ema_model();
  const BaseAveragedModel& ema_c = find_hook<EMAHook>(*c)->ema_model();
  EXPECT_EQ(ema_c.steps(), 24);
  EXPECT_EQ(ema_c.steps(), ema_a.steps());
  EXPECT_EQ(flatten(ema_c.module()), flatten(ema_a.module()));
  EXPECT_NE(flatten(ema_c.module()), flatten(c->model().state_dict()));
  EXPECT_EQ(c->message_hub().get_scalar("val/accuracy/top1").current(),
            a->message_hub().get_scalar("val/accuracy/top1").current());
}

TEST(EMAHook, LoadFromStartsANewAverageAndResumeWithoutStateWarns) {
  const fs::path first = fresh_dir("ema_first");
  auto trained = Runner::from_cfg(toy_config(first, "{by_epoch = true, max_epochs = 1}", kEmaHook));
  trained->train();
  const Values average = flatten(find_hook<EMAHook>(*trained)->ema_model().module());

  // load_from: the model and the average start from the checkpoint's weights (the average), and
  // the average starts over (steps 0).
  const fs::path second = fresh_dir("ema_second");
  Config cfg = toy_config(second, "{by_epoch = true, max_epochs = 1}", kEmaHook);
  cfg.set("load_from", (first / "epoch_1.ckpt").string());
  auto runner = Runner::from_cfg(cfg);
  auto probe = std::make_shared<EmaProbe>(find_hook<EMAHook>(*runner));
  runner->register_hook(probe);
  runner->train();
  EXPECT_EQ(probe->at_start_model, average);
  EXPECT_EQ(probe->at_start_ema, average);
  EXPECT_EQ(probe->at_start_steps, 0);

  // A checkpoint saved without EMAHook, resumed with it.
  const fs::path plain = fresh_dir("ema_plain");
  {
    auto b = Runner::from_cfg(toy_config(plain, "{by_epoch = true, max_epochs = 2}"));
    b->register_hook(std::make_shared<StopHook>(1, -1));
    b->train();
  }
  Config resumed = toy_config(plain, "{by_epoch = true, max_epochs = 2}", kEmaHook);
  resumed.merge_from_options({"resume=true"});
  auto c = Runner::from_cfg(resumed);
  c->train();
  EXPECT_NE(log_text(*c).find("EMAHook: the resumed checkpoint has no EMA state"),
            std::string::npos);
  EXPECT_EQ(find_hook<EMAHook>(*c)->ema_model().steps(), 6);
}

// ---- EarlyStoppingHook -------------------------------------------------------------------------

// A runner after one epoch: its train loop exists for the hooks to stop.
std::unique_ptr<Runner> trained_runner(const std::string& name) {
  const fs::path dir = fresh_dir(name);
  auto runner = Runner::from_cfg(toy_config(dir, "{by_epoch = true, max_epochs = 1}",
                                            "[default_hooks]\ncheckpoint = false\n"));
  runner->train();
  return runner;
}

// After each score: did the hook stop training?
std::vector<bool> stops(Runner& runner, EarlyStoppingHook& hook, const std::string& key,
                        const std::vector<double>& scores) {
  std::vector<bool> out;
  for (double score : scores) {
    runner.train_loop()->stop_training = false;
    hook.after_val_epoch(runner, {{"other", 1.0}, {key, score}});
    out.push_back(runner.train_loop()->stop_training);
  }
  return out;
}

TEST(EarlyStoppingHook, PatienceMinDeltaThresholdAndNonFinite) {
  auto runner = trained_runner("early");
  Runner& r = *runner;
  EarlyStoppingHook patient({.monitor = "accuracy/top1", .min_delta = 0.5, .patience = 2});
  EXPECT_EQ(patient.rule(), "greater");  // "acc" in the name
  // 50.25 and 50.75 fall short of best + 0.5 (a wait each); 50.5 and 51 (= best + 0.5) improve;
  // the second wait in a row stops.
  EXPECT_EQ(stops(r, patient, "accuracy/top1", {50, 50.25, 50.5, 50.75, 51, 51, 50}),
            (std::vector<bool>{false, false, false, false, false, false, true}));
  EXPECT_EQ(patient.best_score(), 51);
  EXPECT_EQ(patient.wait_count(), 2);
  EXPECT_NE(log_text(r).find("EarlyStoppingHook: the monitored metric did not improve in the "
                             "last 2 records. best score: 51.000"),
            std::string::npos);

  EarlyStoppingHook loss({.monitor = "loss", .min_delta = 0.01, .stopping_threshold = 0.5});
  EXPECT_EQ(loss.rule(), "less");
  EXPECT_EQ(stops(r, loss, "loss", {0.9, 0.7, 0.45}), (std::vector<bool>{false, false, true}));
  EXPECT_NE(log_text(r).find("Stopping threshold reached: `loss` = 0.45 is less than 0.5."),
            std::string::npos);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  EarlyStoppingHook finite({.monitor = "accuracy/top1"});
  EXPECT_EQ(stops(r, finite, "accuracy/top1", {60, nan}), (std::vector<bool>{false, true}));
  EXPECT_NE(log_text(r).find("Monitored metric accuracy/top1 = nan is not finite. Previous best "
                             "value was 60.000."),
            std::string::npos);
  EarlyStoppingHook unchecked({.monitor = "accuracy/top1", .check_finite = false});
  EXPECT_EQ(stops(r, unchecked, "accuracy/top1", {60, nan}), (std::vector<bool>{false, false}));
}

TEST(EarlyStoppingHook, MissingMetricStrictOrNotAndRules) {
  auto runner = trained_runner("early_missing");
  Runner& r = *runner;
  EarlyStoppingHook strict({.monitor = "mIoU", .strict = true});
  expect_error(
      [&] {
        strict.after_val_epoch(r, {{"accuracy/top1", 1.0}});
      },
      {"[accuracy/top1]", "'mIoU'", "strict = false"});
  EarlyStoppingHook lenient({.monitor = "mIoU"});
  r.train_loop()->stop_training = false;
  lenient.after_val_epoch(r, {{"accuracy/top1", 1.0}});
  EXPECT_FALSE(r.train_loop()->stop_training);
  EXPECT_NE(log_text(r).find("WARNING - EarlyStoppingHook: the metrics of this validation "
                             "[accuracy/top1] do not include the monitored metric 'mIoU'; early "
                             "stopping skipped"),
            std::string::npos);

  EXPECT_EQ(EarlyStoppingHook({.monitor = "val_loss_sum"}).rule(), "less");
  EXPECT_EQ(EarlyStoppingHook({.monitor = "loss", .rule = "greater"}).rule(), "greater");
  expect_error([] { EarlyStoppingHook({.monitor = "f1"}); },
               {"cannot infer the rule for monitor 'f1'", "rule = \"greater\" or \"less\""});
  expect_error([] { EarlyStoppingHook({.monitor = "f1", .rule = "more"}); }, {"rule", "more"});
  expect_error([] { EarlyStoppingHook({}); }, {"monitor", "required"});
  EXPECT_EQ(infer_rule("AR@100", default_greater_keys(), default_less_keys()), "greater");
  EXPECT_EQ(infer_rule("f1", default_greater_keys(), default_less_keys()), std::nullopt);
}

// In a run: the first validation sets the best; no later one beats it by 1000, so the run stops
// after patience (1) more.
TEST(EarlyStoppingHook, StopsARun) {
  const fs::path dir = fresh_dir("early_run");
  auto runner = Runner::from_cfg(toy_config(
      dir, "{by_epoch = true, max_epochs = 10}",
      "[[custom_hooks]]\ntype = \"EarlyStoppingHook\"\nmonitor = \"accuracy/top1\"\npatience = "
      "1\nmin_delta = 1000.0\n[default_hooks]\ncheckpoint = false\n"));
  runner->train();
  EXPECT_EQ(runner->epoch(), 2);
  EXPECT_EQ(runner->hooks().hooks().back().second->name(), "EarlyStoppingHook");  // LOWEST
}

// ---- EmptyCacheHook ----------------------------------------------------------------------------

TEST(EmptyCacheHook, EmptiesTheCpuCacheAtItsPoints) {
  auto runner =
      Runner::from_cfg(toy_config(fresh_dir("empty_cache"), "{by_epoch = true, max_epochs = 1}"));
  Runner& r = *runner;
  const auto cached = [] {
    const MemoryStats stats = memory_stats(Device::cpu());
    return stats.reserved - stats.allocated;
  };
  const auto fill_cache = [] { empty({1 << 20}, DType::f32); };  // 4 MiB, kept when freed
  fill_cache();
  if (cached() == 0) GTEST_SKIP() << "the CPU allocator cache is off (ANVIL_CPU_CACHE_MB=0)";

  EmptyCacheHook defaults;  // after epochs only
  defaults.before_train_epoch(r);
  defaults.after_train_iter(r, 0, Batch{}, Scalars{});
  EXPECT_GT(cached(), 0);
  defaults.after_val_epoch(r, Scalars{});
  EXPECT_EQ(cached(), 0);

  EmptyCacheHook others({.before_epoch = true, .after_epoch = false, .after_iter = true});
  fill_cache();
  others.after_train_epoch(r);
  EXPECT_GT(cached(), 0);
  others.before_test_epoch(r);
  EXPECT_EQ(cached(), 0);
  fill_cache();
  others.after_val_iter(r, 0, Batch{}, Outputs{});
  EXPECT_EQ(cached(), 0);
}

// ---- ProfilerHook and the observer -------------------------------------------------------------

// Rows of the profiler's table: (hook or phase, point) -> calls.
std::map<std::pair<std::string, std::string>, int64_t> table_rows(const std::string& table) {
  std::map<std::pair<std::string, std::string>, int64_t> rows;
  std::istringstream lines(table);
  std::string line;
  std::getline(lines, line);  // title
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string label, point;
    int64_t calls = 0;
    double total = -1, mean = -1;
    fields >> label >> point >> calls >> total >> mean;
    EXPECT_TRUE(fields && total >= 0 && mean >= 0) << line;
    rows[{label, point}] = calls;
  }
  return rows;
}

TEST(ProfilerHook, TimesHooksAndIterationPhasesAndWritesATrace) {
  const fs::path dir = fresh_dir("profiler");
  const fs::path trace = dir / "trace" / "profile.json";
  auto runner = Runner::from_cfg(toy_config(
      dir, "{by_epoch = true, max_epochs = 2}",
      fmt::format("[[custom_hooks]]\ntype = \"ProfilerHook\"\njson_trace_path = \"{}\"\n",
                  trace.string())));
  runner->train();
  auto profiler = find_hook<ProfilerHook>(*runner);
  const std::string& summary = profiler->summary();
  ASSERT_FALSE(summary.empty());
  EXPECT_NE(log_text(*runner).find(summary), std::string::npos);

  // The first epoch: 6 iterations, each hook called at every point.
  const auto rows = table_rows(summary);
  for (const char* phase : {"data_wait", "train_step", "hooks"}) {
    EXPECT_EQ(rows.at({phase, "train_iter"}), 6) << phase;
  }
  for (const auto& [p, hook] : runner->hooks().hooks()) {
    if (hook == profiler) continue;
    EXPECT_EQ(rows.at({hook->name(), "after_train_iter"}), 6) << hook->name();
    EXPECT_EQ(rows.at({hook->name(), "before_train_epoch"}), 1) << hook->name();
  }
  EXPECT_EQ(rows.count({"CheckpointHook", "before_save_checkpoint"}), 1u);
  EXPECT_EQ(rows.count({"LoggerHook", "after_val_epoch"}), 0u);  // validation came after
  for (const auto& [key, calls] : rows) EXPECT_NE(key.first, "ProfilerHook");

  const nlohmann::json json = nlohmann::json::parse(read(trace));
  const nlohmann::json& events = json.at("traceEvents");
  std::map<std::string, int> by_category;
  std::vector<std::pair<double, double>> iterations, steps;
  int logger_calls = 0, saves_in_epoch_end = 0;
  std::pair<double, double> epoch_end{-1, -1};
  for (const nlohmann::json& e : events) {
    EXPECT_EQ(e.at("ph"), "X");
    EXPECT_GE(e.at("dur").get<double>(), 0);
    const std::string category = e.at("cat");
    const std::pair<double, double> span{e.at("ts").get<double>(),
                                         e.at("ts").get<double>() + e.at("dur").get<double>()};
    ++by_category[category];
    EXPECT_NE(e.at("name"), "ProfilerHook");
    if (category == "iteration") iterations.push_back(span);
    if (e.at("name") == "train_step") steps.push_back(span);
    if (category == "hook" && e.at("name") == "LoggerHook" &&
        e.at("args").at("point") == "after_train_iter") {
      ++logger_calls;
    }
    if (category == "point" && e.at("name") == "after_train_epoch") epoch_end = span;
  }
  EXPECT_EQ(by_category["iteration"], 6);
  EXPECT_EQ(by_category["phase"], 12);  // data_wait and train_step per iteration
  EXPECT_EQ(logger_calls, 6);
  ASSERT_EQ(steps.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_LE(iterations[i].first, steps[i].first);
    EXPECT_LE(steps[i].second, iterations[i].second);
  }
  // The checkpoint saved at the end of the epoch ran inside after_train_epoch.
  for (const nlohmann::json& e : events) {
    if (e.at("cat") == "point" && e.at("name") == "before_save_checkpoint" &&
        e.at("ts").get<double>() >= epoch_end.first &&
        e.at("ts").get<double>() + e.at("dur").get<double>() <= epoch_end.second) {
      ++saves_in_epoch_end;
    }
  }
  EXPECT_EQ(saves_in_epoch_end, 1);
}

TEST(ProfilerHook, IterationsAndErrors) {
  const fs::path dir = fresh_dir("profiler_iter");
  auto runner = Runner::from_cfg(toy_config(
      dir, "{by_epoch = false, max_iters = 10, val_interval = 5}",
      "[[custom_hooks]]\ntype = \"ProfilerHook\"\nby_epoch = false\nprofile_times = 3\n"));
  runner->train();
  const auto rows = table_rows(find_hook<ProfilerHook>(*runner)->summary());
  EXPECT_EQ(rows.at({"train_step", "train_iter"}), 3);
  EXPECT_EQ(rows.at({"IterTimerHook", "before_train_iter"}), 3);

  const fs::path too_many = fresh_dir("profiler_too_many");
  auto long_profile = Runner::from_cfg(
      toy_config(too_many, "{by_epoch = true, max_epochs = 2}",
                 "[[custom_hooks]]\ntype = \"ProfilerHook\"\nprofile_times = 3\n"));
  expect_error([&] { long_profile->train(); }, {"profile_times 3 is more than the run's 2 epochs"});
  expect_error([] { ProfilerHook({.profile_times = 0}); }, {"profile_times must be >= 1"});
}

// Records what the observer is told.
struct Trail final : HookObserver {
  std::vector<std::string> seen;
  void begin(std::string_view point, const Hook* hook) override {
    seen.push_back(fmt::format("begin {} {}", point, hook ? hook->name() : "*"));
  }
  void end(std::string_view point, const Hook* hook) override {
    seen.push_back(fmt::format("end {} {}", point, hook ? hook->name() : "*"));
  }
};

struct Named final : Hook {
  explicit Named(std::string n) : n_(std::move(n)) {}
  std::string name() const override { return n_; }
  std::string n_;
};

TEST(HookObserver, ToldAroundEveryPointAndHookCall) {
  HookList hooks;
  hooks.add(std::make_shared<Named>("A"));
  hooks.add(std::make_shared<Named>("B"));
  Trail trail;
  // The hooks never touch the runner: any address stands in for one.
  alignas(std::max_align_t) char storage[64];
  Runner& runner = *reinterpret_cast<Runner*>(storage);
  hooks.call(&Hook::before_train_epoch, runner);  // no observer yet
  hooks.set_observer(&trail);
  hooks.call(&Hook::after_val_iter, runner, int64_t{0}, Batch{}, Outputs{});
  hooks.set_observer(nullptr);
  hooks.call(&Hook::after_run, runner);
  EXPECT_EQ(trail.seen,
            (std::vector<std::string>{"begin after_val_iter *", "begin after_val_iter A",
                                      "end after_val_iter A", "begin after_val_iter B",
                                      "end after_val_iter B", "end after_val_iter *"}));
  EXPECT_EQ(hook_point_name(&Hook::before_run), "before_run");
  EXPECT_EQ(hook_point_name(&Hook::after_load_checkpoint), "after_load_checkpoint");
  EXPECT_EQ(hook_point_name(&Hook::before_test_iter), "before_test_iter");
  EXPECT_EQ(hook_point_name(&Hook::after_train_iter), "after_train_iter");
  EXPECT_EQ(hook_point_name(&Hook::after_test_iter), "after_test_iter");
  EXPECT_EQ(hook_point_name(&Hook::after_test_epoch), "after_test_epoch");
}

// ---- registrations -----------------------------------------------------------------------------

std::shared_ptr<Hook> build_hook(const std::string& toml) {
  return HOOKS.build(Config::from_string(toml, "hooks.toml"));
}

TEST(HookRegistrations, MMEngineNamesAndKeys) {
  EXPECT_EQ(build_hook("type = \"EMAHook\"\nema_type = \"MomentumAnnealingEMA\"\nmomentum = "
                       "0.001\ngamma = 50\ninterval = 2\nupdate_buffers = true\nbegin_epoch = "
                       "1\nstrict_load = true\ndevice = \"cpu\"")
                ->name(),
            "EMAHook");
  expect_error([] { build_hook("type = \"EMAHook\"\nbegin_iter = 2\nbegin_epoch = 1"); },
               {"hooks.toml", "begin_iter (2) and begin_epoch (1) cannot both be set"});
  expect_error([] { build_hook("type = \"EMAHook\"\nema_type = \"SWA\""); },
               {"'SWA' is not an averaged model", "StochasticWeightAverage"});
  expect_error([] { build_hook("type = \"EMAHook\"\ngamma = 3.0"); }, {"takes no gamma"});
  expect_error([] { build_hook("type = \"EMAHook\"\nmomentum = 1.5"); }, {"momentum", "(0, 1)"});
  expect_error([] { build_hook("type = \"EMAHook\"\nmomentom = 0.1"); }, {"momentom", "momentum"});

  auto early = std::dynamic_pointer_cast<EarlyStoppingHook>(
      build_hook("type = \"EarlyStoppingHook\"\nmonitor = \"loss\"\npatience = 2\nmin_delta = "
                 "0.5\nstrict = true\ncheck_finite = false\nstopping_threshold = 0.1"));
  ASSERT_NE(early, nullptr);
  EXPECT_EQ(early->rule(), "less");
  EXPECT_EQ(early->priority(), 100);
  expect_error([] { build_hook("type = \"EarlyStoppingHook\"\npatience = 2"); }, {"monitor"});
  expect_error([] { build_hook("type = \"EarlyStoppingHook\"\nmonitor = \"loss\"\nrule = 1"); },
               {"rule"});

  EXPECT_EQ(build_hook("type = \"EmptyCacheHook\"\nbefore_epoch = true\nafter_epoch = "
                       "false\nafter_iter = true")
                ->priority(),
            50);
  expect_error([] { build_hook("type = \"EmptyCacheHook\"\nafter_step = true"); },
               {"after_step", "after_iter"});

  EXPECT_EQ(build_hook("type = \"ProfilerHook\"\nby_epoch = false\nprofile_times = 2\n"
                       "json_trace_path = \"trace.json\"")
                ->priority(),
            90);
  expect_error([] { build_hook("type = \"ProfilerHook\"\nactivity_with_cuda = true"); },
               {"activity_with_cuda"});
}

}  // namespace
}  // namespace anvil::engine
