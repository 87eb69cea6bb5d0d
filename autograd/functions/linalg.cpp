// The linalg ops with their derivatives.
#include "autograd/functions/linalg.h"

#include "autograd/function.h"

namespace anvil {

Tensor matmul(const Tensor& lhs, const Tensor& rhs) {
  return autograd::raw([&]() -> Tensor { return ops::matmul(lhs, rhs); });
}

Tensor mm(const Tensor& lhs, const Tensor& rhs) {
  return autograd::raw([&]() -> Tensor { return ops::mm(lhs, rhs); });
}

Tensor bmm(const Tensor& batch1, const Tensor& batch2) {
  return autograd::raw([&]() -> Tensor { return ops::bmm(batch1, batch2); });
}

Tensor addmm(const Tensor& self, const Tensor& mat1, const Tensor& mat2, const Scalar& beta,
             const Scalar& alpha) {
  return autograd::raw([&]() -> Tensor { return ops::addmm(self, mat1, mat2, beta, alpha); });
}

Tensor linear(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias) {
  return autograd::raw([&]() -> Tensor { return ops::linear(input, weight, bias); });
}

Tensor outer(const Tensor& a, const Tensor& b) {
  return autograd::raw([&]() -> Tensor { return ops::outer(a, b); });
}

Tensor dot(const Tensor& lhs, const Tensor& rhs) {
  return autograd::raw([&]() -> Tensor { return ops::dot(lhs, rhs); });
}

// ---- Tensor methods -------------------------------------------------------------------------

Tensor Tensor::matmul(const Tensor& other) const {
  return anvil::matmul(*this, other);
}
Tensor Tensor::mm(const Tensor& other) const {
  return anvil::mm(*this, other);
}

}  // namespace anvil
