// Shape and indexing ops: concatenation, splitting, padding, flips and rolls, repeats, gather /
// scatter, index_select / index_add, masks, nonzero, one_hot, triangles, sort and topk.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace anvil {

namespace ops {

#include "tensor/ops/index.inc"  // IWYU pragma: export

Tensor nonzero(const Tensor& x);  // [n, x.dim()] i64, row-major order
// i64 [..., num_classes]; -1 infers max(index) + 1.
Tensor one_hot(const Tensor& index, int64_t num_classes = -1);
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false);

}  // namespace ops

// ---- kernels ----------------------------------------------------------------------------------
// Index tensors reaching a kernel are i64 and are bounds-checked by the kernel before it writes.

// out[i][j] = self[i][index[i][j]] (dim 1 shown); out and index have the same shape, and
// index.size(d) <= self.size(d) for d != dim.
using GatherKernel = void (*)(const Tensor& out, const Tensor& self, int64_t dim,
                              const Tensor& index);
// self[i][index[i][j]] = src[i][j] (scatter) or += (scatter_add); src is at least index's size
// (a Scalar value arrives as an expanded 0-d tensor).
using ScatterKernel = void (*)(const Tensor& self, int64_t dim, const Tensor& index,
                               const Tensor& src);
// out.select(dim, i) = self.select(dim, index[i]); index is 1-D.
using IndexSelectKernel = void (*)(const Tensor& out, const Tensor& self, int64_t dim,
                                   const Tensor& index);
// self.select(dim, index[i]) += alpha * source.select(dim, i); index is 1-D.
using IndexAddKernel = void (*)(const Tensor& self, int64_t dim, const Tensor& index,
                                const Tensor& source, const Scalar& alpha);
// self[i] = value where mask[i]; mask is bool with self's shape (possibly expanded).
using MaskedFillKernel = void (*)(const Tensor& self, const Tensor& mask, const Scalar& value);
// The number of nonzero elements of self.
using CountNonzeroKernel = int64_t (*)(const Tensor& self);
// out (1-D, count_nonzero(mask) long) = self[mask] in row-major order; same shapes.
using MaskedSelectKernel = void (*)(const Tensor& out, const Tensor& self, const Tensor& mask);
// out [count_nonzero(self), self.dim()] = the indices of the nonzero elements.
using NonzeroKernel = void (*)(const Tensor& out, const Tensor& self);
// out = self with the elements above (tril) / below (triu) `diagonal` of the last two dims zeroed.
using TriangleKernel = void (*)(const Tensor& out, const Tensor& self, int64_t diagonal);
// values / indices (i64) have self's shape: each line along dim, stably sorted.
using SortKernel = void (*)(const Tensor& values, const Tensor& indices, const Tensor& self,
                            int64_t dim, bool descending);
// values / indices have self's shape except size k along dim: the k largest (smallest) of each
// line, in order, ties lowest index first.
using TopkKernel = void (*)(const Tensor& values, const Tensor& indices, const Tensor& self,
                            int64_t dim, bool largest);

#define ANVIL_INDEX_OPS(X)             \
  X(gather, GatherKernel)              \
  X(scatter, ScatterKernel)            \
  X(scatter_add, ScatterKernel)        \
  X(index_select, IndexSelectKernel)   \
  X(index_add, IndexAddKernel)         \
  X(masked_fill, MaskedFillKernel)     \
  X(count_nonzero, CountNonzeroKernel) \
  X(masked_select, MaskedSelectKernel) \
  X(nonzero, NonzeroKernel)            \
  X(tril, TriangleKernel)              \
  X(triu, TriangleKernel)              \
  X(sort, SortKernel)                  \
  X(topk, TopkKernel)

}  // namespace anvil
