// The binary ops with their derivatives.
#include "autograd/functions/binary.h"

#include "autograd/function.h"

namespace anvil {

Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return autograd::raw([&]() -> Tensor { return ops::add(a, b, alpha); });
}

Tensor add(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  return autograd::raw([&]() -> Tensor { return ops::add(a, b, alpha); });
}

Tensor add(const Scalar& a, const Tensor& b, const Scalar& alpha) {
  return autograd::raw([&]() -> Tensor { return ops::add(a, b, alpha); });
}

Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return autograd::raw([&]() -> Tensor { return ops::sub(a, b, alpha); });
}

Tensor sub(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  return autograd::raw([&]() -> Tensor { return ops::sub(a, b, alpha); });
}

Tensor sub(const Scalar& a, const Tensor& b, const Scalar& alpha) {
  return autograd::raw([&]() -> Tensor { return ops::sub(a, b, alpha); });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  return autograd::raw([&]() -> Tensor { return ops::mul(a, b); });
}

Tensor mul(const Tensor& a, const Scalar& b) {
  return autograd::raw([&]() -> Tensor { return ops::mul(a, b); });
}

Tensor mul(const Scalar& a, const Tensor& b) {
  return autograd::raw([&]() -> Tensor { return ops::mul(a, b); });
}

Tensor div(const Tensor& a, const Tensor& b, RoundingMode mode) {
  return autograd::raw([&]() -> Tensor { return ops::div(a, b, mode); });
}

Tensor div(const Tensor& a, const Scalar& b, RoundingMode mode) {
  return autograd::raw([&]() -> Tensor { return ops::div(a, b, mode); });
}

Tensor div(const Scalar& a, const Tensor& b, RoundingMode mode) {
  return autograd::raw([&]() -> Tensor { return ops::div(a, b, mode); });
}

Tensor floor_divide(const Tensor& a, const Tensor& b) {
  return autograd::raw([&]() -> Tensor { return ops::floor_divide(a, b); });
}

Tensor floor_divide(const Tensor& a, const Scalar& b) {
  return autograd::raw([&]() -> Tensor { return ops::floor_divide(a, b); });
}

Tensor floor_divide(const Scalar& a, const Tensor& b) {
  return autograd::raw([&]() -> Tensor { return ops::floor_divide(a, b); });
}

Tensor remainder(const Tensor& a, const Tensor& b) {
  return autograd::raw([&]() -> Tensor { return ops::remainder(a, b); });
}

Tensor remainder(const Tensor& a, const Scalar& b) {
  return autograd::raw([&]() -> Tensor { return ops::remainder(a, b); });
}

Tensor remainder(const Scalar& a, const Tensor& b) {
  return autograd::raw([&]() -> Tensor { return ops::remainder(a, b); });
}

Tensor pow(const Tensor& base, const Tensor& exponent) {
  return autograd::raw([&]() -> Tensor { return ops::pow(base, exponent); });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  return autograd::raw([&]() -> Tensor { return ops::maximum(a, b); });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  return autograd::raw([&]() -> Tensor { return ops::minimum(a, b); });
}

Tensor atan2(const Tensor& a, const Tensor& b) {
  return autograd::raw([&]() -> Tensor { return ops::atan2(a, b); });
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  return autograd::raw([&]() -> Tensor { return ops::where(cond, a, b); });
}

Tensor where(const Tensor& cond, const Scalar& a, const Tensor& b) {
  return autograd::raw([&]() -> Tensor { return ops::where(cond, a, b); });
}

Tensor where(const Tensor& cond, const Tensor& a, const Scalar& b) {
  return autograd::raw([&]() -> Tensor { return ops::where(cond, a, b); });
}

Tensor where(const Tensor& cond, const Scalar& a, const Scalar& b) {
  return autograd::raw([&]() -> Tensor { return ops::where(cond, a, b); });
}

Tensor lerp(const Tensor& start, const Tensor& end, const Scalar& weight) {
  return autograd::raw([&]() -> Tensor { return ops::lerp(start, end, weight); });
}

Tensor lerp(const Tensor& start, const Tensor& end, const Tensor& weight) {
  return autograd::raw([&]() -> Tensor { return ops::lerp(start, end, weight); });
}

Tensor addcmul(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return autograd::raw([&]() -> Tensor { return ops::addcmul(self, t1, t2, value); });
}

Tensor addcdiv(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return autograd::raw([&]() -> Tensor { return ops::addcdiv(self, t1, t2, value); });
}

Tensor& add_(Tensor& self, const Tensor& other, const Scalar& alpha) {
  return autograd::raw([&]() -> Tensor& { return ops::add_(self, other, alpha); });
}

Tensor& add_(Tensor& self, const Scalar& other, const Scalar& alpha) {
  return autograd::raw([&]() -> Tensor& { return ops::add_(self, other, alpha); });
}

Tensor& sub_(Tensor& self, const Tensor& other, const Scalar& alpha) {
  return autograd::raw([&]() -> Tensor& { return ops::sub_(self, other, alpha); });
}

Tensor& sub_(Tensor& self, const Scalar& other, const Scalar& alpha) {
  return autograd::raw([&]() -> Tensor& { return ops::sub_(self, other, alpha); });
}

Tensor& mul_(Tensor& self, const Tensor& other) {
  return autograd::raw([&]() -> Tensor& { return ops::mul_(self, other); });
}

Tensor& mul_(Tensor& self, const Scalar& other) {
  return autograd::raw([&]() -> Tensor& { return ops::mul_(self, other); });
}

Tensor& div_(Tensor& self, const Tensor& other, RoundingMode mode) {
  return autograd::raw([&]() -> Tensor& { return ops::div_(self, other, mode); });
}

Tensor& div_(Tensor& self, const Scalar& other, RoundingMode mode) {
  return autograd::raw([&]() -> Tensor& { return ops::div_(self, other, mode); });
}

Tensor& pow_(Tensor& self, const Tensor& exponent) {
  return autograd::raw([&]() -> Tensor& { return ops::pow_(self, exponent); });
}

Tensor& lerp_(Tensor& self, const Tensor& end, const Scalar& weight) {
  return autograd::raw([&]() -> Tensor& { return ops::lerp_(self, end, weight); });
}

Tensor& addcmul_(Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return autograd::raw([&]() -> Tensor& { return ops::addcmul_(self, t1, t2, value); });
}

Tensor& addcdiv_(Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return autograd::raw([&]() -> Tensor& { return ops::addcdiv_(self, t1, t2, value); });
}

// ---- Tensor methods and operators -------------------------------------------------------------

Tensor& Tensor::add_(const Tensor& other, const Scalar& alpha) {
  return anvil::add_(*this, other, alpha);
}
Tensor& Tensor::add_(const Scalar& other, const Scalar& alpha) {
  return anvil::add_(*this, other, alpha);
}
Tensor& Tensor::sub_(const Tensor& other, const Scalar& alpha) {
  return anvil::sub_(*this, other, alpha);
}
Tensor& Tensor::sub_(const Scalar& other, const Scalar& alpha) {
  return anvil::sub_(*this, other, alpha);
}
Tensor& Tensor::mul_(const Tensor& other) {
  return anvil::mul_(*this, other);
}
Tensor& Tensor::mul_(const Scalar& other) {
  return anvil::mul_(*this, other);
}
Tensor& Tensor::div_(const Tensor& other, RoundingMode mode) {
  return anvil::div_(*this, other, mode);
}
Tensor& Tensor::div_(const Scalar& other, RoundingMode mode) {
  return anvil::div_(*this, other, mode);
}
Tensor& Tensor::pow_(const Tensor& exponent) {
  return anvil::pow_(*this, exponent);
}
Tensor& Tensor::lerp_(const Tensor& end, const Scalar& weight) {
  return anvil::lerp_(*this, end, weight);
}
Tensor& Tensor::addcmul_(const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return anvil::addcmul_(*this, t1, t2, value);
}
Tensor& Tensor::addcdiv_(const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return anvil::addcdiv_(*this, t1, t2, value);
}
Tensor Tensor::add(const Tensor& other, const Scalar& alpha) const {
  return anvil::add(*this, other, alpha);
}
Tensor Tensor::sub(const Tensor& other, const Scalar& alpha) const {
  return anvil::sub(*this, other, alpha);
}
Tensor Tensor::mul(const Tensor& other) const {
  return anvil::mul(*this, other);
}
Tensor Tensor::div(const Tensor& other, RoundingMode mode) const {
  return anvil::div(*this, other, mode);
}
Tensor Tensor::pow(const Tensor& exponent) const {
  return anvil::pow(*this, exponent);
}
Tensor Tensor::eq(const Tensor& other) const {
  return anvil::eq(*this, other);
}
Tensor Tensor::ne(const Tensor& other) const {
  return anvil::ne(*this, other);
}
Tensor Tensor::lt(const Tensor& other) const {
  return anvil::lt(*this, other);
}
Tensor Tensor::le(const Tensor& other) const {
  return anvil::le(*this, other);
}
Tensor Tensor::gt(const Tensor& other) const {
  return anvil::gt(*this, other);
}
Tensor Tensor::ge(const Tensor& other) const {
  return anvil::ge(*this, other);
}

Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
Tensor operator+(const Tensor& a, const Scalar& b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, const Scalar& b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, const Scalar& b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, const Scalar& b) {
  return div(a, b);
}
Tensor operator+(const Scalar& a, const Tensor& b) {
  return add(a, b);
}
Tensor operator-(const Scalar& a, const Tensor& b) {
  return sub(a, b);
}
Tensor operator*(const Scalar& a, const Tensor& b) {
  return mul(a, b);
}
Tensor operator/(const Scalar& a, const Tensor& b) {
  return div(a, b);
}
Tensor& operator+=(Tensor& a, const Tensor& b) {
  return a.add_(b);
}
Tensor& operator-=(Tensor& a, const Tensor& b) {
  return a.sub_(b);
}
Tensor& operator*=(Tensor& a, const Tensor& b) {
  return a.mul_(b);
}
Tensor& operator/=(Tensor& a, const Tensor& b) {
  return a.div_(b);
}
Tensor& operator+=(Tensor& a, const Scalar& b) {
  return a.add_(b);
}
Tensor& operator-=(Tensor& a, const Scalar& b) {
  return a.sub_(b);
}
Tensor& operator*=(Tensor& a, const Scalar& b) {
  return a.mul_(b);
}
Tensor& operator/=(Tensor& a, const Scalar& b) {
  return a.div_(b);
}

}  // namespace anvil
