// The autograd core: graph cases, grad mode, hooks, saved-tensor checks, anomaly mode,
// checkpointing, gradcheck and memory, over the small test ops of test_ops.h.
#include <gtest/gtest.h>

#include "autograd/autograd.h"
#include "common/op_test.h"
#include "test_ops.h"

namespace anvil {
namespace {

using testing::expect_error;

Tensor leaf(const std::vector<double>& values, const Shape& shape) {
  return tensor<double>(values, shape).requires_grad_();
}
Tensor leaf(const std::vector<double>& values) {
  return leaf(values, {static_cast<int64_t>(values.size())});
}
std::vector<double> values(const Tensor& t) {
  return t.to_vector<double>();
}

TEST(Autograd, RecordsNodesOnlyWhenAnInputRequiresGrad) {
  Tensor x = leaf({1, 2, 3});
  Tensor c = tensor<double>({4, 5, 6});
  EXPECT_TRUE(x.requires_grad());
  EXPECT_TRUE(x.is_leaf());
  EXPECT_FALSE(c.requires_grad());

  Tensor y = testing::mul(x, c);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_FALSE(y.is_leaf());
  EXPECT_EQ(y.grad_fn_name(), "MulBackward");
  ASSERT_EQ(y.grad_fn()->num_outputs(), 2u);
  EXPECT_EQ(y.grad_fn()->next_edge(0).fn->name(), "AccumulateGrad");
  EXPECT_FALSE(y.grad_fn()->next_edge(1).valid());  // c needs no gradient

  Tensor z = testing::mul(c, c);
  EXPECT_FALSE(z.requires_grad());
  EXPECT_EQ(z.grad_fn(), nullptr);
  EXPECT_EQ(z.grad_fn_name(), "");

  // Integer and bool outputs never require grad.
  Tensor r = testing::round_to_int(x);
  EXPECT_EQ(r.dtype(), DType::i64);
  EXPECT_FALSE(r.requires_grad());
  EXPECT_TRUE(r.is_leaf());

  // Later nodes get later sequence numbers: the tape order.
  EXPECT_LT(y.grad_fn()->sequence_nr(), testing::scale(y, 2).grad_fn()->sequence_nr());
}

TEST(Autograd, RequiresGradFlags) {
  Tensor x = tensor<double>({1, 2});
  x.requires_grad_();
  EXPECT_TRUE(x.requires_grad());
  x.requires_grad_(false);
  EXPECT_FALSE(x.requires_grad());
  expect_error(
      [] {
        tensor<int64_t>({1, 2}).requires_grad_();
      },
      {"requires_grad_", "floating point", "[2] (i64, cpu)"});
  Tensor y = testing::scale(leaf({1, 2}), 3);
  y.requires_grad_(true);  // a non-leaf already requires grad
  expect_error([&] { y.requires_grad_(false); }, {"leaf", "ScaleBackward", "detach()"});
  // Switching it off on an integer tensor is allowed (it never was on).
  EXPECT_NO_THROW(tensor<int64_t>({1}).requires_grad_(false));
}

TEST(Autograd, BackwardThroughAChain) {
  Tensor x = leaf({1, 2, 3});
  Tensor loss = testing::sum(testing::exp(testing::scale(x, 2)));
  loss.backward();
  const std::vector<double> g = values(x.grad());
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(g[i], 2 * std::exp(2.0 * (i + 1)), 1e-9);
  EXPECT_FALSE(loss.grad().defined());  // non-leaf, not retained
}

TEST(Autograd, TensorUsedTwiceSumsItsGradients) {
  Tensor x = leaf({1, -2, 3});
  testing::sum(testing::mul(x, x)).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{2, -4, 6}));
}

TEST(Autograd, DiamondGraph) {
  // x -> a = 2x, b = 3x -> c = a * b = 6x^2 -> dc/dx = 12x; a also feeds the loss directly.
  Tensor x = leaf({1, 2});
  Tensor a = testing::scale(x, 2);
  Tensor b = testing::scale(x, 3);
  Tensor loss = testing::sum(testing::add(testing::mul(a, b), a));
  loss.backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{12 * 1 + 2, 12 * 2 + 2}));
}

TEST(Autograd, NodesRunInReverseTapeOrder) {
  Tensor x = leaf({1});
  Tensor a = testing::scale(x, 2);
  Tensor b = testing::scale(x, 3);
  Tensor c = testing::add(testing::scale(a, 1), b);
  std::vector<std::string> order;
  for (const Tensor& t : {a, b, c}) {
    t.grad_fn()->add_pre_hook([&order, name = t.grad_fn()->sequence_nr()](std::vector<Tensor>&) {
      order.push_back(std::to_string(name));
    });
  }
  testing::sum(c).backward();
  EXPECT_EQ(order, (std::vector<std::string>{std::to_string(c.grad_fn()->sequence_nr()),
                                             std::to_string(b.grad_fn()->sequence_nr()),
                                             std::to_string(a.grad_fn()->sequence_nr())}));
}

TEST(Autograd, BackwardFromSeveralRootsAndNodePostHooks) {
  Tensor x = leaf({1, 2});
  Tensor y = testing::scale(x, 2);
  Tensor z = testing::scale(y, 3);  // z depends on y: y's node waits for z's
  z.grad_fn()->add_post_hook([](std::vector<Tensor>& grad_inputs, const std::vector<Tensor>& g) {
    EXPECT_EQ(values(g[0]), (std::vector<double>{1, 1}));
    grad_inputs[0] = testing::scale(grad_inputs[0], 10);
  });
  autograd::backward({y, z}, {ones({2}, DType::f64), ones({2}, DType::f64)});
  EXPECT_EQ(values(x.grad()), (std::vector<double>{2 * (1 + 30), 2 * (1 + 30)}));
  expect_error(
      [&] {
        autograd::backward({y, z}, {ones({2}, DType::f64)});
      },
      {"backward", "1 grad_outputs for 2 outputs"});
}

TEST(Autograd, RecordingAnInputAsAnOutputIsABug) {
  Tensor x = leaf({1});
  EXPECT_THROW(autograd::record<testing::ScaleBackward>({x}, {x}, 1.0), InternalError);
  EXPECT_TRUE(x.is_leaf());
}

TEST(Autograd, DeepGraphsRunAndFreeWithoutRecursion) {
  Tensor x = leaf({1});
  std::weak_ptr<autograd::Node> first;
  {
    Tensor y = x;
    for (int i = 0; i < 200000; ++i) {
      y = testing::scale(y, 1);
      if (i == 0) first = y.grad_fn();
    }
    y.backward({}, true);
    EXPECT_EQ(values(x.grad()), (std::vector<double>{1}));
  }
  EXPECT_TRUE(first.expired());
}

TEST(Autograd, NonScalarOutputsNeedAnExplicitGradOutput) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = testing::mul(x, x);
  expect_error([&] { y.backward(); },
               {"grad can be implicitly created only for scalar outputs", "[2,3] (f64, cpu)"});
  expect_error([&] { y.backward(ones({3})); }, {"grad_output", "[3]", "[2,3]"});
  y.backward(tensor<double>({1, 0, 1, 0, 1, 0}, {2, 3}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{2, 0, 6, 0, 10, 0}));
  // A grad_output of another floating dtype is converted.
  Tensor x2 = leaf({1, 2});
  testing::scale(x2, 3).backward(ones({2}, DType::f32));
  EXPECT_EQ(x2.grad().dtype(), DType::f64);
  EXPECT_EQ(values(x2.grad()), (std::vector<double>{3, 3}));
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCallsIntoNewTensors) {
  Tensor x = leaf({1, 2});
  Tensor loss = testing::sum(testing::mul(x, x));
  loss.backward({}, /*retain_graph=*/true);
  const Tensor first = x.grad();
  EXPECT_EQ(values(first), (std::vector<double>{2, 4}));
  loss.backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{4, 8}));
  EXPECT_EQ(values(first), (std::vector<double>{2, 4}));  // the held tensor was not changed
  EXPECT_FALSE(first.shares_storage(x.grad()));
  // zero_grad as optimizers do it.
  x.mutable_grad().zero_();
  testing::sum(testing::scale(x, 5)).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{5, 5}));
  x.set_grad(Tensor());
  EXPECT_FALSE(x.grad().defined());
  expect_error([&] { x.set_grad(zeros({3}, DType::f64)); }, {"set_grad", "[3]", "[2]"});
}

TEST(Autograd, SecondBackwardWithoutRetainGraphIsAnError) {
  Tensor x = leaf({1, 2});
  Tensor loss = testing::sum(testing::mul(x, x));
  loss.backward();
  expect_error([&] { loss.backward(); },
               {"MulBackward", "backward through the graph a second time", "retain_graph=true"});
}

TEST(Autograd, NoGradRegionsRecordNothing) {
  Tensor x = leaf({1, 2});
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(GradMode::is_enabled());
    Tensor y = testing::mul(x, x);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_TRUE(y.is_leaf());
    {
      EnableGradGuard enable;
      EXPECT_TRUE(testing::mul(x, x).requires_grad());
    }
    EXPECT_FALSE(GradMode::is_enabled());
  }
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_TRUE(testing::mul(x, x).requires_grad());
}

TEST(Autograd, DetachSharesDataButNotHistory) {
  Tensor x = leaf({1, 2});
  Tensor y = testing::scale(x, 2);
  Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_TRUE(d.shares_storage(y));
  d.fill_(7);
  EXPECT_EQ(y.version(), d.version());
  EXPECT_EQ(values(y), (std::vector<double>{7, 7}));
  EXPECT_FALSE(testing::mul(d, d).requires_grad());
  // A gradient through a detached use stops there.
  Tensor loss = testing::sum(testing::add(testing::scale(x, 3), testing::mul(x.detach(), d)));
  loss.backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{3, 3}));
}

TEST(Autograd, MultiOutputNodeWithOneOutputUnused) {
  Tensor x = leaf({1, 2});
  std::vector<Tensor> ys = testing::twice(x);
  EXPECT_EQ(ys[0].grad_fn(), ys[1].grad_fn());
  testing::sum(ys[1]).backward();  // the first output's gradient is missing: zero
  EXPECT_EQ(values(x.grad()), (std::vector<double>{2, 2}));
}

TEST(Autograd, FunctionalGradLeavesDotGradAlone) {
  Tensor x = leaf({1, 2});
  Tensor w = leaf({3, 4});
  Tensor unused = leaf({0});
  Tensor h = testing::mul(x, w);
  Tensor loss = testing::sum(testing::mul(h, h));  // sum (x w)^2
  std::vector<Tensor> g = autograd::grad({loss}, {x, h}, {}, /*retain_graph=*/true);
  EXPECT_EQ(values(g[0]), (std::vector<double>{2 * 3 * 3, 2 * 2 * 4 * 4}));
  EXPECT_EQ(values(g[1]), (std::vector<double>{2 * 3, 2 * 8}));
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
  expect_error([&] { autograd::grad({loss}, {unused}, {}, true); },
               {"grad", "input 0", "not used", "allow_unused"});
  EXPECT_FALSE(autograd::grad({loss}, {unused}, {}, true, /*allow_unused=*/true)[0].defined());
  expect_error([&] { autograd::grad({loss}, {tensor<double>({1})}); },
               {"grad", "does not require grad"});
}

TEST(Autograd, BackwardOnATensorThatNeedsNoGradIsAnError) {
  expect_error([] { tensor<double>({1}).backward(); },
               {"backward", "does not require grad and has no grad_fn"});
}

TEST(Autograd, HooksReplaceGradients) {
  Tensor x = leaf({1, 2});
  Tensor y = testing::scale(x, 3);
  int seen = 0;
  y.register_hook([&](const Tensor& g) {
    ++seen;
    EXPECT_EQ(values(g), (std::vector<double>{1, 1}));
    return testing::scale(g, 10);
  });
  HookHandle leaf_hook = x.register_hook([](const Tensor& g) { return testing::scale(g, -1); });
  HookHandle observer = x.register_hook([&](const Tensor& g) {
    EXPECT_EQ(values(g), (std::vector<double>{-30, -30}));
    return Tensor();  // keep it
  });
  testing::sum(y).backward({}, true);
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(values(x.grad()), (std::vector<double>{-30, -30}));
  leaf_hook.remove();
  observer.remove();
  leaf_hook.remove();  // a second remove does nothing
  x.set_grad(Tensor());
  testing::sum(y).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{30, 30}));
  expect_error([] { tensor<double>({1}).register_hook([](const Tensor& g) { return g; }); },
               {"register_hook", "does not require grad"});
}

TEST(Autograd, PostAccumulateHooksSeeTheAccumulatedGradient) {
  Tensor x = leaf({1, 2});
  std::vector<std::vector<double>> seen;
  HookHandle h =
      x.register_post_accumulate_grad_hook([&](Tensor& p) { seen.push_back(values(p.grad())); });
  Tensor loss = testing::sum(testing::scale(x, 2));
  loss.backward({}, true);
  loss.backward();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], (std::vector<double>{2, 2}));
  EXPECT_EQ(seen[1], (std::vector<double>{4, 4}));
  h.remove();
  testing::sum(testing::scale(x, 2)).backward();
  EXPECT_EQ(seen.size(), 2u);
  expect_error([&] { testing::scale(x, 2).register_post_accumulate_grad_hook([](Tensor&) {}); },
               {"register_post_accumulate_grad_hook", "leaf"});
}

TEST(Autograd, RetainGradKeepsANonLeafGradient) {
  Tensor x = leaf({1, 2});
  Tensor y = testing::scale(x, 3);
  Tensor loss = testing::sum(testing::mul(y, y));
  EXPECT_FALSE(y.retains_grad());
  y.retain_grad();
  loss.retain_grad();
  EXPECT_TRUE(y.retains_grad());
  loss.backward({}, true);
  EXPECT_EQ(values(y.grad()), (std::vector<double>{6, 12}));
  EXPECT_EQ(values(loss.grad()), (std::vector<double>{1}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{18, 36}));
  loss.backward();
  EXPECT_EQ(values(y.grad()), (std::vector<double>{12, 24}));
}

TEST(Autograd, InPlaceChangeOfASavedTensorIsAnError) {
  Tensor x = leaf({1, 2});
  Tensor w = tensor<double>({3, 4});
  Tensor loss = testing::sum(testing::mul(x, w));
  w.bump_version();  // as an in-place op would
  expect_error([&] { loss.backward(); },
               {"modified by an inplace operation", "MulBackward", "version 0", "now 1"});
}

TEST(Autograd, SavingAnOutputMakesNoCycle) {
  // ExpBackward saves its own output; the saved alias carries no autograd meta.
  std::weak_ptr<autograd::Node> node;
  {
    Tensor y = testing::exp(leaf({1}));
    node = y.grad_fn();
    EXPECT_FALSE(node.expired());
  }
  EXPECT_TRUE(node.expired());
}

TEST(Autograd, AnomalyModeNamesTheNodeThatMadeANaN) {
  Tensor x = leaf({1, 2});
  {
    autograd::DetectAnomalyGuard anomaly;
    autograd::AnomalyRegion region("encoder");
    autograd::AnomalyRegion inner("layer3");
    Tensor loss = testing::sum(testing::scale(testing::planted_nan(x), 2));
    EXPECT_NE(loss.grad_fn()->creation_context().find("SumBackward"), std::string::npos);
    expect_error([&] { loss.backward(); },
                 {"anomaly mode", "PlantedNanBackward", "NaN", "encoder/layer3", "[2] (f64, cpu)"});
  }
  EXPECT_FALSE(autograd::AnomalyMode::is_enabled());
  // Without anomaly mode the NaN goes through.
  testing::sum(testing::planted_nan(x)).backward();
  EXPECT_TRUE(std::isnan(values(x.grad())[0]));
}

std::vector<Tensor> block(const std::vector<Tensor>& in) {
  Tensor h = testing::exp(testing::mul(in[0], in[1]));
  return {testing::dropout(h, 0.5)};
}

TEST(Autograd, CheckpointEqualsThePlainRunIncludingRandomDraws) {
  const Tensor x0 = tensor<double>({0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8});
  const Tensor w0 = tensor<double>({1.0, 0.5, -1.0, 2.0, 0.3, -0.7, 0.9, 1.1});
  auto run = [&](bool use_checkpoint, Tensor& x, Tensor& w) {
    manual_seed(42);
    x = x0.clone().requires_grad_();
    w = w0.clone().requires_grad_();
    std::vector<Tensor> out = use_checkpoint ? autograd::checkpoint(block, {x, w}) : block({x, w});
    if (use_checkpoint) EXPECT_EQ(out[0].grad_fn_name(), "CheckpointBackward");
    Tensor loss = testing::sum(testing::mul(out[0], out[0]));
    rand({3});  // the stream moves on before backward
    loss.backward();
    return std::make_pair(values(out[0]), default_generator().offset());
  };
  Tensor x1, w1, x2, w2;
  const auto plain = run(false, x1, w1);
  const auto ckpt = run(true, x2, w2);
  EXPECT_EQ(plain.first, ckpt.first);
  EXPECT_EQ(plain.second, ckpt.second);  // recomputation leaves the stream where it was
  EXPECT_EQ(values(x1.grad()), values(x2.grad()));
  EXPECT_EQ(values(w1.grad()), values(w2.grad()));
  const std::vector<double> out = plain.first;
  EXPECT_NE(std::count(out.begin(), out.end(), 0.0), 0);  // dropout dropped something
}

// A tensor the function captures (a parameter) rather than takes as an input gets the gradient
// of the plain run.
TEST(Autograd, CheckpointAccumulatesCapturedParameters) {
  Tensor w = tensor<double>({0.5, -1.5, 2.0}).requires_grad_();
  auto fn = [&](const std::vector<Tensor>& in) { return std::vector{testing::mul(in[0], w)}; };
  auto run = [&](bool use_checkpoint) {
    w.mutable_grad() = Tensor();
    const Tensor x = tensor<double>({1.0, 2.0, 3.0}).requires_grad_();
    const Tensor y = use_checkpoint ? autograd::checkpoint(fn, {x})[0] : fn({x})[0];
    testing::sum(testing::mul(y, y)).backward();
    return std::make_pair(values(x.grad()), values(w.grad()));
  };
  const auto plain = run(false);
  const auto ckpt = run(true);
  EXPECT_EQ(plain.first, ckpt.first);
  EXPECT_EQ(plain.second, ckpt.second);
  EXPECT_EQ(ckpt.second, (std::vector<double>{1.0, -12.0, 36.0}));
}

TEST(Autograd, CheckpointOfAnIdentityDoesNotRewriteTheInput) {
  Tensor x = leaf({1, 2});
  std::vector<Tensor> out =
      autograd::checkpoint([](const std::vector<Tensor>& in) { return in; }, {x});
  EXPECT_TRUE(x.is_leaf());
  testing::sum(testing::scale(out[0], 4)).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{4, 4}));
}

TEST(Autograd, GradcheckPassesOnCorrectDerivatives) {
  // Non-contiguous inputs: a transposed view.
  Tensor a = tensor<double>({0.3, -1.2, 0.5, 0.9, 1.4, -0.1}, {2, 3}).t().requires_grad_();
  Tensor b = tensor<double>({1.1, 0.2, -0.4, 0.8, -0.6, 0.7}, {3, 2}).requires_grad_();
  EXPECT_FALSE(a.is_contiguous());
  const auto result = autograd::gradcheck(
      [](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{testing::exp(testing::mul(in[0], in[1])),
                                   testing::sum(testing::add(in[0], in[1]))};
      },
      {a, b});
  EXPECT_TRUE(result.ok) << result.report;
  EXPECT_EQ(values(a), (std::vector<double>{0.3, 0.9, -1.2, 1.4, 0.5, -0.1}));  // restored
}

TEST(Autograd, GradcheckReportsAWrongDerivative) {
  Tensor x = tensor<double>({0.5, -1.5, 2.0}).requires_grad_();
  const auto result = autograd::gradcheck(
      [](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{testing::wrong_square(in[0])};
      },
      {x});
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.report.find("input 0 [3] (f64, cpu) element [1] (flat 1)"), std::string::npos)
      << result.report;
  EXPECT_NE(result.report.find("numeric -3, analytic -1.5"), std::string::npos) << result.report;
  expect_error(
      [] {
        autograd::gradcheck([](const std::vector<Tensor>& in) { return in; },
                            {ones({2}).requires_grad_()});
      },
      {"gradcheck", "f64"});
}

int64_t allocated() {
  return memory_stats(Device::cpu()).allocated;
}

TEST(Autograd, BackwardFreesSavedTensors) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6, 7, 8});
  const int64_t base = allocated();
  Tensor loss;
  {
    Tensor y = testing::exp(x);     // saves its output
    Tensor z = testing::mul(y, x);  // saves y again and x
    loss = testing::sum(testing::mul(z, z));
  }
  const int64_t with_graph = allocated();
  EXPECT_GT(with_graph, base);
  loss.backward();
  const int64_t after = allocated();
  // What is left: loss itself and x.grad.
  const int64_t grad_bytes = [&] {
    const int64_t before = allocated();
    Tensor g = empty_like(x);
    return allocated() - before;
  }();
  const int64_t loss_bytes = [&] {
    const int64_t before = allocated();
    Tensor l = empty_like(loss);
    return allocated() - before;
  }();
  EXPECT_EQ(after, base + grad_bytes + loss_bytes);
  loss = Tensor();
  EXPECT_EQ(allocated(), base + grad_bytes);
}

TEST(Autograd, AnUnusedBranchFreesItself) {
  Tensor x = leaf({1, 2, 3, 4});
  const int64_t base = allocated();
  std::weak_ptr<autograd::Node> accumulator;
  {
    Tensor y = testing::exp(x);
    Tensor z = testing::mul(y, x);
    accumulator = z.grad_fn()->next_edge(1).fn;
    EXPECT_GT(allocated(), base);
  }
  EXPECT_EQ(allocated(), base);
  EXPECT_TRUE(accumulator.expired());  // the leaf's accumulator went with the graph
  EXPECT_TRUE(x.requires_grad());
}

}  // namespace
}  // namespace anvil
