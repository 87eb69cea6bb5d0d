// Derivatives of the norm ops: a gradcheck table over batch_norm (training and eval, every
// input rank, with and without weight, bias and running statistics), layer_norm, group_norm and
// rms_norm (each argument's gradient, alone and together), and plain tests for what a table cannot
// show (running statistics stay out of the graph, eval's affine map, dtypes, saved versions).
#include <cmath>

#include "autograd/autograd.h"
#include "grad_test.h"

namespace anvil::testing {
namespace {

using Outs = std::vector<Tensor>;
using In = const std::vector<Tensor>&;
using Opt = std::optional<Tensor>;

// The optional argument i of `in` (absent past its end).
Opt arg(In in, size_t i) {
  return i < in.size() ? Opt(in[i]) : std::nullopt;
}

// Running statistics made fresh for every call (gradcheck calls the op many times; the
// training update must not leak from one call into the next).
Tensor running_mean(int64_t c) {
  return random_tensor({c}, DType::f64, -0.5, 0.5, 77);
}
Tensor running_var(int64_t c) {
  return random_tensor({c}, DType::f64, 0.5, 2, 78);
}

// batch_norm over (input, [weight], [bias]) with or without running statistics.
GradCase bn(std::string name, std::vector<Shape> shapes, bool training, bool running = true,
            std::vector<bool> requires_grad = {}) {
  return {std::move(name),
          [training, running](In in) -> Outs {
            const int64_t c = in[0].size(1);
            const Opt rm = running ? Opt(running_mean(c)) : std::nullopt;
            const Opt rv = running ? Opt(running_var(c)) : std::nullopt;
            return {batch_norm(in[0], rm, rv, arg(in, 1), arg(in, 2),
                               {.training = training, .momentum = 0.2, .eps = 1e-3})};
          },
          std::move(shapes),
          -2,
          2,
          std::move(requires_grad)};
}

// A weight-only batch_norm: (input, weight) with no bias.
GradCase bn_weight_only(std::string name, Shape x, bool training) {
  const Shape weight{x[1]};
  return {std::move(name),
          [training](In in) -> Outs {
            const int64_t c = in[0].size(1);
            return {batch_norm(in[0], running_mean(c), running_var(c), in[1], std::nullopt,
                               {.training = training})};
          },
          {std::move(x), weight}};
}

// layer_norm / rms_norm over the trailing dims of the weight's shape.
GradCase ln(std::string name, std::vector<Shape> shapes, Shape normalized,
            std::vector<bool> requires_grad = {}) {
  return {std::move(name),
          [normalized](In in) -> Outs {
            return {layer_norm(in[0], normalized, arg(in, 1), arg(in, 2), 1e-4)};
          },
          std::move(shapes),
          -2,
          2,
          std::move(requires_grad)};
}

GradCase gn(std::string name, std::vector<Shape> shapes, int64_t groups,
            std::vector<bool> requires_grad = {}) {
  return {
      std::move(name),
      [groups](In in) -> Outs { return {group_norm(in[0], groups, arg(in, 1), arg(in, 2), 1e-4)}; },
      std::move(shapes),
      -2,
      2,
      std::move(requires_grad)};
}

GradCase rms(std::string name, std::vector<Shape> shapes, Shape normalized,
             std::optional<double> eps = 1e-4, std::vector<bool> requires_grad = {}) {
  return {
      std::move(name),
      [normalized, eps](In in) -> Outs { return {rms_norm(in[0], normalized, arg(in, 1), eps)}; },
      std::move(shapes),
      -2,
      2,
      std::move(requires_grad)};
}

const std::vector<GradCase>& table() {
  static const std::vector<GradCase> cases = {
      // batch_norm, training: [N, C], [N, C, L], [N, C, H, W], [N, C, D, H, W]
      bn("bn_train_2d", {{5, 3}, {3}, {3}}, true),
      bn("bn_train_3d", {{3, 2, 4}, {2}, {2}}, true),
      bn("bn_train_4d", {{2, 3, 2, 3}, {3}, {3}}, true),
      bn("bn_train_5d", {{2, 2, 2, 1, 3}, {2}, {2}}, true),
      bn("bn_train_batch1", {{1, 2, 5}, {2}, {2}}, true),
      bn("bn_train_no_running", {{3, 2, 4}, {2}, {2}}, true, false),
      bn("bn_train_no_affine", {{3, 2, 4}}, true),
      bn_weight_only("bn_train_weight_only", {4, 3, 2}, true),
      bn("bn_train_input_only", {{3, 2, 4}, {2}, {2}}, true, true, {true, false, false}),
      bn("bn_train_weight_grad", {{3, 2, 4}, {2}, {2}}, true, true, {false, true, false}),
      bn("bn_train_bias_grad", {{3, 2, 4}, {2}, {2}}, true, true, {false, false, true}),
      // batch_norm, eval: the affine map with the running statistics
      bn("bn_eval_2d", {{4, 3}, {3}, {3}}, false),
      bn("bn_eval_4d", {{2, 3, 2, 2}, {3}, {3}}, false),
      bn("bn_eval_batch1", {{1, 3}, {3}, {3}}, false),
      bn("bn_eval_no_affine", {{3, 2, 4}}, false),
      bn_weight_only("bn_eval_weight_only", {3, 2, 4}, false),
      bn("bn_eval_input_only", {{3, 2, 4}, {2}, {2}}, false, true, {true, false, false}),
      // layer_norm
      ln("ln_1d", {{3, 5}, {5}, {5}}, {5}),
      ln("ln_2d", {{2, 3, 4}, {3, 4}, {3, 4}}, {3, 4}),
      ln("ln_single_row", {{6}, {6}, {6}}, {6}),
      ln("ln_no_affine", {{4, 5}}, {5}),
      ln("ln_weight_only", {{4, 5}, {5}}, {5}),
      ln("ln_input_only", {{3, 4}, {4}, {4}}, {4}, {true, false, false}),
      ln("ln_weight_grad", {{3, 4}, {4}, {4}}, {4}, {false, true, false}),
      ln("ln_bias_grad", {{3, 4}, {4}, {4}}, {4}, {false, false, true}),
      // group_norm
      gn("gn_groups2", {{2, 4, 3}, {4}, {4}}, 2),
      gn("gn_4d", {{2, 6, 2, 2}, {6}, {6}}, 3),
      gn("gn_no_spatial", {{3, 6}, {6}, {6}}, 2),
      gn("gn_one_group", {{2, 3, 4}, {3}, {3}}, 1),
      gn("gn_instance", {{2, 3, 4}, {3}, {3}}, 3),
      gn("gn_batch1", {{1, 4, 3}, {4}, {4}}, 2),
      gn("gn_no_affine", {{2, 4, 3}}, 2),
      gn("gn_weight_only", {{2, 4, 3}, {4}}, 4),
      gn("gn_input_only", {{2, 4, 3}, {4}, {4}}, 2, {true, false, false}),
      gn("gn_weight_grad", {{2, 4, 3}, {4}, {4}}, 2, {false, true, false}),
      gn("gn_bias_grad", {{2, 4, 3}, {4}, {4}}, 2, {false, false, true}),
      // rms_norm
      rms("rms_1d", {{3, 5}, {5}}, {5}),
      rms("rms_2d", {{2, 3, 4}, {3, 4}}, {3, 4}),
      rms("rms_default_eps", {{3, 4}, {4}}, {4}, std::nullopt),
      rms("rms_no_weight", {{4, 5}}, {5}),
      rms("rms_input_only", {{3, 4}, {4}}, {4}, 1e-4, {true, false}),
      rms("rms_weight_grad", {{3, 4}, {4}}, {4}, 1e-4, {false, true}),
  };
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Norm, GradTest, ::testing::ValuesIn(grad_cases(table())), grad_case_name);

TEST(NormGrad, RunningStatisticsStayOutOfTheGraph) {
  Tensor x = random_tensor({4, 2, 3}, DType::f64, -1, 1, 3).requires_grad_();
  Tensor rm = zeros({2}, DType::f64), rv = ones({2}, DType::f64);
  const uint64_t version = rm.version();
  Tensor y = batch_norm(x, rm, rv, std::nullopt, std::nullopt, {.training = true});
  EXPECT_EQ(y.grad_fn_name(), "BatchNormBackward");
  EXPECT_GT(rm.version(), version);  // updated in place
  EXPECT_FALSE(rm.requires_grad());
  EXPECT_FALSE(rv.requires_grad());
  sum(y * y).backward();
  EXPECT_TRUE(x.grad().defined());
  EXPECT_FALSE(rm.grad().defined());
}

TEST(NormGrad, EvalBackwardIsTheAffineMap) {
  Tensor x = random_tensor({3, 2, 4}, DType::f64, -1, 1, 4).requires_grad_();
  const Tensor rm = tensor(std::vector<double>{0.5, -1}), rv = tensor(std::vector<double>{2, 0.25});
  Tensor w = tensor(std::vector<double>{1.5, -2}).requires_grad_();
  Tensor b = tensor(std::vector<double>{0.1, 0.2}).requires_grad_();
  const Tensor g = random_tensor({3, 2, 4}, DType::f64, -1, 1, 5);
  batch_norm(x, rm, rv, w, b, {.eps = 1e-3}).backward(g);
  const Tensor invstd = rsqrt(rv + 1e-3).view({1, 2, 1});
  EXPECT_TRUE(all_close(x.grad(), g * invstd * w.detach().view({1, 2, 1}), {1e-12, 1e-12}));
  EXPECT_TRUE(all_close(w.grad(), sum(g * (x.detach() - rm.view({1, 2, 1})) * invstd, {0, 2}),
                        {1e-12, 1e-12}));
  EXPECT_TRUE(all_close(b.grad(), sum(g, {0, 2}), {1e-12, 1e-12}));
}

TEST(NormGrad, TrainingGradientSumsToZeroPerChannel) {
  // The batch mean removes any shift: sum over each channel of grad_input is 0.
  Tensor x = random_tensor({6, 3, 5}, DType::f32, -1, 3, 6).requires_grad_();
  const Tensor w = random_tensor({3}, DType::f32, 0.5, 1.5, 7);
  batch_norm(x, std::nullopt, std::nullopt, w, std::nullopt, {.training = true})
      .backward(random_tensor({6, 3, 5}, DType::f32, -1, 1, 8));
  for (double s : sum(x.grad(), {0, 2}).to_vector<double>()) EXPECT_NEAR(s, 0, 1e-5);
}

TEST(NormGrad, MixedPrecisionGradientsHaveEachInputsDtype) {
  Tensor x = random_tensor({4, 3, 5}, DType::bf16, -2, 2, 9).requires_grad_();
  Tensor w = ones({3}).requires_grad_();
  Tensor b = zeros({3}).requires_grad_();
  sum(batch_norm(x, std::nullopt, std::nullopt, w, b, {.training = true})).backward();
  EXPECT_EQ(x.grad().dtype(), DType::bf16);
  EXPECT_EQ(w.grad().dtype(), DType::f32);
  EXPECT_EQ(b.grad().dtype(), DType::f32);
  EXPECT_EQ(b.grad().to_vector<float>(), (std::vector<float>{20, 20, 20}));
  Tensor lw = ones({5}).requires_grad_();
  sum(layer_norm(x, {5}, lw)).backward();
  EXPECT_EQ(lw.grad().dtype(), DType::f32);
}

TEST(NormGrad, ParameterGradientsTakeTheParameterShape) {
  // PyTorch checks only the element count of batch_norm's parameters.
  Tensor x = random_tensor({4, 3, 2}, DType::f64, -1, 1, 10);
  Tensor w = ones({1, 3, 1}, DType::f64).requires_grad_();
  Tensor b = zeros({3, 1}, DType::f64).requires_grad_();
  sum(batch_norm(x, std::nullopt, std::nullopt, w, b, {.training = true})).backward();
  EXPECT_EQ(w.grad().shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(b.grad().shape(), (Shape{3, 1}));
}

TEST(NormGrad, SavedInputModifiedInPlace) {
  Tensor x = random_tensor({3, 4}, DType::f64, -1, 1, 11).requires_grad_();
  Tensor h = x * 2.0;
  Tensor y = layer_norm(h, {4});
  h.detach().add_(1);
  expect_error([&] { sum(y * y).backward(); }, {"LayerNormBackward", "modified by an inplace"});
  Tensor h2 = x * 2.0;
  Tensor z = group_norm(h2, 2);
  h2.detach().mul_(3);
  expect_error([&] { sum(z * z).backward(); }, {"GroupNormBackward", "modified by an inplace"});
}

}  // namespace
}  // namespace anvil::testing
