#include "tensor/cuda/pinned_memory.h"

#include <cuda_runtime_api.h>

#include <bit>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "tensor/cuda/caching_allocator_core.h"
#include "tensor/cuda/cuda_runtime.h"
#include "tensor/ops/factory.h"

namespace anvil::cuda {

namespace {

class PinnedPool {
 public:
  void* allocate(size_t nbytes) {
    const size_t size = std::bit_ceil(std::max<size_t>(nbytes, kMinBlockSize));
    std::lock_guard lock(mutex_);
    process_events();
    auto& list = free_[size];
    char* p = nullptr;
    if (!list.empty()) {
      p = list.back();
      list.pop_back();
    } else {
      void* raw = nullptr;
      cudaError_t err = cudaHostAlloc(&raw, size, cudaHostAllocDefault);
      if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        release_cached();
        err = cudaHostAlloc(&raw, size, cudaHostAllocDefault);
      }
      if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        throw OutOfMemoryError(fmt::format(
            "pin_memory: out of pinned host memory: tried to allocate {}; {} allocated, {} "
            "reserved by the pinned memory cache (cached blocks were freed and the allocation "
            "retried)",
            format_bytes(size), format_bytes(allocated_), format_bytes(reserved_)));
      }
      ANVIL_CUDA_CHECK(err);
      p = static_cast<char*>(raw);
      blocks_[p] = Block{size, {}};
      reserved_ += size;
    }
    allocated_ += size;
    return p;
  }

  void free(void* ptr) {
    std::lock_guard lock(mutex_);
    char* p = static_cast<char*>(ptr);
    Block& b = blocks_.at(p);
    allocated_ -= b.size;
    if (b.uses.empty()) {
      free_[b.size].push_back(p);
      return;
    }
    // Cannot throw from a storage destructor: an event that fails to record leaves the block
    // out of the cache rather than reused early.
    for (const Stream& s : b.uses) {
      cudaEvent_t e = nullptr;
      if (cudaEventCreateWithFlags(&e, cudaEventDisableTiming) != cudaSuccess ||
          cudaEventRecord(e, s.handle()) != cudaSuccess) {
        cudaGetLastError();
        b.uses.clear();
        return;
      }
      pending_.push_back({e, p});
      ++b.pending;
    }
    b.uses.clear();
  }

  void record_use(const void* ptr, const Stream& stream) {
    std::lock_guard lock(mutex_);
    const char* c = static_cast<const char*>(ptr);
    auto it = blocks_.upper_bound(const_cast<char*>(c));
    if (it == blocks_.begin()) return;
    --it;
    if (c >= it->first + it->second.size) return;
    auto& uses = it->second.uses;
    if (std::find(uses.begin(), uses.end(), stream) == uses.end()) uses.push_back(stream);
  }

  bool contains(const void* ptr) {
    std::lock_guard lock(mutex_);
    return blocks_.count(static_cast<char*>(const_cast<void*>(ptr))) > 0;
  }

  PinnedMemoryStats stats() {
    std::lock_guard lock(mutex_);
    return {allocated_, reserved_};
  }

  void empty_cache() {
    std::lock_guard lock(mutex_);
    process_events();
    release_cached();
  }

 private:
  struct Block {
    size_t size = 0;
    std::vector<Stream> uses;  // streams that used it since it was allocated
    int pending = 0;           // events still to complete after its free
  };

  void process_events() {
    while (!pending_.empty()) {
      const cudaError_t err = cudaEventQuery(pending_.front().first);
      if (err == cudaErrorNotReady) {
        cudaGetLastError();
        return;
      }
      ANVIL_CUDA_CHECK(err);
      auto [e, p] = pending_.front();
      pending_.pop_front();
      cudaEventDestroy(e);
      Block& b = blocks_.at(p);
      if (--b.pending == 0) free_[b.size].push_back(p);
    }
  }

  void release_cached() {
    for (auto& [size, list] : free_) {
      for (char* p : list) {
        ANVIL_CUDA_CHECK(cudaFreeHost(p));
        blocks_.erase(p);
        reserved_ -= size;
      }
      list.clear();
    }
  }

  std::mutex mutex_;
  std::map<char*, Block> blocks_;              // every block, by address
  std::map<size_t, std::vector<char*>> free_;  // reusable blocks by size
  std::deque<std::pair<cudaEvent_t, char*>> pending_;
  size_t allocated_ = 0;
  size_t reserved_ = 0;
};

// Never destroyed: pinned tensors may outlive static destruction.
PinnedPool& pool() {
  static auto* p = new PinnedPool();
  return *p;
}

}  // namespace

Tensor pin_memory(const Tensor& t) {
  ANVIL_CHECK(t.is_cpu(), "pin_memory: expected a CPU tensor, got {}", t.describe());
  check_device(0, "pin_memory");
  if (is_pinned(t)) return t;
  const size_t nbytes = static_cast<size_t>(t.nbytes());
  void* p = pool().allocate(nbytes);
  Tensor out = from_blob(p, t.shape(), t.dtype(), Device::cpu(), [](void* q) { pool().free(q); });
  out.copy_(t);
  return out;
}

bool is_pinned(const Tensor& t) {
  if (!t.is_cpu() || device_count() == 0) return false;
  const void* p = t.storage()->data();
  if (!p) return false;
  if (pool().contains(p)) return true;
  cudaPointerAttributes attr{};
  if (cudaPointerGetAttributes(&attr, p) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return attr.type == cudaMemoryTypeHost;
}

PinnedMemoryStats pinned_memory_stats() {
  return pool().stats();
}
void empty_pinned_cache() {
  pool().empty_cache();
}

void record_pinned_use(const void* ptr, const Stream& stream) {
  pool().record_use(ptr, stream);
}

}  // namespace anvil::cuda
