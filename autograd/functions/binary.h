// The elementwise binary and ternary ops of the public API: the tensor-layer ops of
// tensor/ops/binary.h that record themselves on the autograd tape (their backward is written next
// to them, in binary.cpp).
#pragma once

#include "tensor/ops/binary.h"

namespace anvil {

#include "tensor/ops/binary.inc"  // IWYU pragma: export

// Not differentiable: the tensor-layer ops themselves.
using ops::eq;
using ops::ge;
using ops::gt;
using ops::le;
using ops::logical_and;
using ops::logical_or;
using ops::logical_xor;
using ops::lt;
using ops::ne;

}  // namespace anvil
