// Attention ops: scaled_dot_product_attention's forward (output and row logsumexp) and backward
// kernels against the float64 reference: L != S, E != Ev, broadcast batch dims, 2-D inputs,
// non-contiguous operands ((B, L, H, E) transposed to (B, H, L, E), transposed and strided
// memory), zero sizes, bool and float masks (broadcast ones included), causal, custom scale and
// dropout; the math formula with basic ops; fully masked rows; PyTorch's errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

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

enum class MaskKind { none, boolean, floating };

// Operand shapes of one sample: query, key, value and (when the op takes one) the mask.
struct Case {
  Shape q, k, v, mask;
  Layout layout = Layout::contiguous;  // of the query (key and value as the case says)
  bool heads_last = false;             // q, k, v stored as (B, L, H, E), viewed as (B, H, L, E)
  bool large = false;                  // several row blocks and threads: f32 only
};

std::vector<Case> cases(MaskKind kind) {
  std::vector<Case> c = {
      {{2, 3, 5, 4}, {2, 3, 7, 4}, {2, 3, 7, 6}, {5, 7}},
      {{2, 3, 5, 4}, {2, 3, 7, 4}, {2, 3, 7, 6}, {2, 1, 1, 7}},  // key padding
      {{2, 3, 5, 4}, {2, 3, 7, 4}, {2, 3, 7, 6}, {2, 3, 5, 7}, Layout::transposed},
      {{2, 3, 5, 4}, {2, 3, 7, 4}, {2, 3, 7, 6}, {3, 1, 7}, Layout::strided},
      {{2, 3, 6, 4}, {2, 3, 6, 4}, {2, 3, 6, 4}, {6, 6}, Layout::contiguous, true},
      {{2, 3, 5, 4}, {1, 3, 7, 4}, {3, 7, 6}, {7}},  // broadcast batch dims
      {{4, 3}, {6, 3}, {6, 5}, {4, 6}},              // 2-D
      {{7, 2}, {3, 2}, {3, 3}, {7, 3}},              // L > S
      {{3, 2, 1, 8}, {3, 2, 9, 8}, {3, 2, 9, 8}, {1, 9}},
      {{0, 2, 3, 4}, {0, 2, 5, 4}, {0, 2, 5, 4}, {3, 5}},
      {{2, 0, 4}, {2, 5, 4}, {2, 5, 3}, {0, 5}},
      // Several row blocks of the CPU kernel (in f32 only, and for a few entries: the
      // reference is slow).
      {{1, 130, 16}, {1, 150, 16}, {1, 150, 8}, {1, 130, 150}, Layout::contiguous, false, true},
  };
  if (kind == MaskKind::none) c.push_back({{2, 3, 4}, {2, 0, 4}, {2, 0, 5}, {}});  // S = 0
  return c;
}

// (B, H, L, E) values stored as (B, L, H, E), as a projection's output reshaped into heads.
Tensor heads_last(const Tensor& t) {
  return t.transpose(1, 2).contiguous().transpose(1, 2);
}

// Samples {q, k, v, mask (unless none), grad_out}: bool masks keep about 3/4 of the keys (and
// every row keeps its first one), float masks are in [-1, 1].
std::vector<Sample> samples(DType dtype, MaskKind kind, bool with_large) {
  std::vector<Sample> out;
  uint64_t seed = 41;
  for (const Case& c : cases(kind)) {
    if (c.large && (dtype != DType::f32 || !with_large)) continue;
    auto make = [&](const Shape& s, Layout layout) {
      const Tensor t = random_tensor(s, dtype, -1.5, 1.5, seed++);
      return c.heads_last ? heads_last(t) : with_layout(t, layout);
    };
    const Tensor q = make(c.q, c.layout), k = make(c.k, Layout::contiguous),
                 v = make(c.v, c.layout);
    std::vector<Tensor> in = {q, k, v};
    if (kind == MaskKind::boolean) {
      Tensor m = random_tensor(c.mask, DType::f32, 0, 1, seed++).lt(scalar_tensor(0.75));
      if (m.dim() >= 1 && m.size(-1) > 0) m.narrow(-1, 0, 1).fill_(true);
      in.push_back(m);
    } else if (kind == MaskKind::floating) {
      in.push_back(random_tensor(c.mask, dtype, -1, 1, seed++));
    }
    Shape batch = broadcast_shapes(Shape(c.q.begin(), c.q.end() - 2),
                                   Shape(c.k.begin(), c.k.end() - 2), "test");
    batch = broadcast_shapes(batch, Shape(c.v.begin(), c.v.end() - 2), "test");
    if (kind != MaskKind::none && c.mask.size() > 2)
      batch = broadcast_shapes(batch, Shape(c.mask.begin(), c.mask.end() - 2), "test");
    batch.push_back(c.q[c.q.size() - 2]);
    batch.push_back(c.v.back());
    in.push_back(random_tensor(batch, dtype, -1, 1, seed++));
    out.push_back({in, shape_str(c.q) + " " + shape_str(c.k) + " " + shape_str(c.v) + " mask " +
                           shape_str(c.mask)});
  }
  return out;
}

// The options an entry passes; dropout draws from a fixed seed (the CPU and reference runs see
// the same mask).
struct Args {
  MaskKind mask = MaskKind::none;
  bool causal = false;
  double dropout_p = 0;
  std::optional<double> scale = std::nullopt;
  bool large = false;  // with the multi-block sample
};

std::optional<Tensor> mask_of(In in, const Args& a) {
  return a.mask == MaskKind::none ? std::nullopt : std::optional<Tensor>(in[3]);
}

ops::AttentionForward run_forward(In in, const Args& a) {
  manual_seed(2024);
  return ops::attention_forward(in[0], in[1], in[2], mask_of(in, a), a.dropout_p, a.causal,
                                a.scale);
}

// Output and logsumexp, joined.
Tensor forward(In in, const Args& a) {
  const ops::AttentionForward f = run_forward(in, a);
  return cat({f.output.reshape({-1}), f.logsumexp.reshape({-1}).to(f.output.dtype())});
}

// Every gradient of the backward kernel, joined.
Tensor backward(In in, const Args& a) {
  const ops::AttentionForward f = run_forward(in, a);
  const auto g = ops::attention_backward(in.back(), in[0], in[1], in[2], mask_of(in, a), f,
                                         a.dropout_p, a.causal, a.scale, {true, true, true, true});
  std::vector<Tensor> parts;
  for (const Tensor& t : g)
    if (t.defined()) parts.push_back(t.reshape({-1}));
  return cat(parts);
}

// f16/bf16: probabilities rounded into the output and gradients summed over many rounded
// products.
const testing::Tolerance kLooseTol{2e-2, 2e-2};

const std::vector<OpInfo>& attention_table() {
  static const std::vector<OpInfo> table = [] {
    const std::vector<OpId> refs = {OpId::attention_forward, OpId::attention_backward};
    struct Entry {
      std::string name;
      Args args;
    };
    const std::vector<Entry> entries = {
        {"sdpa", {.large = true}},
        {"sdpa_causal", {.causal = true, .large = true}},
        {"sdpa_bool_mask", {.mask = MaskKind::boolean}},
        {"sdpa_float_mask", {.mask = MaskKind::floating}},
        {"sdpa_scale", {.scale = 0.3}},
        {"sdpa_dropout", {.mask = MaskKind::floating, .dropout_p = 0.3}},
        {"sdpa_causal_dropout", {.causal = true, .dropout_p = 0.5, .large = true}},
    };
    std::vector<OpInfo> t;
    for (const Entry& e : entries) {
      const Args a = e.args;
      auto s = [a](DType d) { return samples(d, a.mask, a.large); };
      t.push_back(
          {e.name, [a](In in) { return forward(in, a); }, kFloatingTypes, s, refs, std::nullopt});
      auto b = [a](In in) { return backward(in, a); };
      t.push_back({e.name + "_backward", b, {DType::f32, DType::f64}, s, refs, std::nullopt});
      t.push_back({e.name + "_backward_half", b, {DType::f16, DType::bf16}, s, refs, kLooseTol});
    }
    return t;
  }();
  return table;
}

INSTANTIATE_TEST_SUITE_P(Attention, OpInfoTest, ::testing::ValuesIn(op_cases(attention_table())),
                         testing::op_case_name);

// softmax(q k^T * scale + mask) v with basic ops.
Tensor math_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                      double scale) {
  return softmax(matmul(q, k.mT()) * scale + mask, -1).matmul(v);
}

TEST(AttentionSemantics, MatchesTheMathFormula) {
  const Tensor q = random_tensor({2, 3, 5, 8}, DType::f64, -1, 1, 1);
  const Tensor k = random_tensor({2, 3, 7, 8}, DType::f64, -1, 1, 2);
  const Tensor v = random_tensor({2, 3, 7, 4}, DType::f64, -1, 1, 3);
  const Tensor fm = random_tensor({5, 7}, DType::f64, -1, 1, 4);
  const double s = 1 / std::sqrt(8.0);
  EXPECT_TRUE(testing::all_close(scaled_dot_product_attention(q, k, v),
                                 math_attention(q, k, v, zeros({1}, DType::f64), s),
                                 {1e-12, 1e-12}));
  EXPECT_TRUE(testing::all_close(scaled_dot_product_attention(q, k, v, fm),
                                 math_attention(q, k, v, fm, s), {1e-12, 1e-12}));
  // Causal: the top-left aligned triangle tril(ones(L, S)), also for L != S.
  const Tensor tri = tril(ones({5, 7}, DType::boolean));
  const Tensor additive =
      where(tri, scalar_tensor(0.0), scalar_tensor(-std::numeric_limits<double>::infinity()));
  EXPECT_TRUE(testing::all_close(scaled_dot_product_attention(q, k, v, std::nullopt, 0, true),
                                 math_attention(q, k, v, additive, s), {1e-12, 1e-12}));
  EXPECT_TRUE(testing::all_close(scaled_dot_product_attention(q, k, v, tri),
                                 math_attention(q, k, v, additive, s), {1e-12, 1e-12}));
  // Key and value rows repeated by expand (zero row stride).
  const Tensor k1 = k.narrow(2, 0, 1).expand({2, 3, 7, 8}),
               v1 = v.narrow(2, 2, 1).expand({2, 3, 7, 4});
  EXPECT_TRUE(testing::all_close(scaled_dot_product_attention(q, k1, v1),
                                 scaled_dot_product_attention(q, k1.contiguous(), v1.contiguous()),
                                 {1e-12, 1e-12}));
  EXPECT_TRUE(testing::all_close(scaled_dot_product_attention(q, k, v, std::nullopt, 0, false, 2.0),
                                 math_attention(q, k, v, zeros({1}, DType::f64), 2.0),
                                 {1e-12, 1e-12}));
}

TEST(AttentionSemantics, ThreadsGiveTheSameBits) {
  const Tensor q = random_tensor({2, 4, 200, 32}, DType::f32, -1, 1, 10);
  const Tensor k = random_tensor({2, 4, 180, 32}, DType::f32, -1, 1, 11);
  const Tensor v = random_tensor({2, 4, 180, 16}, DType::f32, -1, 1, 12);
  const Tensor g = random_tensor({2, 4, 200, 16}, DType::f32, -1, 1, 13);
  auto run = [&](int threads) {
    const int saved = num_threads();
    set_num_threads(threads);
    const ops::AttentionForward f =
        ops::attention_forward(q, k, v, std::nullopt, 0, true, std::nullopt);
    const auto grads = ops::attention_backward(g, q, k, v, std::nullopt, f, 0, true, std::nullopt,
                                               {true, true, true, false});
    set_num_threads(saved);
    return cat({f.output.reshape({-1}), f.logsumexp.reshape({-1}), grads[0].reshape({-1}),
                grads[1].reshape({-1}), grads[2].reshape({-1})});
  };
  EXPECT_TRUE(testing::all_close(run(2), run(1), {0, 0}));
}

TEST(AttentionSemantics, FullyMaskedRowsAreZero) {
  const Tensor q = random_tensor({2, 3, 4}, DType::f32, -1, 1, 5);
  const Tensor k = random_tensor({2, 5, 4}, DType::f32, -1, 1, 6);
  const Tensor v = random_tensor({2, 5, 3}, DType::f32, -1, 1, 7);
  Tensor m = ones({3, 5}, DType::boolean);
  m.select(0, 1).fill_(false);
  const Tensor out = scaled_dot_product_attention(q, k, v, m);
  EXPECT_TRUE(testing::all_close(out.select(1, 1), zeros({2, 3}), {0, 0}));
  const std::vector<float> rest = out.select(1, 0).to_vector<float>();
  for (float x : rest) EXPECT_TRUE(std::isfinite(x));
}

TEST(AttentionSemantics, DropoutReproducesWithTheSeedAndScalesKeptValues) {
  const Tensor q = random_tensor({2, 6, 4}, DType::f64, -1, 1, 8);
  const Tensor k = random_tensor({2, 9, 4}, DType::f64, -1, 1, 9);
  const Tensor v = ones({2, 9, 1}, DType::f64);
  manual_seed(3);
  const Tensor a = scaled_dot_product_attention(q, k, v, std::nullopt, 0.4);
  manual_seed(3);
  const Tensor b = scaled_dot_product_attention(q, k, v, std::nullopt, 0.4);
  const Tensor c = scaled_dot_product_attention(q, k, v, std::nullopt, 0.4);
  EXPECT_TRUE(testing::all_close(a, b, {0, 0}));
  EXPECT_FALSE(testing::all_close(a, c, {0, 0}));
  EXPECT_TRUE(testing::all_close(scaled_dot_product_attention(q, k, v, std::nullopt, 1.0),
                                 zeros({2, 6, 1}, DType::f64), {0, 0}));
}

TEST(AttentionErrors, NameTheOpAndTheValues) {
  const Tensor q = random_tensor({2, 3, 4}, DType::f32), k = random_tensor({2, 5, 4}, DType::f32);
  const Tensor v = random_tensor({2, 5, 6}, DType::f32);
  const char* op = "scaled_dot_product_attention";
  expect_error(
      [&] {
        scaled_dot_product_attention(q, k, v, ones({3, 5}, DType::boolean), 0, true);
      },
      {op, "is_causal"});
  expect_error(
      [&] {
        scaled_dot_product_attention(q, random_tensor({2, 5, 3}, DType::f32), v);
      },
      {op, "embedding size", "[2,5,3]"});
  expect_error(
      [&] {
        scaled_dot_product_attention(q, k, random_tensor({2, 4, 6}, DType::f32));
      },
      {op, "sequence length", "[2,4,6]"});
  expect_error([&] { scaled_dot_product_attention(q, k.to(DType::f64), v); },
               {op, "one dtype", "f64"});
  expect_error([&] { scaled_dot_product_attention(q.to(DType::i64), k, v); }, {op, "floating"});
  expect_error(
      [&] {
        scaled_dot_product_attention(q, k, v, ones({3, 5}, DType::i64));
      },
      {op, "attn_mask", "bool", "i64"});
  expect_error(
      [&] {
        scaled_dot_product_attention(q, k, v, ones({3, 4}, DType::boolean));
      },
      {op, "attn_mask", "[3,4]"});
  expect_error(
      [&] {
        scaled_dot_product_attention(q, k, v, ones({4, 3, 5}, DType::boolean));
      },
      {op, "attn_mask", "[4,3,5]"});
  expect_error([&] { scaled_dot_product_attention(q, k, v, std::nullopt, 1.5); },
               {op, "dropout_p", "1.5"});
  expect_error([&] { scaled_dot_product_attention(random_tensor({4}, DType::f32), k, v); },
               {op, "at least 2 dims"});
  expect_error(
      [&] {
        scaled_dot_product_attention(random_tensor({3, 3, 4}, DType::f32), k, v);
      },
      {op, "batch dims", "[3,3,4]", "[2,5,4]"});
}

}  // namespace
}  // namespace anvil
