// Where a tensor's memory lives.
#pragma once

#include <cstdint>
#include <string>

namespace anvil {

enum class DeviceType : uint8_t { cpu, cuda };
inline constexpr int kNumDeviceTypes = 2;

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static constexpr Device cpu() { return {DeviceType::cpu, 0}; }
  static constexpr Device cuda(int i = 0) { return {DeviceType::cuda, i}; }
  // Parses "cpu", "cuda", "cuda:1".
  static Device parse(const std::string& s);

  constexpr bool is_cpu() const { return type == DeviceType::cpu; }
  constexpr bool is_cuda() const { return type == DeviceType::cuda; }
  constexpr bool operator==(const Device&) const = default;
  std::string str() const;
};

// Number of CUDA devices visible; 0 when anvil was built without CUDA or no GPU/driver is there.
int cuda_device_count();
// Why there is no CUDA device ("built without CUDA", the driver's error), or "" when there is one.
std::string cuda_unavailable_reason();

}  // namespace anvil
