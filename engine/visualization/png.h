// PNG encoding of uint8 images (8-bit grayscale, RGB or RGBA), through zlib: enough for the
// visualizer's add_image and the GAN example's sample grids, without an image library.
#pragma once

#include <string>

#include "tensor/tensor.h"

namespace anvil::engine {

// `image` is u8 [H, W] or [H, W, C] with C = 1, 3 or 4 (HWC, as MMEngine's add_image takes it);
// returns the bytes of a PNG file. Other shapes or dtypes are an error naming them.
std::string encode_png(const Tensor& image);

// encode_png, written to `path` atomically (created or replaced).
void write_png(const std::string& path, const Tensor& image);

}  // namespace anvil::engine
