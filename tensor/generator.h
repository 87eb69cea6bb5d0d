// Random numbers: one counter-based Philox4x32-10 stream per device, with a seed and an offset,
// so that runs reproduce and CPU and CUDA kernels draw the same numbers for the same element.
#pragma once

#include <cstdint>
#include <mutex>

#include "tensor/device.h"
#include "tensor/half.h"

namespace anvil {

// Where a kernel starts drawing: key = seed, counter = offset + (block index).
struct PhiloxState {
  uint64_t seed = 0;
  uint64_t offset = 0;  // in 128-bit blocks
};

struct PhiloxBlock {
  uint32_t w[4];
};

// Philox4x32 with 10 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
ANVIL_HOST_DEVICE inline PhiloxBlock philox4x32(uint64_t counter_lo, uint64_t counter_hi,
                                                 uint64_t key) {
  uint32_t c0 = uint32_t(counter_lo), c1 = uint32_t(counter_lo >> 32);
  uint32_t c2 = uint32_t(counter_hi), c3 = uint32_t(counter_hi >> 32);
  uint32_t k0 = uint32_t(key), k1 = uint32_t(key >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t(0xD2511F53u) * c0;
    const uint64_t p1 = uint64_t(0xCD9E8D57u) * c2;
    const uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
    c1 = uint32_t(p1);
    c3 = uint32_t(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// The i-th 32-bit word of the stream that starts at `state`.
ANVIL_HOST_DEVICE inline uint32_t philox_word(PhiloxState state, uint64_t i) {
  return philox4x32(state.offset + i / 4, 0, state.seed).w[i % 4];
}

// Uniform in [0, 1) from 24 random bits (float) or 53 (double, from two words).
ANVIL_HOST_DEVICE inline float uint_to_unit_float(uint32_t x) {
  return float(x >> 8) * (1.0f / 16777216.0f);
}
ANVIL_HOST_DEVICE inline double uint_to_unit_double(uint32_t hi, uint32_t lo) {
  return double(((uint64_t(hi) << 32) | lo) >> 11) * (1.0 / 9007199254740992.0);
}

class Generator {
 public:
  explicit Generator(uint64_t seed = 67280421310721ull) : seed_(seed) {}
  void manual_seed(uint64_t seed);
  uint64_t seed() const;
  uint64_t offset() const;
  void set_offset(uint64_t offset);
  // Reserves `blocks` 128-bit blocks of the stream and returns where they start.
  PhiloxState reserve(uint64_t blocks);

 private:
  mutable std::mutex mutex_;
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The default generator of a device type (one for the CPU, one per CUDA device).
Generator& default_generator(Device device = Device::cpu());
// Seeds every default generator (torch.manual_seed).
void manual_seed(uint64_t seed);

}  // namespace anvil
