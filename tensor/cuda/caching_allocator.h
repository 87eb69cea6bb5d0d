// The CUDA caching allocator: CachingAllocatorCore (see caching_allocator_core.h for the rules)
// over cudaMalloc/cudaFree and CUDA events, one per device, registered as the allocator of
// DeviceType::cuda. Blocks belong to the current stream at allocation time.
#pragma once

#include "tensor/cuda/stream.h"
#include "tensor/tensor.h"

namespace anvil::cuda {

// Tells the allocator that `t`'s memory is used on `stream` (not the stream it was allocated
// on), so that freeing it does not let other work reuse it before that stream's work is done.
void record_stream(const Tensor& t, const Stream& stream);

// Returns every cached segment that holds no live tensor to the device (all devices by default).
void empty_cache(int device = -1);

// Segments held from the device by the allocator (for tests and memory reports).
size_t num_segments(int device);

}  // namespace anvil::cuda
