// Helpers that backward functions share: undoing broadcasting and reductions.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace anvil::autograd {

// Sums `grad` down to `shape` (the shape of an input that was broadcast to grad's shape): over the
// leading dims grad has in excess and over the dims where `shape` has size 1. Returns grad itself
// when the shapes already agree.
Tensor sum_to(const Tensor& grad, const Shape& shape);

// The gradient of a reduction over `dims` of an input of shape `input_shape`: `grad` (the
// reduced result's gradient, keepdim or not) with the reduced dims put back as size 1, ready to
// broadcast against the input. Empty dims mean all dims, as in the reductions.
Tensor unsqueeze_reduced(const Tensor& grad, const Shape& input_shape,
                         const std::vector<int64_t>& dims, bool keepdim);

}  // namespace anvil::autograd
