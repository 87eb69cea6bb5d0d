// The norm ops of the public API: the tensor-layer ops of tensor/ops/norm.h that record
// themselves on the autograd tape (their backward is written next to them, in norm.cpp).
#pragma once

#include "tensor/ops/norm.h"

namespace anvil {

#include "tensor/ops/norm.inc"  // IWYU pragma: export

}  // namespace anvil
