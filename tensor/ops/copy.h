// Copies between layouts, dtypes and devices, and fills.
#pragma once

#include "tensor/tensor.h"

namespace anvil {

// Kernels. dst and src have the same shape and live on the same device; dtypes may differ.
using FillKernel = void (*)(const Tensor& out, const Scalar& value);
using CopyKernel = void (*)(const Tensor& dst, const Tensor& src);

#define ANVIL_COPY_OPS(X) \
  X(fill, FillKernel)     \
  X(copy, CopyKernel)

// A cross-device byte copy, provided by a device backend (CUDA) when it is built in.
// Copies `nbytes` of contiguous memory; waits for completion unless non_blocking.
using DeviceCopyFn = void (*)(void* dst, Device dst_device, const void* src, Device src_device,
                              size_t nbytes, bool non_blocking);
void register_device_copy(DeviceType type, DeviceCopyFn fn);

// The raw tensor-layer forms of the Tensor methods of the same names (autograd/functions/copy.cpp
// records them).
namespace ops {

Tensor& copy_(Tensor& self, const Tensor& src);
Tensor& fill_(Tensor& self, const Scalar& value);
Tensor& fill_(Tensor& self, const Tensor& value);
Tensor& zero_(Tensor& self);
Tensor contiguous(const Tensor& self);
Tensor clone(const Tensor& self);
Tensor to(const Tensor& self, DType dtype);
Tensor to(const Tensor& self, Device device, bool non_blocking);
Tensor to(const Tensor& self, Device device, DType dtype, bool non_blocking);

}  // namespace ops

}  // namespace anvil
