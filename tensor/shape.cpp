#include "tensor/shape.h"

#include "tensor/error.h"

namespace anvil {

std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ",")); }

int64_t numel_of(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Strides contiguous_strides(const Shape& s) {
  Strides st(s.size());
  int64_t acc = 1;
  for (int64_t d = static_cast<int64_t>(s.size()) - 1; d >= 0; --d) {
    st[d] = acc;
    acc *= std::max<int64_t>(s[d], 1);
  }
  return st;
}

bool is_contiguous_layout(const Shape& shape, const Strides& strides) {
  int64_t expected = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    if (shape[d] == 0) return true;
    if (shape[d] == 1) continue;
    if (strides[d] != expected) return false;
    expected *= shape[d];
  }
  return true;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      throw ValueError(fmt::format(
          "{}: shapes {} and {} cannot be broadcast: size {} != {} at dim {} (of the result)", op,
          shape_str(a), shape_str(b), da, db, i));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  const int64_t n = std::max<int64_t>(ndim, 1);
  if (dim < -n || dim >= n) {
    throw IndexError(fmt::format("{}: dim {} is out of range for a {}-d tensor (expected {} to {})",
                                 op, dim, ndim, -n, n - 1));
  }
  return dim < 0 ? dim + n : dim;
}

uint64_t dim_mask(const std::vector<int64_t>& dims, int64_t ndim, const char* op) {
  if (dims.empty()) return ndim == 0 ? 0 : (ndim >= 64 ? ~0ull : (1ull << ndim) - 1);
  uint64_t mask = 0;
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, ndim, op);
    if (mask & (1ull << w)) {
      throw ValueError(fmt::format("{}: dim {} appears more than once in dims [{}]", op, w,
                                   fmt::join(dims, ",")));
    }
    mask |= 1ull << w;
  }
  return ndim == 0 ? 0 : mask;  // a 0-d tensor has no dims to reduce
}

}  // namespace anvil
