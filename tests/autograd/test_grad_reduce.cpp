// Derivatives of the reduce ops: a gradcheck table over every op and overload (several dims,
// negative dims, keepdim, 0-d inputs, dtype arguments), and plain tests for what a table cannot
// show (ties, zeros, PyTorch's values at kinks, integer outputs, saved-tensor versions, dtypes).
#include <cmath>
#include <limits>

#include "autograd/autograd.h"
#include "autograd/gradcheck.h"
#include "grad_test.h"

namespace anvil::testing {
namespace {

using Dims = std::vector<int64_t>;
using Outs = std::vector<Tensor>;
using In = const std::vector<Tensor>&;
constexpr double kInf = std::numeric_limits<double>::infinity();

// A case with one input.
GradCase unary(std::string name, std::function<Tensor(const Tensor&)> f, Shape shape,
               double lo = -2, double hi = 2) {
  return {std::move(name), [f](In in) -> Outs { return {f(in[0])}; }, {std::move(shape)}, lo, hi};
}

// A case with one input and two outputs.
GradCase unary2(std::string name, std::function<std::pair<Tensor, Tensor>(const Tensor&)> f,
                Shape shape) {
  return {std::move(name),
          [f](In in) -> Outs {
            auto [a, b] = f(in[0]);
            return {a, b};
          },
          {std::move(shape)}};
}

const std::vector<GradCase>& table() {
  static const std::vector<GradCase> cases = {
      // sum
      unary("sum_all", [](const Tensor& x) { return sum(x); }, {3, 4}),
      unary("sum_dim", [](const Tensor& x) { return sum(x, {1}); }, {3, 4}),
      unary("sum_dims_neg_keepdim",
            [](const Tensor& x) {
              return sum(x, {-1, 0}, true);
            },
            {2, 3, 4}),
      unary("sum_dtype", [](const Tensor& x) { return sum(x, {0}, false, DType::f64); }, {3, 2}),
      unary("sum_0d", [](const Tensor& x) { return sum(x); }, {}),
      unary("sum_0d_dim", [](const Tensor& x) { return sum(x, {-1}, true); }, {}),
      unary("sum_method", [](const Tensor& x) { return x.sum({1}, true); }, {2, 3}),
      // mean
      unary("mean_all", [](const Tensor& x) { return mean(x); }, {3, 4}),
      unary("mean_dims",
            [](const Tensor& x) {
              return mean(x, {0, 2});
            },
            {2, 3, 4}),
      unary("mean_neg_keepdim", [](const Tensor& x) { return mean(x, {-2}, true); }, {2, 3, 4}),
      unary("mean_0d", [](const Tensor& x) { return mean(x); }, {}),
      unary("mean_method", [](const Tensor& x) { return x.mean({0}); }, {3, 2}),
      // prod (zeros: see the plain tests)
      unary(
          "prod_all", [](const Tensor& x) { return prod(x); }, {2, 3}, 0.5, 1.5),
      unary("prod_dim", [](const Tensor& x) { return prod(x, {-1}); }, {3, 4}),
      unary("prod_dims_keepdim",
            [](const Tensor& x) {
              return prod(x, {0, 2}, true);
            },
            {2, 3, 2}),
      unary("prod_0d", [](const Tensor& x) { return prod(x); }, {}),
      // amax / amin / max() / min()
      unary("amax_all", [](const Tensor& x) { return amax(x); }, {3, 4}),
      unary("amax_dim", [](const Tensor& x) { return amax(x, {1}); }, {3, 4}),
      unary("amax_dims_neg_keepdim",
            [](const Tensor& x) {
              return amax(x, {0, -1}, true);
            },
            {2, 3, 4}),
      unary("amax_0d", [](const Tensor& x) { return amax(x); }, {}),
      unary("amin_all", [](const Tensor& x) { return amin(x); }, {3, 4}),
      unary("amin_dims",
            [](const Tensor& x) {
              return amin(x, {1, 2});
            },
            {2, 3, 4}),
      unary("amin_neg_keepdim", [](const Tensor& x) { return amin(x, {-2}, true); }, {3, 4}),
      unary("max_all", [](const Tensor& x) { return max(x); }, {3, 4}),
      unary("max_0d", [](const Tensor& x) { return max(x); }, {}),
      unary("max_method", [](const Tensor& x) { return x.max(); }, {2, 3}),
      unary("min_all", [](const Tensor& x) { return min(x); }, {2, 3, 2}),
      unary("min_method", [](const Tensor& x) { return x.min(); }, {4}),
      // max(dim) / min(dim): both outputs (the i64 indices are skipped by gradcheck)
      unary2("max_dim", [](const Tensor& x) { return max(x, 1); }, {3, 4}),
      unary2("max_dim_neg_keepdim", [](const Tensor& x) { return max(x, -2, true); }, {2, 3, 4}),
      unary2("max_dim_0d", [](const Tensor& x) { return max(x, 0); }, {}),
      unary2("min_dim", [](const Tensor& x) { return min(x, 0); }, {3, 4}),
      unary2("min_dim_neg_keepdim", [](const Tensor& x) { return min(x, -1, true); }, {2, 3, 4}),
      // var / std / var_mean / std_mean
      unary("var_all", [](const Tensor& x) { return var(x); }, {3, 4}),
      unary("var_dim_correction0", [](const Tensor& x) { return var(x, {1}, 0); }, {3, 4}),
      unary("var_dims_keepdim",
            [](const Tensor& x) {
              return var(x, {0, -1}, 1, true);
            },
            {2, 3, 4}),
      unary("var_correction2", [](const Tensor& x) { return var(x, {-1}, 2); }, {2, 5}),
      unary("std_all", [](const Tensor& x) { return std(x); }, {3, 4}),
      unary("std_dim_correction0", [](const Tensor& x) { return std(x, {0}, 0); }, {3, 4}),
      unary("std_dims_keepdim",
            [](const Tensor& x) {
              return std(x, {1, 2}, 1, true);
            },
            {2, 3, 4}),
      unary2("var_mean_all", [](const Tensor& x) { return var_mean(x); }, {3, 4}),
      unary2("var_mean_dims_keepdim",
             [](const Tensor& x) {
               return var_mean(x, {0, -1}, 0, true);
             },
             {2, 3, 4}),
      unary2("std_mean_all", [](const Tensor& x) { return std_mean(x); }, {3, 4}),
      unary2("std_mean_dim", [](const Tensor& x) { return std_mean(x, {-2}, 1); }, {2, 3, 4}),
      // norm
      unary("norm_2_all", [](const Tensor& x) { return norm(x); }, {3, 4}),
      unary("norm_2_dims_keepdim",
            [](const Tensor& x) {
              return norm(x, 2, {0, -1}, true);
            },
            {2, 3, 4}),
      unary("norm_1_dim", [](const Tensor& x) { return norm(x, 1, {1}); }, {3, 4}),
      unary("norm_3_dim", [](const Tensor& x) { return norm(x, 3, {-1}); }, {3, 4}),
      unary("norm_1_5_all", [](const Tensor& x) { return norm(x, 1.5); }, {3, 4}),
      unary("norm_0_5_dim", [](const Tensor& x) { return norm(x, 0.5, {0}); }, {3, 4}),
      unary("norm_neg1_dim", [](const Tensor& x) { return norm(x, -1, {1}); }, {3, 4}),
      unary("norm_inf_dim", [](const Tensor& x) { return norm(x, kInf, {1}); }, {3, 4}),
      unary("norm_neginf_keepdim", [](const Tensor& x) { return norm(x, -kInf, {0}, true); },
            {3, 4}),
      unary("norm_0_dim", [](const Tensor& x) { return norm(x, 0, {1}); }, {3, 4}),
      unary("norm_0d", [](const Tensor& x) { return norm(x); }, {}),
      // logsumexp
      unary("logsumexp_dim", [](const Tensor& x) { return logsumexp(x, {1}); }, {3, 4}),
      unary("logsumexp_dims_keepdim",
            [](const Tensor& x) {
              return logsumexp(x, {0, -1}, true);
            },
            {2, 3, 4}),
      unary("logsumexp_all", [](const Tensor& x) { return logsumexp(x, {}); }, {3, 4}),
      unary("logsumexp_0d", [](const Tensor& x) { return logsumexp(x, {0}); }, {}),
      // cumsum
      unary("cumsum_dim0", [](const Tensor& x) { return cumsum(x, 0); }, {3, 4}),
      unary("cumsum_neg", [](const Tensor& x) { return cumsum(x, -2); }, {2, 3, 4}),
      unary("cumsum_1d_dtype", [](const Tensor& x) { return cumsum(x, 0, DType::f64); }, {5}),
      unary("cumsum_0d", [](const Tensor& x) { return cumsum(x, 0); }, {}),
      // softmax / log_softmax
      unary("softmax_dim1", [](const Tensor& x) { return softmax(x, 1); }, {3, 4}),
      unary("softmax_neg", [](const Tensor& x) { return softmax(x, -2); }, {2, 3, 4}),
      unary("softmax_dtype", [](const Tensor& x) { return softmax(x, 0, DType::f64); }, {3, 2}),
      unary("softmax_0d", [](const Tensor& x) { return softmax(x, 0); }, {}),
      unary("softmax_method", [](const Tensor& x) { return x.softmax(-1); }, {2, 3}),
      unary("log_softmax_dim0", [](const Tensor& x) { return log_softmax(x, 0); }, {3, 4}),
      unary("log_softmax_neg", [](const Tensor& x) { return log_softmax(x, -1); }, {2, 3, 4}),
      unary("log_softmax_0d", [](const Tensor& x) { return log_softmax(x, -1); }, {}),
      unary("log_softmax_method", [](const Tensor& x) { return x.log_softmax(1); }, {2, 3}),
      // chained: the gradient flowing in is not a one-hot seed
      unary("sum_of_log_softmax_of_softmax",
            [](const Tensor& x) { return sum(log_softmax(softmax(x, 1), 0)); }, {3, 4}),
  };
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Reduce, GradTest, ::testing::ValuesIn(grad_cases(table())),
                         grad_case_name);

Tensor leaf(const std::vector<double>& values, const Shape& shape) {
  return tensor<double>(values, shape).requires_grad_();
}
Tensor leaf(const std::vector<double>& values) {
  return leaf(values, {static_cast<int64_t>(values.size())});
}
std::vector<double> grad_of(const Tensor& x) {
  return x.grad().to_vector<double>();
}

// gradcheck at hand-made inputs (ties and zeros that random inputs never hit).
void expect_gradcheck(const autograd::GradcheckFn& fn, const Tensor& x) {
  const autograd::GradcheckResult r = autograd::gradcheck(fn, {x});
  EXPECT_TRUE(r.ok) << r.report;
}

TEST(ReduceGrad, SumAndMeanBroadcastBack) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  sum(x, {1}).backward(tensor<double>({1, 2}));
  EXPECT_EQ(grad_of(x), (std::vector<double>{1, 1, 1, 2, 2, 2}));
  Tensor y = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  mean(y, {0}, true).backward(tensor<double>({2, 4, 6}, {1, 3}));
  EXPECT_EQ(grad_of(y), (std::vector<double>{1, 2, 3, 1, 2, 3}));
}

TEST(ReduceGrad, LeafGradientsOfSumAndMeanAreWritable) {
  // The backward broadcasts with a stride-0 view; a leaf's .grad() must not be one.
  Tensor x = ones({2, 3}, DType::f64).requires_grad_();
  sum(x).backward();
  EXPECT_TRUE(x.grad().is_contiguous());
  x.mutable_grad().mul_(0.5);
  EXPECT_EQ(grad_of(x), (std::vector<double>(6, 0.5)));
  Tensor y = ones({2, 3}, DType::f64).requires_grad_();
  mean(y, {0}).backward(ones({3}, DType::f64));
  EXPECT_TRUE(y.grad().is_contiguous());
}

TEST(ReduceGrad, ProdWithZeros) {
  // No zero, one zero, two zeros (PyTorch: [0, 24, 0, 0] and all zeros).
  Tensor a = leaf({2, 0, 3, 4});
  prod(a).backward();
  EXPECT_EQ(grad_of(a), (std::vector<double>{0, 24, 0, 0}));
  Tensor b = leaf({2, 0, 3, 0, 4});
  prod(b).backward();
  EXPECT_EQ(grad_of(b), (std::vector<double>{0, 0, 0, 0, 0}));
  Tensor c = leaf({2, -1, 3});
  prod(c).backward();
  EXPECT_EQ(grad_of(c), (std::vector<double>{-3, 6, -2}));
  // Per slice along a dim, and over several dims at once.
  Tensor d = leaf({0, 2, 3, 1, 0, 0, 5, 6, 7}, {3, 3});
  prod(d, {1}).backward(tensor<double>({1, 1, 1}));
  EXPECT_EQ(grad_of(d), (std::vector<double>{6, 0, 0, 0, 0, 0, 42, 35, 30}));
  // Products are multilinear: central differences are exact at zeros.
  const Tensor z = tensor<double>({0, 2, 3, 1, 0, 0, 5, 6, 7, 0, -1, 2}, {2, 3, 2});
  expect_gradcheck([](In in) -> Outs { return {prod(in[0], {1})}; }, z.clone().requires_grad_());
  expect_gradcheck(
      [](In in) -> Outs {
        return {prod(in[0], {0, 2}, true)};
      },
      z.clone().requires_grad_());
  expect_gradcheck([](In in) -> Outs { return {prod(in[0])}; },
                   tensor<double>({1.5, 0, -2, 3}).requires_grad_());
}

TEST(ReduceGrad, AmaxSplitsTiesEvenly) {
  // PyTorch: x = [1, 3, 3] gives [0, 0.5, 0.5] for amax and max().
  Tensor x = leaf({1, 3, 3});
  amax(x).backward();
  EXPECT_EQ(grad_of(x), (std::vector<double>{0, 0.5, 0.5}));
  Tensor y = leaf({1, 3, 3});
  max(y).backward();
  EXPECT_EQ(grad_of(y), (std::vector<double>{0, 0.5, 0.5}));
  Tensor z = leaf({-1, -1, -1, 2, 0, 5}, {2, 3});
  amin(z, {1}).backward(tensor<double>({3, 1}));
  EXPECT_EQ(grad_of(z), (std::vector<double>{1, 1, 1, 0, 1, 0}));
  Tensor w = leaf({4, 1, 1, 1});
  min(w).backward();
  EXPECT_EQ(grad_of(w), (std::vector<double>{0, 1.0 / 3, 1.0 / 3, 1.0 / 3}));
}

TEST(ReduceGrad, MaxOfNaN) {
  // PyTorch: max() sends the gradient to the NaN; amax gives NaN everywhere.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = leaf({1, nan, 3});
  max(x).backward();
  EXPECT_EQ(grad_of(x), (std::vector<double>{0, 1, 0}));
  Tensor y = leaf({1, nan, 3});
  amax(y).backward();
  for (double v : grad_of(y)) EXPECT_TRUE(std::isnan(v));
}

TEST(ReduceGrad, MaxDimSelectsOneIndexAndIndicesNeedNoGrad) {
  Tensor x = leaf({1, 3, 3, 5, 2, 5}, {2, 3});
  auto [values, indices] = max(x, 1);
  EXPECT_TRUE(values.requires_grad());
  EXPECT_FALSE(indices.requires_grad());
  EXPECT_EQ(indices.dtype(), DType::i64);
  EXPECT_EQ(values.grad_fn_name(), "MaxDimBackward");
  values.backward(tensor<double>({1, 2}));
  EXPECT_EQ(grad_of(x), (std::vector<double>{0, 1, 0, 2, 0, 0}));  // the first of the ties

  Tensor y = leaf({1, 3, 3, 5, 2, 5}, {2, 3});
  auto [mins, where] = min(y, 0, true);
  EXPECT_FALSE(where.requires_grad());
  mins.backward(tensor<double>({1, 2, 3}, {1, 3}));
  EXPECT_EQ(grad_of(y), (std::vector<double>{1, 0, 3, 0, 2, 0}));
}

TEST(ReduceGrad, StdOfConstantIsZeroLikePyTorch) {
  // PyTorch masks the gradient where std == 0.
  Tensor x = leaf({2, 2, 2});
  std(x).backward();
  EXPECT_EQ(grad_of(x), (std::vector<double>{0, 0, 0}));
  // One element with correction 1: std is NaN (0/0); the gradient is NaN, nothing throws.
  Tensor y = leaf({2});
  Tensor s = std(y);
  EXPECT_TRUE(std::isnan(s.item<double>()));
  s.backward();
  EXPECT_TRUE(std::isnan(grad_of(y)[0]));
  // correction beyond N: the forward gives inf, the gradient uses 2 / (N - correction)
  // (PyTorch: [1, -0, -1] for x = [1, 2, 3], correction 5).
  Tensor z = leaf({1, 2, 3});
  var(z, {0}, 5).backward();
  EXPECT_EQ(grad_of(z), (std::vector<double>{1, 0, -1}));
}

TEST(ReduceGrad, VarMeanBothOutputsContribute) {
  Tensor x = leaf({1, 2, 6});
  auto [v, m] = var_mean(x);
  EXPECT_EQ(v.grad_fn(), m.grad_fn());
  autograd::backward({v, m}, {scalar_tensor(1.0, TensorOptions(DType::f64)),
                              scalar_tensor(3.0, TensorOptions(DType::f64))});
  // d var = (x - 3) (N - 1 = 2), d mean = 1 each.
  EXPECT_EQ(grad_of(x), (std::vector<double>{-1, 0, 4}));
}

TEST(ReduceGrad, NormAtZeroMatchesPyTorch) {
  for (double p : {2.0, 1.0, 0.5, 1.5, 3.0, kInf, -kInf, 0.0}) {
    Tensor x = leaf({0, 0});
    norm(x, p).backward();
    EXPECT_EQ(grad_of(x), (std::vector<double>{0, 0})) << "p = " << p;
  }
  // PyTorch at x = [0, 2, -2, 1]: p = 0.5 masks the zero; inf splits between the ties.
  Tensor a = leaf({0, 2, -2, 1});
  norm(a, 0.5).backward();
  const std::vector<double> ga = grad_of(a);
  EXPECT_EQ(ga[0], 0);
  EXPECT_NEAR(ga[1], 2.7071067811865475, 1e-12);
  EXPECT_NEAR(ga[3], 3.8284271247461903, 1e-12);
  Tensor b = leaf({0, 2, -2, 1});
  norm(b, kInf).backward();
  EXPECT_EQ(grad_of(b), (std::vector<double>{0, 0.5, -0.5, 0}));
}

TEST(ReduceGrad, SoftmaxSavesItsOutput) {
  Tensor x = leaf({1, 2, 3, 4}, {2, 2});
  Tensor y = softmax(x, 1);
  y.detach().mul_(2);  // the saved output is modified in place
  expect_error([&] { sum(y).backward(); }, {"SoftmaxBackward", "modified by an inplace"});
}

TEST(ReduceGrad, SavedInputModifiedInPlace) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = prod(x);
  x.detach().add_(1);
  expect_error([&] { y.backward(); }, {"ProdBackward", "modified by an inplace"});
}

TEST(ReduceGrad, DtypeArgumentsGiveGradientsInTheInputDtype) {
  Tensor x = tensor<float>({1, 2, 3, 4}, {2, 2}).requires_grad_();
  Tensor s = sum(x, {0}, false, DType::f64);
  EXPECT_EQ(s.dtype(), DType::f64);
  sum(s).backward();
  EXPECT_EQ(x.grad().dtype(), DType::f32);
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{1, 1, 1, 1}));

  Tensor z = tensor<float>({0.5f, -1, 2}).requires_grad_();
  Tensor p = softmax(z, 0, DType::f64);
  EXPECT_EQ(p.dtype(), DType::f64);
  p.backward(tensor<double>({1, 2, 3}));
  EXPECT_EQ(z.grad().dtype(), DType::f32);

  Tensor c = tensor<float>({1, 2, 3}).requires_grad_();
  cumsum(c, 0, DType::f64).backward(tensor<double>({1, 1, 1}));
  EXPECT_EQ(c.grad().dtype(), DType::f32);
  EXPECT_EQ(c.grad().to_vector<float>(), (std::vector<float>{3, 2, 1}));
}

TEST(ReduceGrad, IntegerResultsNeedNoGrad) {
  Tensor x = leaf({1, 5, 3});
  EXPECT_FALSE(argmax(x).requires_grad());
  EXPECT_FALSE(any(x).requires_grad());
  Tensor i = tensor<int64_t>({1, 2, 3});
  EXPECT_FALSE(sum(i).requires_grad());
}

TEST(ReduceGrad, LogSoftmaxAndLogsumexpMatchSoftmax) {
  Tensor x = leaf({0.1, -0.4, 1.3, 2.0, 0.0, -1.0}, {2, 3});
  logsumexp(x, {1}).backward(tensor<double>({1, 1}));
  Tensor y = leaf({0.1, -0.4, 1.3, 2.0, 0.0, -1.0}, {2, 3});
  log_softmax(y, 1).backward(tensor<double>({1, 0, 0, 0, 0, 0}, {2, 3}));
  // d log_softmax_0 / dx = onehot(0) - softmax for the first row, 0 for the second.
  const std::vector<double> gy = grad_of(y);
  const std::vector<double> gx = grad_of(x), sm = softmax(x.detach(), 1).to_vector<double>();
  for (size_t i = 0; i < gx.size(); ++i) {
    EXPECT_NEAR(gx[i], sm[i], 1e-12);
    EXPECT_NEAR(gy[i], i >= 3 ? 0.0 : (i == 0 ? 1.0 : 0.0) - sm[i], 1e-12);
  }
}

}  // namespace
}  // namespace anvil::testing
