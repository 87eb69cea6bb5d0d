// Page-locked ("pinned") host memory for data loading: copies from it to a device can run
// asynchronously (to(cuda, non_blocking=true)) and at full bus speed. Blocks are cached by size
// (powers of two) and reused once the copies that read or wrote them have completed.
#pragma once

#include "tensor/cuda/stream.h"
#include "tensor/tensor.h"

namespace anvil::cuda {

// A contiguous copy of the CPU tensor `t` in pinned memory; `t` itself when already pinned.
Tensor pin_memory(const Tensor& t);
// Whether `t` is a CPU tensor in pinned memory (false when no CUDA device is present).
bool is_pinned(const Tensor& t);

// Bytes of pinned memory allocated (in live tensors) and reserved (live + cached).
struct PinnedMemoryStats {
  size_t allocated = 0;
  size_t reserved = 0;
};
PinnedMemoryStats pinned_memory_stats();
// Frees the cached pinned blocks that hold no tensor and no pending copy.
void empty_pinned_cache();

// Copies use this: the pinned block containing `ptr` is used by work on `stream`, so it is
// reused only after that work completes. Does nothing when `ptr` is not from this allocator.
void record_pinned_use(const void* ptr, const Stream& stream);

}  // namespace anvil::cuda
