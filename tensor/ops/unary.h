#pragma once

#include "tensor/tensor.h"

namespace anvil {

#define ANVIL_UNARY_OPS(X)

}  // namespace anvil
