// Shapes and strides (in elements), and the index arithmetic shared by every op front-end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace anvil {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

// "[2,3,4]"
std::string shape_str(const Shape& s);

int64_t numel_of(const Shape& s);

// Row-major strides of a contiguous tensor of this shape.
Strides contiguous_strides(const Shape& s);

// Whether (shape, strides) describes a row-major dense layout (size-1 dims may have any stride).
bool is_contiguous_layout(const Shape& shape, const Strides& strides);

// NumPy/PyTorch broadcasting of two shapes; throws naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Wraps a possibly negative dim into [0, ndim); throws IndexError naming `op`.
// For a 0-d tensor, dims -1 and 0 are accepted (as PyTorch does) and wrap to 0.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);

// A set of dims (reductions): wrapped, checked for duplicates, as a bit mask. Empty = all dims.
uint64_t dim_mask(const std::vector<int64_t>& dims, int64_t ndim, const char* op);

}  // namespace anvil
