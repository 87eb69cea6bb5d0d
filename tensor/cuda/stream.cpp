#include "tensor/cuda/stream.h"

#include <cuda_runtime_api.h>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "tensor/cuda/cuda_runtime.h"

namespace anvil::cuda {

namespace {

constexpr int kPoolSize = 32;

struct DevicePool {
  std::once_flag once;
  std::array<cudaStream_t, kPoolSize> streams{};
  std::atomic<uint32_t> next{0};
};

DevicePool& pool_for(int device) {
  static std::vector<std::unique_ptr<DevicePool>> pools = [] {
    std::vector<std::unique_ptr<DevicePool>> v(device_count());
    for (auto& p : v) p = std::make_unique<DevicePool>();
    return v;
  }();
  return *pools[device];
}

int resolve(int device, const char* what) {
  if (device < 0) return current_device();
  check_device(device, what);
  return device;
}

// Per thread and device: the current stream (null: the default stream). Sized on first use.
std::vector<cudaStream_t>& thread_streams() {
  thread_local std::vector<cudaStream_t> streams(device_count(), nullptr);
  return streams;
}

}  // namespace

bool Stream::query() const {
  DeviceGuard guard(device_.index);
  const cudaError_t err = cudaStreamQuery(handle_);
  if (err == cudaErrorNotReady) {
    cudaGetLastError();
    return false;
  }
  ANVIL_CUDA_CHECK(err);
  return true;
}

void Stream::synchronize() const {
  DeviceGuard guard(device_.index);
  ANVIL_CUDA_CHECK(cudaStreamSynchronize(handle_));
}

Stream default_stream(int device) {
  return Stream(Device::cuda(resolve(device, "default_stream")), nullptr);
}

Stream stream_from_pool(int device) {
  device = resolve(device, "stream_from_pool");
  DevicePool& pool = pool_for(device);
  std::call_once(pool.once, [&] {
    DeviceGuard guard(device);
    for (auto& s : pool.streams)
      ANVIL_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  });
  const uint32_t i = pool.next.fetch_add(1) % kPoolSize;
  return Stream(Device::cuda(device), pool.streams[i]);
}

Stream current_stream(int device) {
  device = resolve(device, "current_stream");
  return Stream(Device::cuda(device), thread_streams()[device]);
}

void set_current_stream(const Stream& stream) {
  ANVIL_CHECK(stream.device().is_cuda(), "set_current_stream: {} is not a CUDA device",
              stream.device().str());
  check_device(stream.device_index(), "set_current_stream");
  thread_streams()[stream.device_index()] = stream.handle();
}

StreamGuard::StreamGuard(const Stream& stream)
    : previous_stream_(current_stream(stream.device_index())), previous_device_(current_device()) {
  set_device(stream.device_index());
  set_current_stream(stream);
}

StreamGuard::~StreamGuard() {
  thread_streams()[previous_stream_.device_index()] = previous_stream_.handle();
  cudaSetDevice(previous_device_);  // was current a moment ago: cannot fail usefully
}

Event::~Event() {
  if (handle_) cudaEventDestroy(handle_);
}

Event::Event(Event&& other) noexcept
    : enable_timing_(other.enable_timing_), device_(other.device_), handle_(other.handle_) {
  other.handle_ = nullptr;
}

Event& Event::operator=(Event&& other) noexcept {
  if (this != &other) {
    std::swap(enable_timing_, other.enable_timing_);
    std::swap(device_, other.device_);
    std::swap(handle_, other.handle_);
  }
  return *this;
}

void Event::record(const Stream& stream) {
  ANVIL_CHECK(!handle_ || device_ == stream.device_index(),
              "Event::record: the event belongs to cuda:{}, the stream to cuda:{}", device_,
              stream.device_index());
  DeviceGuard guard(stream.device_index());
  if (!handle_) {
    const unsigned flags = enable_timing_ ? cudaEventDefault : cudaEventDisableTiming;
    ANVIL_CUDA_CHECK(cudaEventCreateWithFlags(&handle_, flags));
    device_ = stream.device_index();
  }
  ANVIL_CUDA_CHECK(cudaEventRecord(handle_, stream.handle()));
}

void Event::record() {
  record(current_stream());
}

void Event::wait(const Stream& stream) const {
  if (!handle_) return;
  DeviceGuard guard(stream.device_index());
  ANVIL_CUDA_CHECK(cudaStreamWaitEvent(stream.handle(), handle_, 0));
}

bool Event::query() const {
  if (!handle_) return true;
  const cudaError_t err = cudaEventQuery(handle_);
  if (err == cudaErrorNotReady) {
    cudaGetLastError();
    return false;
  }
  ANVIL_CUDA_CHECK(err);
  return true;
}

void Event::synchronize() const {
  if (handle_) ANVIL_CUDA_CHECK(cudaEventSynchronize(handle_));
}

float Event::elapsed_ms(const Event& end) const {
  ANVIL_CHECK(enable_timing_ && end.enable_timing_,
              "Event::elapsed_ms: both events need enable_timing=true");
  ANVIL_CHECK(handle_ && end.handle_, "Event::elapsed_ms: both events must be recorded first");
  float ms = 0;
  ANVIL_CUDA_CHECK(cudaEventElapsedTime(&ms, handle_, end.handle_));
  return ms;
}

}  // namespace anvil::cuda
