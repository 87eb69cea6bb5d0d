// Normalization: batch_norm (training with running statistics, eval), layer_norm, group_norm, rms_norm, with their backward kernels.
#pragma once

#include "tensor/tensor.h"

namespace anvil {

namespace ops {

#include "tensor/ops/norm.inc"  // IWYU pragma: export

}  // namespace ops

#define ANVIL_NORM_OPS(X)

}  // namespace anvil
