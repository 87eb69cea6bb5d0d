// Transforms on samples, with torchvision's arguments and semantics. They act on
// `Sample::inputs`, an image [C, H, W] of u8, f32 or f64, and keep its dtype except ToTensor and
// Normalize, which return f32.
//
// Value ranges: Normalize uses the values as they are. Either ToTensor (u8 -> [0, 1]) then
// Normalize with torchvision's [0, 1] means (the quick start's mean 0.491/0.482/0.447, std
// 0.202/0.199/0.201), or Normalize straight on u8 with means in [0, 255] (MMEngine's CIFAR
// config: mean 125.307/122.961/113.8575, std 51.5865/50.847/51.255); both give the same tensor.
//
// Randomness: a transform draws only from the Rng it is given, which the DataLoader picks by
// (seed, rank, epoch, position) (see random.h). The order of draws is torchvision's.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace anvil::engine {

class Compose : public Transform {
 public:
  explicit Compose(Pipeline transforms) : transforms_(std::move(transforms)) {}
  void apply(Sample& sample, Rng& rng) const override;
  std::string name() const override { return "Compose"; }

 private:
  Pipeline transforms_;
};

struct RandomCropOptions {
  std::vector<int64_t> size = {};  // {h, w}, or {s} for a square
  // {}, {all}, {left/right, top/bottom} or {left, top, right, bottom}
  std::vector<int64_t> padding = {};
  bool pad_if_needed = false;             // pad each side by what the image lacks of `size`
  double fill = 0;                        // for padding_mode "constant"
  std::string padding_mode = "constant";  // "constant", "edge", "reflect" or "symmetric"
};

class RandomCrop : public Transform {
 public:
  explicit RandomCrop(RandomCropOptions options);
  void apply(Sample& sample, Rng& rng) const override;
  std::string name() const override { return "RandomCrop"; }

 private:
  RandomCropOptions options_;
  int64_t height_, width_;
  std::array<int64_t, 4> padding_{};  // left, top, right, bottom
};

struct RandomFlipOptions {
  double prob = 0.5;
  std::string direction = "horizontal";  // "horizontal", "vertical" or "diagonal" (both)
};

// MMCV's RandomFlip; sets meta `flip` (0 or 1).
class RandomFlip : public Transform {
 public:
  explicit RandomFlip(RandomFlipOptions options = {});
  void apply(Sample& sample, Rng& rng) const override;
  std::string name() const override { return "RandomFlip"; }

 private:
  RandomFlipOptions options_;
};

// Bilinear resizing as torch.nn.functional.interpolate(mode="bilinear", align_corners=False)
// without antialiasing; u8 results are rounded (half to even) as torchvision rounds them.
struct ResizeOptions {
  std::vector<int64_t> size = {};  // {h, w}, or {s}: the shorter edge becomes s, keeping the ratio
};

class Resize : public Transform {
 public:
  explicit Resize(ResizeOptions options);
  void apply(Sample& sample, Rng& rng) const override;
  std::string name() const override { return "Resize"; }

 private:
  ResizeOptions options_;
};

struct RandomResizedCropOptions {
  std::vector<int64_t> size = {};  // {h, w} or {s}
  std::array<double, 2> scale = {0.08, 1.0};
  std::array<double, 2> ratio = {3.0 / 4.0, 4.0 / 3.0};
};

class RandomResizedCrop : public Transform {
 public:
  explicit RandomResizedCrop(RandomResizedCropOptions options);
  void apply(Sample& sample, Rng& rng) const override;
  std::string name() const override { return "RandomResizedCrop"; }
  // torchvision's get_params: the crop {top, left, height, width} for an image of this size.
  std::array<int64_t, 4> get_params(int64_t height, int64_t width, Rng& rng) const;

 private:
  RandomResizedCropOptions options_;
  int64_t height_, width_;
};

struct NormalizeOptions {
  std::vector<double> mean = {};  // one value, or one per channel
  std::vector<double> std = {};
};

class Normalize : public Transform {
 public:
  explicit Normalize(NormalizeOptions options);
  void apply(Sample& sample, Rng& rng) const override;
  std::string name() const override { return "Normalize"; }

 private:
  NormalizeOptions options_;
};

// u8 images to f32 in [0, 1] (divided by 255); floating images are left as they are.
class ToTensor : public Transform {
 public:
  void apply(Sample& sample, Rng& rng) const override;
  std::string name() const override { return "ToTensor"; }
};

// The image resized bilinearly to out_h x out_w (the free function behind Resize).
Tensor resize_bilinear(const Tensor& image, int64_t out_h, int64_t out_w);

}  // namespace anvil::engine
