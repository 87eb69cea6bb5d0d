#include "tensor/device.h"

#include <charconv>

#include "tensor/error.h"

namespace anvil {

Device Device::parse(const std::string& s) {
  if (s == "cpu") return cpu();
  if (s == "cuda") return cuda(0);
  if (s.rfind("cuda:", 0) == 0) {
    int index = -1;
    const char* b = s.data() + 5;
    const char* e = s.data() + s.size();
    auto [p, ec] = std::from_chars(b, e, index);
    if (ec == std::errc() && p == e && index >= 0) return cuda(index);
  }
  throw ValueError(fmt::format("Device::parse: '{}' is not a device; expected 'cpu', 'cuda' or "
                               "'cuda:N'", s));
}

std::string Device::str() const {
  return type == DeviceType::cpu ? std::string("cpu") : fmt::format("cuda:{}", index);
}

}  // namespace anvil

#include "tensor/config.h"
#if ANVIL_WITH_CUDA
#include "tensor/cuda/cuda_runtime.h"
#endif

namespace anvil {

int cuda_device_count() {
#if ANVIL_WITH_CUDA
  return cuda::device_count();
#else
  return 0;
#endif
}

std::string cuda_unavailable_reason() {
#if ANVIL_WITH_CUDA
  return cuda::unavailable_reason();
#else
  return "anvil was built without the CUDA backend (ANVIL_CUDA=OFF or no nvcc)";
#endif
}

}  // namespace anvil
