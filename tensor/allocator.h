// Allocators own device memory. Each device type has one; storages keep a pointer to the one
// that made their buffer and return it there.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/device.h"

namespace anvil {

struct MemoryStats {
  int64_t allocated = 0;       // bytes in live tensors
  int64_t reserved = 0;        // bytes held from the system (>= allocated for caching allocators)
  int64_t peak_allocated = 0;  // high-water mark of `allocated` since the last reset
  int64_t num_allocs = 0;      // allocations served
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes, Device device) = 0;
  virtual void deallocate(void* ptr, size_t nbytes, Device device) = 0;
  virtual MemoryStats stats(Device device) const = 0;
  virtual void reset_peak(Device device) = 0;
  // Returns cached, unused memory to the system.
  virtual void empty_cache(Device device) {}
};

// The host allocator: 64-byte aligned; blocks of 1 MiB and more are 2 MiB aligned, backed by
// transparent huge pages where the kernel allows, and cached for reuse when freed (up to
// ANVIL_CPU_CACHE_MB, default 2048; 0 turns the cache off), so that a training step that frees
// and reallocates the same large activations does not pay page faults every time.
Allocator* cpu_allocator();

// The allocator for a device (the CUDA caching allocator for cuda devices); throws when anvil was
// built without CUDA.
Allocator* allocator_for(Device device);

// Device backends (CUDA) install their allocator at load time.
void register_allocator(DeviceType type, Allocator* allocator);

MemoryStats memory_stats(Device device);
void reset_peak_memory_stats(Device device);
void empty_cache(Device device);

}  // namespace anvil
