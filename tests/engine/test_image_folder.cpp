// Image files and the image-folder dataset: PNG decoding checked exactly for every color type and
// bit depth (8-bit files from the visualizer's encode_png, the others written here from raw
// scanlines with zlib), JPEG decoding within JPEG's error of the patterns in
// tests/engine/data/make_jpegs.cpp, the gray/RGB conversions, errors for missing, unknown,
// corrupt and truncated files; ImageFolderDataset's folder scan and ann_file modes, a DataLoader
// over it, and its registration.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/op_test.h"
#include "data_fixtures.h"
#include "engine/data/data.h"
#include "engine/registry/registries.h"
#include "engine/visualization/png.h"
#include "tensor/atomic_file.h"
#include "tensor/ops/factory.h"

namespace anvil::engine {
namespace {

namespace fs = std::filesystem;
using fixtures::Bytes;
using fixtures::write_file;
using testing::expect_error;

const fs::path kJpegDir = fs::path(ANVIL_TEST_DATA_DIR).parent_path() / "engine" / "data";

// ---- PNG files from raw samples

void put_u32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(v >> shift));
}

void put_chunk(Bytes& out, const char* type, const Bytes& data) {
  put_u32(out, uint32_t(data.size()));
  Bytes body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  out.insert(out.end(), body.begin(), body.end());
  put_u32(out, uint32_t(crc32(0, body.data(), uInt(body.size()))));
}

// Scanlines of an h x w image of `channels` samples per pixel (row-major, HWC), each sample
// `depth` bits (big-endian at 16, packed from the high bits below 8), each row after filter
// byte 0.
Bytes scanlines(const std::vector<uint16_t>& samples, int64_t h, int64_t w, int64_t channels,
                int depth) {
  Bytes out;
  for (int64_t y = 0; y < h; ++y) {
    out.push_back(0);
    const uint16_t* row = samples.data() + y * w * channels;
    if (depth == 16) {
      for (int64_t k = 0; k < w * channels; ++k)
        out.insert(out.end(), {uint8_t(row[k] >> 8), uint8_t(row[k])});
    } else {
      int bits = 0;
      for (int64_t k = 0; k < w * channels; ++k) {
        if (bits == 0) out.push_back(0);
        bits += depth;
        out.back() |= uint8_t(row[k] << (8 - bits));
        if (bits == 8) bits = 0;
      }
    }
  }
  return out;
}

// The same image as Adam7's seven passes.
Bytes adam7(const std::vector<uint16_t>& samples, int64_t h, int64_t w, int64_t channels,
            int depth) {
  static constexpr int64_t kPasses[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                            {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
  Bytes out;
  for (const auto& [x0, y0, dx, dy] : kPasses) {
    std::vector<uint16_t> pass;
    int64_t ph = 0, pw = 0;
    for (int64_t y = y0; y < h; y += dy, ++ph) {
      pw = 0;
      for (int64_t x = x0; x < w; x += dx, ++pw)
        for (int64_t c = 0; c < channels; ++c) pass.push_back(samples[(y * w + x) * channels + c]);
    }
    if (ph > 0 && pw > 0) {
      const Bytes lines = scanlines(pass, ph, pw, channels, depth);
      out.insert(out.end(), lines.begin(), lines.end());
    }
  }
  return out;
}

struct PngSpec {
  int64_t height, width;
  int depth;
  uint8_t color_type;  // 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA
  std::vector<uint16_t> samples;
  Bytes palette = {};  // PLTE: r g b per entry
  Bytes alpha = {};    // tRNS
  bool interlaced = false;
};

Bytes png_file(const PngSpec& s) {
  static constexpr int64_t kChannels[] = {1, 0, 3, 1, 2, 0, 4};
  const int64_t channels = kChannels[s.color_type];
  const Bytes raw = s.interlaced ? adam7(s.samples, s.height, s.width, channels, s.depth)
                                 : scanlines(s.samples, s.height, s.width, channels, s.depth);
  uLongf size = compressBound(uLong(raw.size()));
  Bytes packed(size);
  EXPECT_EQ(compress2(packed.data(), &size, raw.data(), uLong(raw.size()), 9), Z_OK);
  packed.resize(size);
  Bytes out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  Bytes ihdr;
  put_u32(ihdr, uint32_t(s.width));
  put_u32(ihdr, uint32_t(s.height));
  ihdr.insert(ihdr.end(), {uint8_t(s.depth), s.color_type, 0, 0, uint8_t(s.interlaced)});
  put_chunk(out, "IHDR", ihdr);
  if (!s.palette.empty()) put_chunk(out, "PLTE", s.palette);
  if (!s.alpha.empty()) put_chunk(out, "tRNS", s.alpha);
  put_chunk(out, "IDAT", packed);
  put_chunk(out, "IEND", {});
  return out;
}

// ---- expected values

uint8_t luma(uint8_t r, uint8_t g, uint8_t b) {  // PIL's convert("L")
  return uint8_t((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
}

// [C, H, W] values of HWC samples, taking `channels` of every pixel's `stride`.
std::vector<uint8_t> planes(const std::vector<uint8_t>& hwc, int64_t stride,
                            std::vector<int64_t> channels) {
  const int64_t n = int64_t(hwc.size()) / stride;
  std::vector<uint8_t> out;
  for (int64_t c : channels)
    for (int64_t i = 0; i < n; ++i) out.push_back(hwc[size_t(i * stride + c)]);
  return out;
}

std::vector<uint8_t> lumas(const std::vector<uint8_t>& hwc, int64_t stride) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < hwc.size(); i += size_t(stride))
    out.push_back(luma(hwc[i], hwc[i + 1], hwc[i + 2]));
  return out;
}

std::vector<uint8_t> values(const Tensor& image) {
  return image.to_vector<uint8_t>();
}

// HWC values of a [C, H, W] image.
std::vector<uint8_t> interleaved(const Tensor& image) {
  return values(image.permute({1, 2, 0}).contiguous());
}

Tensor decode(const Bytes& bytes, ImageMode mode) {
  return decode_image(bytes.data(), bytes.size(), mode, "test.png");
}

// A deterministic HWC u8 pattern.
std::vector<uint8_t> pattern(int64_t n, int64_t salt) {
  std::vector<uint8_t> out(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k)
    out[size_t(k)] = uint8_t((k * 37 + salt * 11 + (k * k) % 7) % 256);
  return out;
}

Bytes encoded_png(const std::vector<uint8_t>& hwc, int64_t h, int64_t w, int64_t c) {
  const std::string png = encode_png(from_data(hwc.data(), {h, w, c}, DType::u8));
  return Bytes(png.begin(), png.end());
}

Bytes text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

Bytes read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

TEST(ImageIO, Png8BitExact) {
  const int64_t h = 5, w = 7;
  const auto gray = pattern(h * w, 1), rgb = pattern(h * w * 3, 2), rgba = pattern(h * w * 4, 3);
  const Bytes gray_png = encoded_png(gray, h, w, 1), rgb_png = encoded_png(rgb, h, w, 3),
              rgba_png = encoded_png(rgba, h, w, 4);

  const Tensor g = decode(gray_png, ImageMode::keep);
  EXPECT_EQ(g.shape(), (Shape{1, h, w}));
  EXPECT_EQ(g.dtype(), DType::u8);
  EXPECT_EQ(values(g), gray);
  EXPECT_EQ(values(decode(gray_png, ImageMode::gray)), gray);
  EXPECT_EQ(values(decode(gray_png, ImageMode::rgb)), planes(gray, 1, {0, 0, 0}));

  EXPECT_EQ(decode(rgb_png, ImageMode::keep).shape(), (Shape{3, h, w}));
  EXPECT_EQ(values(decode(rgb_png, ImageMode::keep)), planes(rgb, 3, {0, 1, 2}));
  EXPECT_EQ(values(decode(rgb_png, ImageMode::rgb)), planes(rgb, 3, {0, 1, 2}));
  EXPECT_EQ(values(decode(rgb_png, ImageMode::gray)), lumas(rgb, 3));

  EXPECT_EQ(values(decode(rgba_png, ImageMode::keep)), planes(rgba, 4, {0, 1, 2, 3}));
  EXPECT_EQ(values(decode(rgba_png, ImageMode::rgb)), planes(rgba, 4, {0, 1, 2}));
  EXPECT_EQ(values(decode(rgba_png, ImageMode::gray)), lumas(rgba, 4));
}

TEST(ImageIO, PngGrayAlphaLowBitsAndInterlace) {
  const int64_t h = 3, w = 5;
  const auto ga = pattern(h * w * 2, 4);
  const Bytes ga_png = png_file({.height = h,
                                 .width = w,
                                 .depth = 8,
                                 .color_type = 4,
                                 .samples = std::vector<uint16_t>(ga.begin(), ga.end())});
  EXPECT_EQ(values(decode(ga_png, ImageMode::keep)), planes(ga, 2, {0, 1}));
  EXPECT_EQ(values(decode(ga_png, ImageMode::gray)), planes(ga, 2, {0}));
  EXPECT_EQ(values(decode(ga_png, ImageMode::rgb)), planes(ga, 2, {0, 0, 0}));

  // 1-, 2- and 4-bit gray widen to 8 bits by repeating the bits (v * 255 / (2^depth - 1)).
  for (int depth : {1, 2, 4}) {
    std::vector<uint16_t> samples;
    std::vector<uint8_t> expected;
    const int max = (1 << depth) - 1;
    for (int64_t k = 0; k < h * w; ++k) {
      samples.push_back(uint16_t(k % (max + 1)));
      expected.push_back(uint8_t(samples.back() * 255 / max));
    }
    const Bytes png =
        png_file({.height = h, .width = w, .depth = depth, .color_type = 0, .samples = samples});
    EXPECT_EQ(values(decode(png, ImageMode::keep)), expected) << depth << "-bit";
  }

  // Adam7 on a 9x10 RGB image (every pass non-empty).
  const auto rgb = pattern(9 * 10 * 3, 5);
  const Bytes interlaced = png_file({.height = 9,
                                     .width = 10,
                                     .depth = 8,
                                     .color_type = 2,
                                     .samples = std::vector<uint16_t>(rgb.begin(), rgb.end()),
                                     .interlaced = true});
  EXPECT_EQ(decode(interlaced, ImageMode::keep).shape(), (Shape{3, 9, 10}));
  EXPECT_EQ(values(decode(interlaced, ImageMode::keep)), planes(rgb, 3, {0, 1, 2}));
}

TEST(ImageIO, Png16BitKeepsTheHighByte) {
  const int64_t h = 2, w = 3;
  // Low bytes 0xff: rounding would give the next value, cutting keeps the high byte (as PIL).
  std::vector<uint16_t> gray16, rgba16;
  std::vector<uint8_t> gray8, rgba8;
  for (int64_t k = 0; k < h * w; ++k) {
    gray16.push_back(uint16_t((k * 40) << 8 | 0xff));
    gray8.push_back(uint8_t(k * 40));
  }
  for (int64_t k = 0; k < h * w * 4; ++k) {
    rgba16.push_back(uint16_t((k * 9 + 3) << 8 | 0xc0));
    rgba8.push_back(uint8_t(k * 9 + 3));
  }
  const Bytes gray_png =
      png_file({.height = h, .width = w, .depth = 16, .color_type = 0, .samples = gray16});
  EXPECT_EQ(values(decode(gray_png, ImageMode::keep)), gray8);
  const Bytes rgba_png =
      png_file({.height = h, .width = w, .depth = 16, .color_type = 6, .samples = rgba16});
  EXPECT_EQ(values(decode(rgba_png, ImageMode::keep)), planes(rgba8, 4, {0, 1, 2, 3}));
  EXPECT_EQ(values(decode(rgba_png, ImageMode::rgb)), planes(rgba8, 4, {0, 1, 2}));
  EXPECT_EQ(values(decode(rgba_png, ImageMode::gray)), lumas(rgba8, 4));
}

TEST(ImageIO, PngPalettes) {
  const int64_t h = 3, w = 4;
  const Bytes palette = {255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 100, 50};
  std::vector<uint16_t> indices;
  std::vector<uint8_t> rgb, rgba;
  const Bytes alpha = {0, 128};  // entries 2 and 3 opaque
  for (int64_t k = 0; k < h * w; ++k) {
    const auto i = uint16_t((k * 3 + k / 4) % 4);
    indices.push_back(i);
    for (int c = 0; c < 3; ++c) rgb.push_back(palette[size_t(3 * i + c)]);
    rgba.insert(rgba.end(), rgb.end() - 3, rgb.end());
    rgba.push_back(i < alpha.size() ? alpha[i] : 255);
  }
  for (int depth : {2, 8}) {
    const Bytes png = png_file({.height = h,
                                .width = w,
                                .depth = depth,
                                .color_type = 3,
                                .samples = indices,
                                .palette = palette});
    EXPECT_EQ(decode(png, ImageMode::keep).shape(), (Shape{3, h, w})) << depth;
    EXPECT_EQ(values(decode(png, ImageMode::keep)), planes(rgb, 3, {0, 1, 2})) << depth;
    EXPECT_EQ(values(decode(png, ImageMode::gray)), lumas(rgb, 3)) << depth;
  }
  const Bytes transparent = png_file({.height = h,
                                      .width = w,
                                      .depth = 4,
                                      .color_type = 3,
                                      .samples = indices,
                                      .palette = palette,
                                      .alpha = alpha});
  EXPECT_EQ(values(decode(transparent, ImageMode::keep)), planes(rgba, 4, {0, 1, 2, 3}));
  EXPECT_EQ(values(decode(transparent, ImageMode::rgb)), planes(rgb, 3, {0, 1, 2}));
}

// Largest difference between a decoded image and the expected [C, H, W] values.
int max_error(const Tensor& image, const std::vector<uint8_t>& expected) {
  const auto got = values(image);
  EXPECT_EQ(got.size(), expected.size());
  int worst = 0;
  for (size_t k = 0; k < std::min(got.size(), expected.size()); ++k)
    worst = std::max(worst, std::abs(int(got[k]) - int(expected[k])));
  return worst;
}

TEST(ImageIO, JpegWithinItsError) {
  std::vector<uint8_t> rgb, gray, cmyk_rgb;
  for (int y = 0; y < 12; ++y) {
    for (int x = 0; x < 16; ++x) {
      rgb.insert(rgb.end(),
                 {uint8_t(40 + 10 * x), uint8_t(30 + 15 * y), uint8_t(200 - 5 * x - 5 * y)});
      gray.push_back(uint8_t(20 + 10 * x + 5 * y));
    }
  }
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) {
      for (int ink : {20 * x, 10 * y, 60})
        cmyk_rgb.push_back(uint8_t((255 - ink) * (255 - 40) / 255));
    }
  }
  const Tensor color = read_image(kJpegDir / "rgb.jpg", ImageMode::keep);
  ASSERT_EQ(color.shape(), (Shape{3, 12, 16}));
  // 4:2:0 chroma at quality 95 on steep gradients: up to 11 at a corner.
  EXPECT_LE(max_error(color, planes(rgb, 3, {0, 1, 2})), 12);
  EXPECT_EQ(values(read_image(kJpegDir / "rgb.jpg", ImageMode::rgb)), values(color));
  // Gray from a color JPEG is the luma of its RGB, as PIL's convert("L").
  EXPECT_EQ(values(read_image(kJpegDir / "rgb.jpg", ImageMode::gray)),
            lumas(interleaved(color), 3));

  const Tensor progressive = read_image(kJpegDir / "gray.jpg");
  ASSERT_EQ(progressive.shape(), (Shape{1, 12, 16}));
  EXPECT_LE(max_error(progressive, gray), 2);
  EXPECT_EQ(values(read_image(kJpegDir / "gray.jpg", ImageMode::rgb)),
            planes(values(progressive), 1, {0, 0, 0}));

  const Tensor cmyk = read_image(kJpegDir / "cmyk.jpg");
  ASSERT_EQ(cmyk.shape(), (Shape{3, 8, 8}));
  EXPECT_LE(max_error(cmyk, planes(cmyk_rgb, 3, {0, 1, 2})), 3);
}

class ImageFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "anvil_images_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // An h x w RGB PNG whose pixels are all `value`.
  void write_rgb_png(const fs::path& path, int64_t h, int64_t w, uint8_t value) {
    write_file(path, encoded_png(std::vector<uint8_t>(size_t(h * w * 3), value), h, w, 3));
  }

  fs::path dir_;
};

TEST_F(ImageFiles, FormatBySignatureNotName) {
  const auto gray = pattern(12, 6);
  write_file(dir_ / "really_a_png.jpg", encoded_png(gray, 3, 4, 1));
  EXPECT_EQ(values(read_image(dir_ / "really_a_png.jpg")), gray);
  write_file(dir_ / "really_a_jpeg.png", read_bytes(kJpegDir / "gray.jpg"));
  EXPECT_EQ(values(read_image(dir_ / "really_a_jpeg.png")),
            values(read_image(kJpegDir / "gray.jpg")));
}

TEST_F(ImageFiles, Errors) {
  const fs::path missing = dir_ / "missing.png";
  EXPECT_THROW(read_image(missing), IOError);
  expect_error([&] { read_image(missing); }, {"cannot open", missing.string(), "No such file"});
  expect_error([&] { read_image(dir_); }, {"cannot read", dir_.string(), "directory"});

  write_file(dir_ / "empty.png", {});
  expect_error([&] { read_image(dir_ / "empty.png"); }, {"empty.png", "is empty"});
  write_file(dir_ / "anim.gif", {'G', 'I', 'F', '8', '9', 'a', 1, 0});
  EXPECT_THROW(read_image(dir_ / "anim.gif"), ValueError);
  expect_error([&] { read_image(dir_ / "anim.gif"); },
               {"anim.gif", "neither PNG", "nor JPEG", "starts 47 49 46 38 39 61 01 00"});

  const Bytes png = encoded_png(pattern(64 * 64 * 3, 7), 64, 64, 3);
  write_file(dir_ / "cut.png", Bytes(png.begin(), png.begin() + std::ptrdiff_t(png.size() / 2)));
  EXPECT_THROW(read_image(dir_ / "cut.png"), ValueError);
  expect_error([&] { read_image(dir_ / "cut.png"); },
               {"cut.png", "corrupt or truncated PNG", "unexpected end of data"});
  write_file(dir_ / "header_only.png", Bytes(png.begin(), png.begin() + 20));
  expect_error([&] { read_image(dir_ / "header_only.png"); },
               {"header_only.png", "corrupt or truncated PNG", "unexpected end of data"});
  Bytes flipped = png;
  flipped[60] ^= 0x5a;  // inside IDAT's deflate stream
  write_file(dir_ / "flipped.png", flipped);
  expect_error([&] { read_image(dir_ / "flipped.png"); },
               {"flipped.png", "corrupt or truncated PNG", "IDAT"});
  Bytes bad_crc = png;
  bad_crc[png.size() - 13] ^= 1;  // IDAT's CRC, before the 12-byte IEND
  write_file(dir_ / "bad_crc.png", bad_crc);
  expect_error([&] { read_image(dir_ / "bad_crc.png"); },
               {"bad_crc.png", "corrupt or truncated PNG", "IDAT: CRC error"});

  const Bytes jpeg = read_bytes(kJpegDir / "rgb.jpg");
  write_file(dir_ / "cut.jpg", Bytes(jpeg.begin(), jpeg.end() - 200));
  EXPECT_THROW(read_image(dir_ / "cut.jpg"), ValueError);
  expect_error([&] { read_image(dir_ / "cut.jpg"); },
               {"cut.jpg", "corrupt or truncated JPEG", "Premature end of JPEG file"});
  write_file(dir_ / "header_only.jpg", Bytes(jpeg.begin(), jpeg.begin() + 40));
  expect_error([&] { read_image(dir_ / "header_only.jpg"); },
               {"header_only.jpg", "corrupt or truncated JPEG"});
  Bytes garbage = {0xff, 0xd8, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05};
  write_file(dir_ / "garbage.jpg", garbage);
  expect_error([&] { read_image(dir_ / "garbage.jpg"); },
               {"garbage.jpg", "corrupt or truncated JPEG"});

  expect_error([] { parse_color_type("rgb"); },
               {"\"color\"", "\"grayscale\"", "\"unchanged\"", "got \"rgb\""});
}

// ---- the dataset

TEST_F(ImageFiles, ScansClassFolders) {
  const fs::path root = dir_ / "train";
  write_rgb_png(root / "cat" / "z.png", 4, 4, 1);
  write_rgb_png(root / "cat" / "b.png", 4, 4, 2);
  write_file(root / "cat" / "a.JPG", read_bytes(kJpegDir / "rgb.jpg"));
  write_rgb_png(root / "cat" / "sub" / "c.png", 4, 4, 3);
  write_file(root / "cat" / "notes.txt", {'x'});
  write_rgb_png(root / "dog" / "x.jpeg", 2, 3, 4);  // a PNG under a JPEG name
  fs::create_directories(root / "empty");
  write_file(root / "readme.png", {'x'});  // not in a class folder: ignored
  ImageFolderDataset ds({.data_root = dir_.string()}, {.data_prefix = "train"});

  EXPECT_EQ(std::get<std::vector<std::string>>(ds.metainfo().at("classes")),
            (std::vector<std::string>{"cat", "dog", "empty"}));
  // torchvision's order: a folder's own files (sorted), then its subfolders'.
  std::vector<std::string> files;
  for (const auto& f : ds.files()) files.push_back(fs::relative(f, root).string());
  EXPECT_EQ(files, (std::vector<std::string>{"cat/a.JPG", "cat/b.png", "cat/z.png", "cat/sub/c.png",
                                             "dog/x.jpeg"}));
  EXPECT_EQ(ds.labels(), (std::vector<int64_t>{0, 0, 0, 0, 1}));
  ASSERT_EQ(ds.size(), 5);

  const Sample jpeg = ds.get(0);
  EXPECT_EQ(jpeg.inputs.shape(), (Shape{3, 12, 16}));
  EXPECT_EQ(jpeg.label, 0);
  EXPECT_EQ(std::get<std::string>(jpeg.meta.at("img_path")), (root / "cat" / "a.JPG").string());
  const Sample last = ds.get(-1);
  EXPECT_EQ(last.inputs.shape(), (Shape{3, 2, 3}));
  EXPECT_EQ(values(last.inputs), std::vector<uint8_t>(18, 4));
  EXPECT_EQ(last.label, 1);
  EXPECT_EQ(last.index, 4);

  ImageFolderDataset gray({.data_root = root.string()}, {.color = ImageMode::gray});
  EXPECT_EQ(gray.get(1).inputs.shape(), (Shape{1, 4, 4}));
  EXPECT_EQ(values(gray.get(1).inputs), std::vector<uint8_t>(16, 2));

  // A subset shares the list and keeps the classes.
  auto subset = ds.get_subset(std::vector<int64_t>{4, 1});
  EXPECT_EQ(subset->size(), 2);
  EXPECT_EQ(subset->get(0).label, 1);
  EXPECT_EQ(subset->metainfo(), ds.metainfo());
}

TEST_F(ImageFiles, LazyInitScansOnFirstUse) {
  ImageFolderDataset lazy({.data_root = dir_.string(), .lazy_init = true});
  EXPECT_FALSE(lazy.fully_initialized());
  write_rgb_png(dir_ / "a" / "1.png", 2, 2, 9);
  write_rgb_png(dir_ / "b" / "1.png", 2, 2, 9);
  EXPECT_EQ(std::get<std::vector<std::string>>(lazy.metainfo().at("classes")).size(), 2u);
  EXPECT_TRUE(lazy.fully_initialized());
  EXPECT_EQ(lazy.size(), 2);
}

TEST_F(ImageFiles, AnnotationFile) {
  write_rgb_png(dir_ / "images" / "a" / "one.png", 3, 3, 10);
  write_rgb_png(dir_ / "images" / "b" / "two words.png", 3, 3, 20);
  write_file(dir_ / "meta" / "train.txt", text("b/two words.png 7\r\n\na/one.png 2\n"));
  ImageFolderDataset ds({.data_root = dir_.string()},
                        {.data_prefix = "images", .ann_file = "meta/train.txt"});
  ASSERT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.labels(), (std::vector<int64_t>{7, 2}));  // the file's order
  EXPECT_EQ(ds.files()[0], dir_ / "images" / "b" / "two words.png");
  EXPECT_EQ(values(ds.get(1).inputs), std::vector<uint8_t>(27, 10));
  EXPECT_EQ(ds.get(0).label, 7);
  EXPECT_FALSE(ds.metainfo().contains("classes"));  // only from the metainfo argument

  // An absolute ann_file, and classes given: labels must be below their number.
  const std::string ann = (dir_ / "meta" / "train.txt").string();
  ImageFolderDataset named(
      {.data_root = dir_.string(), .metainfo = {{"classes", std::vector<std::string>(8, "c")}}},
      {.data_prefix = "images", .ann_file = ann});
  EXPECT_EQ(std::get<std::vector<std::string>>(named.metainfo().at("classes")).size(), 8u);
  expect_error(
      [&] {
        ImageFolderDataset({.data_root = dir_.string(),
                            .metainfo = {{"classes", std::vector<std::string>{"a", "b", "c"}}}},
                           {.data_prefix = "images", .ann_file = ann});
      },
      {ann + ":1", "label 7", "3 classes"});

  write_file(dir_ / "bad.txt", text("a/one.png\nx\n"));
  expect_error([&] { ImageFolderDataset({.data_root = dir_.string()}, {.ann_file = "bad.txt"}); },
               {(dir_ / "bad.txt").string() + ":1", "\"relative/path label\"", "\"a/one.png\""});
  write_file(dir_ / "negative.txt", text("a.png -1\n"));
  expect_error(
      [&] { ImageFolderDataset({.data_root = dir_.string()}, {.ann_file = "negative.txt"}); },
      {"negative.txt:1", "label >= 0", "\"a.png -1\""});
  write_file(dir_ / "blank.txt", text("\n \n"));
  expect_error([&] { ImageFolderDataset({.data_root = dir_.string()}, {.ann_file = "blank.txt"}); },
               {"blank.txt", "lists no images"});
  EXPECT_THROW(ImageFolderDataset({.data_root = dir_.string()}, {.ann_file = "none.txt"}), IOError);
  expect_error([&] { ImageFolderDataset({.data_root = dir_.string()}, {.ann_file = "none.txt"}); },
               {"cannot open the ann_file", (dir_ / "none.txt").string(), "No such file"});
}

TEST_F(ImageFiles, DatasetErrors) {
  expect_error([&] { ImageFolderDataset({.data_root = (dir_ / "nope").string()}); },
               {(dir_ / "nope").string(), "is not a directory"});
  fs::create_directories(dir_ / "cat");
  write_file(dir_ / "cat" / "notes.txt", {'x'});
  write_rgb_png(dir_ / "stray.png", 2, 2, 1);
  expect_error([&] { ImageFolderDataset({.data_root = dir_.string()}); },
               {"found no images in " + dir_.string(), ".png, .jpg, .jpeg", "1 subdirectory"});
  // A corrupt file is found by the scan and reported when its sample is read.
  write_file(dir_ / "cat" / "broken.png", Bytes{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0});
  ImageFolderDataset ds({.data_root = dir_.string()});
  EXPECT_EQ(ds.size(), 1);
  expect_error([&] { ds.get(0); },
               {(dir_ / "cat" / "broken.png").string(), "corrupt or truncated PNG"});
}

TEST_F(ImageFiles, DataLoaderResizesCropsAndBatches) {
  const std::vector<std::pair<int64_t, int64_t>> sizes = {
      {10, 14}, {12, 9}, {16, 16}, {9, 20}, {11, 11}};
  for (size_t i = 0; i < sizes.size(); ++i) {
    write_rgb_png(dir_ / (i % 2 ? "odd" : "even") / fmt::format("{}.png", i), sizes[i].first,
                  sizes[i].second, uint8_t(50 * i));
  }
  write_file(dir_ / "odd" / "photo.jpg", read_bytes(kJpegDir / "rgb.jpg"));
  auto ds = std::make_shared<ImageFolderDataset>(
      DatasetOptions{.data_root = dir_.string(),
                     .pipeline = {std::make_shared<Resize>(ResizeOptions{.size = {12}}),
                                  std::make_shared<RandomCrop>(RandomCropOptions{.size = {10, 8}}),
                                  std::make_shared<ToTensor>()}});
  ASSERT_EQ(ds->size(), 6);
  DataLoader loader(ds, std::make_shared<DefaultSampler>(*ds, DefaultSamplerOptions{.seed = 3}),
                    {.batch_size = 4, .num_workers = 2});
  std::vector<int64_t> labels;
  int64_t batches = 0;
  for (Batch& batch : loader) {
    ++batches;
    ASSERT_EQ(batch.inputs.shape(), (Shape{batch.size(), 3, 10, 8}));
    EXPECT_EQ(batch.inputs.dtype(), DType::f32);
    EXPECT_EQ(batch.meta.at("img_path").size(), size_t(batch.size()));
    for (int64_t i = 0; i < batch.size(); ++i) {
      const int64_t index = batch.indices.to_vector<int64_t>()[size_t(i)];
      EXPECT_EQ(batch.labels.to_vector<int64_t>()[size_t(i)], ds->labels()[size_t(index)]);
      labels.push_back(ds->labels()[size_t(index)]);
    }
  }
  EXPECT_EQ(batches, 2);
  std::sort(labels.begin(), labels.end());
  EXPECT_EQ(labels, (std::vector<int64_t>{0, 0, 0, 1, 1, 1}));
  // A constant image stays constant through resizing and cropping: even/2.png, all 100.
  const Sample s = ds->get(1);
  EXPECT_EQ(std::get<std::string>(s.meta.at("img_path")), (dir_ / "even" / "2.png").string());
  EXPECT_EQ(s.inputs.to_vector<float>(), std::vector<float>(3 * 10 * 8, 100.0f / 255.0f));
}

// ---- registration

TEST_F(ImageFiles, Registered) {
  write_rgb_png(dir_ / "images" / "a" / "1.png", 3, 5, 30);
  write_rgb_png(dir_ / "images" / "b" / "2.png", 4, 4, 60);
  write_file(dir_ / "train.txt", text("b/2.png 1\n"));
  std::string toml = R"(
[folder]
type = "ImageFolder"
data_root = "@ROOT@"
data_prefix = "images"
color = "grayscale"
indices = [1]
pipeline = [{type = "Resize", size = 2}]
[custom]
type = "CustomDataset"
data_root = "@ROOT@"
data_prefix = "images"
ann_file = "train.txt"
metainfo = {classes = ["a", "b"]}
lazy_init = true
[bad_color]
type = "ImageFolder"
data_root = "@ROOT@/images"
color = "rgb"
[typo]
type = "ImageFolder"
data_root = "@ROOT@/images"
ann_fle = "x"
)";
  for (size_t at; (at = toml.find("@ROOT@")) != std::string::npos;)
    toml.replace(at, 6, dir_.string());
  const Config cfg = Config::from_string(toml, "data.toml");

  auto folder = std::dynamic_pointer_cast<ImageFolderDataset>(DATASETS.build(cfg["folder"]));
  ASSERT_TRUE(folder);
  EXPECT_EQ(folder->folder_options().color, ImageMode::gray);
  ASSERT_EQ(folder->size(), 1);
  const Sample s = folder->get(0);
  EXPECT_EQ(s.label, 1);
  EXPECT_EQ(s.inputs.shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(values(s.inputs), std::vector<uint8_t>(4, 60));
  EXPECT_EQ(std::get<std::vector<std::string>>(folder->metainfo().at("classes")),
            (std::vector<std::string>{"a", "b"}));

  auto custom = std::dynamic_pointer_cast<ImageFolderDataset>(DATASETS.build(cfg["custom"]));
  ASSERT_TRUE(custom);
  EXPECT_FALSE(custom->fully_initialized());
  EXPECT_EQ(custom->folder_options().color, ImageMode::rgb);
  EXPECT_EQ(custom->folder_options().ann_file, "train.txt");
  ASSERT_EQ(custom->size(), 1);
  EXPECT_EQ(custom->get(0).label, 1);
  EXPECT_EQ(custom->get(0).inputs.shape(), (Shape{3, 4, 4}));

  expect_error([&] { DATASETS.build(cfg["bad_color"]); },
               {"data.toml:16", "'ImageFolder'", "\"grayscale\"", "got \"rgb\""});
  expect_error([&] { DATASETS.build(cfg["typo"]); },
               {"data.toml:23: unknown key 'ann_fle' in typo", "did you mean 'ann_file'?",
                "valid keys: data_root, data_prefix, ann_file, color, test_mode, indices, "
                "lazy_init, metainfo, pipeline"});
}

}  // namespace
}  // namespace anvil::engine
