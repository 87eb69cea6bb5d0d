#include "tensor/generator.h"

#include "tensor/error.h"

namespace anvil {

void Generator::manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(mutex_);
  seed_ = seed;
  offset_ = 0;
}

uint64_t Generator::seed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return seed_;
}

uint64_t Generator::offset() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return offset_;
}

void Generator::set_offset(uint64_t offset) {
  std::lock_guard<std::mutex> lock(mutex_);
  offset_ = offset;
}

PhiloxState Generator::reserve(uint64_t blocks) {
  std::lock_guard<std::mutex> lock(mutex_);
  PhiloxState s{seed_, offset_};
  offset_ += blocks;
  return s;
}

namespace {
constexpr int kMaxCudaDevices = 64;
}

Generator& default_generator(Device device) {
  static Generator cpu;
  static Generator cuda[kMaxCudaDevices];
  if (device.is_cpu()) return cpu;
  ANVIL_CHECK(device.index >= 0 && device.index < kMaxCudaDevices,
              "default_generator: device index {} out of range", device.index);
  return cuda[device.index];
}

void manual_seed(uint64_t seed) {
  default_generator(Device::cpu()).manual_seed(seed);
  for (int i = 0; i < kMaxCudaDevices; ++i) default_generator(Device::cuda(i)).manual_seed(seed);
}

}  // namespace anvil
