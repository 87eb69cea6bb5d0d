// Golden files made by the scripts in tests/golden (PyTorch for the expected values): blocks of
//   <name> <ndim> <size...>
//   <values, row-major>
#pragma once

#include <map>
#include <string>

#include "tensor/tensor.h"

namespace anvil::testing {

using Golden = std::map<std::string, Tensor>;

// Reads tests/golden/<file> into float64 tensors by name.
Golden load_golden(const std::string& file);

}  // namespace anvil::testing
