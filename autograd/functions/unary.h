// The elementwise unary ops of the public API: the tensor-layer ops of tensor/ops/unary.h that
// record themselves on the autograd tape (their backward is written next to them, in unary.cpp).
#pragma once

#include "tensor/ops/unary.h"

namespace anvil {

#include "tensor/ops/unary.inc"  // IWYU pragma: export

// Not differentiable: the tensor-layer ops themselves.
using ops::logical_not;
using ops::logical_not_;

}  // namespace anvil
