// Parameter schedulers against the trajectories of tests/golden/make_scheduler_golden.py (torch's
// schedulers where they match MMEngine, MMEngine's closed forms elsewhere), the runner's stepping
// simulated: iteration schedulers step after every iteration, epoch schedulers after every epoch.
#include <gtest/gtest.h>

#include "anvil.h"
#include "common/golden.h"
#include "common/op_test.h"
#include "engine/optim/param_scheduler.h"
#include "nn/optim/adam.h"
#include "nn/optim/sgd.h"

namespace anvil::engine {
namespace {

using testing::expect_error;
using Schedulers = std::vector<std::unique_ptr<ParamScheduler>>;

std::unique_ptr<OptimWrapper> sgd(double lr = 0.1, double momentum = 0.9) {
  return std::make_unique<OptimWrapper>(std::make_unique<optim::SGD>(
      std::vector<Tensor>{zeros({2}).requires_grad_()},
      optim::SGDOptions{.lr = lr, .momentum = momentum, .weight_decay = 1e-2}));
}

// The value of `key` in group `group` at every iteration (before the schedulers step).
std::vector<double> run(OptimWrapper& w, const Schedulers& schedulers, int64_t iters,
                        int64_t epoch_length = 8, const std::string& key = "lr", size_t group = 0) {
  std::vector<double> out;
  for (int64_t i = 0; i < iters; ++i) {
    out.push_back(w.scheduled_groups()[group]->at(key));
    for (const auto& s : schedulers) {
      if (!s->by_epoch()) s->step();
    }
    if ((i + 1) % epoch_length == 0) {
      for (const auto& s : schedulers) {
        if (s->by_epoch()) s->step();
      }
    }
  }
  return out;
}

void expect_golden(const std::vector<double>& actual, const std::string& name) {
  static const testing::Golden golden = testing::load_golden("scheduler_trajectories.txt");
  const std::vector<double> expected = golden.at(name).to_vector<double>();
  ASSERT_EQ(actual.size(), expected.size()) << name;
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], 1e-12 * std::max(1.0, std::abs(expected[i])))
        << name << " at step " << i;
  }
}

template <class S, class O>
std::vector<double> alone(const O& options, int64_t iters = 40) {
  auto w = sgd();
  Schedulers s;
  s.push_back(std::make_unique<S>(*w, options));
  return run(*w, s, iters);
}

TEST(Scheduler, MatchesTorch) {
  expect_golden(alone<ConstantLR>(ConstantOptions{.factor = 0.5, .end = 10, .by_epoch = false}),
                "constant");
  expect_golden(alone<LinearLR>(LinearOptions{.start_factor = 0.25, .end = 11, .by_epoch = false}),
                "linear");
  expect_golden(alone<StepLR>(StepOptions{.step_size = 7, .gamma = 0.5, .by_epoch = false}),
                "step");
  expect_golden(alone<MultiStepLR>(MultiStepOptions{
                    .milestones = {5, 12, 12, 30}, .gamma = 0.3, .by_epoch = false}),
                "multistep");
  expect_golden(alone<ExponentialLR>(ExponentialOptions{.gamma = 0.95, .by_epoch = false}),
                "exponential");
  expect_golden(alone<CosineAnnealingLR>(
                    CosineAnnealingOptions{.T_max = 15, .eta_min = 0.01, .by_epoch = false}),
                "cosine");
  expect_golden(alone<PolyLR>(PolyOptions{.power = 2.0, .end = 30, .by_epoch = false}),
                "poly_torch");
  expect_golden(
      alone<OneCycleLR>(OneCycleOptions{.eta_max = {1.0}, .total_steps = 40, .by_epoch = false}),
      "onecycle");
  expect_golden(alone<OneCycleLR>(OneCycleOptions{.eta_max = {1.0},
                                                  .total_steps = 40,
                                                  .pct_start = 0.25,
                                                  .anneal_strategy = "linear",
                                                  .div_factor = 10,
                                                  .final_div_factor = 100,
                                                  .three_phase = true,
                                                  .by_epoch = false}),
                "onecycle_three_linear");
}

TEST(Scheduler, MatchesMMEngineClosedForms) {
  expect_golden(alone<CosineAnnealingLR>(CosineAnnealingOptions{
                    .eta_min_ratio = 0.1, .begin = 5, .end = 30, .by_epoch = false}),
                "cosine_ratio_window");
  expect_golden(
      alone<PolyLR>(PolyOptions{.eta_min = 0.001, .power = 2.0, .end = 30, .by_epoch = false}),
      "poly");
  expect_golden(
      alone<LinearLR>(LinearOptions{.start_factor = 0.5, .begin = 3, .end = 13, .by_epoch = false}),
      "linear_window");
  expect_golden(alone<MultiStepLR>(MultiStepOptions{
                    .milestones = {3, 10}, .gamma = 0.5, .begin = 4, .end = 30, .by_epoch = false}),
                "multistep_window");
  expect_golden(alone<CosineRestartLR>(CosineRestartOptions{.periods = {10, 15, 10},
                                                            .restart_weights = {1, 0.5, 0.25},
                                                            .eta_min = 0.001,
                                                            .by_epoch = false}),
                "cosine_restart");
}

TEST(Scheduler, CombinedAsMMEngine) {
  {
    auto w = sgd();
    Schedulers s;
    s.push_back(std::make_unique<LinearLR>(
        *w, LinearOptions{.start_factor = 0.1, .end = 5, .by_epoch = false}));
    s.push_back(std::make_unique<MultiStepLR>(*w, MultiStepOptions{.milestones = {2, 4}}));
    expect_golden(run(*w, s, 40), "warmup_multistep");
  }
  {
    auto w = sgd();
    Schedulers s;
    s.push_back(std::make_unique<LinearLR>(
        *w, LinearOptions{.start_factor = 0.2, .end = 8, .by_epoch = false}));
    const CosineAnnealingOptions cos =
        build_iter_from_epoch(CosineAnnealingOptions{.begin = 1, .end = 5}, /*epoch_length=*/8);
    EXPECT_FALSE(cos.by_epoch);
    EXPECT_EQ(cos.begin, 8);
    EXPECT_EQ(cos.end, 40);
    s.push_back(std::make_unique<CosineAnnealingLR>(*w, cos));
    expect_golden(run(*w, s, 40), "warmup_cosine_iter");
  }
}

TEST(Scheduler, BuildIterFromEpoch) {
  const StepOptions step = build_iter_from_epoch(StepOptions{.step_size = 2, .begin = 1}, 10);
  EXPECT_EQ(step.step_size, 20);
  EXPECT_EQ(step.begin, 10);
  EXPECT_EQ(step.end, kInf);
  const MultiStepOptions ms = build_iter_from_epoch(MultiStepOptions{.milestones = {1, 3}}, 5);
  EXPECT_EQ(ms.milestones, (std::vector<int64_t>{5, 15}));
  const OneCycleOptions oc = build_iter_from_epoch(OneCycleOptions{.total_steps = 3}, 4);
  EXPECT_EQ(*oc.total_steps, 12);
  const CosineRestartOptions cr =
      build_iter_from_epoch(CosineRestartOptions{.periods = {1, 2}, .eta_min = 0}, 3);
  EXPECT_EQ(cr.periods, (std::vector<int64_t>{3, 6}));
  expect_error([] { build_iter_from_epoch(LinearOptions{.by_epoch = false}, 3); },
               {"convert_to_iter_based", "by_epoch"});
}

TEST(Scheduler, ReduceOnPlateauMatchesTorch) {
  static const testing::Golden golden = testing::load_golden("scheduler_trajectories.txt");
  const std::vector<double> metrics = golden.at("plateau_metrics").to_vector<double>();
  auto check = [&](const ReduceOnPlateauOptions& o, const std::string& name) {
    auto w = sgd();
    ReduceOnPlateauLR s(*w, o);
    EXPECT_TRUE(s.need_val_args());
    std::vector<double> lrs;
    for (double m : metrics) {
      s.step();  // after the training epoch: counts only
      s.step({{"loss", m}, {"other", 0}});
      lrs.push_back(w->get_lr().at("lr")[0]);
    }
    expect_golden(lrs, name);
  };
  check({.factor = 0.5, .patience = 2, .threshold = 0.01, .cooldown = 1, .min_value = {0.01}},
        "plateau_less_rel");
  check(
      {.rule = "greater", .factor = 0.3, .patience = 1, .threshold = 0.05, .threshold_rule = "abs"},
      "plateau_greater_abs");
  auto w = sgd();
  ReduceOnPlateauLR s(*w);
  expect_error([&] { s.step({{"acc", 1}}); }, {"monitored metric \"loss\"", "acc"});
}

TEST(Scheduler, Momentum) {
  {
    auto w = sgd();
    Schedulers s;
    s.push_back(std::make_unique<CosineAnnealingMomentum>(
        *w, CosineAnnealingOptions{.T_max = 20, .eta_min = 0.5, .by_epoch = false}));
    expect_golden(run(*w, s, 40, 8, "momentum"), "momentum_cosine");
  }
  {
    // Adam's momentum is beta1.
    OptimWrapper w(std::make_unique<optim::Adam>(std::vector<Tensor>{zeros({2}).requires_grad_()},
                                                 optim::AdamOptions{.lr = 0.1}));
    Schedulers s;
    s.push_back(std::make_unique<StepMomentum>(
        w, StepOptions{.step_size = 10, .gamma = 0.5, .by_epoch = false}));
    expect_golden(run(w, s, 40, 8, "beta1"), "adam_beta1_step");
    EXPECT_DOUBLE_EQ(w.get_momentum().at("momentum")[0], 0.9 * 0.5 * 0.5 * 0.5 * 0.5);
  }
}

TEST(Scheduler, GroupsAndPseudoGroup) {
  std::vector<optim::ParamGroup> groups{{{zeros({2}).requires_grad_()}, {}},
                                        {{zeros({3}).requires_grad_()}, {{"lr", 0.02}}}};
  OptimWrapper w(std::make_unique<optim::SGD>(groups, optim::SGDOptions{.lr = 0.1}));
  Schedulers s;
  s.push_back(
      std::make_unique<ExponentialLR>(w, ExponentialOptions{.gamma = 0.9, .by_epoch = false}));
  std::vector<double> g0, g1, base;
  for (int i = 0; i < 40; ++i) {
    const GroupValues lr = w.get_lr();
    g0.push_back(lr.at("lr")[0]);
    g1.push_back(lr.at("lr")[1]);
    base.push_back(lr.at("base_lr")[0]);
    s[0]->step();
  }
  expect_golden(g0, "groups_g0");
  expect_golden(g1, "groups_g1");
  expect_golden(base, "groups_base");
  EXPECT_EQ(s[0]->get_last_value().size(), 3u);
  EXPECT_DOUBLE_EQ(w.param_groups()[1].at("initial_lr"), 0.02);
}

TEST(Scheduler, GenericParamName) {
  auto w = sgd();
  Schedulers s;
  s.push_back(std::make_unique<LinearParamScheduler>(
      *w, "weight_decay", LinearOptions{.start_factor = 0.5, .end = 20, .by_epoch = false}));
  expect_golden(run(*w, s, 40, 8, "weight_decay"), "weight_decay_linear");
  expect_error([&] { ExponentialParamScheduler(*w, "nope", {.gamma = 0.5}); },
               {"parameter group 0 has no option \"nope\""});
}

TEST(Scheduler, StateDictResumes) {
  // Run 13 steps, save, rebuild on a fresh optimizer loaded with the saved state, continue: the
  // trajectory equals an uninterrupted one.
  auto full = sgd();
  Schedulers a;
  a.push_back(std::make_unique<LinearLR>(
      *full, LinearOptions{.start_factor = 0.1, .end = 5, .by_epoch = false}));
  a.push_back(std::make_unique<CosineAnnealingLR>(
      *full, CosineAnnealingOptions{.T_max = 30, .by_epoch = false}));
  const std::vector<double> expected = run(*full, a, 30, 1000);

  auto first = sgd();
  Schedulers b;
  b.push_back(std::make_unique<LinearLR>(
      *first, LinearOptions{.start_factor = 0.1, .end = 5, .by_epoch = false}));
  b.push_back(std::make_unique<CosineAnnealingLR>(
      *first, CosineAnnealingOptions{.T_max = 30, .by_epoch = false}));
  std::vector<double> got = run(*first, b, 13, 1000);
  const OptimWrapperState ostate = first->state_dict();
  const SchedulerState s0 = b[0]->state_dict(), s1 = b[1]->state_dict();

  auto second = sgd();
  Schedulers c;
  c.push_back(std::make_unique<LinearLR>(
      *second, LinearOptions{.start_factor = 0.1, .end = 5, .by_epoch = false}));
  c.push_back(std::make_unique<CosineAnnealingLR>(
      *second, CosineAnnealingOptions{.T_max = 30, .by_epoch = false}));
  second->load_state_dict(ostate);
  c[0]->load_state_dict(s0);
  c[1]->load_state_dict(s1);
  for (double v : run(*second, c, 17, 1000)) got.push_back(v);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_DOUBLE_EQ(got[i], expected[i]) << i;
}

TEST(Scheduler, Errors) {
  auto w = sgd();
  expect_error([&] { LinearLR(*w, {.last_step = 3}); }, {"initial_lr", "when resuming"});
  expect_error([&] { LinearLR(*w, {.begin = 5, .end = 5}); },
               {"end should be larger than begin", "begin=5, end=5"});
  expect_error([&] { StepLR(*w, {}); }, {"step_size must be > 0"});
  expect_error([&] { ExponentialLR(*w, {}); }, {"gamma is required"});
  expect_error([&] { CosineRestartLR(*w, {.periods = {5}}); }, {"eta_min_ratio"});
  expect_error([&] { OneCycleParamScheduler(*w, "momentum", {.eta_max = {1}}); },
               {"only works for the learning rate"});
  OneCycleLR s(*w, {.eta_max = {1}, .total_steps = 2, .by_epoch = false});
  s.step();
  s.step();
  expect_error([&] { s.step(); }, {"tried to step 4 times", "total steps is 2"});
  expect_error([&] { s.step({{"loss", 1}}); }, {"step(metrics)"});
}

}  // namespace
}  // namespace anvil::engine
