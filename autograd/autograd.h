// The user-facing autograd API in one include (op implementers also use function.h and
// saved_tensor.h).
#pragma once

#include "autograd/anomaly.h"
#include "autograd/autocast.h"
#include "autograd/checkpoint.h"
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
