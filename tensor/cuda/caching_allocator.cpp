#include "tensor/cuda/caching_allocator.h"

#include <cuda_runtime_api.h>

#include <memory>
#include <mutex>
#include <vector>

#include "tensor/cuda/caching_allocator_core.h"
#include "tensor/cuda/cuda_runtime.h"

namespace anvil::cuda {

namespace {

// Device memory and events of one device.
class CudaSegmentSource final : public SegmentSource {
 public:
  explicit CudaSegmentSource(int device) : device_(device) {}

  void* allocate_segment(size_t nbytes) override {
    DeviceGuard guard(device_);
    void* p = nullptr;
    const cudaError_t err = cudaMalloc(&p, nbytes);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      return nullptr;
    }
    ANVIL_CUDA_CHECK(err);
    return p;
  }
  void free_segment(void* ptr, size_t) override {
    DeviceGuard guard(device_);
    ANVIL_CUDA_CHECK(cudaFree(ptr));
  }
  // Events are created once and reused: creating one per free would cost a driver call each.
  EventId record_event(StreamId stream) override {
    DeviceGuard guard(device_);
    cudaEvent_t e = nullptr;
    if (!free_events_.empty()) {
      e = free_events_.back();
      free_events_.pop_back();
    } else {
      ANVIL_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    }
    ANVIL_CUDA_CHECK(cudaEventRecord(e, reinterpret_cast<cudaStream_t>(stream)));
    return e;
  }
  bool event_done(EventId event) override {
    const cudaError_t err = cudaEventQuery(static_cast<cudaEvent_t>(event));
    if (err == cudaErrorNotReady) {
      cudaGetLastError();
      return false;
    }
    ANVIL_CUDA_CHECK(err);
    return true;
  }
  void synchronize_event(EventId event) override {
    ANVIL_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(event)));
  }
  void release_event(EventId event) override {
    free_events_.push_back(static_cast<cudaEvent_t>(event));
  }
  std::pair<size_t, size_t> memory_info() override {
    const MemoryInfo m = cuda::memory_info(device_);
    return {m.free, m.total};
  }

 private:
  int device_;
  std::vector<cudaEvent_t> free_events_;  // guarded by the core's lock, which calls us
};

struct DeviceAllocator {
  explicit DeviceAllocator(int device)
      : source(device), core(&source, Device::cuda(device).str()) {}
  CudaSegmentSource source;
  CachingAllocatorCore core;
};

class CudaCachingAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device device) override {
    if (nbytes == 0) return nullptr;
    if (device.index < 0 || device.index >= device_count()) {
      check_device(device.index,
                   fmt::format("allocating {} on {}", format_bytes(nbytes), device.str()));
    }
    return for_device(device.index, "allocate")
        .core.allocate(nbytes, current_stream(device.index).id());
  }
  // Runs in storage destructors: must not throw.
  void deallocate(void* ptr, size_t, Device device) override {
    if (!ptr) return;
    try {
      for_device(device.index, "deallocate").core.free(ptr);
    } catch (const std::exception& e) {
      fmt::print(stderr, "anvil: CUDA caching allocator: freeing {} failed: {}\n", ptr, e.what());
    }
  }
  MemoryStats stats(Device device) const override {
    return for_device(device.index, "memory_stats").core.stats();
  }
  void reset_peak(Device device) override {
    for_device(device.index, "reset_peak_memory_stats").core.reset_peak();
  }

  DeviceAllocator& for_device(int index, std::string_view what) const {
    check_device(index, what);
    std::call_once(init_, [&] { devices_.resize(device_count()); });
    std::lock_guard lock(mutex_);
    auto& slot = devices_[index];
    if (!slot) slot = std::make_unique<DeviceAllocator>(index);
    return *slot;
  }
  // Devices whose allocator exists.
  std::vector<DeviceAllocator*> existing() const {
    std::lock_guard lock(mutex_);
    std::vector<DeviceAllocator*> r;
    for (auto& d : devices_)
      if (d) r.push_back(d.get());
    return r;
  }

 private:
  mutable std::once_flag init_;
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<DeviceAllocator>> devices_;
};

// Never destroyed: storages may be freed during static destruction.
CudaCachingAllocator* the_allocator() {
  static auto* a = new CudaCachingAllocator();
  return a;
}

const bool registered = [] {
  register_allocator(DeviceType::cuda, the_allocator());
  return true;
}();

}  // namespace

void record_stream(const Tensor& t, const Stream& stream) {
  ANVIL_CHECK(t.is_cuda(), "record_stream: expected a CUDA tensor, got {}", t.describe());
  ANVIL_CHECK(stream.device() == t.device(), "record_stream: tensor {} and stream on {}",
              t.describe(), stream.device().str());
  void* base = t.storage()->data();
  if (!base) return;
  the_allocator()
      ->for_device(t.device().index, "record_stream")
      .core.record_stream(base, stream.id());
}

void empty_cache(int device) {
  if (device >= 0) {
    the_allocator()->for_device(device, "empty_cache").core.empty_cache();
    return;
  }
  for (DeviceAllocator* d : the_allocator()->existing()) d->core.empty_cache();
}

size_t num_segments(int device) {
  return the_allocator()->for_device(device, "num_segments").core.num_segments();
}

}  // namespace anvil::cuda
