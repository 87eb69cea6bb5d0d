// Derivatives of the unary ops: gradcheck of every op and its in-place form (on a non-leaf), and
// the cases a finite difference cannot show (kinks, NaN, saved outputs, errors).
#include <cmath>
#include <limits>

#include "common/op_test.h"
#include "grad_test.h"

namespace anvil::testing {
namespace {

using UnaryFn = std::function<Tensor(const Tensor&)>;
using InplaceFn = std::function<void(Tensor&)>;

struct UnaryOp {
  std::string name;
  UnaryFn f;
  InplaceFn f_;  // null: no in-place form
  double lo = -2, hi = 2;
};

// Each op on a {3, 4} input (the harness adds transposed and strided layouts) and on a 0-d
// input, and its in-place form on a non-leaf.
std::vector<GradCase> unary_cases(const std::vector<UnaryOp>& ops) {
  std::vector<GradCase> table;
  for (const UnaryOp& op : ops) {
    const UnaryFn f = op.f;
    const autograd::GradcheckFn out_of_place = [f](const std::vector<Tensor>& in) {
      return std::vector<Tensor>{f(in[0])};
    };
    table.push_back({op.name, out_of_place, {{3, 4}}, op.lo, op.hi});
    table.push_back({op.name + "_0d", out_of_place, {{}}, op.lo, op.hi});
    if (op.f_) {
      const InplaceFn f_ = op.f_;
      table.push_back({op.name + "_inplace",
                       [f_](const std::vector<Tensor>& in) {
                         Tensor y = in[0] * 1.0;
                         f_(y);
                         return std::vector<Tensor>{y};
                       },
                       {{3, 4}},
                       op.lo,
                       op.hi});
    }
  }
  return table;
}

const std::vector<GradCase>& unary_table() {
  constexpr std::optional<Scalar> none = std::nullopt;
  static const std::vector<GradCase> table = unary_cases({
      {"neg", [](const Tensor& x) { return neg(x); }, [](Tensor& x) { neg_(x); }},
      {"neg_operator", [](const Tensor& x) { return -x; }, [](Tensor& x) { x.neg_(); }},
      {"abs", [](const Tensor& x) { return abs(x); }, [](Tensor& x) { x.abs_(); }},
      {"sign", [](const Tensor& x) { return sign(x); }, [](Tensor& x) { sign_(x); }},
      {"exp", [](const Tensor& x) { return x.exp(); }, [](Tensor& x) { x.exp_(); }},
      {"expm1", [](const Tensor& x) { return expm1(x); }, [](Tensor& x) { expm1_(x); }},
      {"log", [](const Tensor& x) { return x.log(); }, [](Tensor& x) { x.log_(); }, 0.5, 2},
      {"log1p", [](const Tensor& x) { return log1p(x); }, [](Tensor& x) { log1p_(x); }, -0.5, 2},
      {"log2", [](const Tensor& x) { return log2(x); }, [](Tensor& x) { log2_(x); }, 0.5, 2},
      {"sqrt", [](const Tensor& x) { return x.sqrt(); }, [](Tensor& x) { x.sqrt_(); }, 0.5, 2},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, [](Tensor& x) { rsqrt_(x); }, 0.5, 2},
      {"reciprocal", [](const Tensor& x) { return reciprocal(x); },
       [](Tensor& x) { reciprocal_(x); }, 0.5, 2},
      {"square", [](const Tensor& x) { return x.square(); }, [](Tensor& x) { square_(x); }},
      {"sin", [](const Tensor& x) { return sin(x); }, [](Tensor& x) { sin_(x); }},
      {"cos", [](const Tensor& x) { return cos(x); }, [](Tensor& x) { cos_(x); }},
      {"tanh", [](const Tensor& x) { return x.tanh(); }, [](Tensor& x) { x.tanh_(); }},
      {"sigmoid", [](const Tensor& x) { return x.sigmoid(); }, [](Tensor& x) { x.sigmoid_(); }},
      {"relu", [](const Tensor& x) { return x.relu(); }, [](Tensor& x) { x.relu_(); }},
      {"relu6", [](const Tensor& x) { return relu6(x); }, [](Tensor& x) { relu6_(x); }, -2, 8},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x); },
       [](Tensor& x) { leaky_relu_(x); }},
      {"leaky_relu_negative_slope", [](const Tensor& x) { return leaky_relu(x, -0.3); },
       [](Tensor& x) { leaky_relu_(x, -0.3); }},
      {"elu", [](const Tensor& x) { return elu(x); }, [](Tensor& x) { elu_(x); }},
      {"elu_scaled", [](const Tensor& x) { return elu(x, 0.7, 1.3, 0.8); },
       [](Tensor& x) { elu_(x, 0.7, 1.3, 0.8); }},
      {"gelu", [](const Tensor& x) { return gelu(x); }, [](Tensor& x) { gelu_(x); }, -3, 3},
      {"gelu_tanh", [](const Tensor& x) { return gelu(x, GeluApprox::tanh); },
       [](Tensor& x) { gelu_(x, GeluApprox::tanh); }, -3, 3},
      {"silu", [](const Tensor& x) { return silu(x); }, [](Tensor& x) { silu_(x); }, -3, 3},
      {"softplus", [](const Tensor& x) { return softplus(x); }, nullptr, -3, 3},
      // beta x crosses the threshold: linear above it.
      {"softplus_threshold", [](const Tensor& x) { return softplus(x, 2, 3); }, nullptr, -1, 3},
      {"hardswish", [](const Tensor& x) { return hardswish(x); }, [](Tensor& x) { hardswish_(x); },
       -4, 4},
      {"erf", [](const Tensor& x) { return erf(x); }, [](Tensor& x) { erf_(x); }},
      {"floor", [](const Tensor& x) { return floor(x); }, [](Tensor& x) { floor_(x); }},
      {"ceil", [](const Tensor& x) { return ceil(x); }, [](Tensor& x) { ceil_(x); }},
      {"round", [](const Tensor& x) { return round(x); }, [](Tensor& x) { round_(x); }},
      {"round_decimals", [](const Tensor& x) { return round(x, 1); },
       [](Tensor& x) { round_(x, 1); }},
      {"clamp", [](const Tensor& x) { return x.clamp(-1, 1); }, [](Tensor& x) { x.clamp_(-1, 1); }},
      {"clamp_min", [](const Tensor& x) { return clamp(x, 0.5); },
       [](Tensor& x) { clamp_(x, 0.5); }},
      {"clamp_max", [none](const Tensor& x) { return clamp(x, none, 0.3); },
       [none](Tensor& x) { clamp_(x, none, 0.3); }},
      {"pow_scalar", [](const Tensor& x) { return x.pow(2.5); }, [](Tensor& x) { x.pow_(2.5); },
       0.5, 2},
      {"pow_int_scalar", [](const Tensor& x) { return pow(x, 3); }, [](Tensor& x) { pow_(x, 3); }},
      {"pow_negative_scalar", [](const Tensor& x) { return pow(x, -1.5); },
       [](Tensor& x) { pow_(x, -1.5); }, 0.5, 2},
      {"pow_zero", [](const Tensor& x) { return pow(x, 0); }, [](Tensor& x) { pow_(x, 0); }},
      {"pow_scalar_base", [](const Tensor& x) { return pow(2.0, x); }, nullptr},
      {"pow_scalar_base_below_1", [](const Tensor& x) { return pow(0.7, x); }, nullptr},
      {"nan_to_num", [](const Tensor& x) { return nan_to_num(x); },
       [](Tensor& x) { nan_to_num_(x); }},
  });
  return table;
}

INSTANTIATE_TEST_SUITE_P(Unary, GradTest, ::testing::ValuesIn(grad_cases(unary_table())),
                         grad_case_name);

// ---- what gradcheck cannot show ---------------------------------------------------------------

Tensor leaf(const std::vector<double>& values) {
  return tensor<double>(values, {static_cast<int64_t>(values.size())}).requires_grad_();
}

// d sum(f(x)) / dx.
std::vector<double> grad_of(const std::function<Tensor(const Tensor&)>& f,
                            const std::vector<double>& values) {
  Tensor x = leaf(values);
  Tensor y = f(x);
  y.backward(ones_like(y));
  return x.grad().to_vector<double>();
}

using V = std::vector<double>;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(GradUnary, KinksFollowPyTorch) {
  EXPECT_EQ(grad_of([](const Tensor& x) { return abs(x); }, {-1, 0, 2}), (V{-1, 0, 1}));
  EXPECT_EQ(grad_of([](const Tensor& x) { return relu(x); }, {-1, 0, 2}), (V{0, 0, 1}));
  EXPECT_EQ(grad_of([](const Tensor& x) { return relu6(x); }, {-1, 0, 3, 6, 7}),
            (V{0, 0, 1, 0, 0}));
  EXPECT_EQ(grad_of([](const Tensor& x) { return leaky_relu(x, 0.5); }, {-1, 0, 2}),
            (V{0.5, 0.5, 1}));
  EXPECT_EQ(grad_of([](const Tensor& x) { return elu(x, 0.5); }, {0, 2}), (V{0.5, 1}));
  EXPECT_EQ(grad_of([](const Tensor& x) { return hardswish(x); }, {-4, -3, 0, 3, 4}),
            (V{0, -0.5, 0.5, 1.5, 1}));
  // clamp passes the gradient where min <= x <= max, bounds included.
  EXPECT_EQ(grad_of([](const Tensor& x) { return clamp(x, -1, 1); }, {-2, -1, 0, 1, 2}),
            (V{0, 1, 1, 1, 0}));
  EXPECT_EQ(grad_of([](const Tensor& x) { return clamp(x, 1, 0); }, {-1, 0.5, 2}), (V{0, 0, 0}));
  // softplus: linear above the threshold (beta x > threshold), sigmoid(beta x) at and below it.
  const V sp = grad_of([](const Tensor& x) { return softplus(x, 2, 3); }, {1.5, 2});
  EXPECT_NEAR(sp[0], 1 / (1 + std::exp(-3.0)), 1e-12);
  EXPECT_EQ(sp[1], 1);
}

TEST(GradUnary, ZeroGradientOpsStillRecord) {
  // As in PyTorch: the result requires grad, the gradient is zero.
  for (const auto& f : std::vector<UnaryFn>{
           [](const Tensor& x) { return sign(x); }, [](const Tensor& x) { return floor(x); },
           [](const Tensor& x) { return ceil(x); }, [](const Tensor& x) { return round(x); },
           [](const Tensor& x) { return pow(x, 0); }}) {
    Tensor x = leaf({-1.5, 0.3, 2});
    Tensor y = f(x);
    EXPECT_TRUE(y.requires_grad());
    y.backward(ones_like(y));
    EXPECT_EQ(x.grad().to_vector<double>(), (V{0, 0, 0}));
  }
}

TEST(GradUnary, PowMasksZeroBase) {
  // d 0^x / dx: 0 where x >= 0, -inf where x < 0 (PyTorch's pow_backward_exponent).
  const V g = grad_of([](const Tensor& x) { return pow(0.0, x); }, {2, 0, -1});
  EXPECT_EQ(g, (V{0, 0, -kInf}));
  // d x^0 / dx = 0, even at x = 0.
  EXPECT_EQ(grad_of([](const Tensor& x) { return pow(x, 0.0); }, {0, 1}), (V{0, 0}));
  const V p = grad_of([](const Tensor& x) { return pow(x, 2.0); }, {0, 3});
  EXPECT_EQ(p, (V{0, 6}));
}

TEST(GradUnary, NanToNumPassesGradientWhereFinite) {
  const V values{kNaN, kInf, -kInf, 1.5};
  EXPECT_EQ(grad_of([](const Tensor& x) { return nan_to_num(x); }, values), (V{0, 0, 0, 1}));
  EXPECT_EQ(grad_of(
                [](const Tensor& x) {
                  Tensor y = x * 1.0;
                  nan_to_num_(y, 1.0, 2.0, -2.0);
                  return y;
                },
                values),
            (V{0, 0, 0, 1}));
}

TEST(GradUnary, InPlaceFormsSaveWhatTheyNeed) {
  // The in-place forms that use their output keep self after the write, and the others a copy of
  // the input: either way the gradient is the out-of-place one.
  for (const auto& [f, f_] : std::vector<std::pair<UnaryFn, InplaceFn>>{
           {[](const Tensor& x) { return exp(x); }, [](Tensor& x) { exp_(x); }},
           {[](const Tensor& x) { return sin(x); }, [](Tensor& x) { sin_(x); }},
           {[](const Tensor& x) { return clamp(x, -0.5, 0.5); },
            [](Tensor& x) { clamp_(x, -0.5, 0.5); }},
           {[](const Tensor& x) { return leaky_relu(x, 0.2); },
            [](Tensor& x) { leaky_relu_(x, 0.2); }}}) {
    const V values{-1, -0.2, 0.4, 1};
    const V expected = grad_of(f, values);
    const V actual = grad_of(
        [&](const Tensor& x) {
          Tensor y = x * 1.0;
          f_(y);
          return y;
        },
        values);
    EXPECT_EQ(actual, expected);
  }
}

TEST(GradUnary, ModifyingASavedOutputIsAnError) {
  Tensor x = leaf({1, 2});
  Tensor y = exp(x);  // saves y
  Tensor z = y * 1.0;
  y.add_(1);
  expect_error([&] { z.backward(ones_like(z)); },
               {"modified by an inplace operation", "ExpBackward"});

  // tanh_ saves self after the write: writing it again breaks the graph.
  Tensor a = x * 1.0;
  a.tanh_();
  a.mul_(3);
  Tensor c = a * 1.0;
  expect_error([&] { c.backward(ones_like(c)); }, {"modified by an inplace operation"});
}

TEST(GradUnary, ModifyingASavedInputIsAnError) {
  Tensor x = leaf({1, 2});
  Tensor h = x * 1.0;
  Tensor y = sin(h);  // saves h
  h.mul_(2);
  expect_error([&] { y.backward(ones_like(y)); },
               {"modified by an inplace operation", "SinBackward"});
}

TEST(GradUnary, InPlaceOnALeafThatRequiresGradIsAnError) {
  Tensor x = leaf({1, 2});
  expect_error([&] { x.exp_(); }, {"exp_", "leaf tensor that requires grad"});
  expect_error([&] { clamp_(x, 0); }, {"clamp_", "leaf tensor that requires grad"});
  // Without recording (as optimizers do) it is allowed.
  NoGradGuard no_grad;
  x.relu_();
  EXPECT_EQ(x.to_vector<double>(), (V{1, 2}));
}

TEST(GradUnary, IntegerTensorsNeverRequireGrad) {
  Tensor i = tensor<int64_t>({-1, 2});
  EXPECT_FALSE(abs(i).requires_grad());
  EXPECT_FALSE(sign(i).requires_grad());
  // An integer input of a float function gives a float result that needs no gradient either.
  Tensor e = exp(i);
  EXPECT_EQ(e.dtype(), DType::f32);
  EXPECT_FALSE(e.requires_grad());
}

TEST(GradUnary, GradientsKeepTheInputDtype) {
  Tensor x = tensor<float>({0.5f, 1.0f}).requires_grad_();
  Tensor y = x.sqrt();
  y.backward(ones_like(y));
  EXPECT_EQ(x.grad().dtype(), DType::f32);
  EXPECT_NEAR(x.grad().to_vector<double>()[0], 1 / (2 * std::sqrt(0.5)), 1e-6);
}

TEST(GradUnary, MethodsAndOperatorsRecord) {
  Tensor x = leaf({0.5, 1});
  EXPECT_EQ((-x).grad_fn_name(), "NegBackward");
  EXPECT_EQ(x.exp().grad_fn_name(), "ExpBackward");
  EXPECT_EQ(x.sigmoid().grad_fn_name(), "SigmoidBackward");
  EXPECT_EQ(x.clamp(0, 1).grad_fn_name(), "ClampBackward");
  EXPECT_EQ(x.pow(2).grad_fn_name(), "PowBackward");
  Tensor y = x * 1.0;
  y.relu_();
  EXPECT_EQ(y.grad_fn_name(), "ReluBackward");
  NoGradGuard no_grad;
  EXPECT_FALSE(x.exp().requires_grad());
}

}  // namespace
}  // namespace anvil::testing
