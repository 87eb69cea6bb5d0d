// State dicts as safetensors files (https://github.com/huggingface/safetensors, "Format"):
// an 8-byte little-endian header length N, N bytes of JSON header
//   {"__metadata__": {"format": "pt"}, "fc.weight": {"dtype": "F32", "shape": [2, 4],
//    "data_offsets": [0, 32]}, ...}
// padded with spaces to a multiple of 8, then the tensors' raw little-endian bytes, row-major,
// covering the data section exactly. Loading executes nothing and maps the file: loaded tensors
// are views of the mapping.
//
//   nn::save_safetensors("model.safetensors", model.state_dict(), {{"format", "pt"}});
//   auto [tensors, metadata] = nn::load_safetensors("model.safetensors");
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nn/module.h"
#include "tensor/error.h"
#include "tensor/tensor.h"

namespace anvil::nn {

using SafetensorsMetadata = std::map<std::string, std::string>;

// A file that is not valid safetensors, or that cannot be read or written. The message names the
// file and the fault.
class SafetensorsError : public Error {
 public:
  using Error::Error;
};

// Writes `tensors` in their order (header and data), any layout and device (their contiguous CPU
// bytes are written), with `metadata` as "__metadata__" when not empty. Atomic: the bytes go to a
// temporary file in the same directory, which is fsynced and renamed over `path`; on any failure
// the old file is left as it was and the temporary file is removed. Names must be unique, valid
// UTF-8 and not "__metadata__" (ValueError).
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const SafetensorsMetadata& metadata = {});

// One tensor's entry in the header.
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
  int64_t begin = 0;  // byte offsets in the data section, [begin, end)
  int64_t end = 0;
};

// An opened, fully validated, memory-mapped (private, copy-on-write) safetensors file. Tensors
// from it view the mapping, which stays alive as long as any of them or the file object does;
// writing to them never changes the file. (Truncating a mapped file in place would make reads
// fault; save_safetensors never does, it renames a new file over the old.) A tensor whose bytes are
// not aligned to its element size in the file (only files from writers that do not pad the header)
// is copied instead.
class SafetensorsFile {
 public:
  // Opens, maps and validates `path`; throws SafetensorsError naming the file and the fault.
  explicit SafetensorsFile(const std::string& path);

  const std::string& path() const { return path_; }
  const SafetensorsMetadata& metadata() const { return metadata_; }
  // In header order.
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  bool contains(const std::string& name) const { return index_.count(name) > 0; }
  // Throws SafetensorsError when the file has no tensor of that name.
  const SafetensorsEntry& entry(const std::string& name) const;
  Tensor tensor(const std::string& name) const;
  // All tensors, in header order.
  NamedTensors tensors() const;
  // Copies the tensor `name` into `dst` (converting dtype and device, as copy_, without recording
  // autograd history, so parameters can be loaded); the shapes must be equal (ValueError naming
  // the file, the tensor and both shapes).
  void copy_to(const std::string& name, const Tensor& dst) const;

 private:
  struct Mapping;
  Tensor make_tensor(const SafetensorsEntry& e) const;

  std::string path_;
  std::shared_ptr<const Mapping> mapping_;
  const uint8_t* data_ = nullptr;  // first byte of the data section
  std::vector<SafetensorsEntry> entries_;
  std::unordered_map<std::string, size_t> index_;
  SafetensorsMetadata metadata_;
};

struct SafetensorsContents {
  NamedTensors tensors;  // in header order, viewing the file's mapping
  SafetensorsMetadata metadata;
};

SafetensorsContents load_safetensors(const std::string& path);

}  // namespace anvil::nn
