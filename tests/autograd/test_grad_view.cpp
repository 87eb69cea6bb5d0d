// Derivatives of the views, copies and fills, and the in-place rules of autograd.
#include <gtest/gtest.h>

#include "grad_test.h"

namespace anvil::testing {
namespace {

using Ins = std::vector<Tensor>;
using Outs = std::vector<Tensor>;

const std::vector<GradCase>& view_table() {
  static const std::vector<GradCase> table{
      {"view",
       [](const Ins& x) {
         return Outs{x[0].contiguous().view({3, 2, 2}).square()};
       },
       {{4, 3}}},
      {"reshape", [](const Ins& x) { return Outs{x[0].reshape({-1}).square()}; }, {{4, 3}}},
      {"permute",
       [](const Ins& x) {
         return Outs{x[0].permute({2, 0, 1}).square()};
       },
       {{2, 3, 4}}},
      {"transpose", [](const Ins& x) { return Outs{x[0].transpose(0, -1).square()}; }, {{2, 3, 4}}},
      {"t", [](const Ins& x) { return Outs{x[0].t().square()}; }, {{3, 4}}},
      {"t_1d", [](const Ins& x) { return Outs{x[0].t().square()}; }, {{5}}},
      {"mT", [](const Ins& x) { return Outs{x[0].mT().square()}; }, {{2, 3, 4}}},
      {"slice_step",
       [](const Ins& x) { return Outs{x[0].slice(1, 1, std::nullopt, 2).square()}; },
       {{3, 6}}},
      {"slice_negative",
       [](const Ins& x) { return Outs{x[0].slice(-1, -3, -1).square()}; },
       {{3, 6}}},
      {"narrow", [](const Ins& x) { return Outs{x[0].narrow(0, 1, 2).square()}; }, {{4, 3}}},
      {"select", [](const Ins& x) { return Outs{x[0].select(1, -1).square()}; }, {{4, 3}}},
      {"index", [](const Ins& x) { return Outs{x[0][2].square()}; }, {{4, 3}}},
      {"expand",
       [](const Ins& x) {
         return Outs{x[0].expand({2, 4, 3}).square()};
       },
       {{4, 1}}},
      {"expand_as",
       [](const Ins& x) { return Outs{(x[0].expand_as(x[1]) * x[1])}; },
       {{1, 3}, {4, 3}}},
      {"squeeze", [](const Ins& x) { return Outs{x[0].squeeze().square()}; }, {{1, 3, 1, 2}}},
      {"squeeze_dim", [](const Ins& x) { return Outs{x[0].squeeze(2).square()}; }, {{2, 3, 1}}},
      {"unsqueeze", [](const Ins& x) { return Outs{x[0].unsqueeze(-1).square()}; }, {{2, 3}}},
      {"flatten", [](const Ins& x) { return Outs{x[0].flatten(1).square()}; }, {{2, 3, 2}}},
      {"unflatten",
       [](const Ins& x) {
         return Outs{x[0].unflatten(1, {2, 3}).square()};
       },
       {{2, 6}}},
      {"as_strided_overlapping",
       [](const Ins& x) {
         const Tensor c = x[0].contiguous();
         return Outs{c.as_strided({3, 3}, {1, 1}, 1).square()};
       },
       {{8}}},
      {"movedim", [](const Ins& x) { return Outs{x[0].movedim(0, -1).square()}; }, {{2, 3, 4}}},
      {"diagonal", [](const Ins& x) { return Outs{x[0].diagonal(1).square()}; }, {{3, 4}}},
      {"diagonal_negative",
       [](const Ins& x) { return Outs{x[0].diagonal(-1, 2, 0).square()}; },
       {{3, 2, 4}}},
      {"view_chain",
       [](const Ins& x) {
         return Outs{x[0].transpose(0, 1).reshape({6, 2}).slice(0, 1, 5).t().square()};
       },
       {{4, 3}}},
      {"clone", [](const Ins& x) { return Outs{x[0].clone().square()}; }, {{3, 2}}},
      {"contiguous", [](const Ins& x) { return Outs{x[0].contiguous().square()}; }, {{3, 2}}},
      {"copy_",
       [](const Ins& x) {
         Tensor y = x[0] * 1.0;
         y.copy_(x[1]);
         return Outs{y * x[0]};
       },
       {{2, 3}, {3}}},
      {"fill_tensor",
       [](const Ins& x) {
         Tensor y = x[0] * 1.0;
         y.fill_(x[1]);
         return Outs{y * x[0]};
       },
       {{2, 3}, {}}},
      {"zero_",
       [](const Ins& x) {
         Tensor y = x[0] * 1.0;
         y.zero_();
         return Outs{y + x[0]};
       },
       {{2, 3}}},
  };
  return table;
}

INSTANTIATE_TEST_SUITE_P(View, GradTest, ::testing::ValuesIn(grad_cases(view_table())),
                         grad_case_name);

Tensor leaf(std::vector<double> v, const Shape& shape) {
  return tensor<double>(v, shape).requires_grad_();
}

TEST(GradView, ViewsShareStorageAndRecord) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor v = x.t();
  EXPECT_TRUE(v.shares_storage(x));
  EXPECT_EQ(v.grad_fn_name(), "TBackward");
  v.select(0, 1).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1, 0, 0, 1, 0}));
}

TEST(GradView, NoOpConversionsReturnTheTensorItself) {
  Tensor x = leaf({1, 2}, {2});
  EXPECT_TRUE(x.contiguous().is_same(x));
  EXPECT_TRUE(x.to(DType::f64).is_same(x));
  EXPECT_TRUE(x.to(DType::f64).is_leaf());
  EXPECT_FALSE(x.to(DType::i64).requires_grad());  // integer results never require grad
  EXPECT_TRUE(x.to(DType::f32).requires_grad());
}

TEST(GradView, ConversionsPassTheGradientBackInTheInputsDType) {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = x.to(DType::f32);
  EXPECT_EQ(y.grad_fn_name(), "CopyBackward");
  (y * y).sum().backward();
  EXPECT_EQ(x.grad().dtype(), DType::f64);
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, 4}));
}

TEST(GradView, InPlaceOnALeafThatRequiresGradIsAnError) {
  Tensor x = leaf({1, 2}, {2});
  expect_error([&] { x.copy_(ones({2}, DType::f64)); }, {"copy_", "leaf", "requires grad"});
  expect_error([&] { x.zero_(); }, {"zero_", "leaf"});
  NoGradGuard no_grad;
  x.zero_();  // what optimizers do
  EXPECT_EQ(x.to_vector<double>(), (std::vector<double>{0, 0}));
}

TEST(GradView, InPlaceOnAViewWhileRecordingIsAnError) {
  Tensor w = leaf({1, 2}, {2});
  Tensor buffer = zeros({2, 2}, DType::f64);
  expect_error([&] { buffer.select(0, 0).copy_(w); }, {"copy_", "view", "out of place"});
  Tensor y = w * 2;
  expect_error([&] { y.narrow(0, 0, 1).fill_(0.0); }, {"fill_", "view"});
  // Without gradients involved, views are written as usual.
  buffer.select(0, 1).fill_(3.0);
  EXPECT_EQ(buffer.to_vector<double>(), (std::vector<double>{0, 0, 3, 3}));
}

TEST(GradView, AViewWhoseBaseChangedInPlaceIsNotUsedWithAStaleHistory) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = x * 1;
  Tensor before = y.narrow(0, 0, 2);
  Tensor used = before * 2;  // used before the write: its history is right
  y.mul_(2);
  expect_error([&] { (before * 3).sum(); }, {"view", "modified in place", "again"});
  Tensor after = y.narrow(0, 0, 2);
  (used.sum() + after.sum()).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{4, 4, 0}));
}

TEST(GradView, CopyIntoANonLeafRebasesItsHistory) {
  Tensor a = leaf({1, 2, 3}, {3});
  Tensor b = leaf({4, 5, 6}, {3});
  Tensor y = a * 3;
  y.copy_(b);  // y no longer depends on a
  EXPECT_EQ(y.grad_fn_name(), "OverwriteBackward");
  (y * y).sum().backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{8, 10, 12}));
}

TEST(GradView, CopyAcrossDTypesGivesEachItsDType) {
  Tensor src = leaf({1, 2}, {2});
  Tensor dst = zeros({2}, DType::f32);
  dst.copy_(src);
  EXPECT_TRUE(dst.requires_grad());
  dst.sum().backward();
  EXPECT_EQ(src.grad().dtype(), DType::f64);
  EXPECT_EQ(src.grad().to_vector<double>(), (std::vector<double>{1, 1}));
}

TEST(GradView, ModifiedSavedInputIsReportedAtBackward) {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = x * 1;
  Tensor z = y.view({2, 1}).expand({2, 3});  // views save nothing: still fine
  Tensor s = (y * y).sum();                  // saves y
  y.fill_(1.0);
  expect_error([&] { s.backward(); }, {"modified by an inplace operation", "version"});
  (void)z;
}

}  // namespace
}  // namespace anvil::testing
