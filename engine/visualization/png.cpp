#include "engine/visualization/png.h"

#include <zlib.h>

#include "tensor/atomic_file.h"
#include "tensor/error.h"

namespace anvil::engine {

namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// One chunk: length, type, data, CRC-32 of type and data (PNG spec §5.3).
void put_chunk(std::string& out, const char* type, const std::string& data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  out += body;
  put_u32(out, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()),
                                           static_cast<uInt>(body.size()))));
}

}  // namespace

std::string encode_png(const Tensor& image) {
  ANVIL_CHECK(image.dtype() == DType::u8, "encode_png: expected a u8 image, got {}",
              image.describe());
  ANVIL_CHECK(image.dim() == 2 || (image.dim() == 3 && (image.size(2) == 1 || image.size(2) == 3 ||
                                                        image.size(2) == 4)),
              "encode_png: expected an image [H, W] or [H, W, C] with C = 1, 3 or 4, got {}",
              image.describe());
  const Tensor hwc = (image.dim() == 2 ? image.unsqueeze(2) : image).contiguous().cpu();
  const int64_t h = hwc.size(0), w = hwc.size(1), c = hwc.size(2);
  ANVIL_CHECK(h > 0 && w > 0, "encode_png: the image {} is empty", image.describe());
  static constexpr uint8_t kColorType[] = {0, 0, 4, 2,
                                           6};  // by channel count: gray, -, gray+alpha, RGB, RGBA
  std::string ihdr;
  put_u32(ihdr, static_cast<uint32_t>(w));
  put_u32(ihdr, static_cast<uint32_t>(h));
  ihdr +=
      {8, static_cast<char>(kColorType[c]), 0, 0, 0};  // depth 8, deflate, filter 0, no interlace

  // Scanlines, each after filter byte 0 (none), deflated as one zlib stream.
  const auto* pixels = hwc.data_ptr<uint8_t>();
  std::string raw;
  raw.reserve(static_cast<size_t>(h * (w * c + 1)));
  for (int64_t y = 0; y < h; ++y) {
    raw.push_back(0);
    raw.append(reinterpret_cast<const char*>(pixels + y * w * c), static_cast<size_t>(w * c));
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  const int rc = compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                           reinterpret_cast<const Bytef*>(raw.data()),
                           static_cast<uLong>(raw.size()), Z_DEFAULT_COMPRESSION);
  ANVIL_CHECK(rc == Z_OK, "encode_png: zlib compress2 failed ({})", rc);
  packed.resize(packed_size);

  std::string png("\x89PNG\r\n\x1a\n", 8);
  put_chunk(png, "IHDR", ihdr);
  put_chunk(png, "IDAT", packed);
  put_chunk(png, "IEND", "");
  return png;
}

void write_png(const std::string& path, const Tensor& image) {
  write_file_atomically(path, encode_png(image), "write_png");
}

}  // namespace anvil::engine
