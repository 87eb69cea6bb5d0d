#include "data_fixtures.h"

#include <algorithm>
#include <fstream>

namespace anvil::engine::fixtures {

void write_file(const std::filesystem::path& path, const Bytes& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

namespace {

uint32_t crc32(const Bytes& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (uint8_t b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

}  // namespace

// A gzip member holding `data` in stored (uncompressed) deflate blocks: a valid .gz file made
// without linking zlib into the tests.
Bytes gzip_stored(const Bytes& data) {
  Bytes out = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};
  size_t at = 0;
  do {
    const size_t n = std::min<size_t>(65535, data.size() - at);
    out.push_back(at + n == data.size() ? 1 : 0);
    out.push_back(uint8_t(n));
    out.push_back(uint8_t(n >> 8));
    out.push_back(uint8_t(~n));
    out.push_back(uint8_t(~n >> 8));
    out.insert(out.end(), data.begin() + std::ptrdiff_t(at), data.begin() + std::ptrdiff_t(at + n));
    at += n;
  } while (at < data.size());
  for (uint32_t v : {crc32(data), uint32_t(data.size())})
    for (int k = 0; k < 4; ++k) out.push_back(uint8_t(v >> (8 * k)));
  return out;
}

uint8_t pixel(int64_t record, int64_t k) {
  return uint8_t((record * 31 + k * 7) % 256);
}

// CIFAR records: label bytes, then 3072 pixels.
Bytes cifar_records(const std::vector<Bytes>& labels, int64_t first) {
  Bytes out;
  for (size_t r = 0; r < labels.size(); ++r) {
    out.insert(out.end(), labels[r].begin(), labels[r].end());
    for (int64_t k = 0; k < 3072; ++k) out.push_back(pixel(first + int64_t(r), k));
  }
  return out;
}

Bytes idx_file(uint8_t ndims, const std::vector<uint32_t>& dims, const Bytes& data) {
  Bytes out = {0, 0, 8, ndims};
  for (uint32_t d : dims)
    for (int k = 3; k >= 0; --k) out.push_back(uint8_t(d >> (8 * k)));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

}  // namespace anvil::engine::fixtures
