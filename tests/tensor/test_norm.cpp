// Norm ops: forward and backward kernels against the float64 reference over layouts (NCHW,
// channels-last, transposed, strided), odd and zero sizes, batches of one, with and without
// affine parameters and running statistics; running-statistics updates against a float64
// formula; PyTorch's errors.
#include <gtest/gtest.h>

#include <cmath>

#include "common/op_test.h"

namespace anvil {
namespace {

using testing::expect_error;
using testing::Layout;
using testing::OpInfo;
using testing::OpInfoTest;
using testing::random_tensor;
using testing::Sample;
using testing::with_layout;
using In = const std::vector<Tensor>&;

// The same values with the channel dim (1) innermost in memory, as PyTorch's channels_last.
Tensor channels_last(const Tensor& t) {
  return t.movedim(1, -1).contiguous().movedim(-1, 1);
}

// An input shape and the layout its values are stored in.
struct Case {
  Shape shape;
  Layout layout = Layout::contiguous;
  bool channels_last = false;
  // Large enough for several threads (and blocked sums): tested in f32 only, to stay fast; the
  // threading does not depend on the dtype.
  bool large = false;
};

std::string describe(const Case& c) {
  const char* layouts[] = {"contiguous", "transposed", "strided"};
  return shape_str(c.shape) + " " + (c.channels_last ? "channels-last" : layouts[int(c.layout)]);
}

// A sample per case: {x, weight, bias, running_mean, running_var, grad_out}, parameters of
// `param_shape(x shape)`; running_var and weight away from zero.
std::vector<Sample> norm_samples(DType dtype, const std::vector<Case>& cases,
                                 const std::function<Shape(const Shape&)>& param_shape) {
  std::vector<Sample> out;
  uint64_t seed = 11;
  for (const Case& c : cases) {
    if (c.large && dtype != DType::f32) continue;
    const Tensor v = random_tensor(c.shape, dtype, -2, 2, seed++);
    const Tensor x = c.channels_last ? channels_last(v) : with_layout(v, c.layout);
    const Shape p = param_shape(c.shape);
    out.push_back(
        {{x, random_tensor(p, dtype, 0.5, 1.5, seed++), random_tensor(p, dtype, -1, 1, seed++),
          random_tensor(p, dtype, -1, 1, seed++), random_tensor(p, dtype, 0.5, 2, seed++),
          random_tensor(c.shape, dtype, -1, 1, seed++)},
         describe(c)});
  }
  return out;
}

// The flattened gradients of a backward op, one tensor for the comparison.
Tensor joined(std::initializer_list<Tensor> grads, DType dtype) {
  std::vector<Tensor> parts;
  for (const Tensor& g : grads)
    if (g.defined()) parts.push_back(g.reshape({-1}).to(dtype));
  return cat(parts);
}

// ---- batch norm -------------------------------------------------------------------------------

const std::vector<Case>& bn_cases() {
  static const std::vector<Case> cases = {
      {{4, 3}},
      {{4, 3}, Layout::transposed},
      {{5, 4}, Layout::strided},
      {{2, 3, 5}},
      {{2, 3, 4, 5}},
      {{2, 3, 4, 5}, Layout::contiguous, true},
      {{2, 3, 4, 5}, Layout::transposed},
      {{3, 5, 7, 3}, Layout::strided},
      {{1, 3, 5, 5}},
      {{1, 3, 5, 5}, Layout::contiguous, true},
      {{5, 4, 1, 1}},
      {{2, 3, 2, 3, 2}},
      {{0, 3, 4}},
      {{2, 3, 0}},
      {{8, 16, 33, 17}, Layout::contiguous, false, true},
      {{64, 32, 4, 4}, Layout::contiguous, true, true},
  };
  return cases;
}

std::vector<Sample> bn_samples(DType dtype) {
  return norm_samples(dtype, bn_cases(), [](const Shape& s) { return Shape{s[1]}; });
}

// What a batch norm case passes: which of weight/bias and running statistics.
struct BnArgs {
  bool affine = true, running = true, training = true;
};

std::optional<Tensor> opt(bool use, const Tensor& t) {
  return use ? std::optional<Tensor>(t) : std::nullopt;
}

Tensor bn_forward(In in, BnArgs a) {
  // Clones: the update must not touch the sample, whose values the reference run reuses.
  const Tensor rm = in[3].clone(), rv = in[4].clone();
  return batch_norm(in[0], opt(a.running, rm), opt(a.running, rv), opt(a.affine, in[1]),
                    opt(a.affine, in[2]), {.training = a.training, .momentum = 0.3});
}

// The updated running statistics, joined.
Tensor bn_running(In in) {
  const Tensor rm = in[3].clone(), rv = in[4].clone();
  batch_norm(in[0], rm, rv, in[1], in[2], {.training = true, .momentum = 0.25});
  return cat({rm, rv});
}

Tensor bn_backward(In in, BnArgs a) {
  const auto [y, mean, invstd] =
      ops::batch_norm_forward(in[0], opt(a.running, in[3].clone()), opt(a.running, in[4].clone()),
                              opt(a.affine, in[1]), opt(a.affine, in[2]), {.training = a.training});
  const auto [gi, gw, gb] = ops::batch_norm_backward(in[5], in[0], opt(a.affine, in[1]), mean,
                                                     invstd, a.training, {true, true, true});
  return joined({gi, gw, gb}, in[0].dtype());
}

// Training needs more than one value per channel: drop the cases that have one.
std::vector<Sample> bn_train_samples(DType dtype) {
  std::vector<Sample> out;
  for (Sample& s : bn_samples(dtype)) {
    if (s.inputs[0].numel() != s.inputs[0].size(1)) out.push_back(std::move(s));
  }
  return out;
}

// f16/bf16 gradients sum many rounded products: looser than the default for the joined
// gradients.
const testing::Tolerance kBackwardTol{2e-2, 2e-2};

const std::vector<OpInfo>& norm_table() {
  const std::vector<OpId> bn_ref = {OpId::batch_norm_train, OpId::batch_norm_apply,
                                    OpId::batch_norm_backward};
  const std::vector<OpId> ln_ref = {OpId::layer_norm_forward, OpId::layer_norm_backward};
  const std::vector<OpId> gn_ref = {OpId::group_norm_forward, OpId::group_norm_backward};
  const std::vector<OpId> rms_ref = {OpId::rms_norm_forward, OpId::rms_norm_backward};
  static const std::vector<OpInfo> table = [&] {
    std::vector<OpInfo> t = {
        {"batch_norm_train", [](In in) { return bn_forward(in, {}); }, kFloatingTypes,
         bn_train_samples, bn_ref},
        {"batch_norm_train_plain",
         [](In in) {
           return bn_forward(in, {false, false, true});
         },
         kFloatingTypes, bn_train_samples, bn_ref},
        {"batch_norm_running_stats", bn_running, kFloatingTypes, bn_train_samples, bn_ref},
        {"batch_norm_eval",
         [](In in) {
           return bn_forward(in, {true, true, false});
         },
         kFloatingTypes, bn_samples, bn_ref},
        {"batch_norm_eval_plain",
         [](In in) {
           return bn_forward(in, {false, true, false});
         },
         kFloatingTypes, bn_samples, bn_ref},
        {"batch_norm_backward_train", [](In in) { return bn_backward(in, {}); }, kFloatingTypes,
         bn_train_samples, bn_ref, kBackwardTol},
        {"batch_norm_backward_train_plain",
         [](In in) {
           return bn_backward(in, {false, false, true});
         },
         kFloatingTypes, bn_train_samples, bn_ref, kBackwardTol},
        {"batch_norm_backward_eval",
         [](In in) {
           return bn_backward(in, {true, true, false});
         },
         kFloatingTypes, bn_samples, bn_ref, kBackwardTol},
    };
    // ---- layer norm and rms norm: the last `nd` dims are normalized -------------------------
    const std::vector<Case> row_cases = {
        {{5, 7}},
        {{5, 7}, Layout::transposed},
        {{4, 6}, Layout::strided},
        {{2, 3, 4}},
        {{2, 3, 4}, Layout::transposed},
        {{3, 1}},
        {{7}},
        {{0, 4}},
        {{3, 0}},
        {{2, 2500}, Layout::contiguous, false, true},  // rows longer than a summation block
    };
    for (int nd : {1, 2}) {
      std::vector<Case> cases;
      for (const Case& c : row_cases)
        if (static_cast<int>(c.shape.size()) >= nd) cases.push_back(c);
      // Rows for several threads (with two normalized dims, one 77100-element row: too slow for
      // the reference).
      if (nd == 1) cases.push_back({{300, 257}, Layout::contiguous, false, true});
      auto samples = [cases, nd](DType dtype) {
        return norm_samples(dtype, cases,
                            [nd](const Shape& s) { return Shape(s.end() - nd, s.end()); });
      };
      auto ns = [nd](const Tensor& x) { return Shape(x.shape().end() - nd, x.shape().end()); };
      const std::string dims = nd == 1 ? "" : "_2d";
      t.push_back({"layer_norm" + dims,
                   [ns](In in) { return layer_norm(in[0], ns(in[0]), in[1], in[2]); },
                   kFloatingTypes, samples, ln_ref});
      t.push_back(
          {"layer_norm_plain" + dims,
           [ns](In in) { return layer_norm(in[0], ns(in[0]), std::nullopt, std::nullopt, 1e-3); },
           kFloatingTypes, samples, ln_ref});
      t.push_back({"layer_norm_backward" + dims,
                   [ns](In in) {
                     const auto [y, mean, rstd] =
                         ops::layer_norm_forward(in[0], ns(in[0]), in[1], in[2], 1e-5);
                     const auto [gi, gw, gb] = ops::layer_norm_backward(
                         in[5], in[0], ns(in[0]), mean, rstd, in[1], {true, true, true});
                     return joined({gi, gw, gb}, in[0].dtype());
                   },
                   kFloatingTypes, samples, ln_ref, kBackwardTol});
      t.push_back({"layer_norm_backward_plain" + dims,
                   [ns](In in) {
                     const auto [y, mean, rstd] = ops::layer_norm_forward(
                         in[0], ns(in[0]), std::nullopt, std::nullopt, 1e-5);
                     const auto [gi, gw, gb] = ops::layer_norm_backward(
                         in[5], in[0], ns(in[0]), mean, rstd, std::nullopt, {true, false, true});
                     return joined({gi, gw, gb}, in[0].dtype());
                   },
                   kFloatingTypes, samples, ln_ref, kBackwardTol});
      t.push_back({"rms_norm" + dims,
                   [ns](In in) { return rms_norm(in[0], ns(in[0]), in[1], 1e-5); }, kFloatingTypes,
                   samples, rms_ref});
      t.push_back({"rms_norm_plain" + dims,
                   [ns](In in) { return rms_norm(in[0], ns(in[0]), std::nullopt, 1e-2); },
                   kFloatingTypes, samples, rms_ref});
      t.push_back({"rms_norm_backward" + dims,
                   [ns](In in) {
                     const auto [y, rstd] = ops::rms_norm_forward(in[0], ns(in[0]), in[1], 1e-4);
                     const auto [gi, gw] =
                         ops::rms_norm_backward(in[5], in[0], ns(in[0]), rstd, in[1], {true, true});
                     return joined({gi, gw}, in[0].dtype());
                   },
                   kFloatingTypes, samples, rms_ref, kBackwardTol});
    }
    // ---- group norm --------------------------------------------------------------------------
    const std::vector<Case> group_cases = {
        {{2, 6, 5}},
        {{2, 6, 5}, Layout::transposed},
        {{3, 6}},
        {{2, 6, 3, 3}, Layout::contiguous, true},
        {{1, 6, 4, 3}, Layout::strided},
        {{0, 6, 2}},
        {{2, 6, 0}},
        {{4, 24, 17, 9}, Layout::contiguous, false, true},
    };
    auto gn_samples = [group_cases](DType dtype) {
      return norm_samples(dtype, group_cases, [](const Shape& s) { return Shape{s[1]}; });
    };
    for (int groups : {1, 3, 6}) {
      const std::string g = "_g" + std::to_string(groups);
      t.push_back({"group_norm" + g,
                   [groups](In in) { return group_norm(in[0], groups, in[1], in[2]); },
                   kFloatingTypes, gn_samples, gn_ref});
      t.push_back(
          {"group_norm_plain" + g,
           [groups](In in) { return group_norm(in[0], groups, std::nullopt, std::nullopt, 1e-3); },
           kFloatingTypes, gn_samples, gn_ref});
      t.push_back({"group_norm_backward" + g,
                   [groups](In in) {
                     const auto [y, mean, rstd] =
                         ops::group_norm_forward(in[0], groups, in[1], in[2], 1e-5);
                     const auto [gi, gw, gb] = ops::group_norm_backward(
                         in[5], in[0], groups, mean, rstd, in[1], {true, true, true});
                     return joined({gi, gw, gb}, in[0].dtype());
                   },
                   kFloatingTypes, gn_samples, gn_ref, kBackwardTol});
    }
    return t;
  }();
  return table;
}

INSTANTIATE_TEST_SUITE_P(Norm, OpInfoTest, ::testing::ValuesIn(testing::op_cases(norm_table())),
                         testing::op_case_name);

// ---- semantics --------------------------------------------------------------------------------

// Per-channel mean and unbiased variance of x [N, C, S...] in double.
std::pair<std::vector<double>, std::vector<double>> channel_stats(const Tensor& x) {
  const int64_t n = x.size(0), c = x.size(1), s = x.numel() / (n * c);
  const std::vector<double> v = x.contiguous().to_vector<double>();
  std::vector<double> mean(c), var(c);
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < s; ++j) sum += v[(i * c + ch) * s + j];
    mean[ch] = sum / double(n * s);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < s; ++j) sq += std::pow(v[(i * c + ch) * s + j] - mean[ch], 2);
    var[ch] = sq / double(n * s - 1);
  }
  return {mean, var};
}

TEST(NormSemantics, RunningStatisticsFollowTheFloat64Formula) {
  for (double momentum : {0.1, 0.3, 1.0}) {
    const Tensor x = random_tensor({6, 3, 4, 5}, DType::f32, -3, 5, 21);
    const Tensor rm0 = random_tensor({3}, DType::f32, -1, 1, 22);
    const Tensor rv0 = random_tensor({3}, DType::f32, 0.5, 2, 23);
    Tensor rm = rm0.clone(), rv = rv0.clone();
    batch_norm(x, rm, rv, std::nullopt, std::nullopt, {.training = true, .momentum = momentum});
    const auto [mean, var] = channel_stats(x);
    const std::vector<double> m0 = rm0.to_vector<double>(), v0 = rv0.to_vector<double>();
    std::vector<double> em, ev;
    for (int c = 0; c < 3; ++c) {
      em.push_back((1 - momentum) * m0[c] + momentum * mean[c]);
      ev.push_back((1 - momentum) * v0[c] + momentum * var[c]);  // unbiased
    }
    EXPECT_TRUE(testing::all_close(rm, tensor(em), {1e-6, 1e-6})) << "momentum " << momentum;
    EXPECT_TRUE(testing::all_close(rv, tensor(ev), {1e-6, 1e-6})) << "momentum " << momentum;
  }
}

TEST(NormSemantics, RunningStatisticsAreOptionalAndIndependent) {
  const Tensor x = random_tensor({4, 2, 3}, DType::f64, -1, 1, 5);
  Tensor rm = zeros({2}, DType::f64);
  const Tensor y = batch_norm(x, rm, std::nullopt, std::nullopt, std::nullopt, {.training = true});
  const auto [mean, var] = channel_stats(x);
  EXPECT_TRUE(testing::all_close(rm, tensor(std::vector<double>{0.1 * mean[0], 0.1 * mean[1]}),
                                 {1e-12, 1e-12}));
  // Eval needs both; training without any normalizes with the batch statistics alone.
  EXPECT_TRUE(testing::all_close(
      batch_norm(x, std::nullopt, std::nullopt, std::nullopt, std::nullopt, {.training = true}), y,
      {0, 0}));
  // A zero-size batch leaves the running statistics as they are.
  Tensor rv = ones({2}, DType::f64);
  batch_norm(zeros({0, 2, 3}, DType::f64), rm, rv, std::nullopt, std::nullopt, {.training = true});
  EXPECT_EQ(rv.to_vector<double>(), (std::vector<double>{1, 1}));
}

TEST(NormSemantics, EvalUsesTheRunningStatistics) {
  const Tensor x = random_tensor({3, 2, 4}, DType::f64, -1, 1, 6);
  const Tensor rm = tensor(std::vector<double>{0.5, -1}), rv = tensor(std::vector<double>{2, 0.25});
  const Tensor w = tensor(std::vector<double>{1.5, -2}), b = tensor(std::vector<double>{0.1, 0.2});
  const Tensor y = batch_norm(x, rm, rv, w, b, {.eps = 1e-3});
  const Tensor expected =
      (x - rm.view({1, 2, 1})) / (rv.view({1, 2, 1}) + 1e-3).sqrt() * w.view({1, 2, 1}) +
      b.view({1, 2, 1});
  EXPECT_TRUE(testing::all_close(y, expected, {1e-12, 1e-12}));
}

TEST(NormSemantics, ChannelsLastStaysChannelsLast) {
  const Tensor x = channels_last(random_tensor({2, 3, 4, 5}, DType::f32, -1, 1, 7));
  const Tensor y =
      batch_norm(x, std::nullopt, std::nullopt, std::nullopt, std::nullopt, {.training = true});
  EXPECT_EQ(y.strides(), x.strides());
  EXPECT_TRUE(testing::all_close(y,
                                 batch_norm(x.contiguous(), std::nullopt, std::nullopt,
                                            std::nullopt, std::nullopt, {.training = true}),
                                 {1e-6, 1e-6}));
}

TEST(NormSemantics, MixedPrecisionParameters) {
  // bf16 activations with f32 weight, bias and running statistics (autocast-style).
  const Tensor x = random_tensor({4, 3, 5}, DType::bf16, -2, 2, 8);
  const Tensor w = random_tensor({3}, DType::f32, 0.5, 1.5, 9);
  const Tensor b = random_tensor({3}, DType::f32, -1, 1, 10);
  Tensor rm = zeros({3}), rv = ones({3});
  const Tensor y = batch_norm(x, rm, rv, w, b, {.training = true});
  EXPECT_EQ(y.dtype(), DType::bf16);
  EXPECT_EQ(rm.dtype(), DType::f32);
  const Tensor expected =
      batch_norm(x.to(DType::f32), std::nullopt, std::nullopt, w, b, {.training = true});
  EXPECT_TRUE(testing::all_close(y, expected.to(DType::bf16), {1e-2, 1e-2}));
  EXPECT_EQ(layer_norm(x, {5}, ones({5}), zeros({5})).dtype(), DType::bf16);
  EXPECT_EQ(group_norm(x, 3, w, b).dtype(), DType::bf16);
  EXPECT_EQ(rms_norm(x, {5}, ones({5})).dtype(), DType::bf16);
}

TEST(NormSemantics, RmsNormDefaultEpsIsTheDtypeEpsilon) {
  // Small values make eps matter: mean(x^2) = 1e-4 next to bf16's eps 2^-7.
  const Tensor x = full({2, 4}, 0.01);
  EXPECT_TRUE(testing::all_close(rms_norm(x, {4}),
                                 rms_norm(x, {4}, std::nullopt, 1.1920928955078125e-07), {0, 0}));
  const Tensor xb = x.to(DType::bf16);
  const double expected = 0.01 / std::sqrt(1e-4 + 0.0078125);
  EXPECT_NEAR(rms_norm(xb, {4}).to_vector<double>()[0], expected, expected * 1e-2);
  const Tensor xd = x.to(DType::f64);
  EXPECT_NEAR(rms_norm(xd, {4}).to_vector<double>()[0], 0.01 / std::sqrt(1e-4 + 0x1p-52), 1e-15);
}

TEST(NormSemantics, LayerNormOfAConstantRowIsTheBias) {
  const Tensor x = full({3, 4}, 2.5);
  const Tensor b = tensor(std::vector<float>{1, 2, 3, 4});
  const Tensor y = layer_norm(x, {4}, ones({4}), b);
  for (int r = 0; r < 3; ++r) EXPECT_TRUE(testing::all_close(y[r], b, {1e-6, 1e-6}));
}

TEST(NormSemantics, LargeOutputsMatchTheFormula) {
  // Outputs over 16 MiB are written with non-temporal stores; odd row lengths start rows at
  // unaligned addresses.
  Generator gen(12);
  const Tensor x = randn({4, 64, 129, 129}, {}, &gen), g = randn({4, 64, 129, 129}, {}, &gen);
  const Tensor w = random_tensor({64}, DType::f32, 0.5, 1.5, 14).view({1, 64, 1, 1});
  const std::vector<int64_t> dims = {0, 2, 3};
  const auto [y, mean, invstd] = ops::batch_norm_forward(
      x, std::nullopt, std::nullopt, w.view({64}), std::nullopt, {.training = true});
  const Tensor is = rsqrt(var(x, dims, 0, true) + 1e-5);
  const Tensor xhat = (x - x.mean(dims, true)) * is;
  EXPECT_TRUE(testing::all_close(y, xhat * w, {1e-4, 1e-4}));
  const Tensor gi = std::get<0>(
      ops::batch_norm_backward(g, x, w.view({64}), mean, invstd, true, {true, false, false}));
  const Tensor expected = (g - g.mean(dims, true) - xhat * (g * xhat).mean(dims, true)) * is * w;
  EXPECT_TRUE(testing::all_close(gi, expected, {1e-4, 1e-4}));
  const Tensor rows = randn({4100, 1025}, {}, &gen);
  const Tensor ln = layer_norm(rows, {1025});
  EXPECT_TRUE(testing::all_close(
      ln, (rows - rows.mean({1}, true)) * rsqrt(var(rows, {1}, 0, true) + 1e-5), {1e-4, 1e-4}));
}

// ---- errors -----------------------------------------------------------------------------------

TEST(NormErrors, BatchNorm) {
  const Tensor x = zeros({2, 3});
  const Tensor c3 = zeros({3}), c4 = zeros({4});
  expect_error(
      [&] {
        batch_norm(zeros({1, 3}), c3, c3, std::nullopt, std::nullopt, {.training = true});
      },
      {"batch_norm", "Expected more than 1 value per channel when training",
       "got input size [1,3]"});
  expect_error(
      [&] {
        batch_norm(zeros({1, 3, 1, 1}), std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                   {.training = true});
      },
      {"Expected more than 1 value per channel when training", "[1,3,1,1]"});
  expect_error([&] { batch_norm(x, c4, c3); },
               {"batch_norm", "running_mean should contain 3 elements not 4", "[2,3] (f32, cpu)"});
  expect_error([&] { batch_norm(x, c3, c3, c4); },
               {"batch_norm", "weight should contain 3 elements not 4"});
  expect_error([&] { batch_norm(x, std::nullopt, std::nullopt); },
               {"batch_norm", "running_mean must be defined in evaluation mode"});
  expect_error([&] { batch_norm(x, c3, std::nullopt); },
               {"batch_norm", "running_var must be defined in evaluation mode"});
  expect_error([&] { batch_norm(x, c3, c3, zeros({3}, DType::f64)); },
               {"batch_norm", "expected weight to have the input's dtype f32", "[3] (f64, cpu)"});
  expect_error(
      [&] {
        batch_norm(zeros({2, 3}, DType::i64), c3, c3);
      },
      {"batch_norm", "expected a floating point input", "[2,3] (i64, cpu)"});
  expect_error([&] { batch_norm(zeros({3}), c3, c3); },
               {"batch_norm", "at least 2 dims", "[3] (f32, cpu)"});
  expect_error(
      [&] {
        ops::batch_norm_backward(zeros({2, 4}), x, std::nullopt, c3, c3, true, {true, true, true});
      },
      {"batch_norm_backward", "grad_out", "[2,4] (f32, cpu)", "[2,3] (f32, cpu)"});
}

TEST(NormErrors, LayerAndRmsNorm) {
  const Tensor x = zeros({2, 3});
  expect_error([&] { layer_norm(x, {4}); },
               {"layer_norm", "Given normalized_shape=[4], expected input with shape [*, 4]",
                "[2,3] (f32, cpu)"});
  expect_error([&] { layer_norm(x, {2, 4}); }, {"layer_norm", "[*, 2,4]"});
  expect_error([&] { layer_norm(x, {}); },
               {"layer_norm", "Expected normalized_shape to be at least 1-dimensional"});
  expect_error([&] { layer_norm(x, {3}, zeros({4})); },
               {"layer_norm", "Expected weight to be of same shape as normalized_shape",
                "[4] (f32, cpu)", "normalized_shape = [3]"});
  expect_error([&] { layer_norm(x, {3}, zeros({3}), zeros({2})); },
               {"layer_norm", "Expected bias to be of same shape"});
  expect_error([&] { layer_norm(x, {3}, zeros({3}, DType::f64)); },
               {"layer_norm", "expected weight to have the input's dtype f32"});
  expect_error([&] { rms_norm(x, {4}); }, {"rms_norm", "expected input with shape [*, 4]"});
  expect_error([&] { rms_norm(x, {3}, zeros({2})); },
               {"rms_norm", "Expected weight to be of same shape as normalized_shape"});
}

TEST(NormErrors, GroupNorm) {
  expect_error(
      [&] {
        group_norm(zeros({2, 6, 4}), 4);
      },
      {"group_norm", "divisible by num_groups", "[2,6,4] (f32, cpu)", "num_groups=4"});
  expect_error(
      [&] {
        group_norm(zeros({2, 6, 4}), 3, zeros({5}));
      },
      {"group_norm", "Expected weight to be a vector of size equal to the number of channels",
       "[5] (f32, cpu)"});
  expect_error([&] { group_norm(zeros({6}), 3); },
               {"group_norm", "Expected at least 2 dimensions", "[6] (f32, cpu)"});
  expect_error([&] { group_norm(zeros({2, 6}), 0); }, {"group_norm", "num_groups > 0"});
  expect_error(
      [&] {
        group_norm(zeros({1, 6, 1}), 6);
      },
      {"group_norm", "Expected more than 1 value per channel", "[1,6,1]"});
}

}  // namespace
}  // namespace anvil
