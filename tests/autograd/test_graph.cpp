// Graph cases over the real ops (test_autograd.cpp covers the engine with its own small test ops):
// shared inputs, diamonds, explicit grad_outputs, accumulation, retain_graph, no_grad, detach,
// hooks, checkpointing, anomaly mode, in-place checks and memory release.
#include <gtest/gtest.h>

#include <cmath>

#include "anvil.h"
#include "common/op_test.h"

namespace anvil {
namespace {

using testing::expect_error;

Tensor leaf(std::vector<double> v) {
  return tensor<double>(v).requires_grad_();
}
std::vector<double> values(const Tensor& t) {
  return t.to_vector<double>();
}
void expect_near(const std::vector<double>& a, const std::vector<double>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-12) << "element " << i;
}

TEST(Graph, TensorUsedTwiceAndDiamond) {
  Tensor x = leaf({0.5, -1.0, 2.0});
  Tensor a = x * x;   // x used twice
  Tensor b = exp(x);  // diamond: a and b both come from x and meet in c
  Tensor c = (a + b * a).sum();
  c.backward();
  std::vector<double> want;
  for (double v : {0.5, -1.0, 2.0}) {
    want.push_back(2 * v + std::exp(v) * v * v + std::exp(v) * 2 * v);
  }
  expect_near(values(x.grad()), want);
}

TEST(Graph, NonScalarOutputWithAnExplicitGradOutput) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = x * 2;
  expect_error([&] { y.backward(); }, {"backward"});
  y.backward(tensor<double>({1, 10, 100}));
  expect_near(values(x.grad()), {2, 20, 200});
}

TEST(Graph, AccumulatesOverBackwardCallsAndRetainsTheGraph) {
  Tensor x = leaf({1, 2});
  Tensor loss = (x * x).sum();
  loss.backward({}, /*retain_graph=*/true);
  loss.backward();
  expect_near(values(x.grad()), {4, 8});
  expect_error([&] { loss.backward(); }, {"second time"});
  (x * 3).sum().backward();
  expect_near(values(x.grad()), {7, 11});
}

TEST(Graph, NoGradAndDetachStopGradients) {
  Tensor x = leaf({1, 2});
  {
    NoGradGuard no_grad;
    EXPECT_FALSE((x * 2).requires_grad());
    EXPECT_FALSE(matmul(x, x).requires_grad());
  }
  Tensor y = x * x.detach() + x;
  y.sum().backward();
  expect_near(values(x.grad()), {2, 3});
}

TEST(Graph, IntegerResultsNeverRequireGrad) {
  Tensor x = leaf({1.5, -2.5, 3.0});
  EXPECT_FALSE(argmax(x).requires_grad());
  EXPECT_FALSE(gt(x, 0).requires_grad());
  EXPECT_FALSE(x.to(DType::i64).requires_grad());
  EXPECT_FALSE(max(x, 0, false).second.requires_grad());
  EXPECT_TRUE(max(x, 0, false).first.requires_grad());
}

TEST(Graph, HooksOnIntermediateGradients) {
  Tensor x = leaf({1, 2});
  Tensor y = x * 3;
  y.register_hook([](const Tensor& g) { return g * 10; });
  y.retain_grad();
  y.sum().backward();
  expect_near(values(y.grad()), {10, 10});
  expect_near(values(x.grad()), {30, 30});
}

TEST(Graph, CheckpointEqualsThePlainRunWithRandomNumbers) {
  const auto block = [](const std::vector<Tensor>& in) {
    const Tensor h = tanh(matmul(in[0], in[1]));
    const Tensor keep = gt(rand_like(h), 0.3).to(h.dtype());  // dropout-style mask
    return std::vector<Tensor>{h * keep};
  };
  Tensor x = testing::random_tensor({4, 3}, DType::f64).requires_grad_();
  Tensor w = testing::random_tensor({3, 5}, DType::f64, -1, 1, 7).requires_grad_();
  manual_seed(42);
  block({x, w})[0].square().sum().backward();
  const std::vector<double> gx = values(x.grad()), gw = values(w.grad());
  x.set_grad({});
  w.set_grad({});
  manual_seed(42);
  autograd::checkpoint(block, {x, w})[0].square().sum().backward();
  expect_near(values(x.grad()), gx);
  expect_near(values(w.grad()), gw);
}

TEST(Graph, AnomalyModeNamesTheOpWhoseBackwardMadeAnInf) {
  Tensor x = leaf({0.0, 1.0});
  autograd::DetectAnomalyGuard anomaly;
  Tensor y = sqrt(x).sum();
  expect_error([&] { y.backward(); }, {"Sqrt"});
}

TEST(Graph, ModifyingASavedTensorInPlaceIsReported) {
  Tensor x = leaf({1, 2});
  Tensor y = exp(x);  // saves its output
  Tensor z = (y * 2).sum();
  y.add_(1);
  expect_error([&] { z.backward(); }, {"modified by an inplace operation", "version"});
}

TEST(Graph, InPlaceOpsOnNonLeavesRecord) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = x * 2;
  y.mul_(x);     // y = 2x^2
  y.add_(x, 3);  // y = 2x^2 + 3x
  y.relu_();
  y.sum().backward();
  expect_near(values(x.grad()), {7, 11, 15});
  expect_error([&] { x.add_(1); }, {"add_", "leaf"});
}

int64_t allocated() {
  return memory_stats(Device::cpu()).allocated;
}

TEST(Graph, SavedTensorsAreReleasedAfterBackward) {
  Tensor x = testing::random_tensor({256, 256}, DType::f64).requires_grad_();
  const int64_t before = allocated();
  Tensor loss = (exp(x) * tanh(x)).sum();  // saves exp(x) and tanh(x) (and the inputs of mul)
  EXPECT_GE(allocated() - before, 2 * 256 * 256 * 8);
  loss.backward();
  loss = Tensor();
  // What remains is x's gradient.
  EXPECT_LE(allocated() - before, 256 * 256 * 8 + 4096);
}

}  // namespace
}  // namespace anvil
