// Gradient checking: the analytic gradient (backward) against float64 central differences.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace anvil::autograd {

using GradcheckFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

struct GradcheckResult {
  bool ok = true;
  std::string report;  // the mismatches, one a line (empty when ok)
  explicit operator bool() const { return ok; }
};

// For every element of every input that requires grad (f64 inputs), compares
// d output / d input from autograd::grad with (f(x + eps) - f(x - eps)) / (2 eps), for every
// output element: |analytic - numeric| <= atol + rtol * |numeric|. The report names the input,
// the element index, the output element and both values.
GradcheckResult gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs,
                          double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3);

}  // namespace anvil::autograd
