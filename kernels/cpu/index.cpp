// CPU indexing kernels: gather / scatter, index_select / index_add, masks, nonzero, triangles,
// sort and topk. Indices are validated in a first pass (errors are collected across threads and
// thrown after the loop), so a bad index never writes anything.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/cpu/loops.h"
#include "tensor/dispatch.h"

namespace anvil::cpu {

namespace {

// Records the first index found outside [0, size) while threads scan, and throws IndexError
// for it once they are done (never from inside the parallel region).
class BoundsCheck {
 public:
  explicit BoundsCheck(int64_t size) : size_(size) {}
  bool in_range(int64_t k) {
    if (static_cast<uint64_t>(k) < static_cast<uint64_t>(size_)) return true;
    if (!found_.exchange(true)) bad_ = k;
    return false;
  }
  void throw_if_bad(const char* op, int64_t dim) const {
    ANVIL_CHECK_INDEX(!found_, "{}: index {} is out of bounds for dim {} with size {}", op, bad_,
                      dim, size_);
  }

 private:
  int64_t size_;
  std::atomic<bool> found_{false};
  int64_t bad_ = 0;
};

// Throws IndexError when an element of the i64 `index` lies outside [0, size).
void check_indices(const Tensor& index, int64_t size, const char* op, int64_t dim) {
  BoundsCheck check(size);
  for_each_row<1>({&index}, [&](char** p, const int64_t* s, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
      check.in_range(*reinterpret_cast<const int64_t*>(p[0] + i * s[0]));
  });
  check.throw_if_bad(op, dim);
}

// `t` seen with `shape` (no larger than t's in any dim but `dim`) and stride 0 along `dim`: the
// element an index selects is then `index * t.stride(dim)` away.
Tensor restride(const Tensor& t, const Shape& shape, int64_t dim) {
  Strides st = t.strides();
  st[dim] = 0;
  return t.as_strided(shape, st);
}

// Calls f(line, ptrs) for each line along `dim` of operands that agree in every size but dim's,
// lines numbered in row-major order of the other dims; ptrs[k] is operand k's first element of
// the line. Threads take whole lines, so writes through different lines never race.
template <int N, class F>
void for_each_line(const std::array<const Tensor*, N>& ts, int64_t dim, int64_t line_len,
                   const F& f) {
  std::vector<int64_t> sizes;
  std::vector<std::array<int64_t, N>> strides;
  int64_t lines = 1;
  for (int64_t d = 0; d < ts[0]->dim(); ++d) {
    if (d == dim) continue;
    sizes.push_back(ts[0]->size(d));
    std::array<int64_t, N> st;
    for (int k = 0; k < N; ++k) st[k] = ts[k]->stride(d) * ts[k]->element_size();
    strides.push_back(st);
    lines *= ts[0]->size(d);
  }
  char* base[N];
  for (int k = 0; k < N; ++k) base[k] = static_cast<char*>(ts[k]->raw_data());
  const int nd = static_cast<int>(sizes.size());
  const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, line_len));
  parallel_for(0, lines, grain, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> idx(nd);
    int64_t rest = begin;
    for (int d = nd - 1; d >= 0; --d) {
      idx[d] = rest % sizes[d];
      rest /= sizes[d];
    }
    for (int64_t line = begin; line < end; ++line) {
      char* ptrs[N];
      for (int k = 0; k < N; ++k) {
        ptrs[k] = base[k];
        for (int d = 0; d < nd; ++d) ptrs[k] += idx[d] * strides[d][k];
      }
      f(line, ptrs);
      for (int d = nd - 1; d >= 0; --d) {
        if (++idx[d] < sizes[d]) break;
        idx[d] = 0;
      }
    }
  });
}

// out[p] = src[p + index[p] * dim_stride] over same-shaped operands (src and index restrided):
// the common loop of gather and index_select. Indices are bounds-checked as they are read (the
// output is fresh, so an out-of-range index leaves nothing behind but the error, thrown after
// the parallel loop).
template <class T>
void gather_elements(const Tensor& out, const Tensor& src, const Tensor& index, int64_t dim_stride,
                     int64_t size, const char* op, int64_t dim) {
  const int64_t step = dim_stride * int64_t(sizeof(T));
  BoundsCheck check(size);
  for_each_row<3>({&out, &src, &index}, [&](char** p, const int64_t* s, int64_t n) {
    T* o = reinterpret_cast<T*>(p[0]);
    if (s[2] == 0 && s[0] == int64_t(sizeof(T)) && s[1] == int64_t(sizeof(T))) {
      // One index for the whole row (index_select): a contiguous copy.
      const int64_t k = *reinterpret_cast<const int64_t*>(p[2]);
      if (check.in_range(k)) std::memcpy(o, p[1] + k * step, static_cast<size_t>(n) * sizeof(T));
      return;
    }
    if (s[1] == 0 && s[0] == int64_t(sizeof(T)) && s[2] == 8) {
      // Contiguous out and index along the indexed dim (gather on the last dim, flip).
      const T* from = reinterpret_cast<const T*>(p[1]);
      const int64_t* ix = reinterpret_cast<const int64_t*>(p[2]);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t k = ix[i];
        if (check.in_range(k)) o[i] = from[k * dim_stride];
      }
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = *reinterpret_cast<const int64_t*>(p[2] + i * s[2]);
      if (check.in_range(k)) {
        *reinterpret_cast<T*>(p[0] + i * s[0]) =
            *reinterpret_cast<const T*>(p[1] + i * s[1] + k * step);
      }
    }
  });
  check.throw_if_bad(op, dim);
}

void gather_kernel(const Tensor& out, const Tensor& self, int64_t dim, const Tensor& index) {
  const Tensor src = restride(self, index.shape(), dim);
  visit_dtype(self.dtype(), [&]<class T>() {
    gather_elements<T>(out, src, index, self.stride(dim), self.size(dim), "gather", dim);
  });
}

void index_select_kernel(const Tensor& out, const Tensor& self, int64_t dim, const Tensor& index) {
  const Tensor src = restride(self, out.shape(), dim);
  Strides st(out.dim(), 0);
  st[dim] = index.stride(0);
  const Tensor idx = index.as_strided(out.shape(), st);
  visit_dtype(self.dtype(), [&]<class T>() {
    gather_elements<T>(out, src, idx, self.stride(dim), self.size(dim), "index_select", dim);
  });
}

// self[p + index[p] * self.stride(dim)] = (or +=) src[p], along lines of `dim` so that threads
// never write the same element.
template <bool kAdd>
void scatter_kernel(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  check_indices(index, self.size(dim), kAdd ? "scatter_add" : "scatter", dim);
  const Tensor dst = restride(self, index.shape(), dim);
  const Tensor from = src.as_strided(index.shape(), src.strides());
  visit_dtype(self.dtype(), [&]<class T>() {
    const int64_t step = self.stride(dim) * int64_t(sizeof(T));
    const int64_t is = index.stride(dim) * 8, ss = from.stride(dim) * int64_t(sizeof(T));
    const int64_t len = index.size(dim);
    for_each_line<3>({&dst, &index, &from}, dim, len, [&](int64_t, char** p) {
      for (int64_t j = 0; j < len; ++j) {
        T& d =
            *reinterpret_cast<T*>(p[0] + *reinterpret_cast<const int64_t*>(p[1] + j * is) * step);
        const T v = *reinterpret_cast<const T*>(p[2] + j * ss);
        if constexpr (kAdd) {
          d = cast_value<T>(acc_t<T>(d) + acc_t<T>(v));
        } else {
          d = v;
        }
      }
    });
  });
}

// One slice per index entry, in index order: repeated entries accumulate without races, and
// each slice add runs over memory in its own layout (rows of an embedding table stay rows).
void index_add_kernel(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source,
                      const Scalar& alpha) {
  check_indices(index, self.size(dim), "index_add", dim);
  const std::vector<int64_t> targets = index.to_vector<int64_t>();
  visit_dtype(self.dtype(), [&]<class T>() {
    const acc_t<T> a = alpha.to<acc_t<T>>();
    if (self.dim() == 1) {
      // Single-element slices: a plain loop, no per-entry views.
      T* d = static_cast<T*>(self.raw_data());
      const T* v = static_cast<const T*>(source.raw_data());
      const int64_t ds = self.stride(0), vs = source.stride(0);
      for (size_t j = 0; j < targets.size(); ++j) {
        T& t = d[targets[j] * ds];
        t = cast_value<T>(acc_t<T>(t) + a * acc_t<T>(v[int64_t(j) * vs]));
      }
      return;
    }
    for (size_t j = 0; j < targets.size(); ++j) {
      const Tensor dst = self.select(dim, targets[j]);
      const Tensor src = source.select(dim, static_cast<int64_t>(j));
      for_each_row<2>({&dst, &src}, [&](char** p, const int64_t* s, int64_t n) {
        if (s[0] == int64_t(sizeof(T)) && s[1] == int64_t(sizeof(T))) {
          T* d = reinterpret_cast<T*>(p[0]);
          const T* v = reinterpret_cast<const T*>(p[1]);
          for (int64_t i = 0; i < n; ++i) d[i] = cast_value<T>(acc_t<T>(d[i]) + a * acc_t<T>(v[i]));
          return;
        }
        for (int64_t i = 0; i < n; ++i) {
          T& d = *reinterpret_cast<T*>(p[0] + i * s[0]);
          d = cast_value<T>(acc_t<T>(d) +
                            a * acc_t<T>(*reinterpret_cast<const T*>(p[1] + i * s[1])));
        }
      });
    }
  });
}

void masked_fill_kernel(const Tensor& self, const Tensor& mask, const Scalar& value) {
  visit_dtype(self.dtype(), [&]<class T>() {
    const T v = value.to<T>();
    for_each_row<2>({&self, &mask}, [&](char** p, const int64_t* s, int64_t n) {
      if (s[0] == int64_t(sizeof(T)) && s[1] == 1) {
        T* o = reinterpret_cast<T*>(p[0]);
        const bool* m = reinterpret_cast<const bool*>(p[1]);
        for (int64_t i = 0; i < n; ++i) o[i] = m[i] ? v : o[i];
        return;
      }
      for (int64_t i = 0; i < n; ++i)
        if (*reinterpret_cast<const bool*>(p[1] + i * s[1]))
          *reinterpret_cast<T*>(p[0] + i * s[0]) = v;
    });
  });
}

int64_t count_nonzero_kernel(const Tensor& self) {
  std::atomic<int64_t> total{0};
  visit_dtype(self.dtype(), [&]<class T>() {
    for_each_row<1>({&self}, [&](char** p, const int64_t* s, int64_t n) {
      int64_t c = 0;
      for (int64_t i = 0; i < n; ++i)
        c += cast_value<bool>(*reinterpret_cast<const T*>(p[0] + i * s[0]));
      total += c;
    });
  });
  return total;
}

// Row-major order matters for the selections below: they run on one thread.
constexpr int64_t kSerial = std::numeric_limits<int64_t>::max();

void masked_select_kernel(const Tensor& out, const Tensor& self, const Tensor& mask) {
  visit_dtype(self.dtype(), [&]<class T>() {
    T* o = out.data_ptr<T>();
    const int64_t os = out.stride(0);
    for_each_row<2>(
        {&self, &mask},
        [&](char** p, const int64_t* s, int64_t n) {
          for (int64_t i = 0; i < n; ++i) {
            if (*reinterpret_cast<const bool*>(p[1] + i * s[1])) {
              *o = *reinterpret_cast<const T*>(p[0] + i * s[0]);
              o += os;
            }
          }
        },
        kSerial);
  });
}

void nonzero_kernel(const Tensor& out, const Tensor& self) {
  const int64_t nd = self.dim();
  int64_t* o = out.data_ptr<int64_t>();
  const int64_t row_stride = out.stride(0), col_stride = nd > 0 ? out.stride(1) : 0;
  visit_dtype(self.dtype(), [&]<class T>() {
    const T* base = static_cast<const T*>(self.raw_data());
    std::vector<int64_t> idx(nd, 0);
    int64_t off = 0;
    for (int64_t n = self.numel(); n > 0; --n) {
      if (cast_value<bool>(base[off])) {
        for (int64_t d = 0; d < nd; ++d) o[d * col_stride] = idx[d];
        o += row_stride;
      }
      for (int64_t d = nd - 1; d >= 0; --d) {
        off += self.stride(d);
        if (++idx[d] < self.size(d)) break;
        off -= idx[d] * self.stride(d);
        idx[d] = 0;
      }
    }
  });
}

template <bool kLower>
void triangle_kernel(const Tensor& out, const Tensor& self, int64_t diagonal) {
  const int64_t rows = self.size(-2), cols = self.size(-1), last = self.dim() - 1;
  visit_dtype(self.dtype(), [&]<class T>() {
    const int64_t os = out.stride(-1), ss = self.stride(-1);
    for_each_line<2>({&out, &self}, last, cols, [&](int64_t line, char** p) {
      T* o = reinterpret_cast<T*>(p[0]);
      const T* s = reinterpret_cast<const T*>(p[1]);
      const int64_t r = line % rows;
      // tril keeps columns c <= r + diagonal, triu keeps c >= r + diagonal.
      const int64_t split = std::clamp<int64_t>(kLower ? r + diagonal + 1 : r + diagonal, 0, cols);
      const int64_t keep_begin = kLower ? 0 : split, keep_end = kLower ? split : cols;
      if (os == 1 && ss == 1) {
        std::fill(o, o + cols, T(0));
        std::copy(s + keep_begin, s + keep_end, o + keep_begin);
        return;
      }
      for (int64_t c = 0; c < cols; ++c)
        o[c * os] = c >= keep_begin && c < keep_end ? s[c * ss] : T(0);
    });
  });
}

template <class V>
bool is_nan(V v) {
  if constexpr (std::is_floating_point_v<V>) {
    return std::isnan(v);
  } else {
    return false;
  }
}

// Whether a goes before b: ascending puts NaN last, descending first.
template <class V>
bool goes_before(V a, V b, bool descending) {
  if (descending) return is_nan(a) ? !is_nan(b) : a > b;
  return is_nan(b) ? !is_nan(a) : a < b;
}

template <class T>
using Keyed = std::pair<acc_t<T>, int64_t>;

// Loads a line of `len` elements (byte stride `stride`) with their positions.
template <class T>
void load_line(std::vector<Keyed<T>>& buf, const char* p, int64_t stride, int64_t len) {
  buf.resize(static_cast<size_t>(len));
  for (int64_t j = 0; j < len; ++j)
    buf[j] = {acc_t<T>(*reinterpret_cast<const T*>(p + j * stride)), j};
}

template <class T>
void store_line(const std::vector<Keyed<T>>& buf, char* v, int64_t vs, char* i, int64_t is,
                int64_t len) {
  for (int64_t j = 0; j < len; ++j) {
    *reinterpret_cast<T*>(v + j * vs) = cast_value<T>(buf[j].first);
    *reinterpret_cast<int64_t*>(i + j * is) = buf[j].second;
  }
}

void sort_kernel(const Tensor& values, const Tensor& indices, const Tensor& self, int64_t dim,
                 bool descending) {
  visit_dtype(self.dtype(), [&]<class T>() {
    const int64_t len = self.size(dim), ss = self.stride(dim) * int64_t(sizeof(T));
    const int64_t vs = values.stride(dim) * int64_t(sizeof(T)), is = indices.stride(dim) * 8;
    for_each_line<3>({&values, &indices, &self}, dim, len, [&](int64_t, char** p) {
      thread_local std::vector<Keyed<T>> buf;
      load_line<T>(buf, p[2], ss, len);
      std::stable_sort(buf.begin(), buf.end(), [descending](const Keyed<T>& a, const Keyed<T>& b) {
        return goes_before(a.first, b.first, descending);
      });
      store_line<T>(buf, p[0], vs, p[1], is, len);
    });
  });
}

void topk_kernel(const Tensor& values, const Tensor& indices, const Tensor& self, int64_t dim,
                 bool largest) {
  visit_dtype(self.dtype(), [&]<class T>() {
    const int64_t len = self.size(dim), ss = self.stride(dim) * int64_t(sizeof(T));
    const int64_t k = values.size(dim);
    const int64_t vs = values.stride(dim) * int64_t(sizeof(T)), is = indices.stride(dim) * 8;
    for_each_line<3>({&values, &indices, &self}, dim, len, [&](int64_t, char** p) {
      thread_local std::vector<Keyed<T>> buf;
      load_line<T>(buf, p[2], ss, len);
      // A strict total order (ties by position), so the partial sort is deterministic.
      std::partial_sort(buf.begin(), buf.begin() + k, buf.end(),
                        [largest](const Keyed<T>& a, const Keyed<T>& b) {
                          if (goes_before(a.first, b.first, largest)) return true;
                          if (goes_before(b.first, a.first, largest)) return false;
                          return a.second < b.second;
                        });
      store_line<T>(buf, p[0], vs, p[1], is, k);
    });
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(gather, cpu, kAllTypes, gather_kernel);
ANVIL_REGISTER_KERNEL(scatter, cpu, kAllTypes, scatter_kernel<false>);
ANVIL_REGISTER_KERNEL(scatter_add, cpu, kAllTypes, scatter_kernel<true>);
ANVIL_REGISTER_KERNEL(index_select, cpu, kAllTypes, index_select_kernel);
ANVIL_REGISTER_KERNEL(index_add, cpu, kAllTypes, index_add_kernel);
ANVIL_REGISTER_KERNEL(masked_fill, cpu, kAllTypes, masked_fill_kernel);
ANVIL_REGISTER_KERNEL(count_nonzero, cpu, kAllTypes, count_nonzero_kernel);
ANVIL_REGISTER_KERNEL(masked_select, cpu, kAllTypes, masked_select_kernel);
ANVIL_REGISTER_KERNEL(nonzero, cpu, kAllTypes, nonzero_kernel);
ANVIL_REGISTER_KERNEL(tril, cpu, kAllTypes, triangle_kernel<true>);
ANVIL_REGISTER_KERNEL(triu, cpu, kAllTypes, triangle_kernel<false>);
ANVIL_REGISTER_KERNEL(sort, cpu, kAllTypes, sort_kernel);
ANVIL_REGISTER_KERNEL(topk, cpu, kNumericTypes, topk_kernel);

}  // namespace anvil::cpu
