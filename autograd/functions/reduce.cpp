// The reduce ops with their derivatives.
#include "autograd/functions/reduce.h"

#include "autograd/function.h"

namespace anvil {

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
           std::optional<DType> dtype) {
  return autograd::raw([&]() -> Tensor { return ops::sum(x, dims, keepdim, dtype); });
}

Tensor prod(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
            std::optional<DType> dtype) {
  return autograd::raw([&]() -> Tensor { return ops::prod(x, dims, keepdim, dtype); });
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
            std::optional<DType> dtype) {
  return autograd::raw([&]() -> Tensor { return ops::mean(x, dims, keepdim, dtype); });
}

Tensor amax(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return autograd::raw([&]() -> Tensor { return ops::amax(x, dims, keepdim); });
}

Tensor amin(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return autograd::raw([&]() -> Tensor { return ops::amin(x, dims, keepdim); });
}

Tensor max(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::max(x); });
}

Tensor min(const Tensor& x) {
  return autograd::raw([&]() -> Tensor { return ops::min(x); });
}

std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return autograd::raw([&]() -> std::pair<Tensor, Tensor> { return ops::max(x, dim, keepdim); });
}

std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return autograd::raw([&]() -> std::pair<Tensor, Tensor> { return ops::min(x, dim, keepdim); });
}

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  return autograd::raw([&]() -> Tensor { return ops::var(x, dims, correction, keepdim); });
}

Tensor std(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  return autograd::raw([&]() -> Tensor { return ops::std(x, dims, correction, keepdim); });
}

std::pair<Tensor, Tensor> var_mean(const Tensor& x, const std::vector<int64_t>& dims,
                                   double correction, bool keepdim) {
  return autograd::raw(
      [&]() -> std::pair<Tensor, Tensor> { return ops::var_mean(x, dims, correction, keepdim); });
}

std::pair<Tensor, Tensor> std_mean(const Tensor& x, const std::vector<int64_t>& dims,
                                   double correction, bool keepdim) {
  return autograd::raw(
      [&]() -> std::pair<Tensor, Tensor> { return ops::std_mean(x, dims, correction, keepdim); });
}

Tensor norm(const Tensor& x, double p, const std::vector<int64_t>& dims, bool keepdim) {
  return autograd::raw([&]() -> Tensor { return ops::norm(x, p, dims, keepdim); });
}

Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return autograd::raw([&]() -> Tensor { return ops::logsumexp(x, dims, keepdim); });
}

Tensor cumsum(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  return autograd::raw([&]() -> Tensor { return ops::cumsum(x, dim, dtype); });
}

Tensor softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  return autograd::raw([&]() -> Tensor { return ops::softmax(x, dim, dtype); });
}

Tensor log_softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  return autograd::raw([&]() -> Tensor { return ops::log_softmax(x, dim, dtype); });
}

// ---- Tensor methods -------------------------------------------------------------------------

Tensor Tensor::sum(const std::vector<int64_t>& dims, bool keepdim) const {
  return anvil::sum(*this, dims, keepdim);
}
Tensor Tensor::mean(const std::vector<int64_t>& dims, bool keepdim) const {
  return anvil::mean(*this, dims, keepdim);
}
Tensor Tensor::max() const {
  return anvil::max(*this);
}
Tensor Tensor::min() const {
  return anvil::min(*this);
}
Tensor Tensor::argmax(std::optional<int64_t> dim, bool keepdim) const {
  return anvil::argmax(*this, dim, keepdim);
}
Tensor Tensor::softmax(int64_t dim) const {
  return anvil::softmax(*this, dim);
}
Tensor Tensor::log_softmax(int64_t dim) const {
  return anvil::log_softmax(*this, dim);
}

}  // namespace anvil
