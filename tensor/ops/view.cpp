// Views: a new TensorImpl over the same storage with other shape, strides and offset; they never
// copy (reshape copies only when no view can express the result). The raw tensor-layer forms; the
// Tensor methods (autograd/functions/view.cpp) record them for autograd.
#include "tensor/ops/view.h"

#include <algorithm>

#include "tensor/ops/copy.h"

namespace anvil::ops {

namespace {

Tensor make_view(const Tensor& base, Shape shape, Strides strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  impl->storage = base.storage();
  impl->is_view = true;
  return Tensor(std::move(impl));
}

// Replaces one -1 in `shape` by the size that keeps `numel` elements.
Shape infer_size(const char* op, const Tensor& t, Shape shape) {
  int64_t known = 1;
  int infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      ANVIL_CHECK(infer_at < 0, "{}: only one dimension can be -1, got shape {}", op,
                  shape_str(shape));
      infer_at = static_cast<int>(i);
    } else {
      ANVIL_CHECK(shape[i] >= 0, "{}: invalid size {} in shape {}", op, shape[i], shape_str(shape));
      known *= shape[i];
    }
  }
  const int64_t n = t.numel();
  if (infer_at >= 0) {
    ANVIL_CHECK(known != 0 && n % known == 0, "{}: shape {} is invalid for {} with {} elements", op,
                shape_str(shape), t.describe(), n);
    shape[infer_at] = n / known;
  } else {
    ANVIL_CHECK(known == n, "{}: shape {} is invalid for {} with {} elements", op, shape_str(shape),
                t.describe(), n);
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

Tensor view(const Tensor& self, const Shape& shape_in) {
  const Shape shape = infer_size("view", self, shape_in);
  auto st = view_strides(self.shape(), self.strides(), shape);
  ANVIL_CHECK(st.has_value(),
              "view: cannot view {} with strides {} as shape {} without copying; use reshape() "
              "(which copies when needed) or call contiguous() first",
              self.describe(), shape_str(self.strides()), shape_str(shape));
  return make_view(self, shape, *st, self.offset());
}

Tensor reshape(const Tensor& self, const Shape& shape_in) {
  const Shape shape = infer_size("reshape", self, shape_in);
  if (auto st = view_strides(self.shape(), self.strides(), shape))
    return make_view(self, shape, *st, self.offset());
  return view(contiguous(self), shape);
}

Tensor permute(const Tensor& self, const std::vector<int64_t>& dims) {
  const int64_t n = self.dim();
  ANVIL_CHECK(static_cast<int64_t>(dims.size()) == n, "permute: {} needs {} dims, got [{}]",
              self.describe(), n, fmt::join(dims, ","));
  Shape shape(n);
  Strides st(n);
  std::vector<bool> seen(n, false);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t d = wrap_dim(dims[i], n, "permute");
    ANVIL_CHECK(!seen[d], "permute: dim {} repeats in [{}]", d, fmt::join(dims, ","));
    seen[d] = true;
    shape[i] = self.shape()[d];
    st[i] = self.strides()[d];
  }
  return make_view(self, shape, st, self.offset());
}

Tensor transpose(const Tensor& self, int64_t d0, int64_t d1) {
  const int64_t n = self.dim();
  if (n == 0) return make_view(self, self.shape(), self.strides(), self.offset());
  d0 = wrap_dim(d0, n, "transpose");
  d1 = wrap_dim(d1, n, "transpose");
  Shape shape = self.shape();
  Strides st = self.strides();
  std::swap(shape[d0], shape[d1]);
  std::swap(st[d0], st[d1]);
  return make_view(self, shape, st, self.offset());
}

Tensor t(const Tensor& self) {
  ANVIL_CHECK(self.dim() <= 2, "t: expects a tensor with at most 2 dims, got {}", self.describe());
  return self.dim() < 2 ? transpose(self, 0, 0) : transpose(self, 0, 1);
}

Tensor mT(const Tensor& self) {
  ANVIL_CHECK(self.dim() >= 2, "mT: expects a tensor with at least 2 dims, got {}",
              self.describe());
  return transpose(self, -2, -1);
}

Tensor slice(const Tensor& self, int64_t d, std::optional<int64_t> start_in,
             std::optional<int64_t> end_in, int64_t step) {
  ANVIL_CHECK(self.dim() > 0, "slice: cannot slice a 0-d tensor");
  d = wrap_dim(d, self.dim(), "slice");
  ANVIL_CHECK(step > 0, "slice: step must be positive, got {}", step);
  const int64_t size = self.shape()[d];
  auto clampi = [&](int64_t v) {
    if (v < 0) v += size;
    return std::clamp<int64_t>(v, 0, size);
  };
  const int64_t start = clampi(start_in.value_or(0));
  const int64_t end = std::max(start, clampi(end_in.value_or(size)));
  Shape shape = self.shape();
  Strides st = self.strides();
  shape[d] = (end - start + step - 1) / step;
  const int64_t off = self.offset() + start * st[d];
  st[d] *= step;
  return make_view(self, shape, st, off);
}

Tensor narrow(const Tensor& self, int64_t d, int64_t start, int64_t length) {
  ANVIL_CHECK(self.dim() > 0, "narrow: cannot narrow a 0-d tensor");
  d = wrap_dim(d, self.dim(), "narrow");
  const int64_t size = self.shape()[d];
  if (start < 0) start += size;
  ANVIL_CHECK_INDEX(start >= 0 && length >= 0 && start + length <= size,
                    "narrow: start {} and length {} out of range for dim {} of size {} in {}",
                    start, length, d, size, self.describe());
  return slice(self, d, start, start + length, 1);
}

Tensor select(const Tensor& self, int64_t d, int64_t index) {
  ANVIL_CHECK(self.dim() > 0, "select: cannot select on a 0-d tensor");
  d = wrap_dim(d, self.dim(), "select");
  const int64_t size = self.shape()[d];
  ANVIL_CHECK_INDEX(index >= -size && index < size,
                    "select: index {} is out of range for dim {} of size {} in {}", index, d, size,
                    self.describe());
  if (index < 0) index += size;
  Shape shape = self.shape();
  Strides st = self.strides();
  const int64_t off = self.offset() + index * st[d];
  shape.erase(shape.begin() + d);
  st.erase(st.begin() + d);
  return make_view(self, shape, st, off);
}

Tensor expand(const Tensor& self, const Shape& target) {
  const int64_t n = static_cast<int64_t>(target.size());
  ANVIL_CHECK(n >= self.dim(), "expand: cannot expand {} to fewer dims {}", self.describe(),
              shape_str(target));
  Shape shape(n);
  Strides st(n);
  for (int64_t i = n - 1; i >= 0; --i) {
    const int64_t j = i - (n - self.dim());
    const int64_t have = j >= 0 ? self.shape()[j] : 1;
    const int64_t want = target[i] == -1 ? have : target[i];
    ANVIL_CHECK(j >= 0 || target[i] != -1,
                "expand: -1 is not allowed for a new leading dim, got {}", shape_str(target));
    if (j >= 0 && have == want) {
      shape[i] = have;
      st[i] = self.strides()[j];
    } else {
      ANVIL_CHECK(
          have == 1 && want >= 0,
          "expand: {} cannot be expanded to {}: size {} at dim {} must be 1 to expand to {}",
          self.describe(), shape_str(target), have, j, want);
      shape[i] = want;
      st[i] = 0;
    }
  }
  return make_view(self, shape, st, self.offset());
}

Tensor squeeze(const Tensor& self) {
  Shape shape;
  Strides st;
  for (int64_t i = 0; i < self.dim(); ++i) {
    if (self.shape()[i] != 1) {
      shape.push_back(self.shape()[i]);
      st.push_back(self.strides()[i]);
    }
  }
  return make_view(self, shape, st, self.offset());
}

Tensor squeeze(const Tensor& self, int64_t d) {
  if (self.dim() == 0) return make_view(self, self.shape(), self.strides(), self.offset());
  d = wrap_dim(d, self.dim(), "squeeze");
  if (self.shape()[d] != 1) return make_view(self, self.shape(), self.strides(), self.offset());
  Shape shape = self.shape();
  Strides st = self.strides();
  shape.erase(shape.begin() + d);
  st.erase(st.begin() + d);
  return make_view(self, shape, st, self.offset());
}

Tensor unsqueeze(const Tensor& self, int64_t d) {
  d = wrap_dim(d, self.dim() + 1, "unsqueeze");
  Shape shape = self.shape();
  Strides st = self.strides();
  const int64_t s = d < self.dim() ? shape[d] * st[d] : 1;
  shape.insert(shape.begin() + d, 1);
  st.insert(st.begin() + d, s);
  return make_view(self, shape, st, self.offset());
}

Tensor flatten(const Tensor& self, int64_t start_dim, int64_t end_dim) {
  if (self.dim() == 0) return reshape(self, {1});
  start_dim = wrap_dim(start_dim, self.dim(), "flatten");
  end_dim = wrap_dim(end_dim, self.dim(), "flatten");
  ANVIL_CHECK(start_dim <= end_dim, "flatten: start_dim {} must not come after end_dim {}",
              start_dim, end_dim);
  Shape shape(self.shape().begin(), self.shape().begin() + start_dim);
  int64_t n = 1;
  for (int64_t i = start_dim; i <= end_dim; ++i) n *= self.shape()[i];
  shape.push_back(n);
  shape.insert(shape.end(), self.shape().begin() + end_dim + 1, self.shape().end());
  return reshape(self, shape);
}

Tensor unflatten(const Tensor& self, int64_t d, const Shape& sizes) {
  ANVIL_CHECK(self.dim() > 0, "unflatten: cannot unflatten a 0-d tensor");
  d = wrap_dim(d, self.dim(), "unflatten");
  Shape shape(self.shape().begin(), self.shape().begin() + d);
  shape.insert(shape.end(), sizes.begin(), sizes.end());
  shape.insert(shape.end(), self.shape().begin() + d + 1, self.shape().end());
  return view(self, shape);
}

Tensor as_strided(const Tensor& self, const Shape& shape, const Strides& st,
                  std::optional<int64_t> off) {
  ANVIL_CHECK(shape.size() == st.size(), "as_strided: shape {} and strides {} differ in length",
              shape_str(shape), shape_str(st));
  const int64_t offset_el = off.value_or(self.offset());
  int64_t max_el = offset_el;
  for (size_t i = 0; i < shape.size(); ++i) {
    ANVIL_CHECK(shape[i] >= 0 && st[i] >= 0, "as_strided: negative size or stride in {} / {}",
                shape_str(shape), shape_str(st));
    if (shape[i] == 0) max_el = -1;
    if (max_el >= 0) max_el += (shape[i] - 1) * st[i];
  }
  const int64_t capacity = static_cast<int64_t>(self.storage()->nbytes()) / self.element_size();
  ANVIL_CHECK_INDEX(offset_el >= 0 && max_el < capacity,
                    "as_strided: shape {} strides {} offset {} reach element {} but the storage "
                    "holds {} elements",
                    shape_str(shape), shape_str(st), offset_el, max_el, capacity);
  return make_view(self, shape, st, offset_el);
}

Tensor movedim(const Tensor& self, int64_t source, int64_t destination) {
  const int64_t n = self.dim();
  source = wrap_dim(source, n, "movedim");
  destination = wrap_dim(destination, n, "movedim");
  std::vector<int64_t> order;
  for (int64_t i = 0; i < n; ++i)
    if (i != source) order.push_back(i);
  order.insert(order.begin() + destination, source);
  return permute(self, order);
}

Tensor diagonal(const Tensor& self, int64_t off, int64_t dim1, int64_t dim2) {
  ANVIL_CHECK(self.dim() >= 2, "diagonal: expects at least 2 dims, got {}", self.describe());
  dim1 = wrap_dim(dim1, self.dim(), "diagonal");
  dim2 = wrap_dim(dim2, self.dim(), "diagonal");
  ANVIL_CHECK(dim1 != dim2, "diagonal: dim1 and dim2 must differ, both are {}", dim1);
  int64_t storage_off = self.offset();
  int64_t len;
  if (off >= 0) {
    len = std::max<int64_t>(std::min(self.shape()[dim1], self.shape()[dim2] - off), 0);
    if (len > 0) storage_off += off * self.strides()[dim2];
  } else {
    len = std::max<int64_t>(std::min(self.shape()[dim1] + off, self.shape()[dim2]), 0);
    if (len > 0) storage_off -= off * self.strides()[dim1];
  }
  Shape shape;
  Strides st;
  for (int64_t i = 0; i < self.dim(); ++i) {
    if (i == dim1 || i == dim2) continue;
    shape.push_back(self.shape()[i]);
    st.push_back(self.strides()[i]);
  }
  shape.push_back(len);
  st.push_back(self.strides()[dim1] + self.strides()[dim2]);
  return make_view(self, shape, st, storage_off);
}

}  // namespace anvil::ops
