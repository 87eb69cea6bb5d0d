#include "tensor/allocator.h"

#include <atomic>
#include <cstdlib>
#include <new>

#include "tensor/error.h"

namespace anvil {

namespace {

// 64-byte alignment: a cache line, and what AVX-512 loads like.
constexpr size_t kAlignment = 64;

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device) override {
    if (nbytes == 0) return nullptr;
    const size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
    void* p = std::aligned_alloc(kAlignment, rounded);
    if (!p) {
      throw OutOfMemoryError(fmt::format("cpu allocator: out of memory allocating {} bytes "
                                         "({} bytes in use)", nbytes, allocated_.load()));
    }
    const int64_t now = allocated_.fetch_add(nbytes) + static_cast<int64_t>(nbytes);
    int64_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    num_allocs_.fetch_add(1);
    return p;
  }
  void deallocate(void* ptr, size_t nbytes, Device) override {
    if (!ptr) return;
    std::free(ptr);
    allocated_.fetch_sub(static_cast<int64_t>(nbytes));
  }
  MemoryStats stats(Device) const override {
    const int64_t a = allocated_.load();
    return {a, a, peak_.load(), num_allocs_.load()};
  }
  void reset_peak(Device) override { peak_.store(allocated_.load()); }

 private:
  std::atomic<int64_t> allocated_{0};
  std::atomic<int64_t> peak_{0};
  std::atomic<int64_t> num_allocs_{0};
};

// Constant-initialized, so registrations from other files' static initializers are never lost.
Allocator* g_allocators[kNumDeviceTypes] = {};

}  // namespace

Allocator* cpu_allocator() {
  static CpuAllocator* a = new CpuAllocator();  // never destroyed: tensors may outlive statics
  return a;
}

void register_allocator(DeviceType type, Allocator* allocator) {
  g_allocators[static_cast<int>(type)] = allocator;
}

Allocator* allocator_for(Device device) {
  if (device.is_cpu()) return cpu_allocator();
  Allocator* a = g_allocators[static_cast<int>(device.type)];
  if (!a) {
    throw NotSupportedError(fmt::format(
        "no allocator for {}: this build of anvil has no CUDA backend (configure with "
        "-DANVIL_CUDA=ON)", device.str()));
  }
  return a;
}

MemoryStats memory_stats(Device device) { return allocator_for(device)->stats(device); }
void reset_peak_memory_stats(Device device) { allocator_for(device)->reset_peak(device); }

}  // namespace anvil
