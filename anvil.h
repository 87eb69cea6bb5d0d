// The public API of anvil in one include.
#pragma once

#include "autograd/autograd.h"
#include "tensor/config.h"
#include "tensor/dispatch.h"
#include "tensor/generator.h"
#include "tensor/ops.h"
#include "tensor/tensor.h"
#include "tensor/threads.h"
