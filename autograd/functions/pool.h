// The pool ops of the public API: the tensor-layer ops of tensor/ops/pool.h that record
// themselves on the autograd tape (their backward is written next to them, in pool.cpp).
#pragma once

#include "tensor/ops/pool.h"

namespace anvil {

#include "tensor/ops/pool.inc"  // IWYU pragma: export

}  // namespace anvil
