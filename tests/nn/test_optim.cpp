// Optimizers against PyTorch's trajectories (tests/golden/make_optim_golden.py), the fused step
// kernels against their float64 references, groups and state dicts.
#include <gtest/gtest.h>

#include "anvil.h"
#include "common/golden.h"
#include "common/op_test.h"
#include "nn/optim/adam.h"
#include "nn/optim/sgd.h"

namespace anvil {
namespace {

using testing::expect_error;

constexpr int kSteps = 5;

// Runs `make(params)` for kSteps with the golden gradients and compares every step.
void expect_trajectory(
    const std::string& config,
    const std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>& make) {
  const testing::Golden g = testing::load_golden("optim_trajectories.txt");
  std::vector<Tensor> params{g.at("init_p0").clone().requires_grad_(),
                             g.at("init_p1").clone().requires_grad_()};
  auto opt = make(params);
  for (int k = 0; k < kSteps; ++k) {
    for (size_t i = 0; i < params.size(); ++i) {
      params[i].set_grad(g.at(fmt::format("grad{}_p{}", k, i)).clone());
    }
    opt->step();
    for (size_t i = 0; i < params.size(); ++i) {
      const std::string name = fmt::format("{}_step{}_p{}", config, k, i);
      EXPECT_TRUE(testing::all_close(params[i], g.at(name), {1e-12, 1e-12})) << name;
    }
  }
}

TEST(Optim, SGDMatchesPyTorch) {
  expect_trajectory(
      "sgd", [](auto p) { return std::make_unique<optim::SGD>(p, optim::SGDOptions{.lr = 0.1}); });
  expect_trajectory("sgd_momentum", [](auto p) {
    return std::make_unique<optim::SGD>(
        p, optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01});
  });
  expect_trajectory("sgd_nesterov", [](auto p) {
    return std::make_unique<optim::SGD>(
        p, optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
  });
  expect_trajectory("sgd_maximize", [](auto p) {
    return std::make_unique<optim::SGD>(
        p, optim::SGDOptions{.lr = 0.1, .momentum = 0.5, .maximize = true});
  });
}

TEST(Optim, AdamAndAdamWMatchPyTorch) {
  expect_trajectory("adam", [](auto p) {
    return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 0.01});
  });
  expect_trajectory("adam_wd_amsgrad", [](auto p) {
    return std::make_unique<optim::Adam>(
        p, optim::AdamOptions{
               .lr = 0.01, .beta1 = 0.8, .beta2 = 0.9, .weight_decay = 0.1, .amsgrad = true});
  });
  expect_trajectory("adamw", [](auto p) {
    optim::AdamWOptions o;
    o.lr = 0.01;
    o.weight_decay = 0.1;
    return std::make_unique<optim::AdamW>(p, o);
  });
  expect_trajectory("adamw_amsgrad_maximize", [](auto p) {
    optim::AdamWOptions o;
    o.lr = 0.01;
    o.amsgrad = true;
    o.maximize = true;
    return std::make_unique<optim::AdamW>(p, o);
  });
}

TEST(Optim, ParameterGroupsHaveTheirOwnOptions) {
  expect_trajectory("sgd_groups", [](std::vector<Tensor> p) {
    std::vector<optim::ParamGroup> groups{{{p[0]}, {}}, {{p[1]}, {{"lr", 0.5}, {"momentum", 0.5}}}};
    return std::make_unique<optim::SGD>(groups, optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
  });
}

TEST(Optim, FusedStepsMatchTheReferenceInEveryFloatingDType) {
  for (DType dtype : {DType::f32, DType::f64, DType::bf16, DType::f16}) {
    const auto make = [&](uint64_t seed) {
      return testing::random_tensor({1000}, dtype, -1, 1, seed);
    };
    for (bool amsgrad : {false, true}) {
      for (bool decoupled : {false, true}) {
        const AdamStepArgs args{.lr = 0.01,
                                .weight_decay = 0.1,
                                .amsgrad = amsgrad,
                                .decoupled_weight_decay = decoupled,
                                .step = 3};
        std::vector<Tensor> fast{make(1), make(2), make(3), abs(make(4)), abs(make(5))};
        std::vector<Tensor> ref;
        for (const Tensor& t : fast) ref.push_back(t.to(DType::f64));
        ops::adam_step_(fast[0], fast[1], fast[2], fast[3], amsgrad ? fast[4] : Tensor(), args);
        {
          ReferenceModeGuard reference;
          ops::adam_step_(ref[0], ref[1], ref[2], ref[3], amsgrad ? ref[4] : Tensor(), args);
        }
        for (size_t i : {0, 2, 3}) {
          EXPECT_TRUE(
              testing::all_close(fast[i], ref[i].to(dtype), testing::default_tolerance(dtype)))
              << dtype_name(dtype) << " adam tensor " << i;
        }
      }
    }
    const SgdStepArgs args{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true};
    std::vector<Tensor> fast{make(1), make(2), make(3)};
    std::vector<Tensor> ref;
    for (const Tensor& t : fast) ref.push_back(t.to(DType::f64));
    ops::sgd_step_(fast[0], fast[1], fast[2], args);
    {
      ReferenceModeGuard reference;
      ops::sgd_step_(ref[0], ref[1], ref[2], args);
    }
    EXPECT_TRUE(testing::all_close(fast[0], ref[0].to(dtype), testing::default_tolerance(dtype)));
  }
}

TEST(Optim, StateDictRoundTripContinuesTheTrajectory) {
  const auto run = [](optim::Adam& opt, Tensor& p, int steps) {
    for (int k = 0; k < steps; ++k) {
      p.set_grad(full(p.shape(), 0.1 * (k + 1), TensorOptions(p.dtype())));
      opt.step();
    }
  };
  Tensor a = ones({3}).requires_grad_();
  optim::Adam opt_a({a}, {.lr = 0.1});
  run(opt_a, a, 2);
  Tensor b = a.detach().clone().requires_grad_();
  optim::Adam opt_b({b}, {.lr = 0.5});
  opt_b.load_state_dict(opt_a.state_dict());
  EXPECT_EQ(opt_b.param_groups()[0].at("lr"), 0.1);
  EXPECT_EQ(opt_b.state(b)["step"].item<double>(), 2.0);
  run(opt_a, a, 2);
  run(opt_b, b, 2);
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  optim::Adam two_groups({optim::ParamGroup{{ones({1}).requires_grad_()}, {}},
                          optim::ParamGroup{{ones({1}).requires_grad_()}, {}}},
                         {});
  expect_error([&] { two_groups.load_state_dict(opt_a.state_dict()); },
               {"Adam.load_state_dict", "1 parameter groups", "2"});
}

TEST(Optim, ErrorsNameTheProblem) {
  Tensor p = ones({2}).requires_grad_();
  expect_error([&] { optim::SGD({p}, {.lr = 0.1, .nesterov = true}); }, {"SGD", "nesterov"});
  expect_error([&] { optim::Adam({p}, {.beta1 = 1.0}); }, {"Adam", "betas"});
  expect_error([&] { optim::SGD({p, p}, {}); }, {"more than one parameter group"});
  expect_error([&] { optim::SGD({(p * 2)}, {}); }, {"leaf"});
  optim::SGD sgd({p}, {});
  expect_error(
      [&] {
        sgd.add_param_group({{ones({1}).requires_grad_()}, {{"betas", 1}}});
      },
      {"unknown option \"betas\""});
  sgd.step();  // no gradient yet: nothing to do
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{1, 1}));
}

}  // namespace
}  // namespace anvil
