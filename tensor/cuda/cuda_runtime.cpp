#include "tensor/cuda/cuda_runtime.h"

#include <cuda_runtime_api.h>

#include <memory>
#include <mutex>
#include <vector>

namespace anvil::cuda {

namespace {
struct Probe {
  int count = 0;
  std::string reason;
};
const Probe& probe() {
  static const Probe p = [] {
    Probe r;
    const cudaError_t err = cudaGetDeviceCount(&r.count);
    if (err != cudaSuccess) {
      r.count = 0;
      r.reason = fmt::format("cudaGetDeviceCount failed: {} ({})", cudaGetErrorString(err),
                             cudaGetErrorName(err));
      cudaGetLastError();  // clear the sticky error
    } else if (r.count == 0) {
      r.reason = "no CUDA device is visible";
    }
    return r;
  }();
  return p;
}
}  // namespace

int device_count() {
  return probe().count;
}
std::string unavailable_reason() {
  return probe().reason;
}

void check_device(int index, std::string_view what) {
  const int n = device_count();
  if (n == 0) throw CudaError(fmt::format("{}: no CUDA device: {}", what, unavailable_reason()));
  if (index < 0 || index >= n) {
    throw ValueError(fmt::format("{}: cuda:{} does not exist; {} CUDA device{} visible", what,
                                 index, n, n == 1 ? " is" : "s are"));
  }
}

int current_device() {
  check_device(0, "current_device");
  int d = 0;
  ANVIL_CUDA_CHECK(cudaGetDevice(&d));
  return d;
}

void set_device(int index) {
  check_device(index, "set_device");
  ANVIL_CUDA_CHECK(cudaSetDevice(index));
}

void synchronize_device(int index) {
  DeviceGuard guard(index);
  ANVIL_CUDA_CHECK(cudaDeviceSynchronize());
}

DeviceGuard::DeviceGuard(int index) : previous_(current_device()) {
  if (index != previous_) set_device(index);
}

DeviceGuard::~DeviceGuard() {
  // Restoring a device that was current a moment ago cannot fail in a way worth a throw from a
  // destructor.
  int now = previous_;
  if (cudaGetDevice(&now) == cudaSuccess && now != previous_) cudaSetDevice(previous_);
}

const DeviceProperties& device_properties(int index) {
  check_device(index, "device_properties");
  static std::mutex mutex;
  static std::vector<std::unique_ptr<DeviceProperties>> cache(device_count());
  std::lock_guard lock(mutex);
  auto& slot = cache[index];
  if (!slot) {
    cudaDeviceProp p{};
    ANVIL_CUDA_CHECK(cudaGetDeviceProperties(&p, index));
    slot = std::make_unique<DeviceProperties>(DeviceProperties{
        .name = p.name,
        .total_memory = p.totalGlobalMem,
        .multiprocessor_count = p.multiProcessorCount,
        .major = p.major,
        .minor = p.minor,
        .shared_memory_per_block = p.sharedMemPerBlock,
        .max_threads_per_block = p.maxThreadsPerBlock,
        .warp_size = p.warpSize,
    });
  }
  return *slot;
}

MemoryInfo memory_info(int index) {
  DeviceGuard guard(index);
  MemoryInfo m;
  ANVIL_CUDA_CHECK(cudaMemGetInfo(&m.free, &m.total));
  return m;
}

namespace detail {

std::string cuda_error_message(int error, const char* expr, const char* file, int line) {
  const auto e = static_cast<cudaError_t>(error);
  return fmt::format("CUDA error {} ({}) from {} at {}:{}", cudaGetErrorName(e),
                     cudaGetErrorString(e), expr, file, line);
}

void throw_cuda_error(int error, const char* expr, const char* file, int line) {
  cudaGetLastError();  // clear a non-sticky error so that later calls do not report it again
  std::string msg = cuda_error_message(error, expr, file, line);
  if (error == cudaErrorMemoryAllocation) throw OutOfMemoryError(std::move(msg));
  throw CudaError(std::move(msg));
}

}  // namespace detail

}  // namespace anvil::cuda
