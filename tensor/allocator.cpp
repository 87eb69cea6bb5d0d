#include "tensor/allocator.h"

#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

#include "tensor/error.h"

namespace anvil {

namespace {

constexpr size_t kAlignment = 64;  // a cache line, and what AVX-512 loads like
constexpr size_t kLargeBlock = size_t(1) << 20;
constexpr size_t kHugePage = size_t(2) << 20;

size_t cache_limit_from_env() {
  if (const char* v = std::getenv("ANVIL_CPU_CACHE_MB")) {
    try {
      return static_cast<size_t>(std::stoll(v)) << 20;
    } catch (const std::exception&) {
    }
  }
  return size_t(2048) << 20;
}

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device) override {
    if (nbytes == 0) return nullptr;
    const size_t size = block_size(nbytes);
    void* p = size >= kLargeBlock ? take_cached(size) : nullptr;
    if (!p) p = allocate_fresh(size, nbytes);
    const int64_t now = allocated_.fetch_add(nbytes) + static_cast<int64_t>(nbytes);
    int64_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    num_allocs_.fetch_add(1);
    return p;
  }

  void deallocate(void* ptr, size_t nbytes, Device) override {
    if (!ptr) return;
    allocated_.fetch_sub(static_cast<int64_t>(nbytes));
    const size_t size = block_size(nbytes);
    if (size >= kLargeBlock) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_bytes_ + size <= cache_limit_) {
        cache_.emplace(size, ptr);
        cached_bytes_ += size;
        return;
      }
    }
    std::free(ptr);
  }

  MemoryStats stats(Device) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    const int64_t a = allocated_.load();
    return {a, a + static_cast<int64_t>(cached_bytes_), peak_.load(), num_allocs_.load()};
  }
  void reset_peak(Device) override { peak_.store(allocated_.load()); }

  void empty_cache(Device) override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, ptr] : cache_) std::free(ptr);
    cache_.clear();
    cached_bytes_ = 0;
  }

 private:
  static size_t block_size(size_t nbytes) {
    const size_t align = nbytes >= kLargeBlock ? kHugePage : kAlignment;
    return (nbytes + align - 1) / align * align;
  }

  void* take_cached(size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(size);
    if (it == cache_.end()) return nullptr;
    void* p = it->second;
    cache_.erase(it);
    cached_bytes_ -= size;
    return p;
  }

  void* allocate_fresh(size_t size, size_t nbytes) {
    const size_t align = size >= kLargeBlock ? kHugePage : kAlignment;
    void* p = std::aligned_alloc(align, size);
    if (!p) {
      empty_cache(Device::cpu());
      p = std::aligned_alloc(align, size);
    }
    if (!p) {
      throw OutOfMemoryError(fmt::format("cpu allocator: out of memory allocating {} bytes "
                                         "({} bytes in use)", nbytes, allocated_.load()));
    }
    if (size >= kLargeBlock) madvise(p, size, MADV_HUGEPAGE);  // a hint: fewer page faults
    return p;
  }

  const size_t cache_limit_ = cache_limit_from_env();
  mutable std::mutex mutex_;
  std::multimap<size_t, void*> cache_;  // freed large blocks by size
  size_t cached_bytes_ = 0;
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
void empty_cache(Device device) { allocator_for(device)->empty_cache(device); }

}  // namespace anvil
