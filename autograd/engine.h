// The backward engine: collects the nodes reachable from the roots, then runs each once all the
// gradients flowing into it have arrived, latest-recorded first (reverse tape order), summing the
// gradients that meet at one input.
#pragma once

#include <vector>

#include "tensor/tensor.h"

namespace anvil::autograd {

// Accumulates d(roots)/d(leaf) · grad_outputs into the .grad() of every leaf that requires grad.
// A grad_output may be undefined only for a one-element root (it is then 1). Without
// retain_graph the saved tensors are freed on the way, so a second backward is an error.
// create_graph (a differentiable backward) is not supported yet.
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_outputs = {},
              bool retain_graph = false, bool create_graph = false);

// The gradients of `outputs` with respect to `inputs` (which must require grad), without touching
// any .grad(). An input that the outputs do not depend on gets an undefined tensor when
// allow_unused, else it is an error.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool allow_unused = false);

}  // namespace anvil::autograd
