// Convolutions: conv2d / conv1d / conv_transpose2d and the raw backward-data / backward-weight
// ops against the float64 reference for every option (stride, padding incl. "same" and "valid",
// dilation, groups incl. depthwise), odd sizes, non-contiguous and channels-last inputs, empty
// batches; PyTorch's shapes and values on small cases; the weight cache; errors.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "common/op_test.h"
#include "common/product_samples.h"

namespace anvil {
namespace {

using testing::expect_error;
using testing::Layout;
using testing::OpInfo;
using testing::OpInfoTest;
using testing::Sample;
using testing::Spec;
using testing::with_layout;

// This file's samples start at seed 11.
std::function<std::vector<Sample>(DType)> conv_samples(std::vector<Spec> specs) {
  return testing::samples_of(std::move(specs), 11);
}

constexpr Layout kT = Layout::transposed;
constexpr Layout kS = Layout::strided;
constexpr Layout kC = Layout::contiguous;

std::optional<Tensor> third(const std::vector<Tensor>& in) {
  return in.size() > 2 ? std::optional<Tensor>(in[2]) : std::nullopt;
}

// The same values in channels-last memory (NHWC strides).
Tensor channels_last(const Tensor& t) {
  return t.permute({0, 2, 3, 1}).contiguous().permute({0, 3, 1, 2});
}

const std::vector<OpId> kForward{OpId::conv2d};
const std::vector<OpId> kBackwardInput{OpId::conv2d_backward_input};
const std::vector<OpId> kBackwardWeight{OpId::conv2d_backward_weight};

// Large problems run on the threaded, blocked oneDNN path (f32, and bf16 on CPUs with
// AVX512-BF16); the other dtypes add nothing there.
const DTypeSet kLarge{DType::f32, DType::f64, DType::bf16};

OpInfo conv2d_case(std::string name, Conv2dOptions o, std::vector<Spec> specs,
                   DTypeSet dtypes = kNumericTypes) {
  return {std::move(name),
          [o](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], third(in), o); }, dtypes,
          conv_samples(std::move(specs)), kForward};
}

OpInfo conv1d_case(std::string name, Conv1dOptions o, std::vector<Spec> specs) {
  return {std::move(name),
          [o](const std::vector<Tensor>& in) { return conv1d(in[0], in[1], third(in), o); },
          kNumericTypes, conv_samples(std::move(specs)), kForward};
}

OpInfo transpose_case(std::string name, ConvTranspose2dOptions o, std::vector<Spec> specs,
                      DTypeSet dtypes = kNumericTypes) {
  return {
      std::move(name),
      [o](const std::vector<Tensor>& in) { return conv_transpose2d(in[0], in[1], third(in), o); },
      dtypes, conv_samples(std::move(specs)), kBackwardInput};
}

// The raw backward ops of one convolution geometry: samples are {grad_output, weight} (backward
// input) or {grad_output, input} (backward weight) of the convolution of `input` by `weight`.
struct Problem {
  std::string name;
  Shape input, weight;
  Conv2dParams p;
  DTypeSet dtypes = kNumericTypes;
  Shape output() const {
    auto size = [&](int d) {
      return (input[2 + d] + p.pad_begin[d] + p.pad_end[d] - p.dilation[d] * (weight[2 + d] - 1) -
              1) /
                 p.stride[d] +
             1;
    };
    return {input[0], weight[0], size(0), size(1)};
  }
};

std::vector<Problem> problems() {
  auto params = [](std::array<int64_t, 2> stride, std::array<int64_t, 2> dilation,
                   std::array<int64_t, 2> pb, std::array<int64_t, 2> pe, int64_t groups) {
    Conv2dParams p;
    p.stride = stride;
    p.dilation = dilation;
    p.pad_begin = pb;
    p.pad_end = pe;
    p.groups = groups;
    return p;
  };
  return {
      {"plain", {2, 3, 6, 5}, {4, 3, 3, 2}, params({1, 1}, {1, 1}, {0, 0}, {0, 0}, 1)},
      {"stride_pad", {2, 3, 9, 8}, {4, 3, 3, 3}, params({2, 3}, {1, 1}, {1, 2}, {1, 2}, 1)},
      {"asym_pad_dilation", {1, 2, 7, 7}, {3, 2, 2, 3}, params({1, 1}, {2, 1}, {0, 1}, {2, 0}, 1)},
      {"groups", {2, 4, 6, 6}, {6, 2, 3, 3}, params({2, 1}, {1, 1}, {1, 1}, {1, 1}, 2)},
      {"depthwise", {2, 5, 7, 6}, {5, 1, 3, 3}, params({1, 1}, {1, 1}, {1, 1}, {1, 1}, 5)},
      {"dropped_rows", {1, 2, 8, 7}, {2, 2, 3, 2}, params({3, 2}, {1, 1}, {0, 0}, {0, 0}, 1)},
      {"negative_pad_end", {2, 2, 9, 8}, {3, 2, 3, 3}, params({2, 2}, {1, 1}, {1, 1}, {0, -1}, 1)},
      {"large", {4, 16, 14, 14}, {32, 16, 3, 3}, params({1, 1}, {1, 1}, {1, 1}, {1, 1}, 1), kLarge},
      // 1x1 kernels at <= 4 output positions run as one GEMM over the batch in f32.
      {"pointwise_few_positions",
       {3, 8, 2, 2},
       {6, 8, 1, 1},
       params({1, 1}, {1, 1}, {0, 0}, {0, 0}, 1)},
      {"pointwise_strided_groups",
       {2, 6, 4, 3},
       {4, 3, 1, 1},
       params({2, 2}, {1, 1}, {0, 0}, {0, 0}, 2)},
  };
}

std::vector<OpInfo> backward_cases() {
  std::vector<OpInfo> table;
  for (const Problem& pr : problems()) {
    const Shape out = pr.output();
    const int64_t depth_in = pr.weight[0] / pr.p.groups * pr.weight[2] * pr.weight[3];
    const int64_t depth_w = out[0] * out[2] * out[3];
    table.push_back({"backward_input_" + pr.name,
                     [pr](const std::vector<Tensor>& in) {
                       return ops::conv2d_backward_input(in[0], in[1], pr.input, pr.p);
                     },
                     pr.dtypes,
                     conv_samples({{{out, pr.weight}, depth_in, "contiguous"},
                                   {{out, pr.weight}, depth_in, "transposed / strided", {kT, kS}}}),
                     kBackwardInput});
    table.push_back(
        {"backward_weight_" + pr.name,
         [pr](const std::vector<Tensor>& in) {
           return ops::conv2d_backward_weight(in[0], in[1], pr.weight, pr.p, false).first;
         },
         pr.dtypes,
         conv_samples({{{out, pr.input}, depth_w, "contiguous"},
                       {{out, pr.input}, depth_w, "strided / transposed", {kS, kT}}}),
         kBackwardWeight});
    table.push_back(
        {"backward_bias_" + pr.name,
         [pr](const std::vector<Tensor>& in) {
           return ops::conv2d_backward_weight(in[0], in[1], pr.weight, pr.p, true).second;
         },
         kLarge, conv_samples({{{out, pr.input}, depth_w, "contiguous"}}), kBackwardWeight});
  }
  return table;
}

std::vector<OpInfo> conv_op_table() {
  std::vector<OpInfo> t = {
      conv2d_case("conv2d", {},
                  {
                      {{{2, 3, 7, 6}, {4, 3, 3, 2}, {4}}, 18, "bias"},
                      {{{2, 3, 7, 6}, {4, 3, 3, 2}}, 18, "no bias"},
                      {{{2, 3, 7, 6}, {4, 3, 3, 2}, {4}}, 18, "transposed", {kT, kT, kC}},
                      {{{2, 3, 7, 6}, {4, 3, 3, 2}, {4}}, 18, "strided", {kS, kS, kS}},
                      {{{3, 7, 6}, {4, 3, 3, 2}, {4}}, 18, "unbatched"},
                      {{{0, 3, 7, 6}, {4, 3, 3, 2}, {4}}, 18, "empty batch"},
                      {{{2, 0, 5, 5}, {4, 0, 3, 3}, {4}}, 1, "no input channels (bias only)"},
                      {{{1, 1, 1, 1}, {1, 1, 1, 1}}, 1, "1x1x1x1"},
                      {{{2, 5, 4, 4}, {3, 5, 1, 1}, {3}}, 5, "1x1 kernel"},
                      {{{3, 5, 2, 2}, {7, 5, 1, 1}, {7}}, 5, "1x1 kernel at 2x2 (one GEMM)"},
                      {{{0, 5, 2, 2}, {7, 5, 1, 1}, {7}}, 5, "1x1 kernel at 2x2, empty batch"},
                      {{{2, 3, 5, 5}, {2, 3, 5, 5}, {2}}, 75, "kernel as large as the input"},
                  }),
      conv2d_case("conv2d_large", {.padding = 1},
                  {{{{4, 16, 20, 20}, {32, 16, 3, 3}, {32}}, 144, "threaded"}}, kLarge),
      conv2d_case("conv2d_stride_padding", {.stride = {2, 3}, .padding = {1, 2}},
                  {
                      {{{2, 3, 9, 8}, {4, 3, 3, 3}, {4}}, 27, "odd sizes"},
                      {{{2, 3, 10, 11}, {4, 3, 2, 4}}, 24, "even kernel", {kT, kS}},
                  }),
      conv2d_case("conv2d_dilation", {.padding = 2, .dilation = {2, 3}},
                  {{{{2, 3, 9, 10}, {2, 3, 3, 2}, {2}}, 18, "dilated"}}),
      conv2d_case("conv2d_padding_beyond_kernel", {.padding = {3, 1}},
                  {{{{1, 2, 4, 5}, {3, 2, 2, 2}, {3}}, 8, "padding 3 > kernel 2"}}),
      conv2d_case("conv2d_groups", {.stride = 2, .padding = 1, .groups = 2},
                  {
                      {{{2, 4, 7, 7}, {6, 2, 3, 3}, {6}}, 18, "groups 2"},
                      {{{2, 4, 7, 7}, {6, 2, 3, 3}, {6}}, 18, "non-contiguous", {kT, kS, kC}},
                  }),
      conv2d_case("conv2d_depthwise", {.padding = 1, .groups = 4},
                  {
                      {{{2, 4, 6, 5}, {4, 1, 3, 3}, {4}}, 9, "groups = channels"},
                      {{{2, 4, 6, 5}, {8, 1, 3, 3}, {8}}, 9, "channel multiplier 2"},
                      {{{2, 4, 6, 5}, {4, 1, 3, 3}}, 9, "transposed", {kT, kT}},
                  }),
      conv2d_case("conv2d_same", {.padding = "same", .dilation = {1, 2}},
                  {
                      {{{2, 2, 6, 7}, {3, 2, 2, 4}, {3}}, 16, "even kernel: pad more at the end"},
                      {{{2, 2, 6, 7}, {3, 2, 3, 3}}, 18, "odd kernel"},
                  }),
      conv2d_case("conv2d_valid", {.stride = 1, .padding = "valid"},
                  {{{{2, 2, 6, 7}, {3, 2, 2, 4}, {3}}, 16, "valid"}}),
      {"conv2d_channels_last",
       [](const std::vector<Tensor>& in) {
         return conv2d(channels_last(in[0]), channels_last(in[1]), in[2], {.padding = 1});
       },
       kNumericTypes, conv_samples({{{{2, 8, 5, 6}, {4, 8, 3, 3}, {4}}, 72, "NHWC memory"}}),
       kForward},
      conv1d_case("conv1d", {},
                  {
                      {{{2, 3, 9}, {4, 3, 3}, {4}}, 9, "bias"},
                      {{{3, 9}, {4, 3, 3}}, 9, "unbatched"},
                      {{{2, 3, 9}, {4, 3, 3}, {4}}, 9, "non-contiguous", {kT, kS, kC}},
                      {{{0, 3, 9}, {4, 3, 3}}, 9, "empty batch"},
                  }),
      conv1d_case("conv1d_options", {.stride = 2, .padding = 2, .dilation = 2, .groups = 3},
                  {{{{2, 6, 11}, {9, 2, 3}, {9}}, 6, "stride, padding, dilation, groups"}}),
      conv1d_case("conv1d_same", {.padding = "same", .dilation = 3},
                  {{{{2, 2, 10}, {3, 2, 4}, {3}}, 8, "same with an even kernel"}}),
      transpose_case("conv_transpose2d", {},
                     {
                         {{{2, 3, 5, 4}, {3, 4, 3, 2}, {4}}, 18, "bias"},
                         {{{3, 5, 4}, {3, 4, 3, 2}}, 18, "unbatched"},
                         {{{2, 3, 5, 4}, {3, 4, 3, 2}, {4}}, 18, "non-contiguous", {kT, kS, kC}},
                         {{{0, 3, 5, 4}, {3, 4, 3, 2}, {4}}, 18, "empty batch"},
                     }),
      transpose_case("conv_transpose2d_stride_output_padding",
                     {.stride = 2, .padding = 1, .output_padding = {1, 0}},
                     {{{{2, 4, 4, 5}, {4, 3, 3, 3}, {3}}, 36, "upsampling x2"}}),
      transpose_case("conv_transpose2d_output_padding_below_dilation",
                     {.stride = 1, .padding = {0, 1}, .output_padding = 1, .dilation = 2},
                     {{{{2, 2, 4, 5}, {2, 3, 3, 3}, {3}}, 18, "output_padding >= stride"}}),
      transpose_case("conv_transpose2d_groups", {.stride = {1, 2}, .padding = 1, .groups = 2},
                     {{{{2, 4, 5, 5}, {4, 3, 3, 2}, {6}}, 12, "groups 2"}}),
      transpose_case("conv_transpose2d_large", {.stride = 2, .padding = 1, .output_padding = 1},
                     {{{{4, 32, 8, 8}, {32, 16, 4, 4}, {16}}, 128, "DCGAN-like"}}, kLarge),
  };
  for (OpInfo& op : backward_cases()) t.push_back(std::move(op));
  return t;
}

INSTANTIATE_TEST_SUITE_P(Conv, OpInfoTest, ::testing::ValuesIn(op_cases(conv_op_table())),
                         testing::op_case_name);

Tensor arange_f(int64_t n, const Shape& shape) {
  return arange(n, TensorOptions(DType::f32)).reshape(shape);
}

// Values from torch.nn.functional on the same inputs.
TEST(Conv, SamePaddingPutsTheExtraZeroAtTheEnd) {
  const Tensor y = conv2d(arange_f(16, {1, 1, 4, 4}), ones({1, 1, 2, 2}), {}, {.padding = "same"});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  EXPECT_EQ(y.to_vector<float>(),
            (std::vector<float>{10, 14, 18, 10, 26, 30, 34, 18, 42, 46, 50, 26, 25, 27, 29, 15}));
  const Tensor z = conv1d(arange_f(6, {1, 1, 6}), ones({1, 1, 4}), {}, {.padding = "same"});
  EXPECT_EQ(z.to_vector<float>(), (std::vector<float>{3, 6, 10, 14, 12, 9}));
}

TEST(Conv, OutputShapesFollowPyTorch) {
  const Tensor x = zeros({2, 4, 6, 7});
  EXPECT_EQ(conv2d(x, zeros({6, 2, 2, 3}), {}, {.padding = "same", .groups = 2}).shape(),
            (Shape{2, 6, 6, 7}));
  EXPECT_EQ(conv2d(x, zeros({6, 4, 2, 3}), {}, {.stride = {2, 3}}).shape(), (Shape{2, 6, 3, 2}));
  EXPECT_EQ(conv2d(x[0], zeros({6, 2, 2, 3}), {}, {.groups = 2}).shape(), (Shape{6, 5, 5}));
  EXPECT_EQ(conv2d(zeros({1, 1, 2, 2}), zeros({1, 1, 5, 5}), {}, {.padding = "same"}).shape(),
            (Shape{1, 1, 2, 2}));
  EXPECT_EQ(conv1d(zeros({3, 10}), zeros({2, 3, 3}), {}, {.stride = 3}).shape(), (Shape{2, 3}));
  EXPECT_EQ(conv_transpose2d(zeros({3, 3, 3}), zeros({3, 2, 3, 3})).shape(), (Shape{2, 5, 5}));
  EXPECT_EQ(conv_transpose2d(zeros({0, 3, 3, 3}), zeros({3, 2, 3, 3})).shape(),
            (Shape{0, 2, 5, 5}));
}

TEST(Conv, TransposeOutputPaddingBelowDilation) {
  // torch: F.conv_transpose2d(ones(1,1,3,3), ones(1,1,3,3), dilation=2, output_padding=1)
  const Tensor y = conv_transpose2d(ones({1, 1, 3, 3}), ones({1, 1, 3, 3}), {},
                                    {.output_padding = 1, .dilation = 2});
  ASSERT_EQ(y.shape(), (Shape{1, 1, 8, 8}));
  const std::vector<float> v = y.to_vector<float>();
  EXPECT_EQ(std::vector<float>(v.begin(), v.begin() + 8),
            (std::vector<float>{1, 1, 2, 1, 2, 1, 1, 0}));
  EXPECT_EQ(std::vector<float>(v.end() - 8, v.end()), std::vector<float>(8, 0));
}

TEST(Conv, TransposeIsTheAdjointOfConv) {
  // <conv(x, w), y> == <x, conv_transpose(y, w)> with the same options.
  const Tensor x = testing::random_tensor({2, 3, 9, 8}, DType::f64, -1, 1, 1);
  const Tensor w = testing::random_tensor({4, 3, 3, 2}, DType::f64, -1, 1, 2);
  const Tensor cx = conv2d(x, w, {}, {.stride = 2, .padding = 1, .dilation = {1, 2}});
  const Tensor y = testing::random_tensor(cx.shape(), DType::f64, -1, 1, 3);
  const Tensor ty = conv_transpose2d(
      y, w, {}, {.stride = 2, .padding = 1, .output_padding = {0, 1}, .dilation = {1, 2}});
  ASSERT_EQ(ty.shape(), x.shape());
  EXPECT_NEAR(sum(cx * y).item<double>(), sum(x * ty).item<double>(), 1e-10);
}

TEST(Conv, IntegerConvolutionWraps) {
  // 2 * 9 * 15 = 270 does not fit in u8: it wraps as in PyTorch.
  const Tensor x = full({1, 2, 3, 3}, 15, DType::u8);
  const Tensor y = conv2d(x, ones({1, 2, 3, 3}, DType::u8));
  EXPECT_EQ(y.dtype(), DType::u8);
  EXPECT_EQ(y.item<int64_t>(), 270 % 256);
}

TEST(Conv, WeightChangedInPlaceIsSeen) {
  // The f32 path keeps a reordered copy of the weight: an in-place update must invalidate it.
  const Tensor x = testing::random_tensor({2, 16, 8, 8}, DType::f32, -1, 1, 4);
  Tensor w = testing::random_tensor({16, 16, 3, 3}, DType::f32, -1, 1, 5);
  const Tensor before = conv2d(x, w, {}, {.padding = 1});
  EXPECT_TRUE(testing::all_close(conv2d(x, w, {}, {.padding = 1}), before, {0, 0}));
  w.mul_(2);
  EXPECT_TRUE(testing::all_close(conv2d(x, w, {}, {.padding = 1}), before * 2, {1e-6, 1e-6}));
  Tensor view = w.narrow(0, 0, 16);  // another tensor of the same storage sees the same copy
  EXPECT_TRUE(testing::all_close(conv2d(x, view, {}, {.padding = 1}), before * 2, {1e-6, 1e-6}));
}

TEST(Conv, ThreadCountChangesAreSafe) {
  const Tensor x = testing::random_tensor({4, 16, 12, 12}, DType::f32, -1, 1, 6);
  const Tensor w = testing::random_tensor({32, 16, 3, 3}, DType::f32, -1, 1, 7);
  const int threads = num_threads();
  const Tensor a = conv2d(x, w, {}, {.padding = 1});
  set_num_threads(1);
  const Tensor b = conv2d(x, w, {}, {.padding = 1});
  set_num_threads(threads);
  EXPECT_TRUE(testing::all_close(a, b, {1e-5, 1e-5}));
}

TEST(Conv, ConcurrentCallsShareThePlans) {
  // Threads that run the same convolutions at once share the cached plans and weight copies.
  const Tensor x = testing::random_tensor({2, 16, 8, 8}, DType::f32, -1, 1, 8);
  const Tensor w = testing::random_tensor({16, 16, 3, 3}, DType::f32, -1, 1, 9);
  const Tensor expected = conv2d(x, w, {}, {.padding = 1});
  std::vector<Tensor> results(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) results[t] = conv2d(x, w, {}, {.padding = 1});
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Tensor& r : results) EXPECT_TRUE(testing::all_close(r, expected, {0, 0}));
}

TEST(Conv, Errors) {
  const Tensor x = zeros({2, 4, 6, 7}), w = zeros({6, 2, 2, 3});
  expect_error(
      [&] {
        conv2d(x, zeros({6, 3, 2, 3}));
      },
      {"conv2d", "[2,4,6,7]", "[6,3,2,3]", "3 channels", "got 4"});
  expect_error([&] { conv2d(x, w, {}, {.groups = 4}); },
               {"conv2d", "[6,2,2,3]", "not divisible by groups=4"});
  expect_error([&] { conv2d(x, w, {}, {.groups = 3}); }, {"conv2d", "6 channels", "groups=3"});
  expect_error(
      [&] {
        conv2d(zeros({2, 4, 1, 1}), w, {}, {.groups = 2});
      },
      {"conv2d", "padded input size (1 x 1)", "dilated kernel size (2 x 3)"});
  expect_error([&] { conv2d(x, w, {}, {.stride = 2, .padding = "same", .groups = 2}); },
               {"conv2d", "\"same\"", "strided"});
  expect_error([&] { conv2d(x, w, {}, {.padding = "full", .groups = 2}); },
               {"conv2d", "invalid padding string \"full\""});
  expect_error([&] { conv2d(x, w, {}, {.padding = -1, .groups = 2}); },
               {"conv2d", "padding must be non-negative"});
  expect_error(
      [&] {
        conv2d(x, w, {}, {.stride = {1, 0}, .groups = 2});
      },
      {"conv2d", "stride must be positive", "(1, 0)"});
  expect_error([&] { conv2d(x, w, {}, {.dilation = 0, .groups = 2}); },
               {"conv2d", "dilation must be positive"});
  expect_error([&] { conv2d(x, w, {}, {.groups = 0}); }, {"conv2d", "groups must be positive"});
  expect_error([&] { conv2d(x, w, zeros({5}), {.groups = 2}); },
               {"conv2d", "bias", "6 elements", "[5]"});
  expect_error([&] { conv2d(x, w.to(DType::f64), {}, {.groups = 2}); },
               {"conv2d", "same dtype", "f32", "f64"});
  expect_error([&] { conv2d(x.to(DType::boolean), w.to(DType::boolean), {}, {.groups = 2}); },
               {"conv2d", "bool is not supported"});
  expect_error([&] { conv2d(zeros({6, 7}), w); }, {"conv2d", "3-D (unbatched) or 4-D", "[6,7]"});
  expect_error([&] { conv2d(x, zeros({6, 4, 3})); }, {"conv2d", "4-D weight", "[6,4,3]"});
  expect_error(
      [&] {
        conv2d(zeros({2, 4, 0, 7}), w, {}, {.groups = 2});
      },
      {"conv2d", "empty spatial dim", "[2,4,0,7]"});
  expect_error(
      [&] {
        conv1d(zeros({2, 3, 4, 5}), zeros({1, 3, 4}));
      },
      {"conv1d", "2-D (unbatched) or 3-D (batched)", "[2,3,4,5]"});
  expect_error(
      [&] {
        conv1d(zeros({2, 3, 5}), zeros({1, 3, 6}));
      },
      {"conv1d", "padded input size 5", "dilated kernel size 6"});
  expect_error(
      [&] {
        conv_transpose2d(zeros({1, 1, 3, 3}), zeros({1, 1, 3, 3}), {},
                         {.stride = 2, .output_padding = 2});
      },
      {"conv_transpose2d", "output_padding (2 x 2)", "stride (2 x 2)"});
  expect_error(
      [&] {
        conv_transpose2d(zeros({1, 1, 1, 1}), zeros({1, 1, 1, 1}), {}, {.padding = 1});
      },
      {"conv_transpose2d", "output size (-1 x -1)", "too small"});
  expect_error(
      [&] {
        conv_transpose2d(zeros({1, 3, 3, 3}), zeros({3, 1, 3, 3}), {}, {.groups = 2});
      },
      {"conv_transpose2d", "not divisible by groups=2"});
  expect_error(
      [&] {
        conv_transpose2d(zeros({1, 4, 3, 3}), zeros({3, 1, 3, 3}));
      },
      {"conv_transpose2d", "3 channels", "got 4"});
}

}  // namespace
}  // namespace anvil
