// MultiheadAttention against torch.nn.MultiheadAttention (tests/golden/make_attention_golden.py:
// three configurations, float64): outputs, attention weights and the gradients of every
// parameter and input; parameter names, shapes and initialisation; errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "anvil.h"
#include "common/golden.h"
#include "common/op_test.h"

namespace anvil {
namespace {

using testing::Golden;
using testing::load_golden;

// |a - e| <= tol * (1 + |e|).
void expect_close(const Tensor& actual, const Tensor& expected, double tol,
                  const std::string& what) {
  testing::expect_close(actual, expected, tol, tol, what);
}

struct MhaCase {
  std::string tag;
  int64_t num_heads;
  nn::MultiheadAttentionOptions options = {};
  nn::MultiheadAttentionForwardOptions forward = {};
  bool bool_attn_mask = false, has_key_padding_mask = false;
};

void check_case(const MhaCase& c) {
  const Golden g = load_golden("attention_mha.txt");
  auto at = [&](const std::string& name) { return g.at(c.tag + "." + name); };
  nn::MultiheadAttentionOptions mo = c.options;
  mo.dtype = DType::f64;
  nn::MultiheadAttention m(8, c.num_heads, mo);
  nn::NamedTensors state;
  for (const auto& [name, p] : m.named_parameters()) state.emplace_back(name, at(name));
  m.load_state_dict(state);
  const Tensor q = at("query").requires_grad_(), k = at("key").requires_grad_(),
               v = at("value").requires_grad_();
  nn::MultiheadAttentionForwardOptions fo = c.forward;
  if (g.count(c.tag + ".attn_mask")) {
    const Tensor am = at("attn_mask");
    fo.attn_mask = c.bool_attn_mask ? am.to(DType::boolean) : am;
  }
  if (c.has_key_padding_mask) fo.key_padding_mask = at("key_padding_mask").to(DType::boolean);
  const auto [out, w] = m.forward(q, k, v, fo);
  expect_close(out, at("out"), 1e-10, c.tag + " output");
  Tensor loss = (out * at("r_out")).sum();
  if (fo.need_weights) {
    expect_close(w, at("weights"), 1e-10, c.tag + " weights");
    loss = loss + (w * at("r_w")).sum();
  } else {
    EXPECT_FALSE(w.defined());
  }
  loss.backward();
  for (const auto& [name, p] : m.named_parameters())
    expect_close(p.grad(), at("grad." + name), 1e-9, c.tag + " grad of " + name);
  expect_close(q.grad(), at("grad.query"), 1e-9, c.tag + " grad of query");
  expect_close(k.grad(), at("grad.key"), 1e-9, c.tag + " grad of key");
  expect_close(v.grad(), at("grad.value"), 1e-9, c.tag + " grad of value");
}

TEST(MultiheadAttention, PackedProjectionsMatchPyTorch) {
  check_case({.tag = "packed", .num_heads = 2, .has_key_padding_mask = true});
}

TEST(MultiheadAttention, SeparateProjectionsBiasKvZeroAttnMatchPyTorch) {
  check_case(
      {.tag = "separate",
       .num_heads = 2,
       .options =
           {.add_bias_kv = true, .add_zero_attn = true, .kdim = 5, .vdim = 6, .batch_first = true},
       .forward = {.need_weights = false},
       .bool_attn_mask = true});
}

TEST(MultiheadAttention, UnbatchedCausalPerHeadWeightsMatchPyTorch) {
  check_case({.tag = "unbatched",
              .num_heads = 4,
              .options = {.bias = false},
              .forward = {.average_attn_weights = false, .is_causal = true},
              .bool_attn_mask = true});
}

TEST(MultiheadAttention, ParametersNamesShapesAndInit) {
  manual_seed(0);
  nn::MultiheadAttention packed(8, 2);
  std::vector<std::string> names;
  for (const auto& [name, p] : packed.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight",
                                             "out_proj.bias"}));
  EXPECT_EQ(packed.in_proj_weight.shape(), (Shape{24, 8}));
  EXPECT_EQ(packed.in_proj_bias.abs().sum().item<double>(), 0);
  EXPECT_EQ(packed.out_proj->bias.abs().sum().item<double>(), 0);
  // xavier_uniform_ over [3E, E]: bound sqrt(6 / (E + 3E)).
  EXPECT_LE(packed.in_proj_weight.abs().max().item<double>(), std::sqrt(6.0 / 32));
  nn::MultiheadAttention sep(8, 2, {.bias = false, .add_bias_kv = true, .kdim = 5, .vdim = 6});
  names.clear();
  for (const auto& [name, p] : sep.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"q_proj_weight", "k_proj_weight", "v_proj_weight",
                                             "bias_k", "bias_v", "out_proj.weight"}));
  EXPECT_EQ(sep.k_proj_weight.shape(), (Shape{8, 5}));
  EXPECT_EQ(sep.bias_v.shape(), (Shape{1, 1, 8}));
  // Self-attention through Module::forward, [L, N, E].
  EXPECT_EQ(packed.forward(randn({3, 2, 8})).shape(), (Shape{3, 2, 8}));
}

TEST(MultiheadAttention, WeightsPathAndAttentionPathAgree) {
  manual_seed(1);
  nn::MultiheadAttention m(8, 2, {.batch_first = true});
  const Tensor x = randn({2, 5, 8});
  const Tensor mask = triu(ones({5, 5}, DType::boolean), 1);  // true: not allowed
  const auto [a, w] = m.forward(x, x, x, {.attn_mask = mask});
  const auto [b, none] = m.forward(x, x, x, {.need_weights = false, .attn_mask = mask});
  EXPECT_TRUE(testing::all_close(a, b, {1e-5, 1e-6}));
  EXPECT_EQ(w.shape(), (Shape{2, 5, 5}));
  EXPECT_TRUE(testing::all_close(w.sum({-1}), ones({2, 5}), {1e-5, 1e-6}));
}

TEST(MultiheadAttention, Errors) {
  nn::MultiheadAttention m(8, 2);
  const Tensor x = randn({3, 2, 8});
  testing::expect_error([] { nn::MultiheadAttention(8, 3); },
                        {"MultiheadAttention", "embed_dim 8", "num_heads 3"});
  testing::expect_error(
      [&] {
        m.forward(x, x, randn({3, 8}));
      },
      {"MultiheadAttention", "batched", "[3,8]"});
  testing::expect_error(
      [&] {
        m.forward(x, x, x, {.attn_mask = ones({2, 3})});
      },
      {"MultiheadAttention", "attn_mask", "[2,3]"});
  testing::expect_error([&] { m.forward(x, x, x, {.is_causal = true}); },
                        {"MultiheadAttention", "is_causal", "attn_mask"});
  testing::expect_error(
      [&] {
        m.forward(x, x, x, {.key_padding_mask = ones({3, 2})});
      },
      {"MultiheadAttention", "key_padding_mask", "[3,2]"});
}

}  // namespace
}  // namespace anvil
