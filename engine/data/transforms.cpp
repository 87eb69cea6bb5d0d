#include "engine/data/transforms.h"

#include <algorithm>
#include <cmath>

#include "autograd/functions/pool.h"
#include "autograd/functions/unary.h"
#include "tensor/error.h"
#include "tensor/ops/factory.h"

namespace anvil::engine {

namespace {

// Runs f.template operator()<T>() for the image dtypes transforms accept.
template <class F>
void visit_image(const Tensor& image, const std::string& op, F&& f) {
  ANVIL_CHECK(image.defined() && image.dim() == 3 && image.is_cpu(),
              "{}: expected a CPU image [C, H, W] in Sample::inputs, got {}", op,
              image.defined() ? image.describe() : "none");
  switch (image.dtype()) {
    case DType::u8:
      return f.template operator()<uint8_t>();
    case DType::f32:
      return f.template operator()<float>();
    case DType::f64:
      return f.template operator()<double>();
    default:
      throw ValueError(fmt::format("{}: images are u8, f32 or f64, got {}", op, image.describe()));
  }
}

// out[c][y][x] = image[c][rows[y]][cols[x]], or `fill` where a row or column is -1. Cropping,
// padding and flipping are all this gather with different index maps.
Tensor gather_image(const Tensor& image, const std::vector<int64_t>& rows,
                    const std::vector<int64_t>& cols, double fill, const std::string& op) {
  Tensor out;
  visit_image(image, op, [&]<class T>() {
    const Tensor src = image.contiguous();
    const int64_t channels = src.size(0), h = src.size(1), w = src.size(2);
    out = empty({channels, int64_t(rows.size()), int64_t(cols.size())}, TensorOptions(src.dtype()));
    const T* in = src.data_ptr<T>();
    T* o = out.data_ptr<T>();
    const T fill_value = static_cast<T>(fill);
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t r : rows) {
        const T* row = in + (c * h + r) * w;
        for (int64_t col : cols) *o++ = (r < 0 || col < 0) ? fill_value : row[col];
      }
    }
  });
  return out;
}

// Where padded coordinate p (in [-before, n + after)) reads from, or -1 for the fill value.
int64_t source_index(int64_t p, int64_t n, const std::string& mode) {
  if (p >= 0 && p < n) return p;
  if (mode == "constant") return -1;
  if (mode == "edge") return std::clamp<int64_t>(p, 0, n - 1);
  if (mode == "reflect") {  // d c b | a b c d | c b a
    if (n == 1) return 0;
    const int64_t period = 2 * (n - 1);
    int64_t m = ((p % period) + period) % period;
    return m < n ? m : period - m;
  }
  const int64_t period = 2 * n;  // symmetric: c b a | a b c d | d c b
  int64_t m = ((p % period) + period) % period;
  return m < n ? m : period - 1 - m;
}

std::pair<int64_t, int64_t> parse_size(const std::vector<int64_t>& size, const std::string& op) {
  ANVIL_CHECK((size.size() == 1 || size.size() == 2) && size.front() > 0 && size.back() > 0,
              "{}: size must be {{s}} or {{h, w}} with positive values, got {}", op, size);
  return {size.front(), size.back()};
}

std::vector<int64_t> iota_from(int64_t start, int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = start + i;
  return v;
}

}  // namespace

void Compose::apply(Sample& sample, Rng& rng) const {
  for (const auto& t : transforms_) t->apply(sample, rng);
}

RandomCrop::RandomCrop(RandomCropOptions options) : options_(std::move(options)) {
  std::tie(height_, width_) = parse_size(options_.size, "RandomCrop");
  const auto& p = options_.padding;
  ANVIL_CHECK(p.size() == 0 || p.size() == 1 || p.size() == 2 || p.size() == 4,
              "RandomCrop: padding must have 0, 1, 2 or 4 values, got {}", p);
  ANVIL_CHECK(std::all_of(p.begin(), p.end(), [](int64_t v) { return v >= 0; }),
              "RandomCrop: padding must be non-negative, got {}", p);
  if (p.size() == 1) padding_ = {p[0], p[0], p[0], p[0]};
  if (p.size() == 2) padding_ = {p[0], p[1], p[0], p[1]};
  if (p.size() == 4) padding_ = {p[0], p[1], p[2], p[3]};
  const auto& mode = options_.padding_mode;
  ANVIL_CHECK(mode == "constant" || mode == "edge" || mode == "reflect" || mode == "symmetric",
              "RandomCrop: padding_mode must be constant, edge, reflect or symmetric, got \"{}\"",
              mode);
}

void RandomCrop::apply(Sample& sample, Rng& rng) const {
  const Tensor& image = sample.inputs;
  visit_image(image, "RandomCrop", []<class T>() {});
  const int64_t h = image.size(1), w = image.size(2);
  auto [left, top, right, bottom] = padding_;
  if (options_.pad_if_needed) {
    // torchvision pads both sides by the whole shortfall.
    const int64_t short_w = width_ - (w + left + right), short_h = height_ - (h + top + bottom);
    if (short_w > 0) left += short_w, right += short_w;
    if (short_h > 0) top += short_h, bottom += short_h;
  }
  const int64_t padded_h = h + top + bottom, padded_w = w + left + right;
  ANVIL_CHECK(padded_h >= height_ && padded_w >= width_,
              "RandomCrop: crop size {}x{} is larger than the (padded) image {}x{} of {}", height_,
              width_, padded_h, padded_w, image.describe());
  int64_t i = 0, j = 0;
  if (padded_h != height_ || padded_w != width_) {
    i = rng.randint(0, padded_h - height_ + 1);
    j = rng.randint(0, padded_w - width_ + 1);
  }
  std::vector<int64_t> rows(static_cast<size_t>(height_)), cols(static_cast<size_t>(width_));
  for (int64_t y = 0; y < height_; ++y)
    rows[size_t(y)] = source_index(i + y - top, h, options_.padding_mode);
  for (int64_t x = 0; x < width_; ++x)
    cols[size_t(x)] = source_index(j + x - left, w, options_.padding_mode);
  sample.inputs = gather_image(image, rows, cols, options_.fill, "RandomCrop");
}

RandomFlip::RandomFlip(RandomFlipOptions options) : options_(std::move(options)) {
  ANVIL_CHECK(options_.prob >= 0 && options_.prob <= 1,
              "RandomFlip: prob must be in [0, 1], got {}", options_.prob);
  const auto& d = options_.direction;
  ANVIL_CHECK(d == "horizontal" || d == "vertical" || d == "diagonal",
              "RandomFlip: direction must be horizontal, vertical or diagonal, got \"{}\"", d);
}

void RandomFlip::apply(Sample& sample, Rng& rng) const {
  const Tensor& image = sample.inputs;
  visit_image(image, "RandomFlip", []<class T>() {});
  const bool flip = rng.uniform() < options_.prob;
  sample.meta["flip"] = int64_t(flip);
  if (!flip) return;
  const int64_t h = image.size(1), w = image.size(2);
  std::vector<int64_t> rows = iota_from(0, h), cols = iota_from(0, w);
  if (options_.direction != "vertical") std::reverse(cols.begin(), cols.end());
  if (options_.direction != "horizontal") std::reverse(rows.begin(), rows.end());
  sample.inputs = gather_image(image, rows, cols, 0, "RandomFlip");
}

// F.interpolate's bilinear resize (align_corners=False, no antialiasing), in double; u8 images
// round half to even and clamp.
Tensor resize_bilinear(const Tensor& image, int64_t out_h, int64_t out_w) {
  visit_image(image, "Resize", []<class T>() {});
  ANVIL_CHECK(image.size(1) > 0 && image.size(2) > 0 && out_h > 0 && out_w > 0,
              "Resize: cannot resize {} to {}x{}", image.describe(), out_h, out_w);
  const Tensor r = interpolate(image.to(DType::f64).unsqueeze(0),
                               {.size = {out_h, out_w}, .mode = InterpolateMode::bilinear})
                       .squeeze(0);
  return image.dtype() == DType::u8 ? clamp(round(r), 0, 255).to(DType::u8) : r.to(image.dtype());
}

Resize::Resize(ResizeOptions options) : options_(std::move(options)) {
  parse_size(options_.size, "Resize");
}

void Resize::apply(Sample& sample, Rng& rng) const {
  const Tensor& image = sample.inputs;
  visit_image(image, "Resize", []<class T>() {});
  const int64_t h = image.size(1), w = image.size(2);
  int64_t out_h = options_.size.front(), out_w = options_.size.back();
  if (options_.size.size() == 1) {  // the shorter edge to size; the longer keeps the ratio
    const int64_t s = options_.size.front();
    if (h <= w) {
      out_w = int64_t(double(s) * double(w) / double(h));
    } else {
      out_h = int64_t(double(s) * double(h) / double(w));
    }
  }
  if (out_h == h && out_w == w) return;
  sample.inputs = resize_bilinear(image, out_h, out_w);
}

RandomResizedCrop::RandomResizedCrop(RandomResizedCropOptions options)
    : options_(std::move(options)) {
  std::tie(height_, width_) = parse_size(options_.size, "RandomResizedCrop");
  const auto& s = options_.scale;
  const auto& r = options_.ratio;
  ANVIL_CHECK(s[0] > 0 && s[0] <= s[1] && r[0] > 0 && r[0] <= r[1],
              "RandomResizedCrop: scale and ratio must be positive (min, max), got scale {} and "
              "ratio {}",
              s, r);
}

std::array<int64_t, 4> RandomResizedCrop::get_params(int64_t height, int64_t width,
                                                     Rng& rng) const {
  const double area = double(height) * double(width);
  const double log_lo = std::log(options_.ratio[0]), log_hi = std::log(options_.ratio[1]);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * rng.uniform(options_.scale[0], options_.scale[1]);
    const double aspect = std::exp(rng.uniform(log_lo, log_hi));
    // Python's round(): half to even.
    const auto w = int64_t(std::nearbyint(std::sqrt(target_area * aspect)));
    const auto h = int64_t(std::nearbyint(std::sqrt(target_area / aspect)));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const int64_t i = rng.randint(0, height - h + 1);
      const int64_t j = rng.randint(0, width - w + 1);
      return {i, j, h, w};
    }
  }
  // Fallback: the whole image, cut to the nearest allowed ratio, centred.
  const double in_ratio = double(width) / double(height);
  int64_t w = width, h = height;
  if (in_ratio < options_.ratio[0]) {
    h = int64_t(std::nearbyint(double(w) / options_.ratio[0]));
  } else if (in_ratio > options_.ratio[1]) {
    w = int64_t(std::nearbyint(double(h) * options_.ratio[1]));
  }
  return {(height - h) / 2, (width - w) / 2, h, w};
}

void RandomResizedCrop::apply(Sample& sample, Rng& rng) const {
  const Tensor& image = sample.inputs;
  visit_image(image, "RandomResizedCrop", []<class T>() {});
  const auto [i, j, h, w] = get_params(image.size(1), image.size(2), rng);
  const Tensor crop = image.narrow(1, i, h).narrow(2, j, w);
  sample.inputs = resize_bilinear(crop, height_, width_);
}

Normalize::Normalize(NormalizeOptions options) : options_(std::move(options)) {
  const auto& m = options_.mean;
  const auto& s = options_.std;
  ANVIL_CHECK(!m.empty() && m.size() == s.size(),
              "Normalize: mean and std need the same number of values (1 or one per channel), "
              "got {} and {}",
              m, s);
  ANVIL_CHECK(std::all_of(s.begin(), s.end(), [](double v) { return v != 0; }),
              "Normalize: std has a zero: {}", s);
}

void Normalize::apply(Sample& sample, Rng& rng) const {
  const Tensor& image = sample.inputs;
  Tensor out;
  visit_image(image, "Normalize", [&]<class T>() {
    const int64_t channels = image.size(0), plane = image.size(1) * image.size(2);
    const auto n = int64_t(options_.mean.size());
    ANVIL_CHECK(n == 1 || n == channels,
                "Normalize: {} mean/std values for an image of {} channels ({})", n, channels,
                image.describe());
    const Tensor src = image.contiguous();
    out = empty({channels, image.size(1), image.size(2)}, TensorOptions(DType::f32));
    const T* in = src.data_ptr<T>();
    float* o = out.data_ptr<float>();
    for (int64_t c = 0; c < channels; ++c) {
      const auto mean = float(options_.mean[size_t(n == 1 ? 0 : c)]);
      const auto std = float(options_.std[size_t(n == 1 ? 0 : c)]);
      for (int64_t k = 0; k < plane; ++k)
        o[c * plane + k] = (float(in[c * plane + k]) - mean) / std;
    }
  });
  sample.inputs = out;
}

void ToTensor::apply(Sample& sample, Rng& rng) const {
  visit_image(sample.inputs, "ToTensor", []<class T>() {});
  if (sample.inputs.dtype() != DType::u8) return;
  const Tensor src = sample.inputs.contiguous();
  Tensor out = empty(src.shape(), TensorOptions(DType::f32));
  const uint8_t* in = src.data_ptr<uint8_t>();
  float* o = out.data_ptr<float>();
  for (int64_t k = 0; k < src.numel(); ++k) o[k] = float(in[k]) / 255.0f;
  sample.inputs = out;
}

}  // namespace anvil::engine
