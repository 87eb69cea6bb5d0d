// Losses: cross_entropy (fused softmax + cross-entropy forward and backward), nll_loss, mse_loss, l1_loss, smooth_l1_loss, binary_cross_entropy(_with_logits).
#pragma once

#include "tensor/tensor.h"

namespace anvil {

namespace ops {

#include "tensor/ops/loss.inc"  // IWYU pragma: export

}  // namespace ops

#define ANVIL_LOSS_OPS(X)

}  // namespace anvil
