#pragma once

#include "tensor/tensor.h"

namespace anvil {

#define ANVIL_REDUCE_OPS(X)

}  // namespace anvil
