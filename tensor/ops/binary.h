#pragma once

#include "tensor/tensor.h"

namespace anvil {

#define ANVIL_BINARY_OPS(X)

}  // namespace anvil
