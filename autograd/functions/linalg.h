// The linear algebra ops of the public API: the tensor-layer ops of tensor/ops/linalg.h that
// record themselves on the autograd tape (their backward is written next to them, in linalg.cpp).
#pragma once

#include "tensor/ops/linalg.h"

namespace anvil {

#include "tensor/ops/linalg.inc"  // IWYU pragma: export

}  // namespace anvil
