// The CUDA runtime seen from anvil: devices, the current device, and error checking. Only files
// built with the CUDA backend include this. It needs no CUDA header, so tests and users can
// include it without the toolkit's include path.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "tensor/error.h"

namespace anvil {

// A CUDA runtime call failed (other than running out of memory, which is OutOfMemoryError).
class CudaError : public Error {
 public:
  using Error::Error;
};

namespace cuda {

// Number of visible devices; 0 (never an exception) when the driver or devices are missing.
int device_count();
// The driver's explanation when device_count() is 0, else "".
std::string unavailable_reason();

// Throws (never aborts) unless `index` names a visible device; `what` names the caller.
void check_device(int index, std::string_view what);

int current_device();
void set_device(int index);
// Waits for all work on the device.
void synchronize_device(int index);

// Makes `index` the current device while alive (and nothing when it already is).
class DeviceGuard {
 public:
  explicit DeviceGuard(int index);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_;
};

struct DeviceProperties {
  std::string name;
  size_t total_memory = 0;  // bytes
  int multiprocessor_count = 0;
  int major = 0;  // compute capability
  int minor = 0;
  size_t shared_memory_per_block = 0;
  int max_threads_per_block = 0;
  int warp_size = 0;
};
// Cached after the first query of each device.
const DeviceProperties& device_properties(int index);

struct MemoryInfo {
  size_t free = 0;
  size_t total = 0;
};
MemoryInfo memory_info(int index);

namespace detail {
// The message of a failed runtime call: "CUDA error cudaErrorInvalidValue (invalid argument)
// from cudaMemcpy(...) at file.cpp:12".
std::string cuda_error_message(int error, const char* expr, const char* file, int line);
[[noreturn]] void throw_cuda_error(int error, const char* expr, const char* file, int line);
}  // namespace detail

}  // namespace cuda
}  // namespace anvil

// Evaluates a CUDA runtime call and throws CudaError (OutOfMemoryError for
// cudaErrorMemoryAllocation) unless it returned cudaSuccess (0).
#define ANVIL_CUDA_CHECK(expr)                                                             \
  do {                                                                                     \
    const int anvil_cuda_err_ = static_cast<int>(expr);                                    \
    if (anvil_cuda_err_ != 0)                                                              \
      ::anvil::cuda::detail::throw_cuda_error(anvil_cuda_err_, #expr, __FILE__, __LINE__); \
  } while (0)
