// The reduction ops of the public API: the tensor-layer ops of tensor/ops/reduce.h that
// record themselves on the autograd tape (their backward is written next to them, in reduce.cpp).
#pragma once

#include "tensor/ops/reduce.h"

namespace anvil {

#include "tensor/ops/reduce.inc"  // IWYU pragma: export

// Not differentiable: the tensor-layer ops themselves.
using ops::all;
using ops::any;
using ops::argmax;
using ops::argmin;

}  // namespace anvil
