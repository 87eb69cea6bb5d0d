// Views of a tensor (the raw tensor-layer forms; see tensor/tensor.h for their meaning). The
// Tensor methods of the same names record them for autograd.
#pragma once

#include <optional>
#include <vector>

#include "tensor/tensor.h"

namespace anvil::ops {

Tensor view(const Tensor& self, const Shape& shape);
Tensor reshape(const Tensor& self, const Shape& shape);
Tensor permute(const Tensor& self, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& self, int64_t d0, int64_t d1);
Tensor t(const Tensor& self);
Tensor mT(const Tensor& self);
Tensor slice(const Tensor& self, int64_t dim, std::optional<int64_t> start,
             std::optional<int64_t> end, int64_t step);
Tensor narrow(const Tensor& self, int64_t dim, int64_t start, int64_t length);
Tensor select(const Tensor& self, int64_t dim, int64_t index);
Tensor expand(const Tensor& self, const Shape& shape);
Tensor squeeze(const Tensor& self);
Tensor squeeze(const Tensor& self, int64_t dim);
Tensor unsqueeze(const Tensor& self, int64_t dim);
Tensor flatten(const Tensor& self, int64_t start_dim, int64_t end_dim);
Tensor unflatten(const Tensor& self, int64_t dim, const Shape& sizes);
Tensor as_strided(const Tensor& self, const Shape& shape, const Strides& strides,
                  std::optional<int64_t> offset);
Tensor movedim(const Tensor& self, int64_t source, int64_t destination);
Tensor diagonal(const Tensor& self, int64_t offset, int64_t dim1, int64_t dim2);

}  // namespace anvil::ops
