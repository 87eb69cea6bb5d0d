// Derivatives of the binary and ternary ops: gradcheck of every op, overload and in-place form
// (on a non-leaf), broadcast and 0-d operands; then ties, zero gradients, dtypes and errors.
#include <cmath>
#include <limits>

#include "autograd/node.h"
#include "common/op_test.h"
#include "grad_test.h"

namespace anvil::testing {
namespace {

using BinaryFn = std::function<Tensor(const Tensor&, const Tensor&)>;
using BinaryInplaceFn = std::function<void(Tensor&, const Tensor&)>;
using Shapes = std::vector<Shape>;

// Operand shapes: same shape, broadcast both ways, a 0-d operand on either side.
const std::vector<std::pair<std::string, Shapes>> kPairs = {
    {"", {{3, 4}, {3, 4}}},
    {"_bcast", {{3, 1}, {4}}},
    {"_0d_second", {{2, 3}, {}}},
    {"_0d_first", {{}, {2, 3}}},
};
// In place, self keeps its shape: the other operand broadcasts to it.
const std::vector<std::pair<std::string, Shapes>> kInplacePairs = {
    {"_inplace", {{3, 4}, {3, 4}}},
    {"_inplace_bcast", {{3, 4}, {4}}},
    {"_inplace_0d", {{2, 3}, {}}},
};

void add_binary(std::vector<GradCase>& table, const std::string& name, const BinaryFn& f,
                double lo = -2, double hi = 2) {
  for (const auto& [suffix, shapes] : kPairs) {
    table.push_back(
        {name + suffix,
         [f](const std::vector<Tensor>& in) { return std::vector<Tensor>{f(in[0], in[1])}; },
         shapes, lo, hi});
  }
}

void add_binary_(std::vector<GradCase>& table, const std::string& name, const BinaryInplaceFn& f_,
                 double lo = -2, double hi = 2) {
  for (const auto& [suffix, shapes] : kInplacePairs) {
    table.push_back({name + suffix,
                     [f_](const std::vector<Tensor>& in) {
                       Tensor y = in[0] * 1.0;
                       f_(y, in[1]);
                       return std::vector<Tensor>{y};
                     },
                     shapes, lo, hi});
  }
}

GradCase unary_case(const std::string& name, std::function<Tensor(const Tensor&)> f, double lo = -2,
                    double hi = 2, Shape shape = {3, 4}) {
  return {name,
          [f](const std::vector<Tensor>& in) { return std::vector<Tensor>{f(in[0])}; },
          {std::move(shape)},
          lo,
          hi};
}

GradCase ternary_case(const std::string& name,
                      std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)> f,
                      Shapes shapes, double lo = -2, double hi = 2,
                      std::vector<bool> requires_grad = {}) {
  return {
      name,
      [f](const std::vector<Tensor>& in) { return std::vector<Tensor>{f(in[0], in[1], in[2])}; },
      std::move(shapes),
      lo,
      hi,
      std::move(requires_grad)};
}

// A fixed condition for where (a coin flip per element).
Tensor condition(const Shape& shape) {
  return random_tensor(shape, DType::boolean, 0, 1, 77);
}

const std::vector<GradCase>& binary_table() {
  static const std::vector<GradCase> table = [] {
    std::vector<GradCase> t;
    // add, sub: alpha, Scalar operands on either side, operators.
    add_binary(t, "add", [](const Tensor& a, const Tensor& b) { return a + b; });
    add_binary(t, "add_alpha", [](const Tensor& a, const Tensor& b) { return add(a, b, 2.5); });
    add_binary(t, "sub", [](const Tensor& a, const Tensor& b) { return a - b; });
    add_binary(t, "sub_alpha", [](const Tensor& a, const Tensor& b) { return a.sub(b, -3); });
    t.push_back(unary_case("add_scalar", [](const Tensor& x) { return add(x, 1.5, 2); }));
    t.push_back(unary_case("add_scalar_first", [](const Tensor& x) { return add(1.5, x, -0.5); }));
    t.push_back(unary_case("sub_scalar", [](const Tensor& x) { return x - 1.5; }));
    t.push_back(unary_case("sub_scalar_first", [](const Tensor& x) { return sub(1.5, x, 2); }));
    add_binary_(t, "add", [](Tensor& y, const Tensor& b) { y += b; });
    add_binary_(t, "add_alpha", [](Tensor& y, const Tensor& b) { y.add_(b, 0.5); });
    add_binary_(t, "sub_alpha", [](Tensor& y, const Tensor& b) { sub_(y, b, 2); });
    t.push_back(unary_case("add_scalar_inplace", [](const Tensor& x) {
      Tensor y = x * 1.0;
      y.add_(2, 3);
      return y;
    }));
    t.push_back(unary_case("sub_scalar_inplace", [](const Tensor& x) {
      Tensor y = x * 1.0;
      y -= 2;
      return y;
    }));

    // mul, div.
    add_binary(t, "mul", [](const Tensor& a, const Tensor& b) { return a * b; });
    t.push_back(unary_case("mul_scalar", [](const Tensor& x) { return x * 2.5; }));
    t.push_back(unary_case("mul_scalar_first", [](const Tensor& x) { return mul(-3, x); }));
    add_binary_(t, "mul", [](Tensor& y, const Tensor& b) { y *= b; });
    t.push_back(unary_case("mul_scalar_inplace", [](const Tensor& x) {
      Tensor y = x * 1.0;
      y.mul_(-1.5);
      return y;
    }));
    t.push_back(unary_case("mul_self", [](const Tensor& x) { return x * x; }));
    add_binary(
        t, "div", [](const Tensor& a, const Tensor& b) { return a / b; }, 0.5, 2);
    t.push_back(unary_case("div_scalar", [](const Tensor& x) { return x / 0.7; }));
    t.push_back(unary_case(
        "div_scalar_first", [](const Tensor& x) { return div(2, x); }, 0.5, 2));
    add_binary_(
        t, "div", [](Tensor& y, const Tensor& b) { y /= b; }, 0.5, 2);
    t.push_back(unary_case("div_scalar_inplace", [](const Tensor& x) {
      Tensor y = x * 1.0;
      y.div_(4);
      return y;
    }));
    // Rounded division: zero gradients.
    add_binary(
        t, "div_floor",
        [](const Tensor& a, const Tensor& b) { return div(a, b, RoundingMode::floor); }, 0.5, 2);
    add_binary(
        t, "div_trunc",
        [](const Tensor& a, const Tensor& b) { return a.div(b, RoundingMode::trunc); }, 0.5, 2);
    add_binary_(
        t, "div_floor", [](Tensor& y, const Tensor& b) { y.div_(b, RoundingMode::floor); }, 0.5, 2);
    t.push_back(unary_case("div_trunc_scalar_inplace", [](const Tensor& x) {
      Tensor y = x * 1.0;
      y.div_(0.3, RoundingMode::trunc);
      return y;
    }));
    add_binary(
        t, "floor_divide", [](const Tensor& a, const Tensor& b) { return floor_divide(a, b); }, 0.5,
        2);
    t.push_back(
        unary_case("floor_divide_scalar", [](const Tensor& x) { return floor_divide(x, 0.3); }));
    t.push_back(unary_case(
        "floor_divide_scalar_first", [](const Tensor& x) { return floor_divide(3, x); }, 0.5, 2));

    // remainder: grad_a = g, grad_b = -g floor(a / b).
    add_binary(
        t, "remainder", [](const Tensor& a, const Tensor& b) { return remainder(a, b); }, 0.5, 3);
    t.push_back(unary_case("remainder_scalar", [](const Tensor& x) { return remainder(x, 0.7); }));
    t.push_back(unary_case(
        "remainder_scalar_first", [](const Tensor& x) { return remainder(2.5, x); }, 0.5, 2));

    // pow (positive bases: the exponent's gradient takes log(base)).
    add_binary(
        t, "pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, 0.5, 2);
    add_binary_(
        t, "pow", [](Tensor& y, const Tensor& b) { y.pow_(b); }, 0.5, 2);
    add_binary(
        t, "pow_method", [](const Tensor& a, const Tensor& b) { return a.pow(b); }, 0.5, 2);

    add_binary(t, "maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); });
    add_binary(t, "minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); });
    add_binary(t, "atan2", [](const Tensor& a, const Tensor& b) { return atan2(a, b); });

    // where: the condition broadcasts too.
    add_binary(t, "where", [](const Tensor& a, const Tensor& b) {
      return where(condition(broadcast_shapes(a.shape(), b.shape(), "where")), a, b);
    });
    t.push_back(ternary_case("where_bcast_cond",
                             [](const Tensor& a, const Tensor& b, const Tensor&) {
                               return where(condition({3, 1}), a, b);
                             },
                             {{4}, {}, {1}}, -2, 2, {true, true, false}));
    t.push_back(unary_case("where_scalar_first", [](const Tensor& x) {
      return where(condition({3, 4}), 1.5, x);
    }));
    t.push_back(unary_case("where_scalar_second",
                           [](const Tensor& x) { return where(condition({4}), x, -2); }));

    // lerp: Scalar and tensor weights.
    t.push_back(ternary_case(
        "lerp_scalar",
        [](const Tensor& a, const Tensor& b, const Tensor&) { return lerp(a, b, 0.3); },
        {{3, 4}, {4}, {1}}, -2, 2, {true, true, false}));
    t.push_back(ternary_case(
        "lerp_scalar_bcast_start",
        [](const Tensor& a, const Tensor& b, const Tensor&) { return lerp(a, b, 0.7); },
        {{3, 1}, {4}, {1}}, -2, 2, {true, true, false}));
    t.push_back(ternary_case(
        "lerp_tensor",
        [](const Tensor& a, const Tensor& b, const Tensor& w) { return lerp(a, b, w); },
        {{3, 4}, {3, 4}, {3, 4}}));
    t.push_back(ternary_case(
        "lerp_tensor_bcast",
        [](const Tensor& a, const Tensor& b, const Tensor& w) { return lerp(a, b, w); },
        {{3, 1}, {4}, {}}));
    t.push_back(ternary_case(
        "lerp_tensor_weight_only",
        [](const Tensor& a, const Tensor& b, const Tensor& w) { return lerp(a, b, w); },
        {{3, 4}, {3, 4}, {3, 1}}, -2, 2, {false, false, true}));
    add_binary_(t, "lerp", [](Tensor& y, const Tensor& b) { y.lerp_(b, 0.25); });

    // addcmul, addcdiv: broadcast operands, value, in place.
    for (const auto& [suffix, shapes] :
         std::vector<std::pair<std::string, Shapes>>{{"", {{3, 4}, {3, 4}, {3, 4}}},
                                                     {"_bcast", {{3, 4}, {3, 1}, {4}}},
                                                     {"_bcast_self", {{4}, {3, 1}, {}}}}) {
      t.push_back(ternary_case(
          "addcmul" + suffix,
          [](const Tensor& s, const Tensor& a, const Tensor& b) { return addcmul(s, a, b, 0.5); },
          shapes));
      t.push_back(ternary_case(
          "addcdiv" + suffix,
          [](const Tensor& s, const Tensor& a, const Tensor& b) { return addcdiv(s, a, b, -2); },
          shapes, 0.5, 2));
    }
    t.push_back(ternary_case(
        "addcdiv_divisor_only",
        [](const Tensor& s, const Tensor& a, const Tensor& b) { return addcdiv(s, a, b); },
        {{3, 4}, {3, 4}, {4}}, 0.5, 2, {false, false, true}));
    for (const auto& [suffix, shapes] : std::vector<std::pair<std::string, Shapes>>{
             {"_inplace", {{3, 4}, {3, 4}, {3, 4}}}, {"_inplace_bcast", {{3, 4}, {3, 1}, {}}}}) {
      t.push_back(ternary_case(
          "addcmul" + suffix,
          [](const Tensor& s, const Tensor& a, const Tensor& b) {
            Tensor y = s * 1.0;
            y.addcmul_(a, b, 1.5);
            return y;
          },
          shapes));
      t.push_back(ternary_case(
          "addcdiv" + suffix,
          [](const Tensor& s, const Tensor& a, const Tensor& b) {
            Tensor y = s * 1.0;
            addcdiv_(y, a, b, 0.5);
            return y;
          },
          shapes, 0.5, 2));
    }
    return t;
  }();
  return table;
}

INSTANTIATE_TEST_SUITE_P(Binary, GradTest, ::testing::ValuesIn(grad_cases(binary_table())),
                         grad_case_name);

// ---- what gradcheck cannot show ---------------------------------------------------------------

using V = std::vector<double>;

Tensor leaf(const std::vector<double>& values, const Shape& shape) {
  return tensor<double>(values, shape).requires_grad_();
}
Tensor leaf(const std::vector<double>& values) {
  return leaf(values, {static_cast<int64_t>(values.size())});
}
V values(const Tensor& t) {
  return t.to_vector<double>();
}
void backward_ones(const Tensor& y) {
  y.backward(ones_like(y));
}

TEST(GradBinary, GradientsReduceToBroadcastShapes) {
  Tensor a = leaf({1, 2, 3}, {3, 1});
  Tensor b = leaf({1, 2, 3, 4}, {4});
  Tensor c = leaf({2}, {});
  backward_ones(add(a * b, c, 2));
  EXPECT_EQ(a.grad().shape(), (Shape{3, 1}));
  EXPECT_EQ(b.grad().shape(), (Shape{4}));
  EXPECT_EQ(c.grad().shape(), Shape{});
  EXPECT_EQ(values(a.grad()), (V{10, 10, 10}));  // sum of b
  EXPECT_EQ(values(b.grad()), (V{6, 6, 6, 6}));  // sum of a
  EXPECT_EQ(values(c.grad()), (V{24}));          // alpha times 12 elements
}

TEST(GradBinary, InPlaceWithABroadcastOperand) {
  Tensor a = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = leaf({1, 2, 3}, {3});
  Tensor y = a * 1.0;
  y.mul_(b);
  y.sub_(b, 2);
  backward_ones(y);
  EXPECT_EQ(values(a.grad()), (V{1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(values(b.grad()), (V{1 + 4 - 4, 2 + 5 - 4, 3 + 6 - 4}));
}

TEST(GradBinary, MixedDtypesGiveGradientsInEachInputsDtype) {
  Tensor a = tensor<float>({1, 2}).requires_grad_();
  Tensor b = tensor<double>({3, 4}).requires_grad_();
  Tensor y = a * b;
  EXPECT_EQ(y.dtype(), DType::f64);
  backward_ones(y);
  EXPECT_EQ(a.grad().dtype(), DType::f32);
  EXPECT_EQ(b.grad().dtype(), DType::f64);
  EXPECT_EQ(values(a.grad()), (V{3, 4}));
  EXPECT_EQ(values(b.grad()), (V{1, 2}));

  // In place, self keeps its dtype (f32) and the f64 operand still gets an f64 gradient.
  Tensor c = tensor<float>({1, 2}).requires_grad_();
  Tensor d = tensor<double>({0.5, 4}).requires_grad_();
  Tensor z = c * 1.0f;
  z.div_(d);
  EXPECT_EQ(z.dtype(), DType::f32);
  backward_ones(z);
  EXPECT_EQ(c.grad().dtype(), DType::f32);
  EXPECT_EQ(d.grad().dtype(), DType::f64);
  EXPECT_EQ(values(c.grad()), (V{2, 0.25}));
  EXPECT_EQ(values(d.grad()), (V{-4, -0.125}));
}

TEST(GradBinary, IntegerOperandsGetNoGradient) {
  Tensor i = tensor<int64_t>({1, 2});
  Tensor x = leaf({0.5, 1.5});
  Tensor y = x * i;
  EXPECT_TRUE(y.requires_grad());
  EXPECT_FALSE(y.grad_fn()->next_edge(1).valid());
  backward_ones(y);
  EXPECT_EQ(values(x.grad()), (V{1, 2}));
  // Integer and bool results never require grad.
  EXPECT_FALSE((i + i).requires_grad());
  EXPECT_FALSE(floor_divide(i, 2).requires_grad());
  EXPECT_FALSE(gt(x, 1).requires_grad());
}

TEST(GradBinary, MaximumAndMinimumSplitTiesInHalf) {
  Tensor a = leaf({1, 2, 3});
  Tensor b = leaf({1, 1, 4});
  backward_ones(maximum(a, b));
  EXPECT_EQ(values(a.grad()), (V{0.5, 1, 0}));
  EXPECT_EQ(values(b.grad()), (V{0.5, 0, 1}));
  Tensor c = leaf({1, 2, 3});
  Tensor d = leaf({1, 1, 4});
  backward_ones(minimum(c, d));
  EXPECT_EQ(values(c.grad()), (V{0.5, 0, 1}));
  EXPECT_EQ(values(d.grad()), (V{0.5, 1, 0}));
}

TEST(GradBinary, RoundedDivisionHasZeroGradients) {
  Tensor a = leaf({5, 2});
  Tensor b = leaf({2, 3});
  Tensor y = add(div(a, b, RoundingMode::floor), floor_divide(a, b));
  EXPECT_TRUE(y.requires_grad());
  backward_ones(y);
  EXPECT_EQ(values(a.grad()), (V{0, 0}));
  EXPECT_EQ(values(b.grad()), (V{0, 0}));
}

TEST(GradBinary, PowMasksZeroBase) {
  // As PyTorch: d/dx is 0 where e == 0; d/de is 0 where x == 0 and e >= 0.
  Tensor x = leaf({0, 0, 0, 2});
  Tensor e = leaf({2, 0, -1, 0});
  backward_ones(pow(x, e));
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(values(x.grad()), (V{0, 0, -inf, 0}));
  EXPECT_EQ(values(e.grad())[0], 0);
  EXPECT_EQ(values(e.grad())[1], 0);
  EXPECT_EQ(values(e.grad())[2], -inf);
  EXPECT_NEAR(values(e.grad())[3], std::log(2.0), 1e-15);
}

TEST(GradBinary, WhereConditionGetsNoEdge) {
  Tensor cond = tensor<bool>({true, false, true});
  Tensor a = leaf({1, 2, 3});
  Tensor y = where(cond, a, 0.0);
  ASSERT_EQ(y.grad_fn()->num_outputs(), 2u);
  backward_ones(y);
  EXPECT_EQ(values(a.grad()), (V{1, 0, 1}));
  EXPECT_FALSE(where(cond, 1.0, 2.0).requires_grad());
}

TEST(GradBinary, ModifyingASavedTensorIsAnError) {
  Tensor x = leaf({1, 2});
  Tensor w = tensor<double>({3, 4});
  Tensor y = x * w;  // saves w
  w.add_(1);
  expect_error([&] { backward_ones(y); },
               {"modified by an inplace operation", "MulBackward", "version 0", "now 1"});

  // div saves its output (for the divisor's gradient).
  Tensor a = leaf({1, 2});
  Tensor b = leaf({2, 4});
  Tensor q = a / b;
  q.mul_(2);
  expect_error([&] { backward_ones(q); }, {"modified by an inplace operation", "DivBackward"});

  // a * a in place: the operand is self, overwritten by the op (as in PyTorch).
  Tensor s = x * 1.0;
  s.mul_(s);
  expect_error([&] { backward_ones(s); }, {"modified by an inplace operation", "MulBackward"});
}

TEST(GradBinary, InPlaceOnALeafThatRequiresGradIsAnError) {
  Tensor x = leaf({1, 2});
  expect_error([&] { x += 1; }, {"add_", "leaf tensor that requires grad"});
  expect_error([&] { x.mul_(x); }, {"mul_", "leaf tensor that requires grad"});
  // A leaf that does not require grad may take part: it joins the graph.
  Tensor acc = zeros({2}, DType::f64);
  acc.addcmul_(x, x, 0.5);
  EXPECT_TRUE(acc.requires_grad());
  backward_ones(acc);
  EXPECT_EQ(values(x.grad()), (V{1, 2}));
}

TEST(GradBinary, MethodsAndOperatorsRecord) {
  Tensor a = leaf({1, 2});
  Tensor b = leaf({3, 4});
  EXPECT_EQ((a + b).grad_fn_name(), "AddBackward");
  EXPECT_EQ((a - 1).grad_fn_name(), "SubBackward");
  EXPECT_EQ((2 * a).grad_fn_name(), "MulBackward");
  EXPECT_EQ((1 / a).grad_fn_name(), "DivBackward");
  EXPECT_EQ(a.pow(b).grad_fn_name(), "PowBackward");
  EXPECT_EQ(lerp(a, b, 0.5).grad_fn_name(), "LerpBackward");
  Tensor y = a * 1.0;
  y += b;
  EXPECT_EQ(y.grad_fn_name(), "AddBackward");
  y /= 2;
  EXPECT_EQ(y.grad_fn_name(), "DivBackward");
  y.addcdiv_(a, b);
  EXPECT_EQ(y.grad_fn_name(), "AddcdivBackward");
}

}  // namespace
}  // namespace anvil::testing
