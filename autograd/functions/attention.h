// The attention ops of the public API: the tensor-layer ops of tensor/ops/attention.h that
// record themselves on the autograd tape (their backward is written next to them, in
// attention.cpp).
#pragma once

#include "tensor/ops/attention.h"

namespace anvil {

#include "tensor/ops/attention.inc"  // IWYU pragma: export

}  // namespace anvil
