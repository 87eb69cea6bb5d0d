#pragma once

#include "tensor/tensor.h"

namespace anvil {

#define ANVIL_LINALG_OPS(X)

}  // namespace anvil
