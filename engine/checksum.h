// CRC-32C (Castagnoli, the iSCSI/ext4 polynomial): TensorBoard's record framing and the
// integrity record of checkpoints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace anvil::engine {

// The CRC of `n` more bytes following data whose CRC was `crc` (0 for none), so that a file can be
// checked in pieces: crc32c_extend(crc32c(a), b) == crc32c(a + b).
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32c(std::string_view data) {
  return crc32c_extend(0, data.data(), data.size());
}
// TFRecord's mask of the CRC (rotate right 15, add 0xa282ead8).
uint32_t masked_crc32c(std::string_view data);

}  // namespace anvil::engine
