// The loss ops of the public API: the tensor-layer ops of tensor/ops/loss.h that record
// themselves on the autograd tape (their backward is written next to them, in loss.cpp).
#pragma once

#include "tensor/ops/loss.h"

namespace anvil {

#include "tensor/ops/loss.inc"  // IWYU pragma: export

}  // namespace anvil
