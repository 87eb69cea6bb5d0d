// The nn layer in one include: Module, layers, init, optimizers.
#pragma once

#include "nn/init.h"
#include "nn/models/llama.h"
#include "nn/models/resnet.h"
#include "nn/module.h"
#include "nn/modules/activation.h"
#include "nn/modules/attention.h"
#include "nn/modules/container.h"
#include "nn/modules/conv.h"
#include "nn/modules/dropout.h"
#include "nn/modules/linear.h"
#include "nn/modules/normalization.h"
#include "nn/modules/pooling.h"
#include "nn/optim/adam.h"
#include "nn/optim/sgd.h"
#include "nn/serialize.h"
