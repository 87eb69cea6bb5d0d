// Derivatives of the losses: a gradcheck table over every loss, reduction and option (class
// weights, ignored targets, label smoothing, probability targets and their gradient, K-dim and
// unbatched logits, broadcast elementwise operands, weights and pos_weight), and plain tests for
// what a table cannot show (constant weights, saved-tensor versions, dtypes, the fused backward
// against log_softmax + nll_loss).
#include "autograd/autograd.h"
#include "autograd/gradcheck.h"
#include "grad_test.h"

namespace anvil::testing {
namespace {

using Outs = std::vector<Tensor>;
using In = const std::vector<Tensor>&;

GradCase one(std::string name, std::function<Tensor(const Tensor&)> f, Shape shape, double lo = -2,
             double hi = 2) {
  return {std::move(name), [f](In in) -> Outs { return {f(in[0])}; }, {std::move(shape)}, lo, hi};
}

GradCase two(std::string name, std::function<Tensor(const Tensor&, const Tensor&)> f, Shape a,
             Shape b, double lo = -2, double hi = 2) {
  return {std::move(name),
          [f](In in) -> Outs { return {f(in[0], in[1])}; },
          {std::move(a), std::move(b)},
          lo,
          hi};
}

Tensor f64(const std::vector<double>& v, const Shape& shape) {
  return tensor<double>(v, shape);
}

// Targets of [4, 5] logits: one ignored (-100), one at class 1 (ignored with ignore_index 1).
Tensor targets4() {
  return tensor<int64_t>({1, -100, 4, 0});
}
Tensor weights5() {
  return f64({0.5, 2.0, 1.0, 1.5, 0.8}, {5});
}

const std::vector<GradCase>& table() {
  static const Tensor t = targets4(), w = weights5();
  static const Tensor t_kdim = tensor<int64_t>({0, 2, -100, 1, 1, 0, 2, 2}, {2, 4});
  static const Tensor w4 = f64({1.5, 0.5, 2.0, 1.0}, {4});
  static const std::vector<GradCase> cases = {
      // cross_entropy, class indices
      one("ce_mean", [](const Tensor& x) { return cross_entropy(x, t); }, {4, 5}),
      one("ce_sum",
          [](const Tensor& x) { return cross_entropy(x, t, {.reduction = Reduction::sum}); },
          {4, 5}),
      one("ce_none",
          [](const Tensor& x) { return cross_entropy(x, t, {.reduction = Reduction::none}); },
          {4, 5}),
      one("ce_weight", [](const Tensor& x) { return cross_entropy(x, t, {.weight = w}); }, {4, 5}),
      one("ce_smoothing",
          [](const Tensor& x) { return cross_entropy(x, t, {.label_smoothing = 0.25}); }, {4, 5}),
      one("ce_weight_smoothing_none",
          [](const Tensor& x) {
            return cross_entropy(
                x, t, {.weight = w, .reduction = Reduction::none, .label_smoothing = 0.3});
          },
          {4, 5}),
      one("ce_weight_smoothing_sum",
          [](const Tensor& x) {
            return cross_entropy(
                x, t, {.weight = w, .reduction = Reduction::sum, .label_smoothing = 0.3});
          },
          {4, 5}),
      one("ce_ignore_class_weight_smoothing",
          [](const Tensor& x) {
            return cross_entropy(x, t.clamp(0),
                                 {.weight = w, .ignore_index = 1, .label_smoothing = 0.1});
          },
          {4, 5}),
      one("ce_kdim",
          [](const Tensor& x) {
            return cross_entropy(x, t_kdim, {.weight = w4, .label_smoothing = 0.2});
          },
          {2, 4, 4}),
      one("ce_unbatched",
          [](const Tensor& x) {
            return cross_entropy(x, scalar_tensor(3, DType::i64), {.label_smoothing = 0.2});
          },
          {5}),
      // cross_entropy, class probabilities: the gradient of both
      two(
          "ce_probs", [](const Tensor& x, const Tensor& y) { return cross_entropy(x, y); }, {3, 4},
          {3, 4}, 0, 1),
      two(
          "ce_probs_weight_smoothing_none",
          [](const Tensor& x, const Tensor& y) {
            return cross_entropy(
                x, y, {.weight = w4, .reduction = Reduction::none, .label_smoothing = 0.2});
          },
          {3, 4}, {3, 4}, 0, 1),
      two(
          "ce_probs_sum_kdim",
          [](const Tensor& x, const Tensor& y) {
            return cross_entropy(x, y, {.weight = w4, .reduction = Reduction::sum});
          },
          {2, 4, 3}, {2, 4, 3}, 0, 1),
      // nll_loss
      one("nll_mean", [](const Tensor& x) { return nll_loss(x, t); }, {4, 5}),
      one("nll_weight_sum",
          [](const Tensor& x) {
            return nll_loss(x, t, {.weight = w, .reduction = Reduction::sum});
          },
          {4, 5}),
      one("nll_weight_none",
          [](const Tensor& x) {
            return nll_loss(x, t, {.weight = w, .reduction = Reduction::none});
          },
          {4, 5}),
      one("nll_kdim", [](const Tensor& x) { return nll_loss(x, t_kdim, {.weight = w4}); },
          {2, 4, 4}),
      // difference losses: both operands, broadcasting
      two("mse", [](const Tensor& a, const Tensor& b) { return mse_loss(a, b); }, {3, 4}, {3, 4}),
      two("mse_broadcast_sum",
          [](const Tensor& a, const Tensor& b) { return mse_loss(a, b, Reduction::sum); }, {3, 1},
          {4}),
      two("mse_none",
          [](const Tensor& a, const Tensor& b) { return mse_loss(a, b, Reduction::none); }, {2, 3},
          {2, 3}),
      two("l1", [](const Tensor& a, const Tensor& b) { return l1_loss(a, b); }, {3, 4}, {3, 4}),
      two("l1_broadcast_none",
          [](const Tensor& a, const Tensor& b) { return l1_loss(a, b, Reduction::none); }, {3, 1},
          {1, 4}),
      two("smooth_l1", [](const Tensor& a, const Tensor& b) { return smooth_l1_loss(a, b); },
          {3, 4}, {3, 4}),
      two("smooth_l1_beta_sum",
          [](const Tensor& a, const Tensor& b) {
            return smooth_l1_loss(a, b, Reduction::sum, 0.6);
          },
          {4, 3}, {3}),
      two("huber", [](const Tensor& a, const Tensor& b) { return huber_loss(a, b); }, {3, 4},
          {3, 4}),
      two("huber_delta_none",
          [](const Tensor& a, const Tensor& b) { return huber_loss(a, b, Reduction::none, 0.7); },
          {2, 3}, {2, 3}),
      two("mse_0d", [](const Tensor& a, const Tensor& b) { return mse_loss(a, b); }, {}, {}),
      // binary cross-entropy: input and target
      two(
          "bce", [](const Tensor& x, const Tensor& y) { return binary_cross_entropy(x, y); },
          {3, 4}, {3, 4}, 0.1, 0.9),
      two(
          "bce_weight_none",
          [](const Tensor& x, const Tensor& y) {
            return binary_cross_entropy(x, y, {.weight = w4, .reduction = Reduction::none});
          },
          {3, 4}, {3, 4}, 0.1, 0.9),
      two("bce_logits",
          [](const Tensor& x, const Tensor& y) { return binary_cross_entropy_with_logits(x, y); },
          {3, 4}, {3, 4}),
      two("bce_logits_weights_sum",
          [](const Tensor& x, const Tensor& y) {
            return binary_cross_entropy_with_logits(
                x, y, {.weight = w4, .reduction = Reduction::sum, .pos_weight = w4 * 1.5});
          },
          {3, 4}, {3, 4}),
      two("bce_logits_pos_weight_none",
          [](const Tensor& x, const Tensor& y) {
            return binary_cross_entropy_with_logits(
                x, y, {.reduction = Reduction::none, .pos_weight = w4});
          },
          {2, 4}, {2, 4}),
  };
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Loss, GradTest, ::testing::ValuesIn(grad_cases(table())), grad_case_name);

TEST(LossGrad, FusedBackwardMatchesLogSoftmaxNll) {
  const Tensor x0 = random_tensor({6, 7}, DType::f64, -3, 3, 3);
  const Tensor t = tensor<int64_t>({0, 6, 3, -100, 2, 2});
  const Tensor w = random_tensor({7}, DType::f64, 0.5, 2, 4);
  Tensor a = x0.clone().requires_grad_(), b = x0.clone().requires_grad_();
  const Tensor la = cross_entropy(a, t, {.weight = w});
  const Tensor lb = nll_loss(log_softmax(b, 1), t, {.weight = w});
  EXPECT_NEAR(la.item<double>(), lb.item<double>(), 1e-12);
  la.backward();
  lb.backward();
  EXPECT_TRUE(all_close(a.grad(), b.grad(), {1e-12, 1e-12}));
  EXPECT_EQ(la.grad_fn_name(), "CrossEntropyBackward");
  EXPECT_EQ(lb.grad_fn_name(), "NllLossBackward");
}

TEST(LossGrad, WeightsAreConstants) {
  const Tensor x = random_tensor({3, 4}, DType::f64, -1, 1, 5).requires_grad_();
  const Tensor w = ones({4}, DType::f64).requires_grad_();
  Tensor loss = cross_entropy(x, tensor<int64_t>({0, 1, 2}), {.weight = w});
  try {
    loss.backward();
    ADD_FAILURE() << "expected an error for a weight that requires grad";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("derivative for weight"), std::string::npos) << e.what();
  }
  const Tensor pw = ones({4}, DType::f64).requires_grad_();
  expect_error(
      [&] { binary_cross_entropy_with_logits(x, x.detach(), {.pos_weight = pw}).backward(); },
      {"BinaryCrossEntropyWithLogitsBackward", "pos_weight"});
}

TEST(LossGrad, TargetsAndOutputs) {
  const Tensor x = random_tensor({3, 4}, DType::f64, -1, 1, 6).requires_grad_();
  const Tensor t = tensor<int64_t>({0, 1, 2});
  const Tensor loss = cross_entropy(x, t);
  EXPECT_TRUE(loss.requires_grad());
  // A target alone that needs no grad records nothing.
  const Tensor y = rand({3, 4}, DType::f64);
  EXPECT_FALSE(mse_loss(y, y).requires_grad());
  // The difference losses differentiate their target too, as PyTorch.
  const Tensor a = random_tensor({3, 1}, DType::f64, -1, 1, 7).requires_grad_();
  const Tensor b = random_tensor({4}, DType::f64, -1, 1, 8).requires_grad_();
  mse_loss(a, b).backward();
  EXPECT_EQ(a.grad().shape(), (Shape{3, 1}));
  EXPECT_EQ(b.grad().shape(), (Shape{4}));
}

TEST(LossGrad, MixedDtypes) {
  // f32 logits with f64 probabilities: the loss is f64, each gradient in its input's dtype.
  const Tensor x = randn({3, 4}).requires_grad_();
  const Tensor y = rand({3, 4}, DType::f64).requires_grad_();
  const Tensor loss = cross_entropy(x, y, {.label_smoothing = 0.1});
  EXPECT_EQ(loss.dtype(), DType::f64);
  loss.backward();
  EXPECT_EQ(x.grad().dtype(), DType::f32);
  EXPECT_EQ(y.grad().dtype(), DType::f64);
  // bf16 logits: the gradient is bf16 and close to the f64 one.
  const Tensor xb = randn({5, 6}).to(DType::bf16).requires_grad_();
  const Tensor xd = xb.detach().to(DType::f64).requires_grad_();
  const Tensor t = tensor<int64_t>({0, 5, 2, 3, 1});
  cross_entropy(xb, t).backward();
  cross_entropy(xd, t).backward();
  EXPECT_EQ(xb.grad().dtype(), DType::bf16);
  EXPECT_TRUE(all_close(xb.grad(), xd.grad(), {2e-2, 2e-3}));
}

TEST(LossGrad, SavedLogitsModifiedInPlace) {
  const Tensor leaf = random_tensor({3, 4}, DType::f64, -1, 1, 9).requires_grad_();
  Tensor x = leaf * 1.0;
  const Tensor loss = cross_entropy(x, tensor<int64_t>({0, 1, 2}));
  x.mul_(2.0);
  expect_error([&] { loss.backward(); }, {"CrossEntropyBackward"});
}

}  // namespace
}  // namespace anvil::testing
