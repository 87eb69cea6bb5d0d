// Reference indexing kernels: the textbook definitions as plain index loops in double.
#include <cmath>
#include <vector>

#include "kernels/ref/ref_loops.h"
#include "tensor/dispatch.h"

namespace anvil::ref {

namespace {

using Index = std::vector<int64_t>;

void check_all(const Tensor& index, int64_t size, const char* op, int64_t dim) {
  for_each_index(index.shape(), [&](const Index& i) {
    const int64_t v = static_cast<int64_t>(load(index, i));
    ANVIL_CHECK_INDEX(v >= 0 && v < size, "{}: index {} is out of bounds for dim {} with size {}",
                      op, v, dim, size);
  });
}

void gather_kernel(const Tensor& out, const Tensor& self, int64_t dim, const Tensor& index) {
  check_all(index, self.size(dim), "gather", dim);
  for_each_index(index.shape(), [&](const Index& i) {
    Index from = i;
    from[dim] = static_cast<int64_t>(load(index, i));
    store(out, i, load(self, from));
  });
}

template <bool kAdd>
void scatter_kernel(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  check_all(index, self.size(dim), kAdd ? "scatter_add" : "scatter", dim);
  for_each_index(index.shape(), [&](const Index& i) {
    Index to = i;
    to[dim] = static_cast<int64_t>(load(index, i));
    store(self, to, (kAdd ? load(self, to) : 0.0) + load(src, i));
  });
}

void index_select_kernel(const Tensor& out, const Tensor& self, int64_t dim, const Tensor& index) {
  check_all(index, self.size(dim), "index_select", dim);
  for_each_index(out.shape(), [&](const Index& i) {
    Index from = i;
    from[dim] = static_cast<int64_t>(load(index, {i[dim]}));
    store(out, i, load(self, from));
  });
}

void index_add_kernel(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source,
                      const Scalar& alpha) {
  check_all(index, self.size(dim), "index_add", dim);
  // An integral tensor takes the integral part of alpha, as it would store it.
  const double a = is_floating(self.dtype()) ? alpha.to_double() : double(alpha.to<int64_t>());
  for_each_index(source.shape(), [&](const Index& i) {
    Index to = i;
    to[dim] = static_cast<int64_t>(load(index, {i[dim]}));
    store(self, to, load(self, to) + a * load(source, i));
  });
}

void masked_fill_kernel(const Tensor& self, const Tensor& mask, const Scalar& value) {
  for_each_index(self.shape(), [&](const Index& i) {
    if (load(mask, i) != 0) store(self, i, value.to_double());
  });
}

int64_t count_nonzero_kernel(const Tensor& self) {
  int64_t n = 0;
  for_each_index(self.shape(), [&](const Index& i) { n += load(self, i) != 0; });
  return n;
}

void masked_select_kernel(const Tensor& out, const Tensor& self, const Tensor& mask) {
  int64_t k = 0;
  for_each_index(self.shape(), [&](const Index& i) {
    if (load(mask, i) != 0) store(out, {k++}, load(self, i));
  });
}

void nonzero_kernel(const Tensor& out, const Tensor& self) {
  int64_t k = 0;
  for_each_index(self.shape(), [&](const Index& i) {
    if (load(self, i) == 0) return;
    for (int64_t d = 0; d < self.dim(); ++d) store(out, {k, d}, double(i[d]));
    ++k;
  });
}

template <bool kLower>
void triangle_kernel(const Tensor& out, const Tensor& self, int64_t diagonal) {
  for_each_index(self.shape(), [&](const Index& i) {
    const int64_t r = i[i.size() - 2], c = i.back();
    const bool keep = kLower ? c - r <= diagonal : c - r >= diagonal;
    store(out, i, keep ? load(self, i) : 0.0);
  });
}

// a before b in ascending order (NaN largest), or in descending order.
bool before(double a, double b, bool descending) {
  if (descending) std::swap(a, b);
  if (std::isnan(a)) return false;
  return std::isnan(b) || a < b;
}

// Stable insertion sort of each line along dim, writing the first values.size(dim) entries.
void sorted_lines(const Tensor& values, const Tensor& indices, const Tensor& self, int64_t dim,
                  bool descending) {
  Shape lines = self.shape();
  lines[dim] = 1;
  const int64_t n = self.size(dim);
  for_each_index(lines, [&](const Index& line) {
    std::vector<double> v;
    std::vector<int64_t> pos;
    Index i = line;
    for (int64_t j = 0; j < n; ++j) {
      i[dim] = j;
      const double x = load(self, i);
      int64_t at = static_cast<int64_t>(v.size());
      while (at > 0 && before(x, v[at - 1], descending)) --at;
      v.insert(v.begin() + at, x);
      pos.insert(pos.begin() + at, j);
    }
    for (int64_t j = 0; j < values.size(dim); ++j) {
      i[dim] = j;
      store(values, i, v[j]);
      store(indices, i, double(pos[j]));
    }
  });
}

void sort_kernel(const Tensor& values, const Tensor& indices, const Tensor& self, int64_t dim,
                 bool descending) {
  sorted_lines(values, indices, self, dim, descending);
}

void topk_kernel(const Tensor& values, const Tensor& indices, const Tensor& self, int64_t dim,
                 bool largest) {
  sorted_lines(values, indices, self, dim, largest);
}

}  // namespace

ANVIL_REGISTER_KERNEL(gather, ref, kAllTypes, gather_kernel);
ANVIL_REGISTER_KERNEL(scatter, ref, kAllTypes, scatter_kernel<false>);
ANVIL_REGISTER_KERNEL(scatter_add, ref, kAllTypes, scatter_kernel<true>);
ANVIL_REGISTER_KERNEL(index_select, ref, kAllTypes, index_select_kernel);
ANVIL_REGISTER_KERNEL(index_add, ref, kAllTypes, index_add_kernel);
ANVIL_REGISTER_KERNEL(masked_fill, ref, kAllTypes, masked_fill_kernel);
ANVIL_REGISTER_KERNEL(count_nonzero, ref, kAllTypes, count_nonzero_kernel);
ANVIL_REGISTER_KERNEL(masked_select, ref, kAllTypes, masked_select_kernel);
ANVIL_REGISTER_KERNEL(nonzero, ref, kAllTypes, nonzero_kernel);
ANVIL_REGISTER_KERNEL(tril, ref, kAllTypes, triangle_kernel<true>);
ANVIL_REGISTER_KERNEL(triu, ref, kAllTypes, triangle_kernel<false>);
ANVIL_REGISTER_KERNEL(sort, ref, kAllTypes, sort_kernel);
ANVIL_REGISTER_KERNEL(topk, ref, kNumericTypes, topk_kernel);

}  // namespace anvil::ref
