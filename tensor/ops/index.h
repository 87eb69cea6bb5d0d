#pragma once

#include "tensor/tensor.h"

namespace anvil {

#define ANVIL_INDEX_OPS(X)

}  // namespace anvil
