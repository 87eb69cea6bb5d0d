// Gradient clipping as torch.nn.utils.clip_grad_norm_ / clip_grad_value_. They live with the
// optimizer wrapper that applies them (clip_grad in an optim_wrapper config) but depend only on
// tensors, so a user's own loop may call them too.
#pragma once

#include <limits>
#include <vector>

#include "tensor/tensor.h"

namespace anvil::engine {

constexpr double kInfNorm = std::numeric_limits<double>::infinity();

// Scales every defined gradient by min(1, max_norm / (total_norm + 1e-6)), where total_norm is
// the norm_type-norm of all gradients together (kInfNorm: the largest absolute value). Returns
// total_norm (0 when no parameter has a gradient). A non-finite norm is an error only when
// error_if_nonfinite.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2,
                       bool error_if_nonfinite = false);

// Clamps every defined gradient into [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

}  // namespace anvil::engine
