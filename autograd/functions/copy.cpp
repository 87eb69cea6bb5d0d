// Copies, conversions and fills (Tensor methods) with their derivatives.
#include "tensor/ops/copy.h"
#include "autograd/function.h"

namespace anvil {

Tensor& Tensor::copy_(const Tensor& src) {
  return autograd::raw([&]() -> Tensor& { return ops::copy_(*this, src); });
}
Tensor& Tensor::fill_(const Scalar& value) {
  return autograd::raw([&]() -> Tensor& { return ops::fill_(*this, value); });
}
Tensor& Tensor::fill_(const Tensor& value) {
  return autograd::raw([&]() -> Tensor& { return ops::fill_(*this, value); });
}
Tensor& Tensor::zero_() {
  return autograd::raw([&]() -> Tensor& { return ops::zero_(*this); });
}
Tensor Tensor::contiguous() const {
  return autograd::raw([&] { return ops::contiguous(*this); });
}
Tensor Tensor::clone() const {
  return autograd::raw([&] { return ops::clone(*this); });
}
Tensor Tensor::to(DType dtype) const {
  return autograd::raw([&] { return ops::to(*this, dtype); });
}
Tensor Tensor::to(Device device, bool non_blocking) const {
  return autograd::raw([&] { return ops::to(*this, device, non_blocking); });
}
Tensor Tensor::to(Device device, DType dtype, bool non_blocking) const {
  return autograd::raw([&] { return ops::to(*this, device, dtype, non_blocking); });
}

}  // namespace anvil
