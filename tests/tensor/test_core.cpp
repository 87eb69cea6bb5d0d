// Tensor core: metadata, views and their shared storage, version counters, copies, factories.
#include <gtest/gtest.h>

#include "common/op_test.h"

namespace anvil {
namespace {

using testing::expect_error;

TEST(TensorCore, FactoriesHaveShapeDtypeAndValues) {
  Tensor z = zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.dtype(), DType::f32);
  EXPECT_TRUE(z.is_contiguous());
  EXPECT_EQ(z.to_vector<float>(), std::vector<float>(6, 0.0f));
  EXPECT_EQ(ones({2}, DType::i64).to_vector<int64_t>(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(full({2}, 3).dtype(), DType::i64);
  EXPECT_EQ(full({2}, 1.5).dtype(), DType::f32);
  EXPECT_EQ(full({}, true).dtype(), DType::boolean);
  EXPECT_EQ(arange(5).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(5).dtype(), DType::i64);
  EXPECT_EQ(arange(0.0, 1.0, 0.25).to_vector<float>(), (std::vector<float>{0, 0.25, 0.5, 0.75}));
  EXPECT_EQ(arange(10, 0, -3).to_vector<int64_t>(), (std::vector<int64_t>{10, 7, 4, 1}));
  EXPECT_EQ(linspace(0, 1, 5).to_vector<float>(), (std::vector<float>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(eye(2, 3).to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(tensor<int32_t>({1, 2, 3, 4}, {2, 2}).shape(), (Shape{2, 2}));
}

TEST(TensorCore, FactoryErrorsNameTheProblem) {
  expect_error([] { zeros({2, -1}); }, {"negative dimension -1", "[2,-1]"});
  expect_error([] { arange(0, 5, -1); }, {"arange", "inconsistent"});
  expect_error([] { tensor<float>({1, 2, 3}, {2, 2}); }, {"3 values", "[2,2]"});
}

TEST(TensorCore, ViewsShareStorageAndSeeWrites) {
  Tensor a = arange(12, DType::f32).reshape({3, 4});
  Tensor row = a[1];
  Tensor col = a.select(1, 2);
  Tensor tr = a.t();
  EXPECT_TRUE(row.shares_storage(a));
  EXPECT_FALSE(tr.is_contiguous());
  row.fill_(-1);
  EXPECT_EQ(a.to_vector<float>()[4], -1.0f);
  EXPECT_EQ(col.to_vector<float>(), (std::vector<float>{2, -1, 10}));
  EXPECT_EQ(tr.shape(), (Shape{4, 3}));
  EXPECT_EQ(tr[2][1].item<float>(), -1.0f);
  Tensor s = a.slice(1, 1, std::nullopt, 2);
  EXPECT_EQ(s.shape(), (Shape{3, 2}));
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{1, 3, -1, -1, 9, 11}));
  EXPECT_EQ(a.narrow(0, 1, 2).shape(), (Shape{2, 4}));
  EXPECT_EQ(a.unsqueeze(1).shape(), (Shape{3, 1, 4}));
  EXPECT_EQ(a.unsqueeze(-1).shape(), (Shape{3, 4, 1}));
  EXPECT_EQ(a.unsqueeze(1).squeeze().shape(), (Shape{3, 4}));
  EXPECT_EQ(a.flatten().shape(), (Shape{12}));
  EXPECT_EQ(a.unflatten(1, {2, 2}).shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(a.permute({1, 0}).strides(), (Strides{1, 4}));
  EXPECT_EQ(a.movedim(0, 1).shape(), (Shape{4, 3}));
  EXPECT_EQ(a.diagonal().to_vector<float>(), (std::vector<float>{0, -1, 10}));
  EXPECT_EQ(a.diagonal(1).to_vector<float>(), (std::vector<float>{1, -1, 11}));
  Tensor e = a[0].unsqueeze(0).expand({2, 4});
  EXPECT_EQ(e.strides(), (Strides{0, 1}));
  Tensor w = a.as_strided({2, 2}, {1, 4}, 1);
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{1, -1, 2, -1}));
}

TEST(TensorCore, VersionCounterIsSharedByViewsAndBumpedByWrites) {
  Tensor a = zeros({4});
  Tensor v = a.slice(0, 1, 3);
  const uint64_t before = a.version();
  v.fill_(2);
  EXPECT_EQ(a.version(), before + 1);
  EXPECT_EQ(v.version(), a.version());
  a.copy_(ones({4}));
  EXPECT_EQ(v.version(), before + 2);
}

TEST(TensorCore, ViewAndReshapeRules) {
  Tensor a = arange(24).reshape({2, 3, 4});
  EXPECT_EQ(a.view({6, -1}).shape(), (Shape{6, 4}));
  EXPECT_TRUE(a.view({6, 4}).shares_storage(a));
  Tensor t = a.transpose(1, 2);  // [2,4,3], not viewable as [2,12]
  expect_error([&] { t.view({2, 12}); }, {"view", "[2,4,3]", "reshape"});
  Tensor r = t.reshape({2, 12});
  EXPECT_FALSE(r.shares_storage(a));
  EXPECT_EQ(r.to_vector<int64_t>()[1], 4);
  EXPECT_TRUE(t.reshape({2, 4, 3}).shares_storage(a));
  expect_error([&] { a.view({5, -1}); }, {"shape [5,-1] is invalid", "24 elements"});
  expect_error([&] { a.view({-1, -1}); }, {"only one dimension can be -1"});
  EXPECT_EQ(scalar_tensor(3.0).reshape({1, 1}).shape(), (Shape{1, 1}));
  EXPECT_EQ(zeros({0, 3}).view({3, 0}).shape(), (Shape{3, 0}));
}

TEST(TensorCore, IndexErrorsNameDimAndSize) {
  Tensor a = zeros({2, 3});
  expect_error([&] { a.select(1, 3); }, {"select", "index 3", "size 3"});
  expect_error([&] { a.transpose(0, 2); }, {"transpose", "dim 2", "2-d"});
  expect_error([&] { a.expand({4, 3}); }, {"expand", "[4,3]"});
  expect_error([&] { a.permute({0, 0}); }, {"permute", "repeats"});
}

TEST(TensorCore, CopiesConvertDtypesAndLayouts) {
  Tensor a = arange(6, DType::f32).reshape({2, 3});
  Tensor b = a.t().contiguous();
  EXPECT_EQ(b.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(a.to(DType::i32).to_vector<int32_t>(), (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(a.to(DType::boolean).to_vector<bool>(), (std::vector<bool>{false, true, true, true, true, true}));
  Tensor h = tensor<float>({1.5f, -2.25f, 65504.f, 1e-7f}).to(DType::f16);
  EXPECT_EQ(h.to_vector<float>(), (std::vector<float>{1.5f, -2.25f, 65504.f, 1.1920929e-07f}));
  Tensor bf = tensor<float>({1.0f, 3.14159f}).to(DType::bf16);
  EXPECT_EQ(bf.to_vector<float>(), (std::vector<float>{1.0f, 3.140625f}));
  // Overlapping copy reads the source before writing.
  Tensor sq = arange(9, DType::f32).reshape({3, 3});
  sq.copy_(sq.t());
  EXPECT_EQ(sq.to_vector<float>(), (std::vector<float>{0, 3, 6, 1, 4, 7, 2, 5, 8}));
  // Broadcasting source.
  Tensor d = zeros({2, 3});
  d.copy_(tensor<float>({1, 2, 3}));
  EXPECT_EQ(d.to_vector<float>(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  // Large transposed copy (tiled path, several threads).
  Tensor big = arange(300 * 257, DType::f32).reshape({300, 257});
  Tensor bt = big.t().contiguous();
  EXPECT_EQ(bt[5][7].item<float>(), big[7][5].item<float>());
  EXPECT_EQ(bt[256][299].item<float>(), big[299][256].item<float>());
}

TEST(TensorCore, HalfConversionsRoundToNearestEven) {
  EXPECT_EQ(float(Half(65519.0f)), 65504.0f);
  EXPECT_TRUE(std::isinf(float(Half(65520.0f))));
  EXPECT_EQ(float(Half(5.9604645e-08f)), 5.9604645e-08f);  // smallest subnormal
  EXPECT_EQ(float(Half(2.9802322e-08f)), 0.0f);            // ties to even (zero)
  EXPECT_EQ(float(Half(1.0f + 1.0f / 2048)), 1.0f);        // tie rounds to even
  EXPECT_EQ(float(Half(1.0f + 3.0f / 2048)), 1.0f + 2.0f / 1024);
  EXPECT_TRUE(std::isnan(float(Half(NAN))));
  EXPECT_EQ(float(BFloat16(1.0f + 1.0f / 256)), 1.0f);
  EXPECT_TRUE(std::isnan(float(BFloat16(NAN))));
}

TEST(TensorCore, PromotionFollowsPyTorch) {
  EXPECT_EQ(promote_types(DType::u8, DType::i32), DType::i32);
  EXPECT_EQ(promote_types(DType::i64, DType::f16), DType::f16);
  EXPECT_EQ(promote_types(DType::f16, DType::bf16), DType::f32);
  EXPECT_EQ(promote_types(DType::boolean, DType::u8), DType::u8);
  EXPECT_EQ(promote_types(DType::f32, DType::f64), DType::f64);
}

TEST(TensorCore, GeneratorsReproduce) {
  manual_seed(7);
  Tensor a = rand({1000});
  Tensor n = randn({1000}, DType::f64);
  manual_seed(7);
  EXPECT_EQ(rand({1000}).to_vector<float>(), a.to_vector<float>());
  EXPECT_EQ(randn({1000}, DType::f64).to_vector<double>(), n.to_vector<double>());
  Generator g1(42), g2(42);
  EXPECT_EQ(randint(0, 10, {100}, {}, &g1).to_vector<int64_t>(),
            randint(0, 10, {100}, {}, &g2).to_vector<int64_t>());
  // Distribution sanity: mean and variance of 100k draws.
  Generator g(3);
  const auto u = rand({100000}, DType::f64, &g).to_vector<double>();
  double m = 0;
  for (double x : u) m += x;
  m /= double(u.size());
  EXPECT_NEAR(m, 0.5, 0.01);
  const auto z = randn({100000}, DType::f64, &g).to_vector<double>();
  double zm = 0, zv = 0;
  for (double x : z) zm += x;
  zm /= double(z.size());
  for (double x : z) zv += (x - zm) * (x - zm);
  zv /= double(z.size());
  EXPECT_NEAR(zm, 0, 0.02);
  EXPECT_NEAR(zv, 1, 0.02);
  const auto p = randperm(50, {}, &g).to_vector<int64_t>();
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  const auto ints = randint(-3, 3, {1000}, {}, &g).to_vector<int64_t>();
  for (int64_t v : ints) EXPECT_TRUE(v >= -3 && v < 3);
  const auto b = bernoulli({10000}, 0.3, {}, &g).to_vector<float>();
  double ones_count = 0;
  for (float v : b) ones_count += v;
  EXPECT_NEAR(ones_count / 10000, 0.3, 0.02);
}

TEST(TensorCore, PrintsLikePyTorch) {
  EXPECT_EQ(tensor<float>({0.5f, 1.25f}).str(), "tensor([0.5000, 1.2500], dtype=f32)");
  EXPECT_EQ(arange(4).reshape({2, 2}).str(), "tensor([[0, 1],\n        [2, 3]], dtype=i64)");
  EXPECT_EQ(tensor<float>({1.f, 2.f}).str(), "tensor([1., 2.], dtype=f32)");
  EXPECT_EQ(scalar_tensor(true).str(), "tensor(True, dtype=bool)");
  EXPECT_EQ(zeros({0, 2}).str(), "tensor([], size=[0,2], dtype=f32)");
  const std::string big = arange(2000).str();
  EXPECT_NE(big.find("[   0,    1,    2, ..., 1997, 1998, 1999]"), std::string::npos) << big;
}

TEST(TensorCore, ItemAndDataAccessCheckTheirArguments) {
  expect_error([] { zeros({2}).item(); }, {"item", "one element", "[2]"});
  expect_error([] { zeros({2}).data_ptr<double>(); }, {"data_ptr", "f32", "f64"});
  Tensor undefined;
  expect_error([&] { undefined.shape(); }, {"undefined"});
}

TEST(TensorCore, FromBlobWrapsWithoutCopying) {
  std::vector<float> buf = {1, 2, 3, 4};
  bool deleted = false;
  {
    Tensor t = from_blob(buf.data(), {2, 2}, DType::f32, Device::cpu(), [&](void*) { deleted = true; });
    t[0][1].fill_(9);
    EXPECT_EQ(buf[1], 9.0f);
  }
  EXPECT_TRUE(deleted);
}

}  // namespace
}  // namespace anvil
