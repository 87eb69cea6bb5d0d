// Convolutions: conv2d (stride, padding incl. "same", dilation, groups, bias) with its backward-data and backward-weight kernels, and conv_transpose2d.
#pragma once

#include "tensor/tensor.h"

namespace anvil {

namespace ops {

#include "tensor/ops/conv.inc"  // IWYU pragma: export

}  // namespace ops

#define ANVIL_CONV_OPS(X)

}  // namespace anvil
