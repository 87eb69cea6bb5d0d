// CPU copy (any layouts, any dtypes) and fill.
#include <cstring>

#include "kernels/cpu/loops.h"
#include "tensor/dispatch.h"

namespace anvil::cpu {

namespace {

void fill_kernel(const Tensor& out, const Scalar& value) {
  visit_dtype(out.dtype(), [&]<class T>() {
    const T v = value.to<T>();
    map_elementwise<T>(out, [v]() { return v; });
  });
}

// Square tiles for copies whose source runs along a different dim than the destination (a
// transpose): reading and writing stay within a few cache lines per tile.
constexpr int64_t kTile = 32;

template <class T>
bool try_transpose_copy(const Tensor& dst, const Tensor& src) {
  const StridedLayout<2> L({&dst, &src});
  if (L.ndim != 2) return false;
  const int64_t es = sizeof(T);
  // dst walks dim 1 contiguously, src walks dim 0 contiguously.
  if (L.strides[0][1] != es || L.strides[1][0] != es) return false;
  const int64_t rows = L.sizes[0], cols = L.sizes[1];
  const int64_t dst_row = L.strides[0][0] / es, src_col = L.strides[1][1] / es;
  T* d = reinterpret_cast<T*>(L.base[0]);
  const T* s = reinterpret_cast<const T*>(L.base[1]);
  const int64_t row_tiles = (rows + kTile - 1) / kTile;
  parallel_for(0, row_tiles, std::max<int64_t>(1, kGrainSize / (kTile * cols)), [&](int64_t b, int64_t e) {
    for (int64_t rt = b; rt < e; ++rt) {
      const int64_t r0 = rt * kTile, r1 = std::min(rows, r0 + kTile);
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        const int64_t c1 = std::min(cols, c0 + kTile);
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t c = c0; c < c1; ++c) d[r * dst_row + c] = s[c * src_col + r];
      }
    }
  });
  return true;
}

void copy_kernel(const Tensor& dst, const Tensor& src) {
  if (dst.dtype() == src.dtype()) {
    if (dst.is_contiguous() && src.is_contiguous()) {
      char* d = static_cast<char*>(dst.raw_data());
      const char* s = static_cast<const char*>(src.raw_data());
      parallel_for(0, dst.nbytes(), 4 * kGrainSize, [&](int64_t b, int64_t e) {
        std::memcpy(d + b, s + b, static_cast<size_t>(e - b));
      });
      return;
    }
    const bool done = visit_dtype(dst.dtype(), [&]<class T>() { return try_transpose_copy<T>(dst, src); });
    if (done) return;
  }
  visit_dtype(dst.dtype(), [&]<class To>() {
    visit_dtype(src.dtype(), [&]<class From>() {
      map_elementwise<To, From>(dst, [](From v) { return cast_value<To>(v); }, src);
    });
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(fill, cpu, kAllTypes, fill_kernel);
ANVIL_REGISTER_KERNEL(copy, cpu, kAllTypes, copy_kernel);

}  // namespace anvil::cpu
