// Derivatives of the linalg ops: a gradcheck table over every op and torch.matmul case (1-D
// operands, batched, broadcast batch dims), addmm's scalars and broadcast self, linear's weight
// and bias forms, and plain tests for broadcast reductions, dtypes and saved-tensor versions.
#include "autograd/autograd.h"
#include "grad_test.h"

namespace anvil::testing {
namespace {

using Outs = std::vector<Tensor>;
using In = const std::vector<Tensor>&;

GradCase binary(std::string name, std::function<Tensor(const Tensor&, const Tensor&)> f, Shape a,
                Shape b, std::vector<bool> requires_grad = {}) {
  return {std::move(name),
          [f](In in) -> Outs { return {f(in[0], in[1])}; },
          {std::move(a), std::move(b)},
          -2,
          2,
          std::move(requires_grad)};
}

GradCase ternary(std::string name,
                 std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)> f, Shape a,
                 Shape b, Shape c, std::vector<bool> requires_grad = {}) {
  return {std::move(name),
          [f](In in) -> Outs { return {f(in[0], in[1], in[2])}; },
          {std::move(a), std::move(b), std::move(c)},
          -2,
          2,
          std::move(requires_grad)};
}

Tensor mm_(const Tensor& a, const Tensor& b) {
  return matmul(a, b);
}

const std::vector<GradCase>& table() {
  static const std::vector<GradCase> cases = {
      // matmul: every torch.matmul case
      binary("matmul_2d", mm_, {3, 4}, {4, 2}),
      binary("matmul_1d_1d", mm_, {4}, {4}),
      binary("matmul_1d_2d", mm_, {4}, {4, 3}),
      binary("matmul_2d_1d", mm_, {3, 4}, {4}),
      binary("matmul_1d_3d", mm_, {4}, {2, 4, 3}),
      binary("matmul_3d_1d", mm_, {2, 3, 4}, {4}),
      binary("matmul_batched", mm_, {2, 3, 4}, {2, 4, 2}),
      binary("matmul_broadcast_batch", mm_, {2, 1, 3, 4}, {5, 4, 2}),
      binary("matmul_batch_of_one", mm_, {2, 3, 4}, {1, 4, 2}),
      binary("matmul_3d_2d", mm_, {2, 3, 4}, {4, 2}),
      binary("matmul_4d_2d", mm_, {2, 2, 3, 4}, {4, 2}),
      binary("matmul_2d_3d", mm_, {3, 4}, {2, 4, 2}),
      binary("matmul_lhs_only", mm_, {2, 3, 4}, {4, 2}, {true, false}),
      binary("matmul_rhs_only", mm_, {2, 1, 3, 4}, {5, 4, 2}, {false, true}),
      binary("matmul_method", [](const Tensor& a, const Tensor& b) { return a.matmul(b); }, {3, 4},
             {4, 2}),
      // mm, bmm, dot, outer
      binary("mm", [](const Tensor& a, const Tensor& b) { return mm(a, b); }, {3, 4}, {4, 5}),
      binary("mm_method", [](const Tensor& a, const Tensor& b) { return a.mm(b); }, {2, 3}, {3, 2}),
      binary("bmm", [](const Tensor& a, const Tensor& b) { return bmm(a, b); }, {2, 3, 4},
             {2, 4, 3}),
      binary("dot", [](const Tensor& a, const Tensor& b) { return dot(a, b); }, {5}, {5}),
      binary("outer", [](const Tensor& a, const Tensor& b) { return outer(a, b); }, {3}, {4}),
      binary("outer_rhs_only", [](const Tensor& a, const Tensor& b) { return outer(a, b); }, {3},
             {2}, {false, true}),
      // addmm: scalars, self broadcast to [n, p]
      ternary("addmm",
              [](const Tensor& s, const Tensor& a, const Tensor& b) { return addmm(s, a, b); },
              {3, 2}, {3, 4}, {4, 2}),
      ternary(
          "addmm_scaled_row_self",
          [](const Tensor& s, const Tensor& a, const Tensor& b) { return addmm(s, a, b, 0.5, -2); },
          {2}, {3, 4}, {4, 2}),
      ternary(
          "addmm_column_self",
          [](const Tensor& s, const Tensor& a, const Tensor& b) { return addmm(s, a, b, 2, 0.25); },
          {3, 1}, {3, 4}, {4, 2}),
      ternary(
          "addmm_beta0",
          [](const Tensor& s, const Tensor& a, const Tensor& b) { return addmm(s, a, b, 0, 1.5); },
          {3, 2}, {3, 4}, {4, 2}),
      ternary("addmm_0d_self_mat2_only",
              [](const Tensor& s, const Tensor& a, const Tensor& b) { return addmm(s, a, b); }, {},
              {3, 4}, {4, 2}, {false, false, true}),
      // linear: weight [out, in] or [in], with and without bias
      ternary("linear",
              [](const Tensor& x, const Tensor& w, const Tensor& b) { return linear(x, w, b); },
              {3, 4}, {5, 4}, {5}),
      binary("linear_batched_no_bias",
             [](const Tensor& x, const Tensor& w) { return linear(x, w); }, {2, 3, 4}, {5, 4}),
      ternary("linear_1d_input",
              [](const Tensor& x, const Tensor& w, const Tensor& b) { return linear(x, w, b); },
              {4}, {3, 4}, {3}),
      ternary("linear_1d_weight_0d_bias",
              [](const Tensor& x, const Tensor& w, const Tensor& b) { return linear(x, w, b); },
              {2, 3, 4}, {4}, {}),
      binary("linear_1d_input_1d_weight",
             [](const Tensor& x, const Tensor& w) { return linear(x, w); }, {4}, {4}),
      ternary("linear_full_bias",
              [](const Tensor& x, const Tensor& w, const Tensor& b) { return linear(x, w, b); },
              {2, 3, 4}, {2, 4}, {3, 2}),
      ternary("linear_weight_only",
              [](const Tensor& x, const Tensor& w, const Tensor& b) { return linear(x, w, b); },
              {2, 3, 4}, {2, 4}, {2}, {false, true, false}),
      // chained with a reduction: the incoming gradient is an expanded (stride-0) tensor
      binary("sum_of_matmul_3d_2d",
             [](const Tensor& a, const Tensor& b) { return sum(matmul(a, b)); }, {2, 3, 4}, {4, 2}),
      ternary("sum_of_linear",
              [](const Tensor& x, const Tensor& w, const Tensor& b) {
                return sum(linear(x, w, b), {0});
              },
              {2, 3, 4}, {5, 4}, {5}),
  };
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Linalg, GradTest, ::testing::ValuesIn(grad_cases(table())),
                         grad_case_name);

std::vector<double> grad_of(const Tensor& x) {
  return x.grad().to_vector<double>();
}

TEST(LinalgGrad, BroadcastBatchGradientsHaveTheInputShapes) {
  Tensor a = ones({2, 1, 3, 4}, DType::f64).requires_grad_();
  Tensor b = ones({5, 4, 2}, DType::f64).requires_grad_();
  Tensor out = matmul(a, b);
  ASSERT_EQ(out.shape(), (Shape{2, 5, 3, 2}));
  EXPECT_EQ(out.grad_fn_name(), "MatmulBackward");
  sum(out).backward();
  EXPECT_EQ(a.grad().shape(), a.shape());
  EXPECT_EQ(b.grad().shape(), b.shape());
  // Each a element meets 5 batches x 2 columns; each b element 2 batches x 3 rows.
  for (double v : grad_of(a)) EXPECT_EQ(v, 10);
  for (double v : grad_of(b)) EXPECT_EQ(v, 6);
}

TEST(LinalgGrad, AddmmSelfReducesToItsShape) {
  Tensor s = zeros({2}, DType::f64).requires_grad_();
  Tensor a = ones({3, 4}, DType::f64);
  Tensor b = ones({4, 2}, DType::f64);
  sum(addmm(s, a, b, 0.5, 2)).backward();
  EXPECT_EQ(grad_of(s), (std::vector<double>{1.5, 1.5}));  // beta times 3 rows
}

TEST(LinalgGrad, MixedDtypesGiveGradientsInEachInputDtype) {
  Tensor a = tensor<float>({1, 2}).requires_grad_();
  Tensor b = tensor<double>({3, 4, 5}).requires_grad_();
  Tensor o = outer(a, b);
  EXPECT_EQ(o.dtype(), DType::f64);
  sum(o).backward();
  EXPECT_EQ(a.grad().dtype(), DType::f32);
  EXPECT_EQ(b.grad().dtype(), DType::f64);
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{12, 12}));
  EXPECT_EQ(grad_of(b), (std::vector<double>{3, 3, 3}));
}

TEST(LinalgGrad, Float32Products) {
  Tensor x = tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor w = tensor<float>({1, 0, -1, 2, 1, 0}, {2, 3}).requires_grad_();
  Tensor b = tensor<float>({0.5f, -0.5f}).requires_grad_();
  linear(x, w, b).backward(tensor<float>({1, 0, 0, 1}, {2, 2}));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{1, 0, -1, 2, 1, 0}));
  EXPECT_EQ(w.grad().to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(b.grad().to_vector<float>(), (std::vector<float>{1, 1}));
  EXPECT_EQ(x.grad().dtype(), DType::f32);
}

TEST(LinalgGrad, SavedOperandModifiedInPlace) {
  Tensor x = tensor<double>({1, 2, 3, 4}, {2, 2}).requires_grad_();
  Tensor w = tensor<double>({1, 0, 0, 1}, {2, 2});  // no grad: may be modified in place
  Tensor y = mm(x, w);
  w.mul_(2);
  expect_error([&] { sum(y).backward(); }, {"MmBackward", "modified by an inplace"});
}

TEST(LinalgGrad, OnlyTheNeededOperandIsSaved) {
  // w's gradient needs x only: writing to w before backward is fine, writing to x is not.
  Tensor x = tensor<double>({1, 2, 3, 4}, {2, 2});
  Tensor w = tensor<double>({1, 0, 0, 1}, {2, 2}).requires_grad_();
  Tensor y = matmul(w, x);
  w.detach().add_(1);
  sum(y).backward();
  EXPECT_EQ(grad_of(w), (std::vector<double>{3, 7, 3, 7}));
  Tensor z = matmul(x, w);
  x.mul_(2);
  expect_error([&] { sum(z).backward(); }, {"MatmulBackward", "modified by an inplace"});
}

TEST(LinalgGrad, IntegerProductsNeedNoGrad) {
  Tensor a = tensor<int64_t>({1, 2, 3, 4}, {2, 2});
  EXPECT_FALSE(matmul(a, a).requires_grad());
  Tensor f = tensor<double>({1, 2}).requires_grad_();
  Tensor i = tensor<int64_t>({3, 4, 5});
  Tensor o = outer(i, f);  // promotes to f64; only f gets a gradient
  EXPECT_TRUE(o.requires_grad());
  sum(o).backward();
  EXPECT_EQ(grad_of(f), (std::vector<double>{12, 12}));
}

}  // namespace
}  // namespace anvil::testing
