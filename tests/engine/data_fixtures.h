// Dataset files written by the tests (CIFAR binary records, idx files, gzip members), shared by
// the reader and registration tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace anvil::engine::fixtures {

using Bytes = std::vector<uint8_t>;

// Writes `bytes` to `path`, creating its directories.
void write_file(const std::filesystem::path& path, const Bytes& bytes);

// The test pattern of pixel k of record `record`.
uint8_t pixel(int64_t record, int64_t k);

// CIFAR records: each record's label bytes, then its 3072 pixels (records numbered from `first`).
Bytes cifar_records(const std::vector<Bytes>& labels, int64_t first);

// An idx file (MNIST): magic 0 0 8 ndims, big-endian dims, data.
Bytes idx_file(uint8_t ndims, const std::vector<uint32_t>& dims, const Bytes& data);

// A gzip member holding `data` in stored (uncompressed) deflate blocks.
Bytes gzip_stored(const Bytes& data);

}  // namespace anvil::engine::fixtures
