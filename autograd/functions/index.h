// The shape and indexing ops of the public API: the tensor-layer ops of tensor/ops/index.h that
// record themselves on the autograd tape (their backward is written next to them, in index.cpp).
#pragma once

#include "tensor/ops/index.h"

namespace anvil {

#include "tensor/ops/index.inc"  // IWYU pragma: export

// Not differentiable: the tensor-layer ops themselves.
using ops::argsort;
using ops::nonzero;
using ops::one_hot;

}  // namespace anvil
