// Golden files made by the scripts in tests/golden (PyTorch for the expected values): blocks of
//   <name> <ndim> <size...>
//   <values, row-major>
#pragma once

#include <map>
#include <string>
#include <vector>

#include "nn/module.h"
#include "tensor/tensor.h"

namespace anvil::testing {

using Golden = std::map<std::string, Tensor>;

// Reads tests/golden/<file> into float64 tensors by name.
Golden load_golden(const std::string& file);

// The lines of tests/golden/<file> (the scripts' lists of state-dict names and shapes).
std::vector<std::string> golden_lines(const std::string& file);

// "<name> <size...>" per state-dict entry of `model`, in order, as those lists write PyTorch's.
std::vector<std::string> state_dict_entries(const nn::Module& model);

// |actual - expected| <= atol + rtol * |expected| elementwise; a gtest failure names `what`.
void expect_close(const Tensor& actual, const Tensor& expected, double rtol, double atol,
                  const std::string& what);

}  // namespace anvil::testing
