// The view methods of Tensor with their derivatives.
#include "tensor/ops/view.h"
#include "autograd/function.h"

namespace anvil {

Tensor Tensor::view(const Shape& shape) const {
  return autograd::raw([&] { return ops::view(*this, shape); });
}

Tensor Tensor::reshape(const Shape& shape) const {
  return autograd::raw([&] { return ops::reshape(*this, shape); });
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  return autograd::raw([&] { return ops::permute(*this, dims); });
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  return autograd::raw([&] { return ops::transpose(*this, d0, d1); });
}

Tensor Tensor::t() const {
  return autograd::raw([&] { return ops::t(*this); });
}

Tensor Tensor::mT() const {
  return autograd::raw([&] { return ops::mT(*this); });
}

Tensor Tensor::slice(int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end,
                     int64_t step) const {
  return autograd::raw([&] { return ops::slice(*this, dim, start, end, step); });
}

Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  return autograd::raw([&] { return ops::narrow(*this, dim, start, length); });
}

Tensor Tensor::select(int64_t dim, int64_t index) const {
  return autograd::raw([&] { return ops::select(*this, dim, index); });
}

Tensor Tensor::expand(const Shape& shape) const {
  return autograd::raw([&] { return ops::expand(*this, shape); });
}

Tensor Tensor::squeeze() const {
  return autograd::raw([&] { return ops::squeeze(*this); });
}

Tensor Tensor::squeeze(int64_t dim) const {
  return autograd::raw([&] { return ops::squeeze(*this, dim); });
}

Tensor Tensor::unsqueeze(int64_t dim) const {
  return autograd::raw([&] { return ops::unsqueeze(*this, dim); });
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  return autograd::raw([&] { return ops::flatten(*this, start_dim, end_dim); });
}

Tensor Tensor::unflatten(int64_t dim, const Shape& sizes) const {
  return autograd::raw([&] { return ops::unflatten(*this, dim, sizes); });
}

Tensor Tensor::as_strided(const Shape& shape, const Strides& strides,
                          std::optional<int64_t> offset) const {
  return autograd::raw([&] { return ops::as_strided(*this, shape, strides, offset); });
}

Tensor Tensor::movedim(int64_t source, int64_t destination) const {
  return autograd::raw([&] { return ops::movedim(*this, source, destination); });
}

Tensor Tensor::diagonal(int64_t offset, int64_t dim1, int64_t dim2) const {
  return autograd::raw([&] { return ops::diagonal(*this, offset, dim1, dim2); });
}

}  // namespace anvil
