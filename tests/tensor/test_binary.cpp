// Elementwise binary and ternary ops: every op and dtype against the float64 reference, then
// PyTorch's promotion, division, in-place and error semantics case by case.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/op_test.h"

namespace anvil {
namespace {

using testing::default_samples;
using testing::expect_error;
using testing::Layout;
using testing::OpInfo;
using testing::OpInfoTest;
using testing::Sample;
using testing::with_layout;
using Inputs = std::vector<Tensor>;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// How the values of one operand are drawn: a range, an optional map applied to every value
// (e.g. to skip zero), and a dtype when it differs from the op's (where's condition).
struct Draw {
  double lo = -2, hi = 2;
  double (*map)(double) = nullptr;
  std::optional<DType> dtype;
};

// The value range that suits a dtype: u8 stays non-negative (results must not wrap, since the
// reference computes in double), integers get a few more distinct values.
Draw range_of(DType t) {
  if (t == DType::u8) return {0, 9};
  if (is_integral(t)) return {-9, 9};
  return {};
}

// Rewrites a tensor's values in place (through its own layout, so views stay views).
void map_values(const Tensor& t, double (*f)(double)) {
  std::vector<double> v = t.to_vector<double>();
  for (double& x : v) x = f(x);
  Tensor(t).copy_(tensor(v, t.shape()).to(t.dtype()));
}

// default_samples with each operand drawn its own way: the sample lists of every draw have the
// same structure, so operand k comes from the list drawn with draws[k].
std::vector<Sample> samples_of(DType t, std::vector<Draw> draws) {
  const int arity = static_cast<int>(draws.size());
  std::vector<Sample> out, list;
  for (int k = 0; k < arity; ++k) {
    const Draw& d = draws[k];
    const bool same_as_previous = k > 0 && d.lo == draws[k - 1].lo && d.hi == draws[k - 1].hi &&
                                  d.dtype == draws[k - 1].dtype;
    if (!same_as_previous) list = default_samples(d.dtype.value_or(t), arity, d.lo, d.hi);
    if (k == 0) out = list;
    for (size_t j = 0; j < out.size(); ++j) {
      out[j].inputs[k] = list[j].inputs[k];
      if (d.map) map_values(out[j].inputs[k], d.map);
    }
  }
  return out;
}

std::vector<Sample> plain(DType t, int arity) {
  return samples_of(t, std::vector<Draw>(arity, range_of(t)));
}

double skip_zero(double v) {
  return v >= 0 ? v + 1 : v;
}  // integers: [-9,8] -> ±[1,9]
double away_from_zero(double v) {
  return v >= 0 ? v + 0.25 : v - 0.25;
}
double shift_up(double v) {
  return v + 10;
}

// A divisor: nonzero integers, floats at least 0.25 away from zero (so that f16 quotients stay
// finite).
Draw divisor_of(DType t) {
  if (t == DType::u8) return {1, 9};
  if (is_integral(t)) return {-9, 8, skip_zero};
  return {-2, 2, away_from_zero};
}

std::vector<Sample> division(DType t) {
  return samples_of(t, {range_of(t), divisor_of(t)});
}
std::vector<Sample> quotients(DType t) {
  return samples_of(t, {range_of(t), range_of(t), divisor_of(t)});
}

std::vector<Sample> powers(DType t) {
  if (is_integral(t)) return samples_of(t, {{t == DType::u8 ? 0. : -3., 3}, {0, 4}});
  return samples_of(t, {{0.5, 2.5}, {-2, 2}});
}

// u8 subtraction keeps a >= b, so that the reference never wraps.
std::vector<Sample> differences(DType t) {
  if (t == DType::u8) return samples_of(t, {{0, 9, shift_up}, {0, 9}});
  return plain(t, 2);
}

// In-place forms: self keeps the full shape, so drop the samples that broadcast self.
std::vector<Sample> inplace(std::vector<Sample> all) {
  std::vector<Sample> out;
  for (Sample& s : all) {
    Shape shape = s.inputs[0].shape();
    for (const Tensor& t : s.inputs) shape = broadcast_shapes(shape, t.shape(), "test");
    if (shape == s.inputs[0].shape()) out.push_back(std::move(s));
  }
  return out;
}

// self for an in-place op: a copy of the first input, non-contiguous where it has dims.
Tensor self_of(const Inputs& x) {
  return with_layout(x[0].clone(), Layout::strided);
}

constexpr DTypeSet kNoU8Ints{DType::i64, DType::i32};

std::vector<OpInfo> binary_op_table() {
  using OpIds = std::vector<OpId>;
  auto p2 = [](DType t) { return plain(t, 2); };
  auto p1 = [](DType t) { return plain(t, 1); };
  auto p3 = [](DType t) { return plain(t, 3); };
  return {
      {"add", [](const Inputs& x) { return add(x[0], x[1]); }, kAllTypes, p2, OpIds{OpId::add}},
      {"add_alpha", [](const Inputs& x) { return add(x[0], x[1], 3); }, kNumericTypes, p2,
       OpIds{OpId::add}},
      {"add_alpha_float", [](const Inputs& x) { return add(x[0], x[1], 0.5); }, kFloatingTypes, p2,
       OpIds{OpId::add}},
      {"add_scalar", [](const Inputs& x) { return add(x[0], 3); }, kAllTypes, p1, OpIds{OpId::add}},
      {"add_float_scalar", [](const Inputs& x) { return x[0] + 1.5; }, kAllTypes, p1,
       OpIds{OpId::add}},
      {"radd_scalar", [](const Inputs& x) { return add(2, x[0], 2); }, kNumericTypes, p1,
       OpIds{OpId::add}},
      {"sub", [](const Inputs& x) { return sub(x[0], x[1]); }, kNumericTypes, differences,
       OpIds{OpId::sub}},
      {"sub_alpha", [](const Inputs& x) { return sub(x[0], x[1], 2); }, kNoU8Ints | kFloatingTypes,
       p2, OpIds{OpId::sub}},
      {"sub_scalar", [](const Inputs& x) { return x[0] - 1.5; }, kNumericTypes, p1,
       OpIds{OpId::sub}},
      {"rsub_scalar", [](const Inputs& x) { return 2 - x[0]; }, kNoU8Ints | kFloatingTypes, p1,
       OpIds{OpId::sub}},
      {"mul", [](const Inputs& x) { return mul(x[0], x[1]); }, kAllTypes, p2, OpIds{OpId::mul}},
      {"mul_scalar", [](const Inputs& x) { return x[0] * 3; }, kAllTypes, p1, OpIds{OpId::mul}},
      {"rmul_float_scalar", [](const Inputs& x) { return 0.5 * x[0]; }, kAllTypes, p1,
       OpIds{OpId::mul}},
      {"div", [](const Inputs& x) { return div(x[0], x[1]); }, kAllTypes, division,
       OpIds{OpId::div}},
      {"div_scalar", [](const Inputs& x) { return x[0] / 4; }, kAllTypes, p1, OpIds{OpId::div}},
      {"rdiv_scalar", [](const Inputs& x) { return 3 / x[0]; }, kFloatingTypes,
       [](DType t) { return samples_of(t, {divisor_of(t)}); }, OpIds{OpId::div}},
      {"div_trunc", [](const Inputs& x) { return div(x[0], x[1], RoundingMode::trunc); },
       kNumericTypes, division, OpIds{OpId::div_trunc}},
      {"div_floor", [](const Inputs& x) { return div(x[0], x[1], RoundingMode::floor); },
       kNumericTypes, division, OpIds{OpId::floor_divide}},
      {"floor_divide", [](const Inputs& x) { return floor_divide(x[0], x[1]); }, kNumericTypes,
       division, OpIds{OpId::floor_divide}},
      {"floor_divide_scalar", [](const Inputs& x) { return floor_divide(x[0], 3); }, kNumericTypes,
       p1, OpIds{OpId::floor_divide}},
      {"remainder", [](const Inputs& x) { return remainder(x[0], x[1]); }, kNumericTypes, division,
       OpIds{OpId::remainder}},
      {"remainder_scalar", [](const Inputs& x) { return remainder(x[0], -3); },
       kNoU8Ints | kFloatingTypes, p1, OpIds{OpId::remainder}},
      {"rremainder_scalar", [](const Inputs& x) { return remainder(5, x[0]); }, kFloatingTypes, p1,
       OpIds{OpId::remainder}},
      {"pow", [](const Inputs& x) { return pow(x[0], x[1]); }, kNumericTypes, powers,
       OpIds{OpId::pow_tensor}},
      {"maximum", [](const Inputs& x) { return maximum(x[0], x[1]); }, kAllTypes, p2,
       OpIds{OpId::maximum}},
      {"minimum", [](const Inputs& x) { return minimum(x[0], x[1]); }, kAllTypes, p2,
       OpIds{OpId::minimum}},
      {"atan2", [](const Inputs& x) { return atan2(x[0], x[1]); }, kAllTypes, p2,
       OpIds{OpId::atan2}},
      {"threshold_backward",
       [](const Inputs& x) { return ops::threshold_backward(x[0], x[1], 0.5); }, kNumericTypes, p2,
       OpIds{OpId::threshold_backward}},
      {"eq", [](const Inputs& x) { return eq(x[0], x[1]); }, kAllTypes, p2, OpIds{OpId::eq}},
      {"ne", [](const Inputs& x) { return x[0].ne(x[1]); }, kAllTypes, p2, OpIds{OpId::ne}},
      {"lt", [](const Inputs& x) { return lt(x[0], x[1]); }, kAllTypes, p2, OpIds{OpId::lt}},
      {"le", [](const Inputs& x) { return x[0].le(x[1]); }, kAllTypes, p2, OpIds{OpId::le}},
      {"gt", [](const Inputs& x) { return gt(x[0], x[1]); }, kAllTypes, p2, OpIds{OpId::gt}},
      {"ge", [](const Inputs& x) { return x[0].ge(x[1]); }, kAllTypes, p2, OpIds{OpId::ge}},
      {"eq_scalar", [](const Inputs& x) { return eq(x[0], 1); }, kAllTypes, p1, OpIds{OpId::eq}},
      {"lt_scalar", [](const Inputs& x) { return lt(x[0], 0.5); }, kAllTypes, p1, OpIds{OpId::lt}},
      {"ge_scalar", [](const Inputs& x) { return ge(x[0], 2); }, kAllTypes, p1, OpIds{OpId::ge}},
      {"logical_and", [](const Inputs& x) { return logical_and(x[0], x[1]); }, kAllTypes, p2,
       OpIds{OpId::logical_and}},
      {"logical_or", [](const Inputs& x) { return logical_or(x[0], x[1]); }, kAllTypes, p2,
       OpIds{OpId::logical_or}},
      {"logical_xor", [](const Inputs& x) { return logical_xor(x[0], x[1]); }, kAllTypes, p2,
       OpIds{OpId::logical_xor}},
      {"where", [](const Inputs& x) { return where(x[0], x[1], x[2]); }, kAllTypes,
       [](DType t) {
         return samples_of(t, {{.dtype = DType::boolean}, range_of(t), range_of(t)});
       },
       OpIds{OpId::where}},
      {"where_scalar", [](const Inputs& x) { return where(x[0], x[1], -1.5); }, kAllTypes,
       [](DType t) {
         return samples_of(t, {{.dtype = DType::boolean}, range_of(t)});
       },
       OpIds{OpId::where}},
      {"lerp", [](const Inputs& x) { return lerp(x[0], x[1], x[2]); }, kFloatingTypes,
       [](DType t) {
         return samples_of(t, {{}, {}, {-0.5, 1.5}});
       },
       OpIds{OpId::lerp}},
      {"lerp_scalar_small", [](const Inputs& x) { return lerp(x[0], x[1], 0.3); }, kFloatingTypes,
       p2, OpIds{OpId::lerp}},
      {"lerp_scalar_large", [](const Inputs& x) { return lerp(x[0], x[1], 0.8); }, kFloatingTypes,
       p2, OpIds{OpId::lerp}},
      {"addcmul", [](const Inputs& x) { return addcmul(x[0], x[1], x[2], 2); }, kNumericTypes, p3,
       OpIds{OpId::addcmul}},
      {"addcmul_float_value", [](const Inputs& x) { return addcmul(x[0], x[1], x[2], -0.5); },
       kFloatingTypes, p3, OpIds{OpId::addcmul}},
      {"addcdiv", [](const Inputs& x) { return addcdiv(x[0], x[1], x[2], 0.5); }, kFloatingTypes,
       quotients, OpIds{OpId::addcdiv}},
      // In-place forms, on a non-contiguous self.
      {"add_", [](const Inputs& x) { return self_of(x).add_(x[1], 2); }, kNumericTypes,
       [](DType t) { return inplace(plain(t, 2)); }, OpIds{OpId::add}},
      {"sub_scalar_", [](const Inputs& x) { return self_of(x).sub_(1); }, kNumericTypes,
       [](DType t) {
         return samples_of(t, {{0, 9, shift_up}});
       },
       OpIds{OpId::sub}},
      {"mul_", [](const Inputs& x) { return self_of(x).mul_(x[1]); }, kAllTypes,
       [](DType t) { return inplace(plain(t, 2)); }, OpIds{OpId::mul}},
      {"div_", [](const Inputs& x) { return self_of(x).div_(x[1]); }, kFloatingTypes,
       [](DType t) { return inplace(division(t)); }, OpIds{OpId::div}},
      {"div_floor_", [](const Inputs& x) { return self_of(x).div_(x[1], RoundingMode::floor); },
       kNumericTypes, [](DType t) { return inplace(division(t)); }, OpIds{OpId::floor_divide}},
      {"pow_", [](const Inputs& x) { return self_of(x).pow_(x[1]); }, kNumericTypes,
       [](DType t) { return inplace(powers(t)); }, OpIds{OpId::pow_tensor}},
      {"lerp_", [](const Inputs& x) { return self_of(x).lerp_(x[1], 0.6); }, kFloatingTypes,
       [](DType t) { return inplace(plain(t, 2)); }, OpIds{OpId::lerp}},
      {"addcmul_", [](const Inputs& x) { return self_of(x).addcmul_(x[1], x[2], 2); },
       kNumericTypes, [](DType t) { return inplace(plain(t, 3)); }, OpIds{OpId::addcmul}},
      {"addcdiv_", [](const Inputs& x) { return self_of(x).addcdiv_(x[1], x[2]); }, kFloatingTypes,
       [](DType t) { return inplace(quotients(t)); }, OpIds{OpId::addcdiv}},
  };
}

INSTANTIATE_TEST_SUITE_P(Binary, OpInfoTest,
                         ::testing::ValuesIn(testing::op_cases(binary_op_table())),
                         testing::op_case_name);

template <class T>
std::vector<T> values(const Tensor& t) {
  return t.to_vector<T>();
}

Tensor floats(std::vector<float> v) {
  return tensor(v);
}
Tensor longs(std::vector<int64_t> v) {
  return tensor(v);
}

TEST(Binary, ResultTypeFollowsPyTorch) {
  const Tensor i64 = longs({1, 2}), f32 = floats({1, 2});
  const Tensor i32 = i64.to(DType::i32), u8 = i64.to(DType::u8), b = i64.to(DType::boolean);
  const Tensor f16 = f32.to(DType::f16), bf16 = f32.to(DType::bf16);
  EXPECT_EQ(result_type(i64, f32), DType::f32);
  EXPECT_EQ(result_type(u8, i32), DType::i32);
  EXPECT_EQ(result_type(b, b), DType::boolean);
  EXPECT_EQ(result_type(f16, bf16), DType::f32);
  EXPECT_EQ(result_type(b, u8), DType::u8);
  // A 0-d tensor only matters when its category is higher.
  EXPECT_EQ(result_type(i32, scalar_tensor(1, DType::i64)), DType::i32);
  EXPECT_EQ(result_type(u8, scalar_tensor(1, DType::i64)), DType::u8);
  EXPECT_EQ(result_type(f16, scalar_tensor(1.0, DType::f64)), DType::f16);
  EXPECT_EQ(result_type(i64, scalar_tensor(1.0, DType::f64)), DType::f64);
  EXPECT_EQ(result_type(scalar_tensor(1.5), scalar_tensor(1)), DType::f32);
  EXPECT_EQ(result_type(scalar_tensor(true), scalar_tensor(1, DType::u8)), DType::u8);
  // Scalars: a float gives the default float, an integer i64 (over bool only).
  EXPECT_EQ(result_type(i64, 1.5), DType::f32);
  EXPECT_EQ(result_type(i32, 5), DType::i32);
  EXPECT_EQ(result_type(u8, true), DType::u8);
  EXPECT_EQ(result_type(b, 1), DType::i64);
  EXPECT_EQ(result_type(b, 2.5), DType::f32);
  EXPECT_EQ(result_type(f16, 1.5), DType::f16);
  EXPECT_EQ(result_type(scalar_tensor(true), 2.5), DType::f32);
  EXPECT_EQ(result_type(f32.to(DType::f64), 2.5), DType::f64);
}

TEST(Binary, OpsReturnThePromotedDtype) {
  const Tensor i = longs({3, -3}), f = floats({1.5, -2.5});
  const Tensor b = tensor(std::vector<bool>{true, false});
  const Tensor u = tensor(std::vector<uint8_t>{200, 3});
  EXPECT_EQ(add(i, f).dtype(), DType::f32);
  EXPECT_EQ(values<float>(i + f), (std::vector<float>{4.5, -5.5}));
  EXPECT_EQ(values<int32_t>(u + i.to(DType::i32)), (std::vector<int32_t>{203, 0}));
  EXPECT_EQ((b + b).dtype(), DType::boolean);
  EXPECT_EQ(values<bool>(b + b), (std::vector<bool>{true, false}));
  EXPECT_EQ(values<bool>(b * b), (std::vector<bool>{true, false}));
  EXPECT_EQ((f.to(DType::f16) + f.to(DType::bf16)).dtype(), DType::f32);
  EXPECT_EQ(values<int64_t>(b + 1), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ((b + 1.5).dtype(), DType::f32);
  EXPECT_EQ(values<float>(i + 1.5), (std::vector<float>{4.5, -1.5}));
  EXPECT_EQ((i.to(DType::i32) + 1).dtype(), DType::i32);
  EXPECT_EQ(values<uint8_t>(u + 300), (std::vector<uint8_t>{244, 47}));  // 300 wraps to 44
  EXPECT_EQ((u + scalar_tensor(1, DType::i64)).dtype(), DType::u8);
  EXPECT_EQ((i + scalar_tensor(1.0, DType::f64)).dtype(), DType::f64);
  EXPECT_EQ((f.to(DType::f16) + scalar_tensor(1.0, DType::f64)).dtype(), DType::f16);
  EXPECT_EQ((scalar_tensor(1.5) + scalar_tensor(1)).dim(), 0);
  EXPECT_EQ(atan2(i, i).dtype(), DType::f32);
  EXPECT_EQ(atan2(b, b).dtype(), DType::f32);
  EXPECT_EQ(maximum(i, f).dtype(), DType::f32);
  EXPECT_EQ(eq(i, f).dtype(), DType::boolean);
  EXPECT_EQ(logical_xor(f.to(DType::f16), b).dtype(), DType::boolean);
  EXPECT_EQ(addcmul(f, i, i).dtype(), DType::f32);
  EXPECT_EQ(addcmul(f, i, scalar_tensor(2.0, DType::f64)).dtype(), DType::f32);
  EXPECT_EQ(values<int64_t>(addcmul(i, i, i, 1.5)), (std::vector<int64_t>{12, 6}));
  EXPECT_EQ(values<uint8_t>(addcmul(u, u, u, -1)), (std::vector<uint8_t>{136, 250}));
}

TEST(Binary, ComparisonsWithScalarsCastTheScalarLikePyTorch) {
  const Tensor u = tensor(std::vector<uint8_t>{200, 3});
  const Tensor i = longs({3, -3});
  const Tensor b = tensor(std::vector<bool>{true, false});
  EXPECT_EQ(values<bool>(eq(u, 300)), (std::vector<bool>{false, false}));
  EXPECT_EQ(values<bool>(lt(u, -1)), (std::vector<bool>{true, true}));  // -1 wraps to 255
  EXPECT_EQ(values<bool>(eq(i, 1.5)), (std::vector<bool>{false, false}));
  EXPECT_EQ(values<bool>(gt(i, floats({1.5, 2}))), (std::vector<bool>{true, false}));
  EXPECT_EQ(values<bool>(ne(b, 2)), (std::vector<bool>{true, true}));
  EXPECT_EQ(values<bool>(le(floats({1, kNaN}), floats({1, kNaN}))),
            (std::vector<bool>{true, false}));
  EXPECT_EQ(values<bool>(ne(floats({kNaN}), floats({kNaN}))), (std::vector<bool>{true}));
}

TEST(Binary, DivisionRoundsLikePyTorch) {
  const Tensor a = longs({-7, 7}), b = longs({2, -2});
  EXPECT_EQ(div(a, b).dtype(), DType::f32);
  EXPECT_EQ(values<float>(div(a, b)), (std::vector<float>{-3.5, -3.5}));
  EXPECT_EQ(values<int64_t>(div(a, b, RoundingMode::trunc)), (std::vector<int64_t>{-3, -3}));
  EXPECT_EQ(values<int64_t>(div(a, b, RoundingMode::floor)), (std::vector<int64_t>{-4, -4}));
  EXPECT_EQ(values<int64_t>(floor_divide(a, b)), (std::vector<int64_t>{-4, -4}));
  EXPECT_EQ(values<int64_t>(floor_divide(2, longs({3, -3}))), (std::vector<int64_t>{0, -1}));
  EXPECT_EQ(values<int64_t>(remainder(longs({-3, 3}), longs({2, -2}))),
            (std::vector<int64_t>{1, -1}));
  EXPECT_EQ(values<int64_t>(remainder(2, longs({3, -3}))), (std::vector<int64_t>{2, -1}));
  EXPECT_EQ(values<float>(remainder(floats({-3, 3}), floats({2, -2}))),
            (std::vector<float>{1, -1}));
  EXPECT_EQ(div(tensor(std::vector<uint8_t>{200, 3}), 2.5, RoundingMode::floor).dtype(),
            DType::f32);
  // Python's floor division: the floor of the exact quotient (0.1 is a little above 1/10).
  EXPECT_EQ(values<double>(floor_divide(tensor(std::vector<double>{1.0}), 0.1)),
            (std::vector<double>{9.0}));
  EXPECT_EQ(values<float>(floor_divide(floats({-7, 7}), floats({2, -2}))),
            (std::vector<float>{-4, -4}));
  const std::vector<float> signs =
      values<float>(floor_divide(floats({-1, 1, 0}), floats({3, -3, -3})));
  EXPECT_EQ(signs[0], -1);
  EXPECT_EQ(signs[1], -1);
  EXPECT_TRUE(signs[2] == 0 && std::signbit(signs[2]));  // 0 // -3 is -0.0, as in Python
  // Remainder keeps the divisor's sign, even with an infinite divisor (as Python).
  EXPECT_EQ(values<float>(remainder(floats({5, -5}), floats({kInf, kInf}))),
            (std::vector<float>{5, kInf}));
}

TEST(Binary, FloatDivisionByZeroGivesInfAndNan) {
  const Tensor a = floats({1, -1, 0}), z = zeros({3});
  const std::vector<float> q = values<float>(a / z);
  EXPECT_EQ(q[0], INFINITY);
  EXPECT_EQ(q[1], -INFINITY);
  EXPECT_TRUE(std::isnan(q[2]));
  const std::vector<float> f = values<float>(div(a, z, RoundingMode::floor));
  EXPECT_EQ(f[0], INFINITY);
  EXPECT_EQ(f[1], -INFINITY);
  EXPECT_TRUE(std::isnan(f[2]));
  EXPECT_EQ(values<float>(div(a, z, RoundingMode::trunc))[1], -INFINITY);
  for (float r : values<float>(remainder(a, z))) EXPECT_TRUE(std::isnan(r));
  // True division of integers by zero is float division.
  EXPECT_EQ(values<float>(longs({3}) / longs({0}))[0], INFINITY);
}

TEST(Binary, IntegerDivisionByZeroThrows) {
  const Tensor a = longs({3, -3}), z = longs({0, 1});
  expect_error([&] { floor_divide(a, z); },
               {"floor_divide", "ZeroDivisionError", "[2] (i64, cpu)"});
  expect_error([&] { div(a, z, RoundingMode::trunc); }, {"div_trunc", "ZeroDivisionError"});
  expect_error([&] { remainder(a, 0); }, {"remainder", "ZeroDivisionError"});
  expect_error([&] { remainder(a.to(DType::u8), z.to(DType::u8)); }, {"ZeroDivisionError"});
  // In-place: self is left untouched.
  Tensor self = a.to(DType::i32);
  expect_error([&] { self.div_(z.to(DType::i32), RoundingMode::floor); }, {"ZeroDivisionError"});
  EXPECT_EQ(values<int32_t>(self), (std::vector<int32_t>{3, -3}));
  {
    ReferenceModeGuard guard;
    expect_error([&] { floor_divide(a, z); }, {"floor_divide", "ZeroDivisionError"});
  }
}

TEST(Binary, LowestIntegerDividedByMinusOneWraps) {
  const int64_t lo = std::numeric_limits<int64_t>::min();
  const Tensor a = longs({lo, 7}), m = longs({-1, -1});
  EXPECT_EQ(values<int64_t>(floor_divide(a, m)), (std::vector<int64_t>{lo, -7}));
  EXPECT_EQ(values<int64_t>(div(a, m, RoundingMode::trunc)), (std::vector<int64_t>{lo, -7}));
  EXPECT_EQ(values<int64_t>(remainder(a, m)), (std::vector<int64_t>{0, 0}));
  const int32_t lo32 = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(values<int32_t>(floor_divide(tensor(std::vector<int32_t>{lo32}), -1)),
            (std::vector<int32_t>{lo32}));
  // Integer overflow wraps, as in PyTorch.
  const int64_t hi = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(values<int64_t>(longs({hi}) + 1), (std::vector<int64_t>{lo}));
}

TEST(Binary, PowFollowsPyTorch) {
  EXPECT_EQ(values<int64_t>(pow(longs({0, -1, 1, 2, -1}), longs({-1, -1, -3, -1, -2}))),
            (std::vector<int64_t>{0, -1, 1, 0, 1}));
  EXPECT_EQ(values<int64_t>(pow(longs({3, -2, 2}), longs({4, 3, 62}))),
            (std::vector<int64_t>{81, -8, int64_t{1} << 62}));
  EXPECT_EQ(values<uint8_t>(
                pow(tensor(std::vector<uint8_t>{200, 3}), tensor(std::vector<uint8_t>{200, 3}))),
            (std::vector<uint8_t>{0, 27}));
  const std::vector<float> f =
      values<float>(pow(floats({-2, -2, 0, 4}), floats({3, 0.5, -1, 0.5})));
  EXPECT_EQ(f[0], -8);
  EXPECT_TRUE(std::isnan(f[1]));
  EXPECT_EQ(f[2], INFINITY);
  EXPECT_EQ(f[3], 2);
  EXPECT_EQ(pow(floats({2}), longs({3})).dtype(), DType::f32);
  EXPECT_EQ(longs({2}).pow(scalar_tensor(3.0)).dtype(), DType::f32);
  expect_error([] { pow(tensor(std::vector<bool>{true}), tensor(std::vector<bool>{true})); },
               {"pow", "bool"});
}

TEST(Binary, MaximumAndMinimumPropagateNan) {
  const Tensor a = floats({kNaN, 1, 2}), b = floats({1, kNaN, 3});
  for (const Tensor& r : {maximum(a, b), minimum(a, b)}) {
    const std::vector<float> v = values<float>(r);
    EXPECT_TRUE(std::isnan(v[0]) && std::isnan(v[1]));
  }
  EXPECT_EQ(values<float>(maximum(a, b))[2], 3);
  EXPECT_EQ(values<float>(minimum(a, b))[2], 2);
  const Tensor bools = tensor(std::vector<bool>{true, false});
  EXPECT_EQ(values<bool>(maximum(bools, tensor(std::vector<bool>{false, false}))),
            (std::vector<bool>{true, false}));
}

TEST(Binary, LogicalOpsTreatNonzeroAsTrue) {
  const Tensor a = floats({0, 0.5, -2, 0}), b = longs({0, 0, 3, 7});
  EXPECT_EQ(values<bool>(logical_and(a, b)), (std::vector<bool>{false, false, true, false}));
  EXPECT_EQ(values<bool>(logical_or(a, b)), (std::vector<bool>{false, true, true, true}));
  EXPECT_EQ(values<bool>(logical_xor(a, b)), (std::vector<bool>{false, true, false, true}));
}

TEST(Binary, WhereSelectsAndPromotes) {
  const Tensor c = tensor(std::vector<bool>{true, false});
  const Tensor i = longs({3, -3});
  EXPECT_EQ(values<int64_t>(where(c, i, longs({7, 8}))), (std::vector<int64_t>{3, 8}));
  EXPECT_EQ(where(c, 1, 0).dtype(), DType::i64);
  EXPECT_EQ(where(c, 1.0, 0).dtype(), DType::f32);
  EXPECT_EQ(values<float>(where(c, i, 1.5)), (std::vector<float>{3, 1.5}));
  EXPECT_EQ(where(c, floats({1, 2}).to(DType::f16), 2.0).dtype(), DType::f16);
  EXPECT_EQ(where(scalar_tensor(true), i, scalar_tensor(1.5, DType::f64)).dtype(), DType::f64);
  // The condition broadcasts with the values.
  const Tensor r = where(c.unsqueeze(1), longs({1, 2, 3}), 0);
  EXPECT_EQ(r.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<int64_t>(r), (std::vector<int64_t>{1, 2, 3, 0, 0, 0}));
  expect_error([&] { where(i, i, i); }, {"where", "bool condition", "[2] (i64, cpu)"});
}

TEST(Binary, LerpAddcmulAddcdiv) {
  const Tensor s = floats({1, 2}), e = floats({3, 5});
  EXPECT_EQ(values<float>(lerp(s, e, floats({0.25, 1}))), (std::vector<float>{1.5, 5}));
  EXPECT_EQ(values<float>(lerp(s, e, 2)), (std::vector<float>{5, 8}));
  const Tensor grid = lerp(s, e, floats({0.5, 0.25}).unsqueeze(1));
  EXPECT_EQ(values<float>(grid), (std::vector<float>{2, 3.5, 1.5, 2.75}));
  expect_error([&] { lerp(s, e.to(DType::f64), 0.5); }, {"lerp", "end [2] (f64, cpu)", "f32"});
  expect_error([&] { lerp(s, e, scalar_tensor(0.5, DType::f64)); }, {"lerp", "weight"});
  expect_error([&] { lerp(longs({1}), longs({2}), 0.5); }, {"lerp", "floating", "i64"});
  EXPECT_EQ(values<float>(addcmul(s, s, e, 2)), (std::vector<float>{7, 22}));
  EXPECT_EQ(values<float>(addcdiv(s, e, s, 0.5)), (std::vector<float>{2.5, 3.25}));
  expect_error(
      [&] {
        addcdiv(s, longs({1, 2}), longs({1, 2}));
      },
      {"addcdiv", "integer division", "[2] (i64, cpu)"});
  expect_error(
      [&] {
        addcmul(tensor(std::vector<bool>{true}), tensor(std::vector<bool>{true}),
                tensor(std::vector<bool>{true}));
      },
      {"addcmul", "bool"});
}

TEST(Binary, SubAndAlphaRejectBoolsLikePyTorch) {
  const Tensor b = tensor(std::vector<bool>{true, false}), f = floats({1, 2}), i = longs({1, 2});
  expect_error([&] { sub(b, b); }, {"sub", "two bools", "logical_xor"});
  expect_error([&] { sub(f, b); }, {"sub", "[2] (bool, cpu)", "logical_not"});
  expect_error([&] { b - 1; }, {"sub", "bool"});
  expect_error([&] { 1 - b; }, {"sub", "bool"});
  expect_error([&] { Tensor(f).sub_(b); }, {"sub_", "bool"});
  expect_error([&] { add(i, i, 1.5); }, {"add", "alpha must not be a floating point", "i64"});
  expect_error([&] { add(f, f, true); }, {"add", "bool alpha", "f32"});
  EXPECT_EQ(values<bool>(add(b, b, 2)), (std::vector<bool>{true, false}));
  EXPECT_EQ(values<float>(add(f, i, 2)), (std::vector<float>{3, 6}));
  EXPECT_EQ(values<int64_t>(sub(i, i, 2)), (std::vector<int64_t>{-1, -2}));
  EXPECT_EQ(values<int64_t>(sub(5, i)), (std::vector<int64_t>{4, 3}));
}

TEST(Binary, BroadcastingAndShapeErrors) {
  const Tensor a = arange(6, DType::f32).reshape({2, 3});
  EXPECT_EQ(values<float>(a + floats({10, 20, 30})), (std::vector<float>{10, 21, 32, 13, 24, 35}));
  EXPECT_EQ((a + floats({1}).reshape({1, 1, 1})).shape(), (Shape{1, 2, 3}));
  EXPECT_EQ((a * zeros({0, 1, 3})).shape(), (Shape{0, 2, 3}));
  EXPECT_EQ((scalar_tensor(2.0) * scalar_tensor(3.0)).item<float>(), 6.0f);
  expect_error([&] { a + zeros({4}); }, {"add", "[2,3]", "[4]"});
  expect_error(
      [&] {
        where(tensor(std::vector<bool>{true, false}), a, 0);
      },
      {"where", "[2]", "[2,3]"});
  Tensor undefined;
  expect_error([&] { a* undefined; }, {"mul", "undefined"});
}

TEST(Binary, InPlaceWritesThroughViewsAndBumpsTheVersion) {
  Tensor a = arange(6, DType::f32).reshape({2, 3});
  const uint64_t v0 = a.version();
  Tensor col = a.select(1, 1);
  col.add_(floats({10, 20}));
  EXPECT_EQ(a.version(), v0 + 1);
  EXPECT_EQ(values<float>(a), (std::vector<float>{0, 11, 2, 3, 24, 5}));
  Tensor t = a.t();
  t.mul_(2);  // non-contiguous self
  EXPECT_EQ(values<float>(a), (std::vector<float>{0, 22, 4, 6, 48, 10}));
  EXPECT_EQ(a.version(), v0 + 2);
  a += 1;
  a -= floats({1, 1, 1});
  a *= floats({1, 2, 1});
  a /= 2;
  EXPECT_EQ(values<float>(a), (std::vector<float>{0, 22, 2, 3, 48, 5}));
  EXPECT_EQ(a.version(), v0 + 6);
  // The result is computed in the promoted dtype, then stored in self's.
  Tensor h = floats({1, 2}).to(DType::f16);
  h.add_(floats({0.5, -2.5}));
  EXPECT_EQ(h.dtype(), DType::f16);
  EXPECT_EQ(values<float>(h), (std::vector<float>{1.5, -0.5}));
  Tensor u = tensor(std::vector<uint8_t>{200, 3});
  u.add_(longs({3, -3}));
  EXPECT_EQ(values<uint8_t>(u), (std::vector<uint8_t>{203, 0}));
  // An input overlapping self is read before self is written.
  Tensor x = arange(5, DType::f32);
  x.slice(0, 1).add_(x.slice(0, 0, 4));
  EXPECT_EQ(values<float>(x), (std::vector<float>{0, 1, 3, 5, 7}));
  Tensor y = arange(4, DType::f32).reshape({2, 2});
  y.add_(y.t());
  EXPECT_EQ(values<float>(y), (std::vector<float>{0, 3, 3, 6}));
  Tensor self_alias = floats({2, 3});
  self_alias.mul_(self_alias);
  EXPECT_EQ(values<float>(self_alias), (std::vector<float>{4, 9}));
  Tensor p = floats({2, 3});
  p.pow_(floats({2}));
  p.lerp_(floats({0, 0}), 0.5);
  p.addcmul_(floats({1, 1}), floats({2, 2}), 0.5);
  p.addcdiv_(floats({3, 3}), floats({3, 3}));
  EXPECT_EQ(values<float>(p), (std::vector<float>{4, 6.5}));
}

TEST(Binary, InPlaceErrors) {
  Tensor i = longs({1, 2});
  expect_error([&] { i.add_(1.5); }, {"add_", "result type f32 can't be cast", "i64"});
  expect_error([&] { i.div_(2); }, {"div_", "result type f32", "[2] (i64, cpu)"});
  expect_error([&] { i.addcmul_(floats({1, 2}), floats({1, 2})); }, {"addcmul_", "f32", "i64"});
  expect_error([&] { i.pow_(floats({1, 2})); }, {"pow_", "f32", "i64"});
  Tensor b = tensor(std::vector<bool>{true});
  expect_error([&] { b.add_(1); }, {"add_", "result type i64", "bool"});
  Tensor f = zeros({3});
  expect_error([&] { f.add_(ones({2, 3})); }, {"add_", "[3] (f32, cpu)", "broadcast shape [2,3]"});
  Tensor expanded = zeros({1}).expand({3});
  expect_error([&] { expanded.add_(1); }, {"add_", "more than one element", "[3] (f32, cpu)"});
  expect_error([&] { f.lerp_(zeros({3}, DType::f64), 0.5); }, {"lerp_", "f64"});
  const uint64_t v = i.version();
  expect_error([&] { i.mul_(1.5); }, {"mul_"});
  EXPECT_EQ(i.version(), v);
  EXPECT_EQ(values<int64_t>(i.div_(2, RoundingMode::floor)), (std::vector<int64_t>{0, 1}));
}

TEST(Binary, MethodsAndOperators) {
  const Tensor a = floats({6, 8}), b = floats({2, 4});
  EXPECT_EQ(values<float>(a.add(b, 2)), (std::vector<float>{10, 16}));
  EXPECT_EQ(values<float>(a.sub(b)), (std::vector<float>{4, 4}));
  EXPECT_EQ(values<float>(a.mul(b)), (std::vector<float>{12, 32}));
  EXPECT_EQ(values<float>(a.div(b)), (std::vector<float>{3, 2}));
  EXPECT_EQ(values<float>(b.pow(floats({3, 0.5}))), (std::vector<float>{8, 2}));
  EXPECT_EQ(values<bool>(a.eq(floats({6, 0}))), (std::vector<bool>{true, false}));
  EXPECT_EQ(values<bool>(a.gt(b)), (std::vector<bool>{true, true}));
  EXPECT_EQ(values<bool>(a.lt(b)), (std::vector<bool>{false, false}));
  EXPECT_EQ(values<float>(a - b), (std::vector<float>{4, 4}));
  EXPECT_EQ(values<float>(a * b), (std::vector<float>{12, 32}));
  EXPECT_EQ(values<float>(a / b), (std::vector<float>{3, 2}));
  EXPECT_EQ(values<float>(1 + a), (std::vector<float>{7, 9}));
  EXPECT_EQ(values<float>(10 - a), (std::vector<float>{4, 2}));
  EXPECT_EQ(values<float>(a - 1), (std::vector<float>{5, 7}));
  EXPECT_EQ(values<float>(2 * a), (std::vector<float>{12, 16}));
  EXPECT_EQ(values<float>(24 / a), (std::vector<float>{4, 3}));
  EXPECT_EQ(values<float>(2 / longs({4})), (std::vector<float>{0.5}));
}

TEST(Binary, DevicesMustMatch) {
  if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: " << cuda_unavailable_reason();
  const Tensor c = floats({1, 2}), g = c.cuda();
  expect_error([&] { c + g; }, {"add", "same device", "cpu", "cuda:0"});
  EXPECT_EQ((g + scalar_tensor(1.0)).device(), Device::cuda(0));  // 0-d CPU tensors join
}

}  // namespace
}  // namespace anvil
