// Linear algebra: matmul's shape rules, mm / bmm / addmm / linear / outer / dot against the
// float64 reference on every dtype and layout, the GEMM kernel on strided outputs, and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/op_test.h"
#include "common/product_samples.h"

namespace anvil {
namespace {

using testing::expect_error;
using testing::Layout;
using testing::OpInfo;
using testing::OpInfoTest;
using testing::Sample;
using testing::samples_of;
using testing::Spec;
using testing::with_layout;

constexpr Layout kT = Layout::transposed;
constexpr Layout kS = Layout::strided;
constexpr Layout kC = Layout::contiguous;

// addmm's scalars: fractional for floats, integers for integer dtypes.
Scalar scaled(DType t, double v, int64_t i) {
  return is_floating(t) ? Scalar(v) : Scalar(i);
}

std::vector<OpInfo> linalg_op_table() {
  const std::vector<OpId> ref{OpId::gemm};
  auto fn2 = [](Tensor (*f)(const Tensor&, const Tensor&)) {
    return [f](const std::vector<Tensor>& in) { return f(in[0], in[1]); };
  };
  return {
      {"matmul", fn2(matmul), kNumericTypes,
       samples_of({
           {{{5}, {5}}, 5, "1-D . 1-D"},
           {{{0}, {0}}, 0, "empty 1-D . 1-D"},
           {{{4, 5}, {5}}, 5, "2-D . 1-D"},
           {{{5}, {5, 3}}, 5, "1-D . 2-D"},
           {{{4, 5}, {5, 3}}, 5, "2-D . 2-D"},
           {{{4, 5}, {5, 3}}, 5, "transposed operands", {kT, kT}},
           {{{4, 5}, {5, 3}}, 5, "strided operands (packed)", {kS, kS}},
           {{{2, 3, 4}, {4, 5}}, 4, "3-D . 2-D (folded)"},
           {{{2, 3, 4}, {4}}, 4, "3-D . 1-D"},
           {{{4}, {2, 4, 3}}, 4, "1-D . 3-D"},
           {{{3, 4}, {2, 4, 5}}, 4, "2-D . 3-D (broadcast lhs)"},
           {{{2, 1, 3, 4}, {5, 4, 6}}, 4, "broadcast batch [2,1] with [5]"},
           {{{2, 3, 4}, {2, 4, 5}}, 4, "irregular batch layouts", {kT, kS}},
           {{{3, 0}, {0, 4}}, 0, "K = 0"},
           {{{0, 3}, {3, 4}}, 3, "M = 0"},
           {{{2, 0, 3}, {3, 4}}, 3, "batched M = 0"},
           {{{0, 2, 3}, {0, 3, 4}}, 3, "zero batch"},
           {{{64, 8, 8}, {64, 8, 8}}, 8, "many small GEMMs (parallel batch)"},
           {{{200, 300}, {300, 250}}, 300, "large [200,300] @ [300,250] (threaded)"},
           {{{4, 50, 40}, {40, 60}}, 40, "large folded [4,50,40] @ [40,60]", {kC, kT}},
       }),
       ref},
      {"mm", fn2(mm), kNumericTypes,
       samples_of({
           {{{4, 5}, {5, 3}}, 5, "contiguous"},
           {{{4, 5}, {5, 3}}, 5, "transposed lhs", {kT, kC}},
           {{{4, 5}, {5, 3}}, 5, "transposed rhs", {kC, kT}},
           {{{4, 5}, {5, 3}}, 5, "strided lhs", {kS, kC}},
           {{{1, 5}, {5, 1}}, 5, "1x1 result"},
           {{{3, 0}, {0, 2}}, 0, "K = 0"},
           {{{0, 3}, {3, 2}}, 3, "M = 0"},
           {{{130, 70}, {70, 90}}, 70, "large [130,70] @ [70,90]", {kT, kC}},
       }),
       ref},
      {"bmm", fn2(bmm), kNumericTypes,
       samples_of({
           {{{3, 4, 5}, {3, 5, 2}}, 5, "contiguous"},
           {{{3, 4, 5}, {3, 5, 2}}, 5, "transposed / strided", {kT, kS}},
           {{{0, 2, 3}, {0, 3, 4}}, 3, "empty batch"},
           {{{2, 3, 0}, {2, 0, 4}}, 0, "K = 0"},
           {{{8, 40, 50}, {8, 50, 30}}, 50, "large batch [8,40,50] @ [8,50,30]"},
       }),
       ref},
      {"addmm", [](const std::vector<Tensor>& in) { return addmm(in[0], in[1], in[2]); },
       kNumericTypes,
       samples_of({
           {{{4, 3}, {4, 5}, {5, 3}}, 5, "self [4,3]"},
           {{{3}, {4, 5}, {5, 3}}, 5, "self [3] broadcast"},
           {{{4, 1}, {4, 5}, {5, 3}}, 5, "self [4,1] broadcast", {kC, kT, kT}},
           {{{}, {4, 5}, {5, 3}}, 5, "0-d self"},
           {{{4, 3}, {4, 0}, {0, 3}}, 0, "K = 0"},
           {{{60, 70}, {60, 80}, {80, 70}}, 80, "large", {kT, kC, kT}},
       }),
       ref},
      {"addmm_scaled",
       [](const std::vector<Tensor>& in) {
         const DType t = in[0].dtype();
         return addmm(in[0], in[1], in[2], scaled(t, 0.5, 2), scaled(t, -1.5, 3));
       },
       kNumericTypes,
       samples_of({
           {{{4, 3}, {4, 5}, {5, 3}}, 5, "self [4,3]"},
           {{{3}, {4, 5}, {5, 3}}, 5, "self [3]", {kC, kS, kT}},
           {{{4, 3}, {4, 0}, {0, 3}}, 0, "K = 0"},
       }),
       ref},
      {"linear", [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
       kNumericTypes,
       samples_of({
           {{{4, 5}, {3, 5}, {3}}, 5, "2-D input"},
           {{{2, 3, 5}, {4, 5}, {4}}, 5, "3-D input (folded)"},
           {{{2, 3, 5}, {4, 5}, {3, 4}}, 5, "bias [3,4]", {kT, kC, kC}},
           {{{5}, {3, 5}, {3}}, 5, "1-D input"},
           {{{4, 5}, {5}, {}}, 5, "1-D weight, 0-d bias"},
           {{{4, 5}, {3, 5}, {3}}, 5, "strided input", {kS, kT, kC}},
           {{{0, 5}, {3, 5}, {3}}, 5, "empty batch"},
           {{{4, 0}, {3, 0}, {3}}, 0, "in_features = 0"},
           {{{64, 256}, {128, 256}, {128}}, 256, "large [64,256] x [128,256]"},
       }),
       ref},
      {"linear_no_bias", [](const std::vector<Tensor>& in) { return linear(in[0], in[1]); },
       kNumericTypes,
       samples_of({
           {{{4, 5}, {3, 5}}, 5, "2-D input"},
           {{{2, 3, 5}, {4, 5}}, 5, "3-D input", {kT, kC}},
           {{{16, 16}, {16, 16}}, 16, "16x16"},
       }),
       ref},
      {"outer", fn2(outer), kAllTypes,
       samples_of({
           {{{3}, {4}}, 1, "[3] x [4]"},
           {{{0}, {4}}, 1, "empty"},
           {{{5}, {6}}, 1, "strided", {kS, kS}},
           {{{300}, {200}}, 1, "large"},
       }),
       ref},
      {"dot", fn2(dot), kNumericTypes,
       samples_of({
           {{{7}, {7}}, 7, "[7]"},
           {{{0}, {0}}, 0, "empty"},
           {{{9}, {9}}, 9, "strided", {kS, kC}},
           {{{10000}, {10000}}, 10000, "large"},
       }),
       ref},
  };
}

INSTANTIATE_TEST_SUITE_P(Linalg, OpInfoTest,
                         ::testing::ValuesIn(testing::op_cases(linalg_op_table())),
                         testing::op_case_name);

// Runs f on the inputs and on f64 copies under the reference kernels, and compares.
::testing::AssertionResult matches_ref(const testing::OpFn& f, const std::vector<Tensor>& inputs,
                                       const std::string& desc) {
  OpInfo op{desc, f};
  const DType dtype = inputs[0].dtype();
  return testing::matches_reference(op, Sample{inputs, desc}, dtype);
}

TEST(Linalg, MatmulShapeRules) {
  auto shape_of = [](const Shape& a, const Shape& b) { return matmul(zeros(a), zeros(b)).shape(); };
  EXPECT_EQ(shape_of({3}, {3}), (Shape{}));
  EXPECT_EQ(shape_of({2, 3}, {3}), (Shape{2}));
  EXPECT_EQ(shape_of({3}, {3, 4}), (Shape{4}));
  EXPECT_EQ(shape_of({2, 3}, {3, 4}), (Shape{2, 4}));
  EXPECT_EQ(shape_of({5, 2, 3}, {3}), (Shape{5, 2}));
  EXPECT_EQ(shape_of({3}, {5, 3, 4}), (Shape{5, 4}));
  EXPECT_EQ(shape_of({5, 2, 3}, {3, 4}), (Shape{5, 2, 4}));
  EXPECT_EQ(shape_of({2, 3}, {5, 3, 4}), (Shape{5, 2, 4}));
  EXPECT_EQ(shape_of({2, 1, 3, 4}, {5, 4, 6}), (Shape{2, 5, 3, 6}));
  EXPECT_EQ(shape_of({7, 1, 2, 3}, {1, 6, 3, 4}), (Shape{7, 6, 2, 4}));
  EXPECT_EQ(shape_of({0, 2, 3}, {3, 4}), (Shape{0, 2, 4}));
  EXPECT_EQ(shape_of({2, 0}, {0, 4}), (Shape{2, 4}));
  EXPECT_EQ(mm(zeros({2, 3}), zeros({3, 4})).shape(), (Shape{2, 4}));
  EXPECT_EQ(bmm(zeros({5, 2, 3}), zeros({5, 3, 4})).shape(), (Shape{5, 2, 4}));
  EXPECT_EQ(dot(zeros({3}), zeros({3})).shape(), (Shape{}));
  EXPECT_EQ(outer(zeros({3}), zeros({4})).shape(), (Shape{3, 4}));
  EXPECT_EQ(linear(zeros({2, 6, 3}), zeros({4, 3})).shape(), (Shape{2, 6, 4}));
  EXPECT_EQ(linear(zeros({3}), zeros({4, 3})).shape(), (Shape{4}));
  EXPECT_EQ(linear(zeros({3}), zeros({3})).shape(), (Shape{}));
}

TEST(Linalg, MatmulValues) {
  const Tensor a = tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor b = tensor<float>({7, 8, 9, 10, 11, 12}, {3, 2});
  EXPECT_EQ(matmul(a, b).to_vector<float>(), (std::vector<float>{58, 64, 139, 154}));
  EXPECT_EQ(a.matmul(b).to_vector<float>(), (std::vector<float>{58, 64, 139, 154}));
  EXPECT_EQ(a.mm(b).to_vector<float>(), (std::vector<float>{58, 64, 139, 154}));
  EXPECT_EQ(matmul(a, a.t()).to_vector<float>(), (std::vector<float>{14, 32, 32, 77}));
  EXPECT_EQ(matmul(a.t(), a).to_vector<float>(),
            (std::vector<float>{17, 22, 27, 22, 29, 36, 27, 36, 45}));
  EXPECT_EQ(dot(tensor<float>({1, 2, 3}), tensor<float>({4, 5, 6})).item<float>(), 32.0f);
  EXPECT_EQ(matmul(tensor<float>({1, 2, 3}), a.t()).to_vector<float>(),
            (std::vector<float>{14, 32}));
}

TEST(Linalg, BatchBroadcastMatchesPerMatrixProducts) {
  // The reference runs through the same front-end, so check the batch wiring independently:
  // every matrix of a broadcast batched product against mm of the matching slices.
  const Tensor lhs = testing::random_tensor({2, 1, 3, 4}, DType::i64, -3, 3, 20);
  const Tensor rhs = testing::random_tensor({5, 4, 6}, DType::i64, -3, 3, 21);
  const Tensor out = matmul(lhs, rhs);
  ASSERT_EQ(out.shape(), (Shape{2, 5, 3, 6}));
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 5; ++j) {
      EXPECT_EQ(out[i][j].to_vector<int64_t>(), mm(lhs[i][0], rhs[j]).to_vector<int64_t>());
    }
  }
  // 1-D operands: the prepended / appended dim is added, then removed.
  const Tensor v = testing::random_tensor({4}, DType::i64, -3, 3, 22);
  const Tensor mv = matmul(lhs, v);
  const Tensor vm = matmul(v, rhs);
  ASSERT_EQ(mv.shape(), (Shape{2, 1, 3}));
  ASSERT_EQ(vm.shape(), (Shape{5, 6}));
  for (int64_t i = 0; i < 2; ++i) {
    EXPECT_EQ(mv[i][0].to_vector<int64_t>(), mm(lhs[i][0], v.unsqueeze(1)).to_vector<int64_t>());
  }
  for (int64_t j = 0; j < 5; ++j) {
    EXPECT_EQ(vm[j].to_vector<int64_t>(), mm(v.unsqueeze(0), rhs[j]).to_vector<int64_t>());
  }
  // A weight shared by a batch (folded into one GEMM) and a batch of distinct rhs.
  const Tensor x = testing::random_tensor({3, 2, 4}, DType::i64, -3, 3, 23);
  const Tensor w = testing::random_tensor({6, 4}, DType::i64, -3, 3, 24);
  const Tensor lin = linear(x, w);
  const Tensor bm = bmm(x, rhs.narrow(0, 0, 3));
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(lin[i].to_vector<int64_t>(), mm(x[i], w.t()).to_vector<int64_t>());
    EXPECT_EQ(bm[i].to_vector<int64_t>(), mm(x[i], rhs[i]).to_vector<int64_t>());
  }
}

TEST(Linalg, ZeroSizeDims) {
  // K = 0: the sum is empty, so products are zeros and addmm gives beta * self.
  EXPECT_EQ(matmul(ones({2, 0}), ones({0, 3})).to_vector<float>(), std::vector<float>(6, 0.0f));
  EXPECT_EQ(matmul(ones({0}), ones({0})).item<float>(), 0.0f);
  EXPECT_EQ(dot(ones({0}, DType::i64), ones({0}, DType::i64)).item<int64_t>(), 0);
  EXPECT_EQ(addmm(tensor<float>({1, 2}), ones({2, 0}), ones({0, 2}), 2).to_vector<float>(),
            (std::vector<float>{2, 4, 2, 4}));
  EXPECT_EQ(linear(ones({2, 0}), ones({3, 0}), tensor<float>({1, 2, 3})).to_vector<float>(),
            (std::vector<float>{1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(matmul(ones({0, 3}), ones({3, 4})).numel(), 0);
  EXPECT_EQ(bmm(ones({0, 2, 3}), ones({0, 3, 4})).shape(), (Shape{0, 2, 4}));
}

TEST(Linalg, TransposedAndSlicedOperands) {
  const Tensor big = testing::random_tensor({20, 24}, DType::f32, -1, 1, 3);
  const Tensor big2 = testing::random_tensor({24, 30}, DType::f32, -1, 1, 4);
  const auto mm_fn = [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); };
  // Sub-blocks keep the parent's row stride: read in place with ld = 24 / 30.
  EXPECT_TRUE(matches_ref(mm_fn, {big.narrow(0, 2, 7).narrow(1, 3, 9), big2.narrow(0, 5, 9)},
                          "sub-blocks"));
  EXPECT_TRUE(matches_ref(mm_fn, {big.t(), big.narrow(1, 1, 20)}, "transposed and sliced"));
  EXPECT_TRUE(matches_ref(mm_fn, {big2.t().narrow(0, 4, 10), big2.narrow(1, 0, 10)},
                          "transposed sub-block"));
  EXPECT_TRUE(matches_ref(mm_fn,
                          {big.slice(0, 0, std::nullopt, 2), big2.slice(1, 0, std::nullopt, 3)},
                          "row and column steps"));
  EXPECT_TRUE(matches_ref(mm_fn, {big.unsqueeze(0).expand({3, 20, 24}), big2}, "expanded lhs"));
  EXPECT_TRUE(matches_ref(mm_fn, {big.reshape({4, 5, 24}).permute({1, 0, 2}), big2},
                          "permuted batch (not foldable)"));
  EXPECT_TRUE(matches_ref(mm_fn, {big.select(1, 3), big2.narrow(0, 0, 20)}, "strided 1-D lhs"));
  // A column vector of stride 0 (an expanded scalar) is packed.
  EXPECT_TRUE(matches_ref(mm_fn, {big, scalar_tensor(2.0f).expand({24, 5})}, "stride-0 rhs"));
}

TEST(Linalg, KernelWritesStridedOutputs) {
  // The GEMM kernel accepts any output strides: column-major (solved as c^T = b^T a^T) and
  // irregular (packed and written back), both accumulating with beta.
  for (DType dt : {DType::f32, DType::f64, DType::bf16, DType::i64}) {
    const Tensor a = testing::random_tensor({6, 7}, dt, -3, 3, 5);
    const Tensor b = testing::random_tensor({7, 5}, dt, -3, 3, 6);
    const Tensor init = testing::random_tensor({6, 5}, dt, -3, 3, 7);
    const Tensor col_major = init.t().contiguous().t();
    Tensor stepped = zeros({6, 10}, dt).slice(1, 0, std::nullopt, 2);
    stepped.copy_(init);
    const Scalar alpha = is_floating(dt) ? Scalar(2.0) : Scalar(2);
    const Scalar beta = is_floating(dt) ? Scalar(0.5) : Scalar(3);
    const Tensor want = addmm(init, a, b, beta, alpha);
    for (const Tensor& out : {col_major, stepped}) {
      kernel<OpId::gemm>(Device::cpu(), dt)(out, a, b, alpha, beta);
      EXPECT_TRUE(testing::all_close(out, want, testing::default_tolerance(dt))) << dtype_name(dt);
    }
  }
  // An empty output is a no-op, also when called directly.
  kernel<OpId::gemm>(Device::cpu(), DType::f32)(empty({2, 0, 5}), empty({2, 0, 7}),
                                                empty({2, 7, 5}), 1, 0);
}

TEST(Linalg, AddmmBetaAndAlpha) {
  const Tensor m1 = tensor<float>({1, 2, 3, 4}, {2, 2});
  const Tensor m2 = tensor<float>({1, 0, 0, 1}, {2, 2});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  // beta = 0 ignores self entirely: NaN and inf do not propagate.
  EXPECT_EQ(addmm(tensor<float>({nan, inf}), m1, m2, 0).to_vector<float>(),
            (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(addmm(full({2, 2}, nan), m1, m2, 0, 3).to_vector<float>(),
            (std::vector<float>{3, 6, 9, 12}));
  // beta != 0 does propagate.
  EXPECT_TRUE(std::isnan(addmm(tensor<float>({nan, 0}), m1, m2, 1).to_vector<float>()[0]));
  EXPECT_EQ(addmm(tensor<float>({10, 20}), m1, m2, 0.5, -2).to_vector<float>(),
            (std::vector<float>{3, 6, -1, 2}));
  EXPECT_EQ(addmm(tensor<int64_t>({10, 20}), m1.to(DType::i64), m2.to(DType::i64), 2, 3)
                .to_vector<int64_t>(),
            (std::vector<int64_t>{23, 46, 29, 52}));
  // Large enough for oneDNN's sgemm, which must not read C either.
  EXPECT_EQ(addmm(full({40, 40}, nan), ones({40, 40}), ones({40, 40}), 0).to_vector<float>(),
            std::vector<float>(1600, 40.0f));
  // beta = 0 on the other paths (f64 through Eigen, f16 through f32 blocks) too.
  for (DType dt : {DType::f64, DType::f16}) {
    const Tensor r = addmm(full({2, 2}, nan, dt), m1.to(dt), m2.to(dt), 0);
    EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{1, 2, 3, 4})) << dtype_name(dt);
  }
}

TEST(Linalg, LinearWithAndWithoutBias) {
  const Tensor x = tensor<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor w = tensor<float>({1, 0, 0, 0, 1, 0, 1, 1, 1, 0, 0, 2}, {4, 3});
  const Tensor bias = tensor<float>({1, -1, 0, 10});
  EXPECT_EQ(linear(x, w).to_vector<float>(), (std::vector<float>{1, 2, 6, 6, 4, 5, 15, 12}));
  EXPECT_EQ(linear(x, w, bias).to_vector<float>(), (std::vector<float>{2, 1, 6, 16, 5, 4, 15, 22}));
  EXPECT_EQ(linear(x, w, std::nullopt).shape(), (Shape{2, 4}));
  EXPECT_EQ(linear(x, w, Tensor()).to_vector<float>(), linear(x, w).to_vector<float>());
  EXPECT_EQ(linear(x[1], w, bias).to_vector<float>(), (std::vector<float>{5, 4, 15, 22}));
  EXPECT_EQ(linear(x, w[2], scalar_tensor(1.0f)).to_vector<float>(), (std::vector<float>{7, 16}));
  // N-D input with the weight shared by every row.
  const Tensor x3 = x.unsqueeze(0).expand({3, 2, 3}).contiguous();
  EXPECT_EQ(linear(x3, w, bias).shape(), (Shape{3, 2, 4}));
  EXPECT_EQ(linear(x3, w, bias)[2].to_vector<float>(), linear(x, w, bias).to_vector<float>());
}

TEST(Linalg, IntegerDtypes) {
  const Tensor a = tensor<int64_t>({1, -2, 3, 4, 5, -6}, {2, 3});
  const Tensor b = tensor<int64_t>({7, 8, 9, 10, 11, 12}, {3, 2});
  EXPECT_EQ(matmul(a, b).to_vector<int64_t>(), (std::vector<int64_t>{22, 24, 7, 10}));
  EXPECT_EQ(mm(a.to(DType::i32), b.to(DType::i32)).to_vector<int32_t>(),
            (std::vector<int32_t>{22, 24, 7, 10}));
  EXPECT_EQ(mm(a.to(DType::i32), b.to(DType::i32)).dtype(), DType::i32);
  // Integer products wrap as in PyTorch: 20 * 16 * 16 = 5120 = 0 (mod 256).
  const Tensor u = full({2, 20}, 16, DType::u8);
  EXPECT_EQ(mm(u, u.t()).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 0, 0, 0}));
  const Tensor big = full({1, 3}, int64_t{1} << 30, DType::i32);
  EXPECT_EQ(matmul(big[0], big[0]).item<int32_t>(), 0);
  // Big enough to run on several threads.
  const Tensor x = testing::random_tensor({200, 300}, DType::i64, -3, 3, 8);
  const Tensor y = testing::random_tensor({300, 250}, DType::i64, -3, 3, 9);
  const Tensor expected = matmul(x.to(DType::f64), y.to(DType::f64));
  EXPECT_TRUE(testing::all_close(matmul(x, y), expected, {0, 0}));
}

TEST(Linalg, ReducedPrecisionAccumulatesInFloat) {
  // 4096 ones summed in f16 would stop at 2048; accumulated in f32 and rounded once, the sum
  // is exact.
  for (DType dt : {DType::f16, DType::bf16}) {
    EXPECT_EQ(dot(ones({4096}, dt), ones({4096}, dt)).item<float>(), 4096.0f) << dtype_name(dt);
    EXPECT_EQ(matmul(ones({2, 4096}, dt), ones({4096, 3}, dt)).to_vector<float>(),
              std::vector<float>(6, 4096.0f));
  }
  // Against f32 on random data: within one rounding of the 16-bit format.
  const Tensor a = testing::random_tensor({33, 65}, DType::f32, -1, 1, 10);
  const Tensor b = testing::random_tensor({65, 17}, DType::f32, -1, 1, 11);
  for (DType dt : {DType::f16, DType::bf16}) {
    const Tensor want = matmul(a.to(dt).to(DType::f32), b.to(dt).to(DType::f32));
    const double eps = dt == DType::f16 ? 1.0 / 1024 : 1.0 / 128;
    EXPECT_TRUE(testing::all_close(matmul(a.to(dt), b.to(dt)), want, {eps, 1e-5}));
  }
}

TEST(Linalg, LargeProductsOnOneAndTwoThreads) {
  const Tensor a = testing::random_tensor({200, 300}, DType::f32, -2, 2, 12);
  const Tensor b = testing::random_tensor({300, 250}, DType::f32, -2, 2, 13);
  Tensor expected;
  {
    ReferenceModeGuard guard;
    expected = matmul(a.to(DType::f64), b.to(DType::f64));
  }
  const int before = num_threads();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    // f32 rounding grows with the depth (300) and the magnitude of the terms (up to 4).
    EXPECT_TRUE(testing::all_close(matmul(a, b), expected, {1e-4, 1e-3})) << threads;
    EXPECT_TRUE(
        testing::all_close(matmul(a.to(DType::f64), b.to(DType::f64)), expected, {1e-12, 1e-11}))
        << threads;
    EXPECT_TRUE(testing::all_close(
        bmm(a.unsqueeze(0).expand({3, 200, 300}), b.unsqueeze(0).expand({3, 300, 250}))[2],
        expected, {1e-4, 1e-3}))
        << threads;
  }
  set_num_threads(before);
}

TEST(Linalg, OuterPromotesAndSupportsBool) {
  const Tensor o = outer(tensor<int64_t>({1, 2}), tensor<float>({0.5f}));
  EXPECT_EQ(o.dtype(), DType::f32);
  EXPECT_EQ(o.to_vector<float>(), (std::vector<float>{0.5f, 1.0f}));
  const Tensor ob = outer(tensor<bool>({true, false}), tensor<bool>({true, true}));
  EXPECT_EQ(ob.dtype(), DType::boolean);
  EXPECT_EQ(ob.to_vector<bool>(), (std::vector<bool>{true, true, false, false}));
}

TEST(Linalg, ErrorsNameOpShapesAndMismatch) {
  const Tensor a = zeros({64, 32});
  expect_error(
      [&] {
        matmul(a, zeros({512, 10}));
      },
      {"matmul: lhs [64,32] (f32, cpu) and rhs [512,10] (f32, cpu): "
       "lhs.size(-1)=32 != rhs.size(0)=512"});
  expect_error([&] { matmul(zeros({3}), zeros({4})); },
               {"matmul", "lhs.size(-1)=3 != rhs.size(0)=4"});
  expect_error(
      [&] {
        matmul(zeros({2, 3, 4}), zeros({2, 5, 6}));
      },
      {"matmul", "[2,3,4]", "[2,5,6]", "lhs.size(-1)=4 != rhs.size(-2)=5"});
  expect_error(
      [&] {
        matmul(zeros({2, 2, 3, 4}), zeros({5, 4, 6}));
      },
      {"matmul", "[2,2,3,4]", "[5,4,6]", "batch dims", "cannot be broadcast"});
  expect_error([&] { matmul(scalar_tensor(1.0f), zeros({3})); },
               {"matmul", "at least 1-D", "0-D and 1-D"});
  expect_error(
      [&] {
        matmul(a, zeros({32, 2}, DType::f64));
      },
      {"matmul", "(f32, cpu)", "(f64, cpu)", "same dtype", "f32 and f64"});
  expect_error(
      [&] {
        matmul(zeros({2, 2}, DType::boolean), zeros({2, 2}, DType::boolean));
      },
      {"matmul", "bool is not supported"});
  expect_error([&] { matmul(a, Tensor()); }, {"matmul", "defined"});
  expect_error(
      [&] {
        mm(zeros({3}), zeros({3, 2}));
      },
      {"mm: lhs [3]", "expected 2-D", "1-D and 2-D"});
  expect_error(
      [&] {
        mm(zeros({2, 3}), zeros({4, 5}));
      },
      {"mm", "lhs.size(-1)=3 != rhs.size(0)=4"});
  expect_error(
      [&] {
        bmm(zeros({2, 3}), zeros({2, 3, 4}));
      },
      {"bmm: batch1 [2,3]", "expected 3-D"});
  expect_error(
      [&] {
        bmm(zeros({2, 3, 4}), zeros({3, 4, 5}));
      },
      {"bmm", "batch1.size(0)=2 != batch2.size(0)=3"});
  expect_error(
      [&] {
        bmm(zeros({2, 3, 4}), zeros({2, 5, 5}));
      },
      {"bmm", "batch1.size(-1)=4 != batch2.size(-2)=5"});
  expect_error(
      [&] {
        addmm(zeros({5}), zeros({2, 3}), zeros({3, 3}));
      },
      {"addmm: self [5] (f32, cpu) cannot be broadcast", "[2,3]"});
  expect_error(
      [&] {
        addmm(zeros({3, 1, 1}), zeros({2, 3}), zeros({3, 3}));
      },
      {"addmm", "self [3,1,1]", "cannot be broadcast"});
  expect_error(
      [&] {
        addmm(zeros({3}), zeros({2, 3}), zeros({4, 3}));
      },
      {"addmm: mat1 [2,3] (f32, cpu) and mat2 [4,3]", "mat1.size(1)=3 != mat2.size(0)=4"});
  expect_error(
      [&] {
        addmm(zeros({3}, DType::f64), zeros({2, 3}), zeros({3, 3}));
      },
      {"addmm: self [3] (f64, cpu) and mat1 [2,3] (f32, cpu)", "same dtype"});
  expect_error(
      [&] {
        linear(zeros({2, 3}), zeros({4, 5}));
      },
      {"linear: input [2,3] (f32, cpu) and weight [4,5]", "input.size(-1)=3 != weight.size(-1)=5"});
  expect_error(
      [&] {
        linear(zeros({2, 3}), zeros({4, 3}), zeros({5}));
      },
      {"linear: bias [5] (f32, cpu) cannot be broadcast", "[2,4]"});
  expect_error([&] { linear(scalar_tensor(1.0f), zeros({4, 3})); }, {"linear", "at least 1-D"});
  expect_error([&] { linear(zeros({2, 3}), zeros({2, 4, 3})); }, {"linear", "1-D or 2-D weight"});
  expect_error(
      [&] {
        linear(zeros({2, 3}), zeros({4, 3}), zeros({4}, DType::f64));
      },
      {"linear: input", "bias [4] (f64, cpu)", "same dtype"});
  expect_error([&] { dot(zeros({3, 1}), zeros({3})); }, {"dot", "expected 1-D", "2-D and 1-D"});
  expect_error([&] { dot(zeros({3}), zeros({4})); }, {"dot", "lhs.size(0)=3 != rhs.size(0)=4"});
  expect_error([&] { dot(zeros({3}), zeros({3}, DType::i64)); }, {"dot", "same dtype"});
  expect_error([&] { outer(zeros({3, 1}), zeros({4})); }, {"outer", "expected 1-D", "2-D and 1-D"});
}

}  // namespace
}  // namespace anvil
