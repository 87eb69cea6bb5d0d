// The public API of anvil in one include.
#pragma once

#include "autograd/autograd.h"
#include "autograd/functions/binary.h"
#include "autograd/functions/index.h"
#include "autograd/functions/linalg.h"
#include "autograd/functions/reduce.h"
#include "autograd/functions/unary.h"
#include "tensor/config.h"
#include "tensor/dispatch.h"
#include "tensor/generator.h"
#include "tensor/ops/copy.h"
#include "tensor/ops/factory.h"
#include "tensor/ops/view.h"
#include "tensor/tensor.h"
#include "tensor/threads.h"
