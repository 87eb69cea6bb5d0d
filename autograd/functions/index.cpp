// The index ops with their derivatives.
#include "autograd/functions/index.h"

#include "autograd/function.h"

namespace anvil {

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  return autograd::raw([&]() -> Tensor { return ops::cat(tensors, dim); });
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  return autograd::raw([&]() -> Tensor { return ops::stack(tensors, dim); });
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  return autograd::raw([&]() -> std::vector<Tensor> { return ops::split(x, split_size, dim); });
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  return autograd::raw([&]() -> std::vector<Tensor> { return ops::split(x, sizes, dim); });
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  return autograd::raw([&]() -> std::vector<Tensor> { return ops::chunk(x, chunks, dim); });
}

std::vector<Tensor> unbind(const Tensor& x, int64_t dim) {
  return autograd::raw([&]() -> std::vector<Tensor> { return ops::unbind(x, dim); });
}

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value) {
  return autograd::raw([&]() -> Tensor { return ops::pad(x, pads, mode, value); });
}

Tensor flip(const Tensor& x, const std::vector<int64_t>& dims) {
  return autograd::raw([&]() -> Tensor { return ops::flip(x, dims); });
}

Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& dims) {
  return autograd::raw([&]() -> Tensor { return ops::roll(x, shifts, dims); });
}

Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats) {
  return autograd::raw([&]() -> Tensor { return ops::repeat(x, repeats); });
}

Tensor tile(const Tensor& x, const std::vector<int64_t>& reps) {
  return autograd::raw([&]() -> Tensor { return ops::tile(x, reps); });
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  return autograd::raw([&]() -> Tensor { return ops::gather(x, dim, index); });
}

Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  return autograd::raw([&]() -> Tensor { return ops::scatter(x, dim, index, src); });
}

Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Scalar& value) {
  return autograd::raw([&]() -> Tensor { return ops::scatter(x, dim, index, value); });
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  return autograd::raw([&]() -> Tensor { return ops::scatter_add(x, dim, index, src); });
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  return autograd::raw([&]() -> Tensor { return ops::index_select(x, dim, index); });
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source,
                 const Scalar& alpha) {
  return autograd::raw([&]() -> Tensor { return ops::index_add(x, dim, index, source, alpha); });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Scalar& value) {
  return autograd::raw([&]() -> Tensor { return ops::masked_fill(x, mask, value); });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value) {
  return autograd::raw([&]() -> Tensor { return ops::masked_fill(x, mask, value); });
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  return autograd::raw([&]() -> Tensor { return ops::masked_select(x, mask); });
}

Tensor tril(const Tensor& x, int64_t diagonal) {
  return autograd::raw([&]() -> Tensor { return ops::tril(x, diagonal); });
}

Tensor triu(const Tensor& x, int64_t diagonal) {
  return autograd::raw([&]() -> Tensor { return ops::triu(x, diagonal); });
}

std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending, bool stable) {
  return autograd::raw(
      [&]() -> std::pair<Tensor, Tensor> { return ops::sort(x, dim, descending, stable); });
}

std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest, bool sorted) {
  return autograd::raw(
      [&]() -> std::pair<Tensor, Tensor> { return ops::topk(x, k, dim, largest, sorted); });
}

Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return autograd::raw([&]() -> Tensor& { return ops::scatter_(self, dim, index, src); });
}

Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Scalar& value) {
  return autograd::raw([&]() -> Tensor& { return ops::scatter_(self, dim, index, value); });
}

Tensor& scatter_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return autograd::raw([&]() -> Tensor& { return ops::scatter_add_(self, dim, index, src); });
}

Tensor& index_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& source,
                   const Scalar& alpha) {
  return autograd::raw(
      [&]() -> Tensor& { return ops::index_add_(self, dim, index, source, alpha); });
}

Tensor& masked_fill_(Tensor& self, const Tensor& mask, const Scalar& value) {
  return autograd::raw([&]() -> Tensor& { return ops::masked_fill_(self, mask, value); });
}

// ---- Tensor methods -------------------------------------------------------------------------

Tensor& Tensor::scatter_(int64_t dim, const Tensor& index, const Tensor& src) {
  return anvil::scatter_(*this, dim, index, src);
}
Tensor& Tensor::scatter_(int64_t dim, const Tensor& index, const Scalar& value) {
  return anvil::scatter_(*this, dim, index, value);
}
Tensor& Tensor::scatter_add_(int64_t dim, const Tensor& index, const Tensor& src) {
  return anvil::scatter_add_(*this, dim, index, src);
}
Tensor& Tensor::index_add_(int64_t dim, const Tensor& index, const Tensor& source,
                           const Scalar& alpha) {
  return anvil::index_add_(*this, dim, index, source, alpha);
}
Tensor Tensor::masked_fill(const Tensor& mask, const Scalar& value) const {
  return anvil::masked_fill(*this, mask, value);
}
Tensor& Tensor::masked_fill_(const Tensor& mask, const Scalar& value) {
  return anvil::masked_fill_(*this, mask, value);
}

}  // namespace anvil
