// Shape and indexing ops: concatenation, splitting, padding, flips and rolls, repeats, gather /
// scatter, index_select / index_add, masks, nonzero, one_hot, triangles, sort and topk.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace anvil {

// ---- composed from views and copies ---------------------------------------------------------

// Concatenates along `dim`; the result dtype promotes over all inputs. 1-D tensors of size 0 are
// skipped (PyTorch's legacy empty tensors).
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Views of `x`: pieces of `split_size` (the last may be smaller), or of the given sizes.
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
// At most `chunks` views of ceil(size / chunks) elements each (fewer when that divides early).
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
std::vector<Tensor> unbind(const Tensor& x, int64_t dim = 0);
// As F.pad: `pads` pairs (left, right) from the last dim backwards; negative pads crop.
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode = PadMode::constant,
           double value = 0);
Tensor flip(const Tensor& x, const std::vector<int64_t>& dims);
// Without dims, rolls the flattened tensor and restores its shape.
Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts,
            const std::vector<int64_t>& dims = {});
Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats);
Tensor tile(const Tensor& x, const std::vector<int64_t>& reps);

// ---- indexing (kernels) -----------------------------------------------------------------------

// Index tensors are i64 (index_select and index_add also take i32). Out-of-range indices throw
// IndexError before anything is written.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Scalar& value);
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source,
                 const Scalar& alpha = 1);
// The mask (bool) broadcasts with x; the result has the broadcast shape.
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Scalar& value);
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value);  // 0-d value
Tensor masked_select(const Tensor& x, const Tensor& mask);                     // 1-D
Tensor nonzero(const Tensor& x);  // [n, x.dim()] i64, row-major order
// i64 [..., num_classes]; -1 infers max(index) + 1.
Tensor one_hot(const Tensor& index, int64_t num_classes = -1);
Tensor tril(const Tensor& x, int64_t diagonal = 0);
Tensor triu(const Tensor& x, int64_t diagonal = 0);
// NaN counts as the largest value. Ties keep their input order (sort is always stable here, and
// topk returns tied elements lowest index first); topk's result is always sorted.
std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim = -1, bool descending = false,
                               bool stable = false);
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false);
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true,
                               bool sorted = true);

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
