// Pooling and resampling: max_pool2d (with indices), avg_pool2d, adaptive_avg_pool2d, interpolate (nearest, bilinear), and their backward kernels; embedding and dropout.
#pragma once

#include "tensor/tensor.h"

namespace anvil {

namespace ops {

#include "tensor/ops/pool.inc"  // IWYU pragma: export

}  // namespace ops

#define ANVIL_POOL_OPS(X)

}  // namespace anvil
