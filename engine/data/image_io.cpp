#include "engine/data/image_io.h"

// clang-format off
#include <cstdio>  // before jpeglib.h, which uses FILE
#include <jpeglib.h>
#include <jerror.h>
// clang-format on
#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstring>
#include <memory>
#include <vector>

#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tensor/ops/factory.h"

namespace anvil::engine {

namespace fs = std::filesystem;

// libpng and libjpeg report errors through callbacks that must not return. They longjmp back to
// a setjmp in a "stage" function below; each stage holds only trivially destructible locals and
// is called from C++ code that owns the library state (so no C++ frame is ever skipped), and the
// failure becomes an exception after the stage returns false.

namespace {

// Decoded pixels, interleaved (HWC), before the mode's conversion.
struct Pixels {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> data;
};

// ---- PNG

struct PngSource {
  const uint8_t* data;
  size_t size;
  size_t pos;
  std::jmp_buf jump;
  char message[256];
};

[[noreturn]] void png_fail(png_structp png, png_const_charp message) {
  auto* source = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(source->message, sizeof(source->message), "%s", message);
  std::longjmp(source->jump, 1);
}

// Warnings (unknown or damaged ancillary chunks, odd profiles) do not stop decoding, as in PIL.
void png_ignore_warning(png_structp, png_const_charp) {}

void png_read_source(png_structp png, png_bytep out, size_t n) {
  auto* source = static_cast<PngSource*>(png_get_io_ptr(png));
  if (n > source->size - source->pos) png_error(png, "unexpected end of data (truncated file)");
  std::memcpy(out, source->data + source->pos, n);
  source->pos += n;
}

// Reads the header and sets up 8-bit output: palettes expanded (with their transparency as
// alpha), gray below 8 bits widened, 16 bits cut to their high byte, interlacing undone.
bool png_stage_header(png_structp png, png_infop info, PngSource* source) {
  if (setjmp(source->jump)) return false;
  png_read_info(png, info);
  const int color_type = png_get_color_type(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    png_set_palette_to_rgb(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  }
  if (color_type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  png_set_strip_16(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  return true;
}

bool png_stage_pixels(png_structp png, PngSource* source, png_bytepp rows) {
  if (setjmp(source->jump)) return false;
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  return true;
}

class PngReadStruct {
 public:
  explicit PngReadStruct(PngSource* source) {
    // libpng's own handlers while it creates the struct (it has a setjmp of its own then).
    png_ = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    if (png_ == nullptr) return;
    png_set_error_fn(png_, source, png_fail, png_ignore_warning);
    info_ = png_create_info_struct(png_);
  }
  ~PngReadStruct() { png_destroy_read_struct(&png_, &info_, nullptr); }
  PngReadStruct(const PngReadStruct&) = delete;
  PngReadStruct& operator=(const PngReadStruct&) = delete;
  png_structp png() const { return png_; }
  png_infop info() const { return info_; }

 private:
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

Pixels decode_png(const uint8_t* data, size_t size, const std::string& name) {
  PngSource source{data, size, 0, {}, {}};
  PngReadStruct png(&source);
  ANVIL_CHECK(png.info() != nullptr, "read_image: {}: libpng could not allocate its state", name);
  png_set_read_fn(png.png(), &source, png_read_source);
  auto fail = [&] {
    return ValueError(
        fmt::format("read_image: {}: corrupt or truncated PNG ({})", name, source.message));
  };
  if (!png_stage_header(png.png(), png.info(), &source)) throw fail();
  Pixels pixels;
  pixels.height = png_get_image_height(png.png(), png.info());
  pixels.width = png_get_image_width(png.png(), png.info());
  pixels.channels = png_get_channels(png.png(), png.info());
  const size_t row_bytes = png_get_rowbytes(png.png(), png.info());
  ANVIL_INTERNAL_ASSERT(row_bytes == size_t(pixels.width * pixels.channels));
  pixels.data.resize(size_t(pixels.height) * row_bytes);
  std::vector<png_bytep> rows(size_t(pixels.height));
  for (size_t y = 0; y < rows.size(); ++y) rows[y] = pixels.data.data() + y * row_bytes;
  if (!png_stage_pixels(png.png(), &source, rows.data())) throw fail();
  return pixels;
}

// ---- JPEG

struct JpegErrors {
  jpeg_error_mgr manager;  // first, so that cinfo->err points at the whole struct
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jpeg_fail(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// libjpeg only warns when the data ends early (and decodes the rest as gray); that is a truncated
// file, an error as in PIL. Other corrupt-data warnings (extraneous bytes before a marker, common
// in real datasets) decode as PIL decodes them.
void jpeg_warn(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_fail(cinfo);
}

// Reads the header and starts decompressing: gray stays gray, CMYK/YCCK comes out as CMYK and
// everything else as RGB.
bool jpeg_stage_start(jpeg_decompress_struct* cinfo, JpegErrors* errors, const uint8_t* data,
                      size_t size) {
  if (setjmp(errors->jump)) return false;
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
      cinfo->out_color_space = JCS_GRAYSCALE;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo->out_color_space = JCS_CMYK;
      break;
    default:
      cinfo->out_color_space = JCS_RGB;
  }
  jpeg_start_decompress(cinfo);
  return true;
}

bool jpeg_stage_pixels(jpeg_decompress_struct* cinfo, JpegErrors* errors, uint8_t* out,
                       size_t row_bytes) {
  if (setjmp(errors->jump)) return false;
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = out + size_t(cinfo->output_scanline) * row_bytes;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

class JpegDecompressStruct {
 public:
  JpegDecompressStruct() = default;
  // Safe on a struct whose creation failed: it is zeroed, and a null `mem` means nothing to free.
  ~JpegDecompressStruct() { jpeg_destroy_decompress(&cinfo_); }
  JpegDecompressStruct(const JpegDecompressStruct&) = delete;
  JpegDecompressStruct& operator=(const JpegDecompressStruct&) = delete;
  jpeg_decompress_struct* get() { return &cinfo_; }

 private:
  jpeg_decompress_struct cinfo_{};
};

// PIL's CMYK -> RGB for a JPEG's CMYK, which PIL takes as Adobe's inverted CMYK:
// R = (255 - K) - (255 - K) * C / 255 on the un-inverted values, rounded as PIL's MULDIV255.
void cmyk_to_rgb(Pixels& pixels) {
  const int64_t n = pixels.height * pixels.width;
  uint8_t* p = pixels.data.data();
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* in = p + 4 * i;
    const unsigned black = in[3];  // 255 - K
    uint8_t rgb[3];
    for (int c = 0; c < 3; ++c) {
      const unsigned product = (255u - in[c]) * black + 128u;
      rgb[c] = uint8_t(black - (((product >> 8) + product) >> 8));
    }
    std::memcpy(p + 3 * i, rgb, 3);
  }
  pixels.data.resize(size_t(n * 3));
  pixels.channels = 3;
}

Pixels decode_jpeg(const uint8_t* data, size_t size, const std::string& name) {
  JpegErrors errors{};
  JpegDecompressStruct cinfo;
  cinfo.get()->err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = jpeg_fail;
  errors.manager.emit_message = jpeg_warn;
  auto fail = [&] {
    return ValueError(
        fmt::format("read_image: {}: corrupt or truncated JPEG ({})", name, errors.message));
  };
  if (!jpeg_stage_start(cinfo.get(), &errors, data, size)) throw fail();
  Pixels pixels;
  pixels.height = cinfo.get()->output_height;
  pixels.width = cinfo.get()->output_width;
  pixels.channels = cinfo.get()->output_components;
  const size_t row_bytes = size_t(pixels.width * pixels.channels);
  pixels.data.resize(size_t(pixels.height) * row_bytes);
  if (!jpeg_stage_pixels(cinfo.get(), &errors, pixels.data.data(), row_bytes)) throw fail();
  if (cinfo.get()->out_color_space == JCS_CMYK) cmyk_to_rgb(pixels);
  return pixels;
}

// ---- conversion to the mode's channels, [C, H, W]

// to[i] = from[i * kStride]; a constant stride lets the compiler vectorize it.
template <int64_t kStride>
void copy_strided(const uint8_t* from, uint8_t* to, int64_t n) {
  for (int64_t i = 0; i < n; ++i) to[i] = from[i * kStride];
}

Tensor to_planes(const Pixels& pixels, ImageMode mode) {
  const int64_t in_c = pixels.channels, plane = pixels.height * pixels.width;
  const bool color = in_c >= 3;
  const int64_t out_c = mode == ImageMode::gray ? 1 : mode == ImageMode::rgb ? 3 : in_c;
  Tensor image = empty({out_c, pixels.height, pixels.width}, TensorOptions(DType::u8));
  uint8_t* out = image.data_ptr<uint8_t>();
  const uint8_t* in = pixels.data.data();
  if (mode == ImageMode::gray && color) {
    for (int64_t i = 0; i < plane; ++i) {
      const uint8_t* px = in + i * in_c;
      out[i] = uint8_t((px[0] * 19595u + px[1] * 38470u + px[2] * 7471u + 0x8000u) >> 16);
    }
    return image;
  }
  // Every other case copies channels: each its own, or the gray one replicated.
  for (int64_t c = 0; c < out_c; ++c) {
    const uint8_t* from = in + (mode == ImageMode::keep || color ? c : 0);
    uint8_t* to = out + c * plane;
    switch (in_c) {
      case 1:
        copy_strided<1>(from, to, plane);
        break;
      case 2:
        copy_strided<2>(from, to, plane);
        break;
      case 3:
        copy_strided<3>(from, to, plane);
        break;
      default:
        copy_strided<4>(from, to, plane);
    }
  }
  return image;
}

std::vector<uint8_t> read_bytes(const fs::path& path) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             std::fclose);
  if (!file) {
    throw IOError(
        fmt::format("read_image: cannot open {}: {}", path.string(), std::strerror(errno)));
  }
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  for (size_t n; (n = std::fread(chunk, 1, sizeof(chunk), file.get())) > 0;)
    bytes.insert(bytes.end(), chunk, chunk + n);
  if (std::ferror(file.get())) {
    throw IOError(
        fmt::format("read_image: cannot read {}: {}", path.string(), std::strerror(errno)));
  }
  return bytes;
}

}  // namespace

ImageMode parse_color_type(const std::string& color_type) {
  if (color_type == "color") return ImageMode::rgb;
  if (color_type == "grayscale") return ImageMode::gray;
  if (color_type == "unchanged") return ImageMode::keep;
  throw ValueError(
      fmt::format("color type must be \"color\" (RGB), \"grayscale\" or \"unchanged\", got \"{}\"",
                  color_type));
}

Tensor decode_image(const uint8_t* data, size_t size, ImageMode mode, const std::string& name) {
  static constexpr uint8_t kPng[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  static constexpr uint8_t kJpeg[] = {0xff, 0xd8, 0xff};
  if (size >= sizeof(kPng) && std::memcmp(data, kPng, sizeof(kPng)) == 0)
    return to_planes(decode_png(data, size, name), mode);
  if (size >= sizeof(kJpeg) && std::memcmp(data, kJpeg, sizeof(kJpeg)) == 0)
    return to_planes(decode_jpeg(data, size, name), mode);
  ANVIL_CHECK(size > 0, "read_image: {} is empty", name);
  std::string head;
  for (size_t i = 0; i < std::min<size_t>(size, 8); ++i)
    head += fmt::format("{}{:02x}", i ? " " : "", data[i]);
  throw ValueError(fmt::format(
      "read_image: {} is neither PNG (starts 89 50 4e 47 0d 0a 1a 0a) nor JPEG (starts ff d8 ff): "
      "it starts {}",
      name, head));
}

Tensor read_image(const fs::path& path, ImageMode mode) {
  const std::vector<uint8_t> bytes = read_bytes(path);
  return decode_image(bytes.data(), bytes.size(), mode, path.string());
}

}  // namespace anvil::engine
