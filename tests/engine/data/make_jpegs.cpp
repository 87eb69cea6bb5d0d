// Writes the JPEG fixtures of test_image_folder.cpp (rgb.jpg, gray.jpg, cmyk.jpg) into the current
// directory with libjpeg-turbo, quality 95; the test checks decoded pixels against these same
// patterns. Not part of the build:
//   g++ -std=c++20 tests/engine/data/make_jpegs.cpp -ljpeg -o /tmp/make_jpegs
//   (cd tests/engine/data && /tmp/make_jpegs)
#include <cstdint>
#include <cstdio>
#include <vector>
// clang-format off
#include <jpeglib.h>
// clang-format on

namespace {

void write_jpeg(const char* path, int width, int height, int components, J_COLOR_SPACE space,
                bool progressive, const std::vector<uint8_t>& pixels) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr errors;
  cinfo.err = jpeg_std_error(&errors);
  jpeg_create_compress(&cinfo);
  std::FILE* file = std::fopen(path, "wb");
  jpeg_stdio_dest(&cinfo, file);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = components;
  cinfo.in_color_space = space;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 95, TRUE);
  if (progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    auto row = const_cast<JSAMPROW>(&pixels[size_t(cinfo.next_scanline) * width * components]);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::fclose(file);
}

}  // namespace

int main() {
  // 16x12 RGB gradients, baseline, 4:2:0 chroma (libjpeg's default).
  std::vector<uint8_t> rgb;
  for (int y = 0; y < 12; ++y) {
    for (int x = 0; x < 16; ++x) {
      rgb.insert(rgb.end(),
                 {uint8_t(40 + 10 * x), uint8_t(30 + 15 * y), uint8_t(200 - 5 * x - 5 * y)});
    }
  }
  write_jpeg("rgb.jpg", 16, 12, 3, JCS_RGB, false, rgb);
  // 16x12 gray gradient, progressive.
  std::vector<uint8_t> gray;
  for (int y = 0; y < 12; ++y) {
    for (int x = 0; x < 16; ++x) gray.push_back(uint8_t(20 + 10 * x + 5 * y));
  }
  write_jpeg("gray.jpg", 16, 12, 1, JCS_GRAYSCALE, true, gray);
  // 8x8 CMYK with libjpeg's Adobe marker, stored inverted as Photoshop stores it (255 - ink);
  // ink C = 20 x, M = 10 y, Y = 60, K = 40.
  std::vector<uint8_t> cmyk;
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) {
      cmyk.insert(cmyk.end(), {uint8_t(255 - 20 * x), uint8_t(255 - 10 * y), 255 - 60, 255 - 40});
    }
  }
  write_jpeg("cmyk.jpg", 8, 8, 4, JCS_CMYK, false, cmyk);
}
