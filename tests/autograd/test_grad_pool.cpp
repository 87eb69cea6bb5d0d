// Derivatives of the pool family: gradcheck of every op over its options (max pooling on
// distinct values, so no tie sits within the finite-difference step), plus what a table cannot
// show: integer outputs, node names, dropout's mask under checkpointing, in-place dropout rules,
// embedding's padding row (whose zero gradient is by definition, not a derivative), dtypes and
// unbatched shapes of the gradients.
#include <algorithm>
#include <numeric>

#include "autograd/autograd.h"
#include "common/op_test.h"
#include "grad_test.h"

namespace anvil::testing {
namespace {

using V = std::vector<Tensor>;
using M = InterpolateMode;

// A permutation of 0..n-1 scaled into [-2, 2): distinct values at least 4/n apart, so a max
// never changes under the gradcheck step.
Tensor distinct(const Shape& shape, uint64_t seed = 3) {
  const int64_t n = numel_of(shape);
  Generator gen(seed);
  const std::vector<int64_t> perm = randperm(n, {}, &gen).to_vector<int64_t>();
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = -2.0 + 4.0 * double(perm[i]) / double(n);
  return tensor<double>(v, shape);
}

// Max pooling on distinct values: the input, in [-0.01, 0.01], is added to fixed values at least
// 4/n > 0.02 apart, so no window's maximum changes between the gradcheck's evaluations.
GradCase max_case(const std::string& name, const Shape& shape,
                  std::function<Tensor(const Tensor&)> f) {
  return {name,
          [shape, f](const V& in) { return V{f(add(in[0], distinct(shape)))}; },
          {shape},
          -0.01,
          0.01};
}

Tensor seeded_dropout(const Tensor& x, double p) {
  manual_seed(17);  // every evaluation draws the same mask
  return dropout(x, p, true);
}

const std::vector<GradCase>& pool_table() {
  static const Tensor idx = tensor<int64_t>({3, 0, 4, 4, 1, 3, 0, 2}, {2, 4});
  static const std::vector<GradCase> table = {
      // max pooling
      max_case("max_pool2d_k3s2p1", {2, 2, 7, 6},
               [](const Tensor& x) { return max_pool2d(x, {3}, {.stride = {2}, .padding = {1}}); }),
      max_case("max_pool2d_k2", {1, 2, 4, 5}, [](const Tensor& x) { return max_pool2d(x, {2}); }),
      max_case("max_pool2d_dilation_ceil", {1, 2, 7, 8},
               [](const Tensor& x) {
                 return max_pool2d(
                     x, {3, 2},
                     {.stride = {2, 3}, .padding = {1, 1}, .dilation = {2, 1}, .ceil_mode = true});
               }),
      max_case("max_pool2d_overlapping_s1", {1, 1, 5, 5},
               [](const Tensor& x) { return max_pool2d(x, {3}, {.stride = {1}}); }),
      max_case("max_pool2d_unbatched", {2, 5, 6},
               [](const Tensor& x) { return max_pool2d(x, {2}, {.padding = {1}}); }),
      max_case(
          "max_pool2d_with_indices", {1, 2, 5, 5},
          [](const Tensor& x) { return max_pool2d_with_indices(x, {2}, {.stride = {1}}).first; }),
      max_case("adaptive_max_pool2d", {2, 2, 7, 5},
               [](const Tensor& x) {
                 return adaptive_max_pool2d(x, {3, 2});
               }),
      max_case("adaptive_max_pool2d_larger", {1, 2, 3, 4},
               [](const Tensor& x) {
                 return adaptive_max_pool2d(x, {5, 6});
               }),
      // average pooling
      {"avg_pool2d_k3s2p1",
       [](const V& in) { return V{avg_pool2d(in[0], {3}, {.stride = {2}, .padding = {1}})}; },
       {{2, 2, 7, 6}}},
      {"avg_pool2d_nopad_ceil",
       [](const V& in) {
         return V{avg_pool2d(
             in[0], {3},
             {.stride = {2}, .padding = {1}, .ceil_mode = true, .count_include_pad = false})};
       },
       {{1, 2, 6, 7}}},
      {"avg_pool2d_divisor_override",
       [](const V& in) {
         return V{avg_pool2d(in[0], {2, 3},
                             {.stride = {1, 2}, .padding = {1, 1}, .divisor_override = 5})};
       },
       {{1, 2, 5, 6}}},
      {"avg_pool2d_unbatched", [](const V& in) { return V{avg_pool2d(in[0], {2})}; }, {{3, 4, 6}}},
      {"adaptive_avg_pool2d",
       [](const V& in) {
         return V{adaptive_avg_pool2d(in[0], {3, 4})};
       },
       {{2, 2, 7, 5}}},
      {"adaptive_avg_pool2d_global",
       [](const V& in) { return V{adaptive_avg_pool2d(in[0], {1})}; },
       {{2, 3, 4, 5}}},
      {"adaptive_avg_pool2d_keep_h",
       [](const V& in) {
         return V{adaptive_avg_pool2d(in[0], {std::nullopt, 7})};
       },
       {{3, 4, 5}}},
      // interpolate
      {"interpolate_nearest_size",
       [](const V& in) {
         return V{interpolate(in[0], {.size = {7, 4}})};
       },
       {{1, 2, 3, 5}}},
      {"interpolate_nearest_scale",
       [](const V& in) {
         return V{interpolate(in[0], {.scale_factor = {1.7, 0.6}})};
       },
       {{2, 1, 4, 6}}},
      {"interpolate_nearest_exact",
       [](const V& in) {
         return V{interpolate(in[0], {.size = {5, 3}, .mode = M::nearest_exact})};
       },
       {{1, 2, 4, 6}}},
      {"interpolate_bilinear",
       [](const V& in) {
         return V{interpolate(in[0], {.size = {6, 7}, .mode = M::bilinear})};
       },
       {{1, 2, 4, 5}}},
      {"interpolate_bilinear_align_corners",
       [](const V& in) {
         return V{interpolate(in[0], {.size = {3, 8}, .mode = M::bilinear, .align_corners = true})};
       },
       {{2, 1, 4, 5}}},
      {"interpolate_bilinear_scale",
       [](const V& in) {
         return V{interpolate(in[0], {.scale_factor = {1.5}, .mode = M::bilinear})};
       },
       {{1, 2, 3, 5}}},
      {"interpolate_linear_3d",
       [](const V& in) {
         return V{interpolate(in[0], {.scale_factor = {1.3}, .mode = M::linear})};
       },
       {{2, 3, 5}}},
      {"interpolate_nearest_3d",
       [](const V& in) { return V{interpolate(in[0], {.size = {7}})}; },
       {{2, 2, 4}}},
      {"interpolate_area",
       [](const V& in) {
         return V{interpolate(in[0], {.size = {2, 3}, .mode = M::area})};
       },
       {{1, 2, 5, 7}}},
      // embedding
      {"embedding", [](const V& in) { return V{embedding(idx, in[0])}; }, {{5, 3}}},
      {"embedding_0d_index",
       [](const V& in) { return V{embedding(scalar_tensor(int64_t{2}), in[0])}; },
       {{5, 3}}},
      // dropout
      {"dropout", [](const V& in) { return V{seeded_dropout(in[0], 0.4)}; }, {{4, 5}}},
      {"dropout_p1", [](const V& in) { return V{seeded_dropout(in[0], 1.0)}; }, {{3}}},
      {"dropout_inplace",
       [](const V& in) {
         Tensor y = in[0] * 1.0;
         manual_seed(17);
         dropout_(y, 0.3, true);
         return V{y};
       },
       {{3, 4}}},
  };
  return table;
}

INSTANTIATE_TEST_SUITE_P(Pool, GradTest, ::testing::ValuesIn(grad_cases(pool_table())),
                         grad_case_name);

Tensor leaf(const Tensor& t) {
  return t.detach().requires_grad_();
}

TEST(GradPool, IndicesDoNotRequireGradAndNodesAreNamed) {
  Tensor x = leaf(distinct({1, 2, 4, 4}));
  auto [v, i] = max_pool2d_with_indices(x, {2});
  EXPECT_TRUE(v.requires_grad());
  EXPECT_FALSE(i.requires_grad());
  EXPECT_EQ(v.grad_fn_name(), "MaxPool2DWithIndicesBackward");
  EXPECT_EQ(max_pool2d(x, {2}).grad_fn_name(), "MaxPool2DWithIndicesBackward");
  EXPECT_EQ(adaptive_max_pool2d(x, {2}).grad_fn_name(), "AdaptiveMaxPool2DBackward");
  EXPECT_FALSE(adaptive_max_pool2d_with_indices(x, {2}).second.requires_grad());
  EXPECT_EQ(avg_pool2d(x, {2}).grad_fn_name(), "AvgPool2DBackward");
  EXPECT_EQ(adaptive_avg_pool2d(x, {1}).grad_fn_name(), "AdaptiveAvgPool2DBackward");
  EXPECT_EQ(interpolate(x, {.scale_factor = {2}}).grad_fn_name(), "InterpolateBackward");
  EXPECT_EQ(dropout(x, 0.5).grad_fn_name(), "NativeDropoutBackward");
  EXPECT_EQ(embedding(tensor<int64_t>({1}), leaf(zeros({3, 2}))).grad_fn_name(),
            "EmbeddingBackward");
  // u8 nearest upsampling and eval-mode dropout record nothing.
  EXPECT_FALSE(interpolate(zeros({1, 1, 2, 2}, DType::u8), {.size = {3}}).requires_grad());
  EXPECT_TRUE(dropout(x, 0.5, false).is_same(x));
}

TEST(GradPool, MaxPoolGradientGoesToTheMaximaAndSumsOverOverlaps) {
  Tensor x = leaf(tensor<double>({1, 9, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 3, 3}));
  max_pool2d(x, {2}, {.stride = {1}}).sum().backward();
  // Windows: {1,9,3,4} {9,2,4,5} {3,4,6,7} {4,5,7,8}: 9 wins twice, 7 and 8 once each.
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 2, 0, 0, 0, 0, 0, 1, 1}));
}

// Dropout under autograd::checkpoint: the recomputation draws the same mask, so the gradients
// equal those of the plain run.
TEST(GradPool, CheckpointRecomputesTheSameDropoutMask) {
  const Tensor x0 = random_tensor({6, 7}, DType::f64);
  auto block = [](const V& in) {
    return V{dropout(avg_pool2d(in[0].unsqueeze(0), {2}, {.stride = {1}}), 0.5)};
  };
  auto run = [&](bool use_checkpoint) {
    manual_seed(21);
    Tensor x = leaf(x0);
    V out = use_checkpoint ? autograd::checkpoint(block, {x}) : block({x});
    rand({5});  // the stream moves on before backward
    (out[0] * out[0]).sum().backward();
    return std::make_pair(out[0].to_vector<double>(), x.grad().to_vector<double>());
  };
  const auto plain = run(false);
  const auto ckpt = run(true);
  EXPECT_EQ(plain.first, ckpt.first);
  EXPECT_EQ(plain.second, ckpt.second);
  EXPECT_GT(std::count(plain.first.begin(), plain.first.end(), 0.0), 0);
}

TEST(GradPool, DropoutGradientIsTheMaskOverOneMinusP) {
  Tensor x = leaf(ones({50, 40}));
  manual_seed(4);
  Tensor y = dropout(x, 0.25);
  y.sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), y.detach().to_vector<double>());
}

TEST(GradPool, InPlaceDropoutOnALeafThatRequiresGradIsAnError) {
  Tensor x = leaf(ones({3}));
  expect_error([&] { dropout_(x, 0.5, true); }, {"dropout_", "leaf"});
  dropout_(x, 0.5, false);  // a no-op is fine
  NoGradGuard no_grad;
  dropout_(x, 0.5, true);
}

TEST(GradPool, EmbeddingPaddingRowGetsNoGradient) {
  Tensor w = leaf(random_tensor({4, 3}, DType::f32));
  const Tensor idx = tensor<int64_t>({0, 2, 0, 3}, {2, 2});
  embedding(idx, w, {.padding_idx = 0}).sum().backward();
  EXPECT_EQ(w.grad().dtype(), DType::f32);
  EXPECT_EQ(w.grad().to_vector<float>(), (std::vector<float>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}));
}

TEST(GradPool, GradientsHaveTheInputsDtypeAndShape) {
  for (DType t : {DType::f32, DType::bf16}) {
    Tensor x = leaf(random_tensor({3, 6, 5}, t));
    Tensor y = add(max_pool2d(x, {2}).sum(), avg_pool2d(x, {3}, {.padding = {1}}).sum());
    y = add(y, interpolate(x, {.size = {9}, .mode = M::linear}).sum());
    y.backward();
    EXPECT_EQ(x.grad().dtype(), t);
    EXPECT_EQ(x.grad().shape(), (Shape{3, 6, 5}));
  }
  // A channels-last input gets a gradient of its shape.
  Tensor x = leaf(random_tensor({1, 5, 4, 3}, DType::f64).permute({0, 3, 1, 2}));
  adaptive_avg_pool2d(x, {1}).sum().backward();
  EXPECT_EQ(x.grad().shape(), (Shape{1, 3, 5, 4}));
  EXPECT_EQ(x.grad().to_vector<double>(), std::vector<double>(60, 0.05));
}

}  // namespace
}  // namespace anvil::testing
