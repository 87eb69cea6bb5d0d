// Elementwise unary ops: every op and dtype against the float64 reference, special values,
// result dtypes, in-place variants and error messages.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>

#include "common/op_test.h"

namespace anvil {
namespace {

using testing::default_samples;
using testing::expect_error;
using testing::OpInfo;
using testing::OpInfoTest;
using testing::Sample;
using testing::Tolerance;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const DTypeSet kFloatOnly = kFloatingTypes;

// A table entry for a one-input op with inputs in [lo, hi] (from 0 for u8 and bool).
OpInfo unary(const std::string& name, std::function<Tensor(const Tensor&)> f, DTypeSet dtypes,
             double lo, double hi, std::vector<OpId> ref_ops,
             std::optional<Tolerance> tol = std::nullopt) {
  OpInfo op;
  op.name = name;
  op.fn = [f](const std::vector<Tensor>& in) { return f(in[0]); };
  op.dtypes = dtypes;
  op.samples = [lo, hi](DType dt) {
    const bool unsigned_type = dt == DType::u8 || dt == DType::boolean;
    return default_samples(dt, 1, unsigned_type ? std::max(lo, 0.0) : lo, hi);
  };
  op.ref_ops = std::move(ref_ops);
  op.tol = tol;
  return op;
}

// Samples for special values: default_samples with inputs in [lo, hi], plus `values` (NaN,
// infinities, signed zeros, ...) repeated so that they also fill whole SIMD registers, laid out
// contiguously and transposed.
std::function<std::vector<Sample>(DType)> with_specials(std::vector<double> values, double lo,
                                                        double hi) {
  return [values, lo, hi](DType dt) {
    std::vector<Sample> out = default_samples(dt, 1, lo, hi);
    if (!is_floating(dt)) return out;
    const int64_t n = static_cast<int64_t>(values.size());
    const Tensor t = tensor(values).to(dt).reshape({1, n}).expand({4, n}).contiguous();
    out.push_back({{t.flatten()}, "special values"});
    out.push_back(
        {{testing::with_layout(t, testing::Layout::transposed)}, "special values, transposed"});
    return out;
  };
}

const std::vector<double> kSpecials = {kNaN, -0.0, 0.0, kInf, -kInf, 2.5, -2.5, 0.5, 1.5, -1e30, 7};
// For powers and exp: no values whose results overflow f16 or f32 where f64 does not (random
// inputs stay away from 0 for the negative powers).
const std::vector<double> kPowSpecials = {kNaN, -0.0, 0.0, kInf, -kInf, 2.5, -2.5, 0.5, -1, 1, 3};

std::vector<OpInfo> unary_op_table() {
  using O = OpId;
  const Tolerance round_2{0, 0.0101};  // f32 x*100 may round across a .5 where double does not
  std::vector<OpInfo> t = {
      unary("neg", [](const Tensor& x) { return neg(x); }, kNumericTypes, -5, 5, {O::neg}),
      unary("abs", [](const Tensor& x) { return abs(x); }, kNumericTypes, -5, 5, {O::abs}),
      unary("sign", [](const Tensor& x) { return sign(x); }, kAllTypes, -3, 3, {O::sign}),
      unary("exp", [](const Tensor& x) { return exp(x); }, kAllTypes, -4, 4, {O::exp}),
      unary("expm1", [](const Tensor& x) { return expm1(x); }, kAllTypes, -2, 2, {O::expm1}),
      unary("log", [](const Tensor& x) { return log(x); }, kAllTypes, 0.1, 5, {O::log}),
      unary("log1p", [](const Tensor& x) { return log1p(x); }, kAllTypes, -0.9, 5, {O::log1p}),
      unary("log2", [](const Tensor& x) { return log2(x); }, kAllTypes, 0.1, 5, {O::log2}),
      unary("sqrt", [](const Tensor& x) { return sqrt(x); }, kAllTypes, 0, 9, {O::sqrt}),
      unary("rsqrt", [](const Tensor& x) { return rsqrt(x); }, kAllTypes, 0.1, 9, {O::rsqrt}),
      unary("reciprocal", [](const Tensor& x) { return reciprocal(x); }, kAllTypes, 0.2, 5,
            {O::reciprocal}),
      unary("square", [](const Tensor& x) { return square(x); }, kAllTypes, -20, 20, {O::square}),
      unary("sin", [](const Tensor& x) { return sin(x); }, kAllTypes, -4, 4, {O::sin}),
      unary("cos", [](const Tensor& x) { return cos(x); }, kAllTypes, -4, 4, {O::cos}),
      unary("tanh", [](const Tensor& x) { return tanh(x); }, kAllTypes, -4, 4, {O::tanh}),
      unary("sigmoid", [](const Tensor& x) { return sigmoid(x); }, kAllTypes, -6, 6, {O::sigmoid}),
      unary("erf", [](const Tensor& x) { return erf(x); }, kAllTypes, -3, 3, {O::erf}),
      unary("relu", [](const Tensor& x) { return relu(x); }, kNumericTypes, -8, 8, {O::relu}),
      unary("relu6", [](const Tensor& x) { return relu6(x); }, kNumericTypes, -8, 8, {O::relu6}),
      unary("leaky_relu", [](const Tensor& x) { return leaky_relu(x); }, kFloatOnly, -4, 4,
            {O::leaky_relu}),
      unary("leaky_relu_slope02", [](const Tensor& x) { return leaky_relu(x, 0.2); }, kFloatOnly,
            -4, 4, {O::leaky_relu}),
      unary("elu", [](const Tensor& x) { return elu(x); }, kFloatOnly, -4, 4, {O::elu}),
      unary("elu_params", [](const Tensor& x) { return elu(x, 0.5, 1.5, 2.0); }, kFloatOnly, -4, 4,
            {O::elu}),
      unary("gelu", [](const Tensor& x) { return gelu(x); }, kFloatOnly, -5, 5, {O::gelu}),
      unary("gelu_tanh", [](const Tensor& x) { return gelu(x, GeluApprox::tanh); }, kFloatOnly, -5,
            5, {O::gelu}),
      unary("silu", [](const Tensor& x) { return silu(x); }, kFloatOnly, -6, 6, {O::silu}),
      unary("softplus", [](const Tensor& x) { return softplus(x); }, kFloatOnly, -6, 6,
            {O::softplus}),
      unary("softplus_beta2_threshold3", [](const Tensor& x) { return softplus(x, 2, 3); },
            kFloatOnly, -4, 4, {O::softplus}),
      unary("hardswish", [](const Tensor& x) { return hardswish(x); }, kFloatOnly, -5, 5,
            {O::hardswish}),
      unary("floor", [](const Tensor& x) { return floor(x); }, kNumericTypes, -5, 5, {O::floor}),
      unary("ceil", [](const Tensor& x) { return ceil(x); }, kNumericTypes, -5, 5, {O::ceil}),
      unary("round", [](const Tensor& x) { return round(x); }, kNumericTypes, -5, 5, {O::round}),
      unary(
          "round_decimals2", [](const Tensor& x) { return round(x, 2); }, kFloatOnly, -5, 5,
          {O::round}, round_2),
      unary(
          "round_decimals_neg1", [](const Tensor& x) { return round(x, -1); }, kFloatOnly, -500,
          500, {O::round}, Tolerance{1e-5, 10.01}),
      unary("clamp", [](const Tensor& x) { return clamp(x, 1, 3); }, kAllTypes, -5, 5, {O::clamp}),
      unary("clamp_float_bounds", [](const Tensor& x) { return clamp(x, 0.5, 2.5); }, kAllTypes, -5,
            5, {O::clamp}),
      unary("clamp_max_only", [](const Tensor& x) { return clamp(x, std::nullopt, 2); },
            kNumericTypes, -5, 5, {O::clamp}),
      unary("clamp_min_gt_max", [](const Tensor& x) { return clamp(x, 3, 1); }, kNumericTypes, -5,
            5, {O::clamp}),
      unary("pow_2", [](const Tensor& x) { return pow(x, 2); }, kAllTypes, -5, 5,
            {O::pow_tensor_scalar}),
      unary("pow_3", [](const Tensor& x) { return pow(x, 3); }, kNumericTypes, -6, 6,
            {O::pow_tensor_scalar}),
      unary("pow_2p5", [](const Tensor& x) { return pow(x, 2.5); }, kAllTypes, 0, 3,
            {O::pow_tensor_scalar}),
      unary("pow_0p5", [](const Tensor& x) { return pow(x, 0.5); }, kFloatOnly, 0, 3,
            {O::pow_tensor_scalar}),
      unary("pow_neg0p5", [](const Tensor& x) { return pow(x, -0.5); }, kFloatOnly, 0.1, 3,
            {O::pow_tensor_scalar}),
      unary("pow_neg1", [](const Tensor& x) { return pow(x, -1); }, kFloatOnly, 0.1, 3,
            {O::pow_tensor_scalar}),
      unary("pow_neg1p5", [](const Tensor& x) { return pow(x, -1.5); }, kFloatOnly, 0.1, 3,
            {O::pow_tensor_scalar}),
      unary("pow_5", [](const Tensor& x) { return pow(x, 5); }, kFloatOnly, -3, 3,
            {O::pow_tensor_scalar}),
      unary("pow_base2", [](const Tensor& x) { return pow(2, x); }, kAllTypes, -3, 6,
            {O::pow_scalar_tensor}),
      unary("pow_base_neg1", [](const Tensor& x) { return pow(-1, x); }, kNumericTypes, -3, 3,
            {O::pow_scalar_tensor}),
      unary("pow_base1p5", [](const Tensor& x) { return pow(1.5, x); }, kAllTypes, -3, 3,
            {O::pow_scalar_tensor}),
      unary("logical_not", [](const Tensor& x) { return logical_not(x); }, kAllTypes, -2, 2,
            {O::logical_not}),
  };
  OpInfo nan_to_num_op =
      unary("nan_to_num", [](const Tensor& x) { return nan_to_num(x, 1.5, 100.0, -100.0); },
            kAllTypes, -5, 5, {O::nan_to_num});
  nan_to_num_op.samples = with_specials(kSpecials, -100, 100);
  t.push_back(nan_to_num_op);
  // Special values through the vectorized and the scalar paths; the reference agrees exactly
  // on NaN and infinities.
  for (const auto& [name, f] :
       std::vector<std::pair<std::string, std::function<Tensor(const Tensor&)>>>{
           {"special_sign", [](const Tensor& x) { return sign(x); }},
           {"special_abs", [](const Tensor& x) { return abs(x); }},
           {"special_relu", [](const Tensor& x) { return relu(x); }},
           {"special_relu6", [](const Tensor& x) { return relu6(x); }},
           {"special_round", [](const Tensor& x) { return round(x); }},
           {"special_exp", [](const Tensor& x) { return exp(x); }},
           {"special_expm1", [](const Tensor& x) { return expm1(x); }},
           {"special_log", [](const Tensor& x) { return log(x); }},
           {"special_log1p", [](const Tensor& x) { return log1p(x); }},
           {"special_log2", [](const Tensor& x) { return log2(x); }},
           {"special_sqrt", [](const Tensor& x) { return sqrt(x); }},
           {"special_rsqrt", [](const Tensor& x) { return rsqrt(x); }},
           {"special_sin", [](const Tensor& x) { return sin(x); }},
           {"special_cos", [](const Tensor& x) { return cos(x); }},
           {"special_erf", [](const Tensor& x) { return erf(x); }},
           {"special_elu", [](const Tensor& x) { return elu(x); }},
           {"special_sigmoid", [](const Tensor& x) { return sigmoid(x); }},
           {"special_tanh", [](const Tensor& x) { return tanh(x); }},
           {"special_gelu", [](const Tensor& x) { return gelu(x); }},
           {"special_silu", [](const Tensor& x) { return silu(x); }},
           {"special_softplus", [](const Tensor& x) { return softplus(x); }},
           {"special_pow_2p5", [](const Tensor& x) { return pow(x, 2.5); }},
           {"special_pow_neg1p5", [](const Tensor& x) { return pow(x, -1.5); }},
           {"special_pow_7", [](const Tensor& x) { return pow(x, 7); }},
           {"special_pow_neg3", [](const Tensor& x) { return pow(x, -3); }},
           {"special_pow_base2", [](const Tensor& x) { return pow(2, x); }},
           {"special_pow_base_neg2", [](const Tensor& x) { return pow(-2.0, x); }},
           {"special_clamp", [](const Tensor& x) { return clamp(x, -1, 1); }},
       }) {
    OpInfo op = unary(name, f, kFloatingTypes, 0, 0, {});
    const bool overflows = name.starts_with("special_pow") || name.starts_with("special_exp");
    op.samples =
        overflows ? with_specials(kPowSpecials, 0.25, 3) : with_specials(kSpecials, -100, 100);
    t.push_back(op);
  }
  return t;
}

INSTANTIATE_TEST_SUITE_P(Unary, OpInfoTest,
                         ::testing::ValuesIn(testing::op_cases(unary_op_table())),
                         testing::op_case_name);

std::vector<float> specials() {
  return {NAN, -0.0f, 0.0f, INFINITY, -INFINITY, 2.5f, -2.5f, 0.5f, 1.5f};
}

// Exact float comparison that tells -0.0 from 0.0 and accepts NaN == NaN.
void expect_same_floats(const Tensor& t, const std::vector<float>& expected) {
  const std::vector<float> got = t.to_vector<float>();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "element " << i << ": got " << got[i];
    } else {
      EXPECT_EQ(got[i], expected[i]) << "element " << i;
      EXPECT_EQ(std::signbit(got[i]), std::signbit(expected[i])) << "sign of element " << i;
    }
  }
}

TEST(Unary, SpecialValuesMatchPyTorch) {
  for (DType dt : {DType::f32, DType::f64, DType::f16, DType::bf16}) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor x = tensor(specials()).to(dt);
    expect_same_floats(sign(x), {0, 0, 0, 1, -1, 1, -1, 1, 1});
    expect_same_floats(abs(x), {NAN, 0, 0, INFINITY, INFINITY, 2.5, 2.5, 0.5, 1.5});
    expect_same_floats(relu(x), {NAN, -0.0f, 0, INFINITY, 0, 2.5, 0, 0.5, 1.5});
    expect_same_floats(relu6(x), {NAN, -0.0f, 0, 6, 0, 2.5, 0, 0.5, 1.5});
    expect_same_floats(round(x), {NAN, -0.0f, 0, INFINITY, -INFINITY, 2, -2, 0, 2});
    expect_same_floats(clamp(x, 1, 0), {NAN, 0, 0, 0, 0, 0, 0, 0, 0});
  }
  const Tensor x = tensor(specials());
  expect_same_floats(nan_to_num(x), {0, -0.0f, 0, FLT_MAX, -FLT_MAX, 2.5, -2.5, 0.5, 1.5});
  expect_same_floats(nan_to_num(x, 2.0, std::nullopt, -1.0),
                     {2, -0.0f, 0, FLT_MAX, -1, 2.5, -2.5, 0.5, 1.5});
  expect_same_floats(nan_to_num(x.to(DType::f16)),
                     {0, -0.0f, 0, 65504, -65504, 2.5, -2.5, 0.5, 1.5});
  EXPECT_EQ(nan_to_num(x.to(DType::bf16)).to_vector<float>()[3], 3.3895313892515355e38f);
  EXPECT_EQ(nan_to_num(x.to(DType::f64)).to_vector<double>()[4], -DBL_MAX);
  expect_same_floats(exp(x), {NAN, 1, 1, INFINITY, 0, std::exp(2.5f), std::exp(-2.5f),
                              std::exp(0.5f), std::exp(1.5f)});
  EXPECT_EQ(log(tensor<float>({0, -1})).to_vector<float>()[0], -INFINITY);
  EXPECT_TRUE(std::isnan(log(tensor<float>({0, -1})).to_vector<float>()[1]));
  // gelu, silu and hardswish of -inf are -inf * 0: NaN, as PyTorch.
  EXPECT_TRUE(std::isnan(gelu(tensor<float>({-INFINITY})).item<float>()));
  EXPECT_TRUE(std::isnan(silu(tensor<float>({-INFINITY})).item<float>()));
  EXPECT_TRUE(std::isnan(hardswish(tensor<float>({-INFINITY})).item<float>()));
  EXPECT_EQ(sigmoid(tensor<float>({-INFINITY, INFINITY})).to_vector<float>(),
            (std::vector<float>{0, 1}));
}

TEST(Unary, RoundsHalfToEvenWithDecimals) {
  EXPECT_EQ(round(tensor<float>({0.5, 1.5, 2.5, -0.5, -1.5})).to_vector<float>(),
            (std::vector<float>{0, 2, 2, -0, -2}));
  EXPECT_EQ(round(tensor<double>({0.25, 1234.5, 0.125}), 1).to_vector<double>(),
            (std::vector<double>{0.2, 1234.5, 0.1}));
  EXPECT_EQ(round(tensor<float>({1250, 1350, 1249}), -2).to_vector<float>(),
            (std::vector<float>{1200, 1400, 1200}));
  EXPECT_EQ(round(tensor<int64_t>({3, -4})).to_vector<int64_t>(), (std::vector<int64_t>{3, -4}));
}

TEST(Unary, IntegerSemantics) {
  const Tensor u = tensor<uint8_t>({3, 0, 20});
  EXPECT_EQ(neg(u).to_vector<uint8_t>(), (std::vector<uint8_t>{253, 0, 236}));
  EXPECT_EQ(square(u).to_vector<uint8_t>(), (std::vector<uint8_t>{9, 0, 144}));
  EXPECT_EQ(pow(tensor<uint8_t>({2}), 9).to_vector<uint8_t>(), (std::vector<uint8_t>{0}));
  EXPECT_EQ(pow(tensor<int64_t>({3}), 40).item<int64_t>(), -6289078614652622815LL);
  EXPECT_EQ(pow(2, tensor<int64_t>({-1, -2, 0, 3})).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 0, 1, 8}));
  EXPECT_EQ(pow(-1, tensor<int64_t>({-1, -2, 3})).to_vector<int64_t>(),
            (std::vector<int64_t>{-1, 1, -1}));
  EXPECT_EQ(pow(tensor<int64_t>({0, 2, -1}), 0).to_vector<int64_t>(),
            (std::vector<int64_t>{1, 1, 1}));
  EXPECT_EQ(abs(tensor<int32_t>({-7, 7})).to_vector<int32_t>(), (std::vector<int32_t>{7, 7}));
  EXPECT_EQ(sign(tensor<bool>({true, false})).to_vector<bool>(), (std::vector<bool>{true, false}));
  EXPECT_EQ(clamp(tensor<int64_t>({-5, 0, 5}), -1, 1).to_vector<int64_t>(),
            (std::vector<int64_t>{-1, 0, 1}));
  EXPECT_EQ(logical_not(tensor<float>({0, 2, NAN})).to_vector<bool>(),
            (std::vector<bool>{true, false, false}));
}

TEST(Unary, ResultDtypesFollowPyTorch) {
  const Tensor i64 = tensor<int64_t>({1, 2}), i32 = tensor<int32_t>({1, 2});
  const Tensor u8 = tensor<uint8_t>({1, 2}), b = tensor<bool>({true, false});
  const Tensor h = tensor<float>({1, 2}).to(DType::f16);
  for (const Tensor& x : {i64, i32, u8, b}) {
    EXPECT_EQ(exp(x).dtype(), DType::f32);
    EXPECT_EQ(sigmoid(x).dtype(), DType::f32);
    EXPECT_EQ(sqrt(x).dtype(), DType::f32);
    EXPECT_EQ(reciprocal(x).dtype(), DType::f32);
    EXPECT_EQ(erf(x).dtype(), DType::f32);
    EXPECT_EQ(logical_not(x).dtype(), DType::boolean);
    EXPECT_EQ(clamp(x, 0.5).dtype(), DType::f32);
    EXPECT_EQ(pow(x, 2.0).dtype(), DType::f32);
    EXPECT_EQ(pow(2.5, x).dtype(), DType::f32);
    EXPECT_EQ(sign(x).dtype(), x.dtype());
    EXPECT_EQ(nan_to_num(x).dtype(), x.dtype());
  }
  for (const Tensor& x : {i64, i32, u8}) {
    EXPECT_EQ(neg(x).dtype(), x.dtype());
    EXPECT_EQ(abs(x).dtype(), x.dtype());
    EXPECT_EQ(square(x).dtype(), x.dtype());
    EXPECT_EQ(relu(x).dtype(), x.dtype());
    EXPECT_EQ(floor(x).dtype(), x.dtype());
    EXPECT_EQ(round(x).dtype(), x.dtype());
    EXPECT_EQ(clamp(x, 0, 1).dtype(), x.dtype());
    EXPECT_EQ(pow(x, 2).dtype(), x.dtype());
    EXPECT_EQ(pow(2, x).dtype(), x.dtype());
  }
  EXPECT_EQ(square(b).dtype(), DType::i64);
  EXPECT_EQ(clamp(b, 0, 1).dtype(), DType::i64);
  EXPECT_EQ(pow(b, 2).dtype(), DType::i64);
  EXPECT_EQ(pow(2, b).dtype(), DType::i64);
  EXPECT_EQ(clamp(h, 0, 1.5).dtype(), DType::f16);
  EXPECT_EQ(pow(h, 2.0).dtype(), DType::f16);
  EXPECT_EQ(clamp(tensor<double>({1.0}), 2).dtype(), DType::f64);
  EXPECT_EQ(exp(tensor<double>({1.0})).dtype(), DType::f64);
  EXPECT_EQ((-i32).dtype(), DType::i32);
}

// Each in-place op on every other column of a transposed view: values as the functional op,
// the elements in between untouched, the version bumped.
TEST(Unary, InPlaceOnNonContiguousViews) {
  using Fns = std::pair<std::function<Tensor(const Tensor&)>, std::function<void(Tensor&)>>;
  const std::vector<std::pair<std::string, Fns>> cases = {
      {"neg_", {[](const Tensor& x) { return neg(x); }, [](Tensor& x) { x.neg_(); }}},
      {"abs_", {[](const Tensor& x) { return abs(x); }, [](Tensor& x) { x.abs_(); }}},
      {"exp_", {[](const Tensor& x) { return x.exp(); }, [](Tensor& x) { x.exp_(); }}},
      {"log_", {[](const Tensor& x) { return x.abs().log(); }, [](Tensor& x) { x.abs_().log_(); }}},
      {"sqrt_",
       {[](const Tensor& x) { return x.abs().sqrt(); }, [](Tensor& x) { x.abs_().sqrt_(); }}},
      {"sigmoid_", {[](const Tensor& x) { return x.sigmoid(); }, [](Tensor& x) { x.sigmoid_(); }}},
      {"tanh_", {[](const Tensor& x) { return x.tanh(); }, [](Tensor& x) { x.tanh_(); }}},
      {"relu_", {[](const Tensor& x) { return x.relu(); }, [](Tensor& x) { x.relu_(); }}},
      {"clamp_",
       {[](const Tensor& x) { return x.clamp(-0.5, 0.5); },
        [](Tensor& x) { x.clamp_(-0.5, 0.5); }}},
      {"pow_", {[](const Tensor& x) { return x.pow(3); }, [](Tensor& x) { x.pow_(3); }}},
      {"square_", {[](const Tensor& x) { return x.square(); }, [](Tensor& x) { square_(x); }}},
      {"gelu_",
       {[](const Tensor& x) { return gelu(x, GeluApprox::tanh); },
        [](Tensor& x) { gelu_(x, GeluApprox::tanh); }}},
      {"silu_", {[](const Tensor& x) { return silu(x); }, [](Tensor& x) { silu_(x); }}},
      {"elu_", {[](const Tensor& x) { return elu(x, 0.5); }, [](Tensor& x) { elu_(x, 0.5); }}},
      {"leaky_relu_",
       {[](const Tensor& x) { return leaky_relu(x, 0.1); },
        [](Tensor& x) { leaky_relu_(x, 0.1); }}},
      {"round_", {[](const Tensor& x) { return round(x, 1); }, [](Tensor& x) { round_(x, 1); }}},
      {"nan_to_num_",
       {[](const Tensor& x) { return nan_to_num(x); }, [](Tensor& x) { nan_to_num_(x); }}},
  };
  for (const auto& [name, fns] : cases) {
    SCOPED_TRACE(name);
    const Tensor base = testing::random_tensor({8, 6}, DType::f32, -2, 2, 7).t().contiguous().t();
    const Tensor original = base.clone();
    Tensor view = base.slice(1, 0, std::nullopt, 2);
    ASSERT_FALSE(view.is_contiguous());
    const Tensor expected = fns.first(view.clone());
    const uint64_t version = base.version();
    fns.second(view);
    EXPECT_GT(base.version(), version);
    EXPECT_TRUE(testing::all_close(view, expected, {1e-6, 1e-6}));
    EXPECT_TRUE(testing::all_close(base.slice(1, 1, std::nullopt, 2),
                                   original.slice(1, 1, std::nullopt, 2), {0, 0}));
  }
  Tensor b = tensor<bool>({true, false});
  logical_not_(b);
  EXPECT_EQ(b.to_vector<bool>(), (std::vector<bool>{false, true}));
  Tensor i = tensor<int64_t>({-3, 4});
  i.clamp_(std::nullopt, 0).neg_();
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{3, 0}));
}

TEST(Unary, MethodsAndOperatorMatchFunctions) {
  const Tensor x = testing::random_tensor({3, 4}, DType::f32);
  EXPECT_TRUE(testing::all_close(-x, neg(x), {0, 0}));
  EXPECT_TRUE(testing::all_close(x.neg(), neg(x), {0, 0}));
  EXPECT_TRUE(testing::all_close(x.abs(), abs(x), {0, 0}));
  EXPECT_TRUE(testing::all_close(x.square(), square(x), {0, 0}));
  EXPECT_TRUE(testing::all_close(x.pow(2), square(x), {0, 0}));
  EXPECT_TRUE(testing::all_close(x.clamp(0), relu(x), {0, 0}));
}

TEST(Unary, ErrorsNameTheProblem) {
  const Tensor b = tensor<bool>({true});
  const Tensor i = tensor<int64_t>({1, 2});
  expect_error([&] { neg(b); }, {"neg", "bool", "[1] (bool, cpu)", "logical_not"});
  expect_error([&] { abs(b); }, {"abs", "bool", "[1] (bool, cpu)"});
  expect_error([&] { relu(b); }, {"relu", "bool"});
  expect_error([&] { gelu(i); }, {"gelu", "floating-point", "[2] (i64, cpu)"});
  expect_error([&] { softplus(i); }, {"softplus", "floating-point"});
  expect_error([&] { clamp(i, std::nullopt, std::nullopt); }, {"clamp", "min", "max"});
  expect_error([&] { pow(i, -1); }, {"pow", "negative integer power", "[2] (i64, cpu)"});
  expect_error([&] { pow(b, true); }, {"pow", "bool"});
  expect_error([&] { round(i, 2); }, {"round", "decimals=2", "floating-point"});
  expect_error(
      [&] {
        Tensor x = i;
        exp_(x);
      },
      {"exp_", "f32", "[2] (i64, cpu)"});
  expect_error(
      [&] {
        Tensor x = i;
        x.clamp_(0.5);
      },
      {"clamp_", "f32", "(i64, cpu)"});
  expect_error(
      [&] {
        Tensor x = zeros({1}).expand({3});
        x.relu_();
      },
      {"relu_", "[3] (f32, cpu)", "expanded"});
  expect_error([] { exp(Tensor()); }, {"exp", "undefined"});
}

}  // namespace
}  // namespace anvil
