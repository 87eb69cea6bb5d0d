// Activation checkpointing: trade compute for memory. checkpoint(fn, inputs) runs fn without
// recording (so no activation inside it is kept), saving only the inputs and the random
// generators' offsets; backward runs fn again with grad enabled, the generators rewound (so
// random ops such as dropout draw the same numbers) and the forward's autocast state, and
// back-propagates through the recomputed graph. Tensors that fn uses without taking them as
// inputs (a module's parameters) get their gradients accumulated as in a plain run, provided some
// input requires grad (as PyTorch's reentrant checkpoint: otherwise nothing is recorded).
#pragma once

#include <functional>
#include <vector>

#include "tensor/tensor.h"

namespace anvil::autograd {

using CheckpointFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

std::vector<Tensor> checkpoint(const CheckpointFn& fn, const std::vector<Tensor>& inputs);

}  // namespace anvil::autograd
