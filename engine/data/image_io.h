// Image files for datasets: PNG (libpng) and JPEG (libjpeg-turbo), told apart by their
// signatures whatever their names, decoded to u8 [C, H, W] as the CIFAR and MNIST readers produce
// images, so the transforms take them as they are.
//
// Decoding follows PIL (what torchvision's ImageFolder loads with): 16-bit PNG samples keep their
// high byte, gamma and ICC profiles are not applied, EXIF orientation is not applied, and JPEGs
// decode with libjpeg's defaults (islow IDCT, fancy upsampling); CMYK JPEGs become RGB as PIL's
// convert("RGB") makes them (Adobe's inverted CMYK undone first).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "tensor/tensor.h"

namespace anvil::engine {

// The channels read_image returns.
enum class ImageMode {
  keep,  // the file's: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA; a palette gives RGB, or RGBA when
         // it has transparency; a CMYK JPEG gives RGB
  gray,  // 1: PIL's convert("L"), ITU-R 601-2 luma (R*19595 + G*38470 + B*7471 + 2^15) >> 16;
         // alpha dropped
  rgb,   // 3: PIL's convert("RGB"), gray replicated, alpha dropped
};

// MMCV's color_type names: "color" (rgb), "grayscale" (gray) and "unchanged" (keep); anything
// else is an error listing them.
ImageMode parse_color_type(const std::string& color_type);

// The PNG or JPEG file at `path` as u8 [C, H, W]. Errors name the file: IOError when it cannot be
// read, ValueError when it is neither PNG nor JPEG or its data is corrupt or truncated.
Tensor read_image(const std::filesystem::path& path, ImageMode mode = ImageMode::keep);

// The same from a file's bytes; `name` names them in errors.
Tensor decode_image(const uint8_t* data, size_t size, ImageMode mode, const std::string& name);

}  // namespace anvil::engine
