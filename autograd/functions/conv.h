// The conv ops of the public API: the tensor-layer ops of tensor/ops/conv.h that record
// themselves on the autograd tape (their backward is written next to them, in conv.cpp).
#pragma once

#include "tensor/ops/conv.h"

namespace anvil {

#include "tensor/ops/conv.inc"  // IWYU pragma: export

}  // namespace anvil
