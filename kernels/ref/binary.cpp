// Reference kernels of the elementwise binary and ternary ops: the textbook formula per element,
// computed in double.
#include <cmath>
#include <limits>

#include "kernels/ref/ref_loops.h"
#include "tensor/dispatch.h"

namespace anvil::ref {

namespace {

// Integer division by zero is an error (PyTorch's ZeroDivisionError); floats give inf or nan.
double checked_divisor(const char* op, const Tensor& out, double b) {
  if (b == 0 && !is_floating(out.dtype())) {
    throw ValueError(fmt::format("{}: ZeroDivisionError: integer division by zero", op));
  }
  return b;
}

void add_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar& alpha) {
  const double al = alpha.to_double();
  map(
      out, [al](double x, double y) { return x + al * y; }, a, b);
}

void sub_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar& alpha) {
  const double al = alpha.to_double();
  map(
      out, [al](double x, double y) { return x - al * y; }, a, b);
}

void mul_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out, [](double x, double y) { return x * y; }, a, b);
}

void div_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out, [](double x, double y) { return x / y; }, a, b);
}

void div_trunc_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out, [&](double x, double y) { return std::trunc(x / checked_divisor("div_trunc", out, y)); },
      a, b);
}

void floor_divide_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out,
      [&](double x, double y) { return std::floor(x / checked_divisor("floor_divide", out, y)); },
      a, b);
}

void remainder_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out,
      [&](double x, double y) {
        return x - y * std::floor(x / checked_divisor("remainder", out, y));
      },
      a, b);
}

void pow_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out, [](double x, double y) { return std::pow(x, y); }, a, b);
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void maximum_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out,
      [](double x, double y) { return std::isnan(x) || std::isnan(y) ? kNaN : std::max(x, y); }, a,
      b);
}

void threshold_backward_kernel(const Tensor& out, const Tensor& grad, const Tensor& self,
                               const Scalar& threshold) {
  const double t = threshold.to_double();
  map(
      out, [t](double g, double x) { return x <= t ? 0.0 : g; }, grad, self);
}

void minimum_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out,
      [](double x, double y) { return std::isnan(x) || std::isnan(y) ? kNaN : std::min(x, y); }, a,
      b);
}

void atan2_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out, [](double x, double y) { return std::atan2(x, y); }, a, b);
}

void eq_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out, [](double x, double y) { return x == y ? 1.0 : 0.0; }, a, b);
}
void ne_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out, [](double x, double y) { return x != y ? 1.0 : 0.0; }, a, b);
}
void lt_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out, [](double x, double y) { return x < y ? 1.0 : 0.0; }, a, b);
}
void le_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out, [](double x, double y) { return x <= y ? 1.0 : 0.0; }, a, b);
}
void gt_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out, [](double x, double y) { return x > y ? 1.0 : 0.0; }, a, b);
}
void ge_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out, [](double x, double y) { return x >= y ? 1.0 : 0.0; }, a, b);
}

void logical_and_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out, [](double x, double y) { return x != 0 && y != 0 ? 1.0 : 0.0; }, a, b);
}
void logical_or_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out, [](double x, double y) { return x != 0 || y != 0 ? 1.0 : 0.0; }, a, b);
}
void logical_xor_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  map(
      out, [](double x, double y) { return (x != 0) != (y != 0) ? 1.0 : 0.0; }, a, b);
}

void where_kernel(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b,
                  const Scalar&) {
  map(
      out, [](double c, double x, double y) { return c != 0 ? x : y; }, cond, a, b);
}

void lerp_kernel(const Tensor& out, const Tensor& start, const Tensor& end, const Tensor& weight,
                 const Scalar&) {
  map(
      out, [](double s, double e, double w) { return s + w * (e - s); }, start, end, weight);
}

void addcmul_kernel(const Tensor& out, const Tensor& self, const Tensor& t1, const Tensor& t2,
                    const Scalar& value) {
  const double v = value.to_double();
  map(
      out, [v](double s, double x, double y) { return s + v * x * y; }, self, t1, t2);
}

void addcdiv_kernel(const Tensor& out, const Tensor& self, const Tensor& t1, const Tensor& t2,
                    const Scalar& value) {
  const double v = value.to_double();
  map(
      out, [v](double s, double x, double y) { return s + v * x / y; }, self, t1, t2);
}

}  // namespace

ANVIL_REGISTER_KERNEL(add, ref, kAllTypes, add_kernel);
ANVIL_REGISTER_KERNEL(sub, ref, kNumericTypes, sub_kernel);
ANVIL_REGISTER_KERNEL(mul, ref, kAllTypes, mul_kernel);
ANVIL_REGISTER_KERNEL(div, ref, kFloatingTypes, div_kernel);
ANVIL_REGISTER_KERNEL(div_trunc, ref, kNumericTypes, div_trunc_kernel);
ANVIL_REGISTER_KERNEL(floor_divide, ref, kNumericTypes, floor_divide_kernel);
ANVIL_REGISTER_KERNEL(remainder, ref, kNumericTypes, remainder_kernel);
ANVIL_REGISTER_KERNEL(pow_tensor, ref, kNumericTypes, pow_kernel);
ANVIL_REGISTER_KERNEL(maximum, ref, kAllTypes, maximum_kernel);
ANVIL_REGISTER_KERNEL(minimum, ref, kAllTypes, minimum_kernel);
ANVIL_REGISTER_KERNEL(atan2, ref, kFloatingTypes, atan2_kernel);
ANVIL_REGISTER_KERNEL(threshold_backward, ref, kNumericTypes, threshold_backward_kernel);
ANVIL_REGISTER_KERNEL(eq, ref, kAllTypes, eq_kernel);
ANVIL_REGISTER_KERNEL(ne, ref, kAllTypes, ne_kernel);
ANVIL_REGISTER_KERNEL(lt, ref, kAllTypes, lt_kernel);
ANVIL_REGISTER_KERNEL(le, ref, kAllTypes, le_kernel);
ANVIL_REGISTER_KERNEL(gt, ref, kAllTypes, gt_kernel);
ANVIL_REGISTER_KERNEL(ge, ref, kAllTypes, ge_kernel);
ANVIL_REGISTER_KERNEL(logical_and, ref, kAllTypes, logical_and_kernel);
ANVIL_REGISTER_KERNEL(logical_or, ref, kAllTypes, logical_or_kernel);
ANVIL_REGISTER_KERNEL(logical_xor, ref, kAllTypes, logical_xor_kernel);
ANVIL_REGISTER_KERNEL(where, ref, kAllTypes, where_kernel);
ANVIL_REGISTER_KERNEL(lerp, ref, kFloatingTypes, lerp_kernel);
ANVIL_REGISTER_KERNEL(addcmul, ref, kNumericTypes, addcmul_kernel);
ANVIL_REGISTER_KERNEL(addcdiv, ref, kFloatingTypes, addcdiv_kernel);

}  // namespace anvil::ref
