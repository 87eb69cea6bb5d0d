// Derivatives of the conv ops: a gradcheck table over conv2d, conv1d and conv_transpose2d with
// every option (stride, padding incl. asymmetric "same", dilation, groups incl. depthwise,
// output_padding), unbatched inputs and each subset of input / weight / bias; plain tests for the
// f32 (oneDNN) gradients against f64, saved-tensor versions and integer inputs.
#include "autograd/autograd.h"
#include "grad_test.h"

namespace anvil::testing {
namespace {

using Outs = std::vector<Tensor>;
using In = const std::vector<Tensor>&;

std::optional<Tensor> third(In in) {
  return in.size() > 2 ? std::optional<Tensor>(in[2]) : std::nullopt;
}

GradCase conv2d_case(std::string name, Conv2dOptions o, std::vector<Shape> shapes,
                     std::vector<bool> requires_grad = {}) {
  return {std::move(name),
          [o](In in) -> Outs { return {conv2d(in[0], in[1], third(in), o)}; },
          std::move(shapes),
          -1,
          1,
          std::move(requires_grad)};
}

GradCase conv1d_case(std::string name, Conv1dOptions o, std::vector<Shape> shapes) {
  return {std::move(name), [o](In in) -> Outs { return {conv1d(in[0], in[1], third(in), o)}; },
          std::move(shapes), -1, 1};
}

GradCase transpose_case(std::string name, ConvTranspose2dOptions o, std::vector<Shape> shapes,
                        std::vector<bool> requires_grad = {}) {
  return {std::move(name),
          [o](In in) -> Outs { return {conv_transpose2d(in[0], in[1], third(in), o)}; },
          std::move(shapes),
          -1,
          1,
          std::move(requires_grad)};
}

const std::vector<GradCase>& table() {
  static const std::vector<GradCase> cases = {
      conv2d_case("conv2d", {}, {{2, 3, 5, 4}, {4, 3, 3, 2}, {4}}),
      conv2d_case("conv2d_no_bias", {}, {{2, 2, 4, 4}, {3, 2, 2, 2}}),
      conv2d_case("conv2d_stride_padding", {.stride = {2, 1}, .padding = {1, 2}},
                  {{1, 2, 6, 5}, {3, 2, 3, 3}, {3}}),
      conv2d_case("conv2d_dilation", {.padding = 1, .dilation = {2, 1}},
                  {{1, 2, 6, 5}, {2, 2, 3, 2}, {2}}),
      conv2d_case("conv2d_groups", {.stride = 2, .padding = 1, .groups = 2},
                  {{2, 4, 5, 5}, {4, 2, 3, 3}, {4}}),
      conv2d_case("conv2d_depthwise", {.padding = 1, .groups = 3},
                  {{1, 3, 4, 5}, {6, 1, 3, 3}, {6}}),
      conv2d_case("conv2d_same_even_kernel", {.padding = "same", .dilation = {1, 2}},
                  {{1, 2, 5, 6}, {2, 2, 2, 2}, {2}}),
      conv2d_case("conv2d_dropped_rows", {.stride = 3}, {{1, 2, 7, 8}, {2, 2, 2, 2}}),
      conv2d_case("conv2d_unbatched", {.padding = 1}, {{2, 4, 3}, {3, 2, 3, 3}, {3}}),
      conv2d_case("conv2d_input_only", {.padding = 1}, {{1, 2, 4, 4}, {2, 2, 3, 3}, {2}},
                  {true, false, false}),
      conv2d_case("conv2d_weight_only", {.padding = 1}, {{1, 2, 4, 4}, {2, 2, 3, 3}, {2}},
                  {false, true, false}),
      conv2d_case("conv2d_bias_only", {.padding = 1}, {{1, 2, 4, 4}, {2, 2, 3, 3}, {2}},
                  {false, false, true}),
      conv1d_case("conv1d", {.padding = 1}, {{2, 3, 7}, {4, 3, 3}, {4}}),
      conv1d_case("conv1d_options", {.stride = 2, .padding = 2, .dilation = 2, .groups = 2},
                  {{2, 4, 9}, {4, 2, 3}, {4}}),
      conv1d_case("conv1d_same", {.padding = "same"}, {{2, 2, 6}, {3, 2, 4}}),
      conv1d_case("conv1d_unbatched", {}, {{3, 7}, {2, 3, 3}, {2}}),
      transpose_case("conv_transpose2d", {}, {{2, 3, 4, 3}, {3, 2, 3, 2}, {2}}),
      transpose_case("conv_transpose2d_stride_output_padding",
                     {.stride = 2, .padding = 1, .output_padding = {1, 0}},
                     {{1, 2, 3, 4}, {2, 3, 3, 3}, {3}}),
      transpose_case("conv_transpose2d_output_padding_below_dilation",
                     {.padding = {0, 1}, .output_padding = 1, .dilation = 2},
                     {{1, 2, 3, 4}, {2, 2, 3, 3}, {2}}),
      transpose_case("conv_transpose2d_groups", {.stride = {1, 2}, .padding = 1, .groups = 2},
                     {{1, 4, 3, 3}, {4, 2, 3, 2}, {4}}),
      transpose_case("conv_transpose2d_unbatched", {.stride = 2}, {{2, 3, 3}, {2, 2, 2, 2}}),
      transpose_case("conv_transpose2d_weight_only", {.stride = 2},
                     {{1, 2, 3, 3}, {2, 2, 2, 2}, {2}}, {false, true, false}),
      // chained: the incoming gradient is an expanded (stride-0) tensor
      {"sum_of_conv2d",
       [](In in) -> Outs { return {sum(conv2d(in[0], in[1], in[2], {.padding = 1}))}; },
       {{1, 2, 4, 4}, {3, 2, 3, 3}, {3}},
       -1,
       1},
  };
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Conv, GradTest, ::testing::ValuesIn(grad_cases(table())), grad_case_name);

// The f32 gradients (oneDNN's backward primitives) agree with the f64 ones (im2col + GEMM).
TEST(ConvGrad, Float32MatchesFloat64) {
  std::vector<Tensor> grads[2];
  for (DType t : {DType::f64, DType::f32}) {  // the same seeds: f32 holds the rounded values
    Tensor x = random_tensor({4, 16, 9, 9}, t, -1, 1, 1).requires_grad_();
    Tensor w = random_tensor({24, 8, 3, 3}, t, -0.3, 0.3, 2).requires_grad_();
    Tensor b = random_tensor({24}, t, -1, 1, 3).requires_grad_();
    conv2d(x, w, b, {.stride = 2, .padding = 1, .groups = 2})
        .backward(random_tensor({4, 24, 5, 5}, t, -1, 1, 4));
    EXPECT_EQ(x.grad().dtype(), t);
    grads[t == DType::f32].assign({x.grad(), w.grad(), b.grad()});
  }
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(all_close(grads[1][i], grads[0][i], {1e-4, 1e-4})) << i;
}

TEST(ConvGrad, NodeNames) {
  const Tensor x = ones({1, 1, 3, 3}, DType::f64).requires_grad_();
  const Tensor w = ones({1, 1, 2, 2}, DType::f64);
  EXPECT_EQ(conv2d(x, w).grad_fn_name(), "Conv2dBackward");
  EXPECT_EQ(conv1d(x[0][0], ones({1, 3, 2}, DType::f64)).grad_fn_name(), "Conv1dBackward");
  EXPECT_EQ(conv_transpose2d(x, w).grad_fn_name(), "ConvTranspose2dBackward");
}

TEST(ConvGrad, SavedOperandModifiedInPlace) {
  // The weight's gradient needs the input, the input's gradient needs the weight.
  Tensor x = ones({1, 1, 3, 3}, DType::f64);
  Tensor w = ones({1, 1, 2, 2}, DType::f64).requires_grad_();
  Tensor y = conv2d(x, w);
  x.mul_(2);
  expect_error([&] { sum(y).backward(); }, {"Conv2dBackward", "modified by an inplace"});
  Tensor x2 = ones({1, 1, 3, 3}, DType::f64).requires_grad_();
  Tensor w2 = ones({1, 1, 2, 2}, DType::f64);
  Tensor z = conv2d(x2, w2);
  x2.detach().add_(1);  // not saved: only the weight is needed for x2's gradient
  sum(z).backward();
  EXPECT_EQ(x2.grad().to_vector<double>(), (std::vector<double>{1, 2, 1, 2, 4, 2, 1, 2, 1}));
}

TEST(ConvGrad, IntegerConvolutionsNeedNoGrad) {
  const Tensor x = ones({1, 1, 3, 3}, DType::i64);
  EXPECT_FALSE(conv2d(x, ones({1, 1, 2, 2}, DType::i64)).requires_grad());
}

}  // namespace
}  // namespace anvil::testing
