#include "tensor/cuda/cuda_runtime.h"

#include <cuda_runtime_api.h>

#include <fmt/format.h>

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

int device_count() { return probe().count; }
std::string unavailable_reason() { return probe().reason; }

}  // namespace anvil::cuda
