// Transforms: shapes and values against hand-computed ones (torchvision's semantics), the draws
// of the random ones, and determinism for a given stream.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/op_test.h"
#include "engine/data/transforms.h"
#include "tensor/ops/factory.h"

namespace anvil::engine {
namespace {

// A u8 image [c, h, w] holding 0, 1, 2, ... in row-major order.
Tensor ramp(int64_t c, int64_t h, int64_t w) {
  return arange(c * h * w, TensorOptions(DType::i64)).to(DType::u8).reshape({c, h, w});
}

Sample apply(const Transform& t, const Tensor& image, int64_t position = 0, uint64_t seed = 1) {
  Sample s;
  s.inputs = image;
  Rng rng(RandomKey{.seed = seed, .position = position});
  t.apply(s, rng);
  return s;
}

std::vector<int64_t> values(const Tensor& t) {
  return t.to(DType::i64).to_vector<int64_t>();
}

TEST(DataTransforms, RandomCropPaddingModes) {
  const Tensor image = ramp(1, 4, 4);
  // Crop size = padded size: no randomness, the result is the padded image.
  auto padded = [&](const std::string& mode) {
    return values(
        apply(RandomCrop({.size = {6}, .padding = {1}, .fill = 9, .padding_mode = mode}), image)
            .inputs);
  };
  auto expected = [&](std::vector<int64_t> map, int64_t fill) {
    std::vector<int64_t> out;
    for (int64_t r : map)
      for (int64_t c : map) out.push_back(r < 0 || c < 0 ? fill : r * 4 + c);
    return out;
  };
  EXPECT_EQ(padded("constant"), expected({-1, 0, 1, 2, 3, -1}, 9));
  EXPECT_EQ(padded("edge"), expected({0, 0, 1, 2, 3, 3}, 0));
  EXPECT_EQ(padded("reflect"), expected({1, 0, 1, 2, 3, 2}, 0));
  EXPECT_EQ(padded("symmetric"), expected({0, 0, 1, 2, 3, 3}, 0));
  // Two values: left/right, top/bottom.
  const Tensor tall = apply(RandomCrop({.size = {8, 6}, .padding = {1, 2}}), image).inputs;
  ASSERT_EQ(tall.shape(), (Shape{1, 8, 6}));
  EXPECT_EQ(values(tall)[2 * 6 + 1], 0);
  EXPECT_EQ(values(tall)[5 * 6 + 4], 15);
}

TEST(DataTransforms, RandomCropDrawsEveryOffset) {
  const Tensor image = ramp(3, 4, 4);
  const RandomCrop crop({.size = {4, 4}, .padding = {1}});
  std::set<std::pair<int64_t, int64_t>> offsets;
  for (int64_t p = 0; p < 200; ++p) {
    const Sample s = apply(crop, image, p);
    ASSERT_EQ(s.inputs.shape(), (Shape{3, 4, 4}));
    ASSERT_EQ(s.inputs.dtype(), DType::u8);
    const auto v = values(s.inputs);
    EXPECT_EQ(values(apply(crop, image, p).inputs), v);  // the same stream, the same crop
    // Pixel (1, 1) (value 5) is inside every crop: where it landed gives the offset (i, j).
    const auto at = int64_t(std::find(v.begin(), v.begin() + 16, 5) - v.begin());
    const int64_t i = 2 - at / 4, j = 2 - at % 4;
    offsets.insert({i, j});
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 4; ++y)
        for (int64_t x = 0; x < 4; ++x) {
          const int64_t r = i + y - 1, q = j + x - 1;
          const bool inside = r >= 0 && r < 4 && q >= 0 && q < 4;
          EXPECT_EQ(v[size_t(c * 16 + y * 4 + x)], inside ? c * 16 + r * 4 + q : 0);
        }
  }
  EXPECT_EQ(offsets.size(), 9u);
}

TEST(DataTransforms, RandomCropPadIfNeededAndErrors) {
  const Tensor image = ramp(1, 3, 3);
  const Sample s = apply(RandomCrop({.size = {5}, .pad_if_needed = true}), image);
  EXPECT_EQ(s.inputs.shape(), (Shape{1, 5, 5}));
  testing::expect_error([&] { apply(RandomCrop({.size = {5}}), image); },
                        {"RandomCrop", "5x5", "larger than", "3x3"});
  testing::expect_error(
      [] {
        RandomCrop({.size = {4}, .padding = {1, 2, 3}});
      },
      {"padding", "0, 1, 2 or 4"});
  testing::expect_error([] { RandomCrop({.size = {4}, .padding_mode = "wrap"}); },
                        {"padding_mode", "wrap"});
  testing::expect_error([] { apply(RandomCrop({.size = {2}}), ramp(1, 1, 4).reshape({4})); },
                        {"RandomCrop", "[C, H, W]"});
}

TEST(DataTransforms, RandomFlip) {
  const Tensor image = ramp(1, 2, 3);
  Sample h = apply(RandomFlip({.prob = 1}), image);
  EXPECT_EQ(values(h.inputs), (std::vector<int64_t>{2, 1, 0, 5, 4, 3}));
  EXPECT_EQ(std::get<int64_t>(h.meta.at("flip")), 1);
  EXPECT_EQ(values(apply(RandomFlip({.prob = 1, .direction = "vertical"}), image).inputs),
            (std::vector<int64_t>{3, 4, 5, 0, 1, 2}));
  EXPECT_EQ(values(apply(RandomFlip({.prob = 1, .direction = "diagonal"}), image).inputs),
            (std::vector<int64_t>{5, 4, 3, 2, 1, 0}));
  Sample none = apply(RandomFlip({.prob = 0}), image);
  EXPECT_TRUE(none.inputs.is_same(image));
  EXPECT_EQ(std::get<int64_t>(none.meta.at("flip")), 0);
  int flips = 0;
  const RandomFlip half;
  for (int64_t p = 0; p < 2000; ++p) {
    const auto flip = std::get<int64_t>(apply(half, image, p).meta.at("flip"));
    EXPECT_EQ(std::get<int64_t>(apply(half, image, p).meta.at("flip")), flip);
    flips += int(flip);
  }
  EXPECT_GT(flips, 850);
  EXPECT_LT(flips, 1150);
  testing::expect_error([] { RandomFlip({.direction = "sideways"}); }, {"direction", "sideways"});
}

TEST(DataTransforms, ResizeIsBilinearWithoutAlignCorners) {
  // torch.nn.functional.interpolate([[0, 1], [2, 3]], size=4, mode="bilinear"): the source
  // weights per output row and column are 0, 0.25, 0.75, 1.
  const Tensor image = tensor(std::vector<float>{0, 1, 2, 3}, Shape{1, 2, 2});
  const Tensor up = apply(Resize({.size = {4, 4}}), image).inputs;
  const double r[4] = {0, 0.25, 0.75, 1};
  const auto got = up.to_vector<float>();
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) EXPECT_FLOAT_EQ(got[size_t(y * 4 + x)], 2 * r[y] + r[x]);
  // u8 rounds half to even, as torchvision's round_.
  const auto up_u8 = values(apply(Resize({.size = {4, 4}}), image.to(DType::u8)).inputs);
  EXPECT_EQ(up_u8[4], 0);  // 0.5
  EXPECT_EQ(up_u8[8], 2);  // 1.5
  EXPECT_EQ(up_u8[5], 1);  // 0.75
  // Halving reads the centre of each 2x2 block: the mean of its four values.
  const auto down = apply(Resize({.size = {2}}), ramp(1, 4, 8).to(DType::f32)).inputs;
  ASSERT_EQ(down.shape(), (Shape{1, 2, 4}));  // the shorter edge to 2, the ratio kept
  EXPECT_FLOAT_EQ(down.to_vector<float>()[0], (0 + 1 + 8 + 9) / 4.0f);
  EXPECT_FLOAT_EQ(down.to_vector<float>()[7], (22 + 23 + 30 + 31) / 4.0f);
}

TEST(DataTransforms, RandomResizedCrop) {
  const RandomResizedCrop rrc({.size = {8, 6}});
  const Tensor image = ramp(3, 20, 30);
  for (int64_t p = 0; p < 50; ++p) {
    Rng rng(RandomKey{.position = p});
    const auto [i, j, h, w] = rrc.get_params(20, 30, rng);
    EXPECT_TRUE(i >= 0 && j >= 0 && h > 0 && w > 0 && i + h <= 20 && j + w <= 30);
    const double area = double(h * w) / 600.0, ratio = double(w) / double(h);
    EXPECT_TRUE(area > 0.06 && area < 1.05) << area;
    EXPECT_TRUE(ratio > 0.6 && ratio < 1.5) << ratio;
    const Sample s = apply(rrc, image, p);
    EXPECT_EQ(s.inputs.shape(), (Shape{3, 8, 6}));
    EXPECT_EQ(values(s.inputs), values(apply(rrc, image, p).inputs));
  }
  // No crop can have ratio 10 in a square: torchvision's fallback, centred, at the nearest ratio.
  const RandomResizedCrop wide({.size = {2}, .ratio = {100, 100}});
  Rng rng(RandomKey{});
  EXPECT_EQ(wide.get_params(400, 400, rng), (std::array<int64_t, 4>{198, 0, 4, 400}));
}

TEST(DataTransforms, NormalizeAndToTensor) {
  const Tensor image = tensor(std::vector<uint8_t>{0, 255, 51, 102}, Shape{2, 1, 2});
  const Tensor n = apply(Normalize({.mean = {10, 20}, .std = {2, 4}}), image).inputs;
  ASSERT_EQ(n.dtype(), DType::f32);
  EXPECT_EQ(n.to_vector<float>(), (std::vector<float>{-5, 122.5f, 7.75f, 20.5f}));
  const Tensor unit = apply(ToTensor(), image).inputs;
  EXPECT_EQ(unit.dtype(), DType::f32);
  EXPECT_FLOAT_EQ(unit.to_vector<float>()[2], 0.2f);
  EXPECT_TRUE(apply(ToTensor(), unit).inputs.is_same(unit));
  // ToTensor + Normalize in [0, 1] equals Normalize in [0, 255] with mean and std * 255.
  const Compose torchvision_style(
      {std::make_shared<ToTensor>(), std::make_shared<Normalize>(NormalizeOptions{
                                         .mean = {0.491, 0.482}, .std = {0.202, 0.199}})});
  const Normalize mmengine_style(
      {.mean = {0.491 * 255, 0.482 * 255}, .std = {0.202 * 255, 0.199 * 255}});
  const auto a = apply(torchvision_style, image).inputs.to_vector<float>();
  const auto b = apply(mmengine_style, image).inputs.to_vector<float>();
  for (size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k], b[k], 1e-5);
  testing::expect_error(
      [&] {
        apply(Normalize({.mean = {1, 2, 3}, .std = {1, 1, 1}}), image);
      },
      {"Normalize", "3 mean/std values", "2 channels"});
  testing::expect_error([] { Normalize({.mean = {1}, .std = {0}}); }, {"std has a zero"});
}

TEST(DataTransforms, ComposeRunsInOrderAndStreamsDiffer) {
  const Compose pipeline(
      {std::make_shared<RandomCrop>(RandomCropOptions{.size = {4}, .padding = {2}}),
       std::make_shared<RandomFlip>(),
       std::make_shared<Normalize>(NormalizeOptions{.mean = {0}, .std = {1}})});
  const Tensor image = ramp(3, 4, 4);
  const Sample s = apply(pipeline, image, 3);
  EXPECT_EQ(s.inputs.shape(), (Shape{3, 4, 4}));
  EXPECT_EQ(s.inputs.dtype(), DType::f32);
  EXPECT_EQ(s.inputs.to_vector<float>(), apply(pipeline, image, 3).inputs.to_vector<float>());
  int differ = 0;
  for (int64_t p = 0; p < 10; ++p)
    differ += apply(pipeline, image, p, 1).inputs.to_vector<float>() !=
              apply(pipeline, image, p, 2).inputs.to_vector<float>();
  EXPECT_GE(differ, 5);  // another seed, other crops and flips
}

}  // namespace
}  // namespace anvil::engine
