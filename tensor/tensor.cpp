// Tensor metadata, data access and views. Views never copy: they make a new TensorImpl over the
// same storage with other shape, strides and offset.
#include "tensor/tensor.h"

#include <algorithm>
#include <numeric>

#include "tensor/ops/copy.h"
#include "tensor/ops/factory.h"

namespace anvil {

TensorImpl& Tensor::impl() const {
  if (!impl_) throw ValueError("Tensor: the tensor is undefined (default-constructed)");
  return *impl_;
}

int64_t Tensor::size(int64_t d) const {
  return shape()[wrap_dim(d, dim(), "size")];
}
int64_t Tensor::stride(int64_t d) const {
  return strides()[wrap_dim(d, dim(), "stride")];
}
int64_t Tensor::numel() const {
  return numel_of(shape());
}
bool Tensor::is_contiguous() const {
  return is_contiguous_layout(shape(), strides());
}
bool Tensor::shares_storage(const Tensor& other) const {
  return defined() && other.defined() && storage() == other.storage();
}

void Tensor::set_data(const Tensor& data) const {
  const TensorImpl& src = data.impl();
  TensorImpl& dst = impl();
  dst.shape = src.shape;
  dst.strides = src.strides;
  dst.offset = src.offset;
  dst.dtype = src.dtype;
  dst.storage = src.storage;
  dst.is_view = src.is_view;
}

std::string Tensor::describe() const {
  if (!defined()) return "(undefined tensor)";
  return fmt::format("{} ({}, {})", shape_str(shape()), dtype_name(dtype()), device().str());
}

void* Tensor::raw_data() const {
  return static_cast<char*>(storage()->data()) + offset() * element_size();
}

namespace detail {

void throw_dtype_mismatch(const Tensor& t, DType requested, const char* what) {
  throw ValueError(fmt::format("{}: tensor {} holds {}, but {} was requested", what, t.describe(),
                               dtype_name(t.dtype()), dtype_name(requested)));
}

void check_cpu(const Tensor& t, const char* what) {
  ANVIL_CHECK(t.is_cpu(), "{}: expected a CPU tensor, got {}; call .cpu() first", what,
              t.describe());
}

}  // namespace detail

Scalar Tensor::item() const {
  ANVIL_CHECK(numel() == 1, "item: expected a tensor with one element, got {} with {} elements",
              describe(), numel());
  const Tensor host = is_cpu() ? *this : to(Device::cpu());
  return visit_dtype(dtype(),
                     [&]<class T>() { return Scalar(*static_cast<const T*>(host.raw_data())); });
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  const Tensor host = ops::contiguous(ops::to(*this, Device::cpu(), dtype_of_v<T>, false));
  const T* p = static_cast<const T*>(host.raw_data());
  return std::vector<T>(p, p + host.numel());
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<Half> Tensor::to_vector() const;
template std::vector<BFloat16> Tensor::to_vector() const;
template std::vector<int64_t> Tensor::to_vector() const;
template std::vector<int32_t> Tensor::to_vector() const;
template std::vector<uint8_t> Tensor::to_vector() const;
template <>
std::vector<bool> Tensor::to_vector() const {
  const std::vector<uint8_t> v = ops::to(*this, DType::u8).to_vector<uint8_t>();
  return std::vector<bool>(v.begin(), v.end());
}

}  // namespace anvil
