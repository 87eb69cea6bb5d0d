// Derivatives of scaled_dot_product_attention: a gradcheck table over query, key, value and a
// float mask (each alone and together), broadcast batch dims, L != S, E != Ev, causal, bool
// masks, a custom scale and dropout (seeded in the op call, so every evaluation draws the same
// mask); plain tests for gradient shapes and dtypes, the bool mask staying out of the graph, and
// saved tensors modified in place.
#include <cmath>

#include "autograd/autograd.h"
#include "grad_test.h"

namespace anvil::testing {
namespace {

using Outs = std::vector<Tensor>;
using In = const std::vector<Tensor>&;

struct Args {
  bool causal = false;
  double dropout_p = 0;
  std::optional<double> scale = std::nullopt;
  Tensor bool_mask = {};  // a constant mask (the inputs are q, k, v only)
};

// sdpa over (q, k, v, [float mask]).
GradCase sdpa(std::string name, std::vector<Shape> shapes, Args a = {},
              std::vector<bool> requires_grad = {}) {
  return {std::move(name),
          [a](In in) -> Outs {
            manual_seed(99);
            std::optional<Tensor> mask;
            if (in.size() > 3) mask = in[3];
            if (a.bool_mask.defined()) mask = a.bool_mask;
            return {scaled_dot_product_attention(in[0], in[1], in[2], mask, a.dropout_p, a.causal,
                                                 a.scale)};
          },
          std::move(shapes),
          -1.5,
          1.5,
          std::move(requires_grad)};
}

Tensor key_padding() {
  Tensor m = ones({2, 1, 1, 5}, DType::boolean);
  m.select(0, 1).narrow(-1, 3, 2).fill_(false);
  return m;
}

const std::vector<GradCase>& table() {
  const Shape q{2, 2, 3, 4}, k{2, 2, 5, 4}, v{2, 2, 5, 3};
  static const std::vector<GradCase> t = {
      sdpa("qkv", {q, k, v}),
      sdpa("query_only", {q, k, v}, {}, {true, false, false}),
      sdpa("key_only", {q, k, v}, {}, {false, true, false}),
      sdpa("value_only", {q, k, v}, {}, {false, false, true}),
      sdpa("two_dims", {{3, 4}, {5, 4}, {5, 2}}),
      sdpa("broadcast_batch", {{2, 2, 3, 4}, {1, 2, 5, 4}, {2, 1, 5, 3}}),
      sdpa("float_mask", {q, k, v, {3, 5}}),
      sdpa("float_mask_only", {q, k, v, {3, 5}}, {}, {false, false, false, true}),
      sdpa("float_mask_full", {q, k, v, {2, 2, 3, 5}}),
      sdpa("float_mask_broadcast", {q, k, v, {2, 1, 1, 5}}),
      sdpa("float_mask_grows_batch", {{3, 4}, {5, 4}, {5, 3}, {2, 3, 5}}),
      sdpa("bool_mask", {q, k, v}, {.bool_mask = key_padding()}),
      sdpa("causal", {q, k, v}, {.causal = true}),
      sdpa("causal_long_query", {{2, 6, 3}, {2, 4, 3}, {2, 4, 2}}, {.causal = true}),
      sdpa("scale", {q, k, v}, {.scale = 0.7}),
      sdpa("dropout", {q, k, v, {3, 5}}, {.dropout_p = 0.4}),
  };
  return t;
}

INSTANTIATE_TEST_SUITE_P(Attention, GradTest, ::testing::ValuesIn(grad_cases(table())),
                         grad_case_name);

TEST(AttentionGrad, GradientsTakeEachInputsShapeAndDtype) {
  Tensor q = random_tensor({2, 3, 4}, DType::f32, -1, 1, 1).requires_grad_();
  Tensor k = random_tensor({1, 5, 4}, DType::f32, -1, 1, 2).requires_grad_();
  Tensor v = random_tensor({5, 6}, DType::f32, -1, 1, 3).requires_grad_();
  Tensor m = random_tensor({5}, DType::f32, -1, 1, 4).requires_grad_();
  sum(scaled_dot_product_attention(q, k, v, m)).backward();
  EXPECT_EQ(q.grad().shape(), q.shape());
  EXPECT_EQ(k.grad().shape(), k.shape());
  EXPECT_EQ(v.grad().shape(), v.shape());
  EXPECT_EQ(m.grad().shape(), m.shape());
  EXPECT_EQ(k.grad().dtype(), DType::f32);
}

TEST(AttentionGrad, BoolMaskIsAConstant) {
  Tensor q = random_tensor({3, 4}, DType::f64, -1, 1, 5).requires_grad_();
  const Tensor k = random_tensor({5, 4}, DType::f64, -1, 1, 6);
  const Tensor v = random_tensor({5, 2}, DType::f64, -1, 1, 7);
  const Tensor out = scaled_dot_product_attention(q, k, v, ones({3, 5}, DType::boolean));
  EXPECT_EQ(out.grad_fn_name(), "ScaledDotProductAttentionBackward");
  sum(out).backward();
  EXPECT_EQ(q.grad().shape(), q.shape());
  EXPECT_FALSE(scaled_dot_product_attention(q.detach(), k, v).requires_grad());
}

TEST(AttentionGrad, SavedInputModifiedInPlace) {
  Tensor x = random_tensor({3, 4}, DType::f64, -1, 1, 8).requires_grad_();
  Tensor h = x * 2.0;
  Tensor y = scaled_dot_product_attention(h, h, h);
  h.detach().add_(1);
  expect_error([&] { sum(y).backward(); },
               {"ScaledDotProductAttentionBackward", "modified by an inplace"});
}

}  // namespace
}  // namespace anvil::testing
