// Helpers for the reference kernels: plain index loops, every element read and computed as a
// double. Slow and obviously correct is the point: they are the ground truth the tests compare
// the fast kernels against.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace anvil::ref {

// Element offset (in elements, from the storage base) of a multi-index.
inline int64_t offset_of(const Tensor& t, const std::vector<int64_t>& idx) {
  int64_t off = t.offset();
  for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * t.strides()[d];
  return off;
}

inline double load(const Tensor& t, int64_t element_offset) {
  const char* base = static_cast<const char*>(t.storage()->data());
  return visit_dtype(t.dtype(), [&]<class T>() -> double {
    return static_cast<double>(static_cast<acc_t<T>>(reinterpret_cast<const T*>(base)[element_offset]));
  });
}

inline void store(const Tensor& t, int64_t element_offset, double v) {
  char* base = static_cast<char*>(t.storage()->data());
  visit_dtype(t.dtype(), [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      reinterpret_cast<T*>(base)[element_offset] = v != 0.0;
    } else {
      reinterpret_cast<T*>(base)[element_offset] = static_cast<T>(static_cast<acc_t<T>>(v));
    }
  });
}

inline double load(const Tensor& t, const std::vector<int64_t>& idx) { return load(t, offset_of(t, idx)); }
inline void store(const Tensor& t, const std::vector<int64_t>& idx, double v) {
  store(t, offset_of(t, idx), v);
}

// Calls f(idx) for every multi-index of `shape` in row-major order (once for a 0-d shape).
template <class F>
void for_each_index(const Shape& shape, const F& f) {
  if (numel_of(shape) == 0) return;
  std::vector<int64_t> idx(shape.size(), 0);
  while (true) {
    f(idx);
    int64_t d = static_cast<int64_t>(shape.size()) - 1;
    for (; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

// out[idx] = f(in[idx]...) over same-shaped operands, computed in double.
template <class F, class... Ts>
void map(const Tensor& out, const F& f, const Ts&... in) {
  for_each_index(out.shape(), [&](const std::vector<int64_t>& idx) {
    store(out, idx, f(load(in, idx)...));
  });
}

}  // namespace anvil::ref
