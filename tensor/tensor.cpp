// Tensor metadata, data access and views. Views never copy: they make a new TensorImpl over the
// same storage with other shape, strides and offset.
#include "tensor/tensor.h"

#include <algorithm>
#include <numeric>

#include "tensor/ops/factory.h"

namespace anvil {

TensorImpl& Tensor::impl() const {
  if (!impl_) throw ValueError("Tensor: the tensor is undefined (default-constructed)");
  return *impl_;
}

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim(d, dim(), "stride")]; }
int64_t Tensor::numel() const { return numel_of(shape()); }
bool Tensor::is_contiguous() const { return is_contiguous_layout(shape(), strides()); }
bool Tensor::shares_storage(const Tensor& other) const {
  return defined() && other.defined() && storage() == other.storage();
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
  return visit_dtype(dtype(), [&]<class T>() { return Scalar(*static_cast<const T*>(host.raw_data())); });
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  const Tensor host = to(Device::cpu(), dtype_of_v<T>).contiguous();
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
  const std::vector<uint8_t> v = to(DType::u8).to_vector<uint8_t>();
  return std::vector<bool>(v.begin(), v.end());
}

// ---- views ------------------------------------------------------------------------------------

namespace {

Tensor make_view(const Tensor& base, Shape shape, Strides strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  impl->storage = base.storage();
  return Tensor(std::move(impl));
}

// Replaces one -1 in `shape` by the size that keeps `numel` elements.
Shape infer_size(const char* op, const Tensor& t, Shape shape) {
  int64_t known = 1;
  int infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      ANVIL_CHECK(infer_at < 0, "{}: only one dimension can be -1, got shape {}", op, shape_str(shape));
      infer_at = static_cast<int>(i);
    } else {
      ANVIL_CHECK(shape[i] >= 0, "{}: invalid size {} in shape {}", op, shape[i], shape_str(shape));
      known *= shape[i];
    }
  }
  const int64_t n = t.numel();
  if (infer_at >= 0) {
    ANVIL_CHECK(known != 0 && n % known == 0,
                "{}: shape {} is invalid for {} with {} elements", op, shape_str(shape), t.describe(), n);
    shape[infer_at] = n / known;
  } else {
    ANVIL_CHECK(known == n, "{}: shape {} is invalid for {} with {} elements", op,
                shape_str(shape), t.describe(), n);
  }
  return shape;
}

// Strides that let `new_shape` view memory laid out as (old_shape, old_strides), if any: each run
// of old dims that is contiguous in memory may be re-split into any new dims of the same size.
std::optional<Strides> view_strides(Shape old_shape, Strides old_strides, const Shape& new_shape) {
  if (numel_of(old_shape) == 0) return contiguous_strides(new_shape);
  if (old_shape.empty()) {
    old_shape = {1};
    old_strides = {1};
  }
  Strides out(new_shape.size());
  int64_t view_d = static_cast<int64_t>(new_shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    const bool chunk_ends =
        d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
      out[view_d] = view_numel * chunk_base_stride;
      view_numel *= new_shape[view_d];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (d > 0) {
      chunk_base_stride = old_strides[d - 1];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

}  // namespace

Tensor Tensor::view(const Shape& shape_in) const {
  const Shape shape = infer_size("view", *this, shape_in);
  auto st = view_strides(this->shape(), strides(), shape);
  ANVIL_CHECK(st.has_value(),
              "view: cannot view {} with strides {} as shape {} without copying; use reshape() "
              "(which copies when needed) or call contiguous() first",
              describe(), shape_str(strides()), shape_str(shape));
  return make_view(*this, shape, *st, offset());
}

Tensor Tensor::reshape(const Shape& shape_in) const {
  const Shape shape = infer_size("reshape", *this, shape_in);
  if (auto st = view_strides(this->shape(), strides(), shape)) return make_view(*this, shape, *st, offset());
  return contiguous().view(shape);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  const int64_t n = dim();
  ANVIL_CHECK(static_cast<int64_t>(dims.size()) == n,
              "permute: {} needs {} dims, got [{}]", describe(), n, fmt::join(dims, ","));
  Shape shape(n);
  Strides st(n);
  std::vector<bool> seen(n, false);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t d = wrap_dim(dims[i], n, "permute");
    ANVIL_CHECK(!seen[d], "permute: dim {} repeats in [{}]", d, fmt::join(dims, ","));
    seen[d] = true;
    shape[i] = this->shape()[d];
    st[i] = strides()[d];
  }
  return make_view(*this, shape, st, offset());
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  const int64_t n = dim();
  if (n == 0) return make_view(*this, shape(), strides(), offset());
  d0 = wrap_dim(d0, n, "transpose");
  d1 = wrap_dim(d1, n, "transpose");
  Shape shape = this->shape();
  Strides st = strides();
  std::swap(shape[d0], shape[d1]);
  std::swap(st[d0], st[d1]);
  return make_view(*this, shape, st, offset());
}

Tensor Tensor::t() const {
  ANVIL_CHECK(dim() <= 2, "t: expects a tensor with at most 2 dims, got {}", describe());
  return dim() < 2 ? transpose(0, 0) : transpose(0, 1);
}

Tensor Tensor::mT() const {
  ANVIL_CHECK(dim() >= 2, "mT: expects a tensor with at least 2 dims, got {}", describe());
  return transpose(-2, -1);
}

Tensor Tensor::slice(int64_t d, std::optional<int64_t> start_in, std::optional<int64_t> end_in,
                     int64_t step) const {
  ANVIL_CHECK(dim() > 0, "slice: cannot slice a 0-d tensor");
  d = wrap_dim(d, dim(), "slice");
  ANVIL_CHECK(step > 0, "slice: step must be positive, got {}", step);
  const int64_t size = shape()[d];
  auto clampi = [&](int64_t v) {
    if (v < 0) v += size;
    return std::clamp<int64_t>(v, 0, size);
  };
  const int64_t start = clampi(start_in.value_or(0));
  const int64_t end = std::max(start, clampi(end_in.value_or(size)));
  Shape shape = this->shape();
  Strides st = strides();
  shape[d] = (end - start + step - 1) / step;
  const int64_t off = offset() + start * st[d];
  st[d] *= step;
  return make_view(*this, shape, st, off);
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  ANVIL_CHECK(dim() > 0, "narrow: cannot narrow a 0-d tensor");
  d = wrap_dim(d, dim(), "narrow");
  const int64_t size = shape()[d];
  if (start < 0) start += size;
  ANVIL_CHECK_INDEX(start >= 0 && length >= 0 && start + length <= size,
                    "narrow: start {} and length {} out of range for dim {} of size {} in {}",
                    start, length, d, size, describe());
  return slice(d, start, start + length);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  ANVIL_CHECK(dim() > 0, "select: cannot select on a 0-d tensor");
  d = wrap_dim(d, dim(), "select");
  const int64_t size = shape()[d];
  ANVIL_CHECK_INDEX(index >= -size && index < size,
                    "select: index {} is out of range for dim {} of size {} in {}", index, d, size,
                    describe());
  if (index < 0) index += size;
  Shape shape = this->shape();
  Strides st = strides();
  const int64_t off = offset() + index * st[d];
  shape.erase(shape.begin() + d);
  st.erase(st.begin() + d);
  return make_view(*this, shape, st, off);
}

Tensor Tensor::expand(const Shape& target) const {
  const int64_t n = static_cast<int64_t>(target.size());
  ANVIL_CHECK(n >= dim(), "expand: cannot expand {} to fewer dims {}", describe(), shape_str(target));
  Shape shape(n);
  Strides st(n);
  for (int64_t i = n - 1; i >= 0; --i) {
    const int64_t j = i - (n - dim());
    const int64_t have = j >= 0 ? this->shape()[j] : 1;
    const int64_t want = target[i] == -1 ? have : target[i];
    ANVIL_CHECK(j >= 0 || target[i] != -1, "expand: -1 is not allowed for a new leading dim, got {}",
                shape_str(target));
    if (j >= 0 && have == want) {
      shape[i] = have;
      st[i] = strides()[j];
    } else {
      ANVIL_CHECK(have == 1 && want >= 0,
                  "expand: {} cannot be expanded to {}: size {} at dim {} must be 1 to expand to {}",
                  describe(), shape_str(target), have, j, want);
      shape[i] = want;
      st[i] = 0;
    }
  }
  return make_view(*this, shape, st, offset());
}

Tensor Tensor::squeeze() const {
  Shape shape;
  Strides st;
  for (int64_t i = 0; i < dim(); ++i) {
    if (this->shape()[i] != 1) {
      shape.push_back(this->shape()[i]);
      st.push_back(strides()[i]);
    }
  }
  return make_view(*this, shape, st, offset());
}

Tensor Tensor::squeeze(int64_t d) const {
  if (dim() == 0) return make_view(*this, shape(), strides(), offset());
  d = wrap_dim(d, dim(), "squeeze");
  if (shape()[d] != 1) return make_view(*this, shape(), strides(), offset());
  Shape shape = this->shape();
  Strides st = strides();
  shape.erase(shape.begin() + d);
  st.erase(st.begin() + d);
  return make_view(*this, shape, st, offset());
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape shape = this->shape();
  Strides st = strides();
  const int64_t s = d < dim() ? shape[d] * st[d] : 1;
  shape.insert(shape.begin() + d, 1);
  st.insert(st.begin() + d, s);
  return make_view(*this, shape, st, offset());
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  start_dim = wrap_dim(start_dim, dim(), "flatten");
  end_dim = wrap_dim(end_dim, dim(), "flatten");
  ANVIL_CHECK(start_dim <= end_dim, "flatten: start_dim {} must not come after end_dim {}",
              start_dim, end_dim);
  Shape shape(this->shape().begin(), this->shape().begin() + start_dim);
  int64_t n = 1;
  for (int64_t i = start_dim; i <= end_dim; ++i) n *= this->shape()[i];
  shape.push_back(n);
  shape.insert(shape.end(), this->shape().begin() + end_dim + 1, this->shape().end());
  return reshape(shape);
}

Tensor Tensor::unflatten(int64_t d, const Shape& sizes) const {
  ANVIL_CHECK(dim() > 0, "unflatten: cannot unflatten a 0-d tensor");
  d = wrap_dim(d, dim(), "unflatten");
  Shape shape(this->shape().begin(), this->shape().begin() + d);
  shape.insert(shape.end(), sizes.begin(), sizes.end());
  shape.insert(shape.end(), this->shape().begin() + d + 1, this->shape().end());
  return view(shape);
}

Tensor Tensor::as_strided(const Shape& shape, const Strides& st, std::optional<int64_t> off) const {
  ANVIL_CHECK(shape.size() == st.size(), "as_strided: shape {} and strides {} differ in length",
              shape_str(shape), shape_str(st));
  const int64_t offset_el = off.value_or(offset());
  int64_t max_el = offset_el;
  for (size_t i = 0; i < shape.size(); ++i) {
    ANVIL_CHECK(shape[i] >= 0 && st[i] >= 0, "as_strided: negative size or stride in {} / {}",
                shape_str(shape), shape_str(st));
    if (shape[i] == 0) max_el = -1;
    if (max_el >= 0) max_el += (shape[i] - 1) * st[i];
  }
  const int64_t capacity = static_cast<int64_t>(storage()->nbytes()) / element_size();
  ANVIL_CHECK_INDEX(offset_el >= 0 && max_el < capacity,
                    "as_strided: shape {} strides {} offset {} reach element {} but the storage "
                    "holds {} elements",
                    shape_str(shape), shape_str(st), offset_el, max_el, capacity);
  return make_view(*this, shape, st, offset_el);
}

Tensor Tensor::movedim(int64_t source, int64_t destination) const {
  const int64_t n = dim();
  source = wrap_dim(source, n, "movedim");
  destination = wrap_dim(destination, n, "movedim");
  std::vector<int64_t> order;
  for (int64_t i = 0; i < n; ++i)
    if (i != source) order.push_back(i);
  order.insert(order.begin() + destination, source);
  return permute(order);
}

Tensor Tensor::diagonal(int64_t off, int64_t dim1, int64_t dim2) const {
  ANVIL_CHECK(dim() >= 2, "diagonal: expects at least 2 dims, got {}", describe());
  dim1 = wrap_dim(dim1, dim(), "diagonal");
  dim2 = wrap_dim(dim2, dim(), "diagonal");
  ANVIL_CHECK(dim1 != dim2, "diagonal: dim1 and dim2 must differ, both are {}", dim1);
  int64_t storage_off = offset();
  int64_t len;
  if (off >= 0) {
    len = std::max<int64_t>(std::min(shape()[dim1], shape()[dim2] - off), 0);
    if (len > 0) storage_off += off * strides()[dim2];
  } else {
    len = std::max<int64_t>(std::min(shape()[dim1] + off, shape()[dim2]), 0);
    if (len > 0) storage_off -= off * strides()[dim1];
  }
  Shape shape;
  Strides st;
  for (int64_t i = 0; i < dim(); ++i) {
    if (i == dim1 || i == dim2) continue;
    shape.push_back(this->shape()[i]);
    st.push_back(strides()[i]);
  }
  shape.push_back(len);
  st.push_back(strides()[dim1] + strides()[dim2]);
  return make_view(*this, shape, st, storage_off);
}

}  // namespace anvil
