// Pooling, upsampling, embedding and dropout: every kernel (forward and backward) against the
// float64 reference over option sets, odd sizes, unbatched, zero-batch, non-contiguous and
// channels-last inputs; values and indices against PyTorch; tie and NaN rules; dropout's
// statistics and reproducibility; error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <map>

#include "common/op_test.h"

namespace anvil {
namespace {

using testing::all_close;
using testing::expect_error;
using testing::Layout;
using testing::OpInfo;
using testing::OpInfoTest;
using testing::random_tensor;
using testing::Sample;
using testing::with_layout;

using Fn = std::function<Tensor(const Tensor&)>;
using Pair = std::pair<Tensor, Tensor>;

// [N,H,W,C] memory read as [N,C,H,W]: a channels-last tensor.
Tensor channels_last(const Tensor& nchw) {
  return nchw.permute({0, 2, 3, 1}).contiguous().permute({0, 3, 1, 2});
}

// Pooling inputs: odd sizes, unbatched, a zero batch, transposed (non-contiguous), step-2,
// channels-last, and one large enough for several threads. With `grad`, each sample also holds a
// gradient of the shape `fwd` gives (for a backward op), in the input's layout.
std::vector<Sample> pool_samples(DType dtype, const Fn& fwd, bool grad, double lo = -2,
                                 double hi = 2) {
  std::vector<Sample> out;
  uint64_t seed = 11;
  auto add = [&](Tensor x, const std::string& desc) {
    Sample s{{x}, desc};
    if (grad) {
      const Shape gs = fwd(x.to(DType::f64)).shape();
      Tensor g = random_tensor(gs, is_floating(dtype) ? dtype : DType::f32, -1, 1, seed++);
      s.inputs.push_back(x.dim() == 4 && !x.is_contiguous() ? channels_last(g) : g);
    }
    out.push_back(s);
  };
  auto rnd = [&](const Shape& s) { return random_tensor(s, dtype, lo, hi, seed++); };
  add(rnd({2, 3, 9, 11}), "[2,3,9,11]");
  add(rnd({3, 7, 8}), "unbatched [3,7,8]");
  add(rnd({0, 2, 6, 5}), "zero batch [0,2,6,5]");
  add(rnd({1, 1, 5, 5}), "[1,1,5,5]");
  add(with_layout(rnd({2, 2, 6, 7}), Layout::transposed), "transposed [2,2,6,7]");
  add(with_layout(rnd({1, 3, 7, 6}), Layout::strided), "step-2 [1,3,7,6]");
  add(channels_last(rnd({2, 4, 7, 9})), "channels-last [2,4,7,9]");
  add(rnd({2, 16, 33, 31}), "large [2,16,33,31] (threaded)");
  return out;
}

Tensor i64s(const std::vector<int64_t>& v, const Shape& shape) {
  return tensor<int64_t>(v, shape);
}

// An OpInfo over pool_samples for a forward op.
OpInfo forward_info(const std::string& name, const Fn& f, std::vector<OpId> ref_ops,
                    DTypeSet dtypes = kFloatingTypes) {
  return {name, [f](const std::vector<Tensor>& in) { return f(in[0]); }, dtypes,
          [f](DType t) { return pool_samples(t, f, false); }, std::move(ref_ops)};
}

// An OpInfo for a backward op: b(x, grad_output) with grad_output shaped like f(x).
OpInfo backward_info(const std::string& name, const Fn& f,
                     const std::function<Tensor(const Tensor&, const Tensor&)>& b,
                     std::vector<OpId> ref_ops) {
  return {name, [b](const std::vector<Tensor>& in) { return b(in[0], in[1]); }, kFloatingTypes,
          [f](DType t) { return pool_samples(t, f, true); }, std::move(ref_ops)};
}

// ---- the option sets under test
// -------------------------------------------------------------------

struct MaxCase {
  std::string name;
  std::vector<int64_t> k;
  MaxPool2dOptions o;
};
const std::vector<MaxCase>& max_cases() {
  static const std::vector<MaxCase> cases = {
      {"k3s2p1", {3}, {.stride = {2}, .padding = {1}}},
      {"k2", {2}, {}},
      {"k3s1p1d2", {3}, {.stride = {1}, .padding = {1}, .dilation = {2}}},
      {"k32s21p10_ceil", {3, 2}, {.stride = {2, 1}, .padding = {1, 0}, .ceil_mode = true}},
      {"k2s3_ceil", {2}, {.stride = {3}, .ceil_mode = true}},
      {"k4s3p2d12_ceil",
       {4, 3},
       {.stride = {3, 2}, .padding = {2, 1}, .dilation = {1, 2}, .ceil_mode = true}},
  };
  return cases;
}

struct AvgCase {
  std::string name;
  std::vector<int64_t> k;
  AvgPool2dOptions o;
};
const std::vector<AvgCase>& avg_cases() {
  static const std::vector<AvgCase> cases = {
      {"k3s2p1", {3}, {.stride = {2}, .padding = {1}}},
      {"k3s2p1_nopad_ceil",
       {3},
       {.stride = {2}, .padding = {1}, .ceil_mode = true, .count_include_pad = false}},
      {"k23s12p11_div5", {2, 3}, {.stride = {1, 2}, .padding = {1, 1}, .divisor_override = 5}},
      {"k3_ceil", {3}, {.ceil_mode = true}},
      {"k2s3p1_ceil_pad", {2, 3}, {.stride = {3}, .padding = {1}, .ceil_mode = true}},
  };
  return cases;
}

struct InterpCase {
  std::string name;
  InterpolateOptions o;
};
const std::vector<InterpCase>& interp_cases() {
  using M = InterpolateMode;
  static const std::vector<InterpCase> cases = {
      {"nearest_size", {.size = {13, 7}}},
      {"nearest_scale2", {.scale_factor = {2}}},
      {"nearest_scale1_7", {.scale_factor = {1.7, 0.6}}},
      {"nearest_scale2_1", {.scale_factor = {2.1}}},
      {"nearest_exact_scale0_6", {.scale_factor = {0.6, 1.4}, .mode = M::nearest_exact}},
      {"nearest_exact_size", {.size = {4, 17}, .mode = M::nearest_exact}},
      {"bilinear_size", {.size = {13, 5}, .mode = M::bilinear}},
      {"bilinear_align", {.size = {13, 5}, .mode = M::bilinear, .align_corners = true}},
      {"bilinear_align_to1", {.size = {1, 6}, .mode = M::bilinear, .align_corners = true}},
      {"bilinear_scale1_5", {.scale_factor = {1.5}, .mode = M::bilinear}},
      {"bilinear_recompute",
       {.scale_factor = {1.5, 0.7}, .mode = M::bilinear, .recompute_scale_factor = true}},
      {"bilinear_down", {.size = {4, 3}, .mode = M::bilinear}},
      {"area", {.size = {4, 6}, .mode = M::area}},
      {"area_scale", {.scale_factor = {0.5}, .mode = M::area}},
  };
  return cases;
}

// interpolate on 4-D samples; the 3-D samples (unbatched pooling inputs) are [N,C,W] here, so
// they use the 1-D modes.
Tensor interp(const Tensor& x, InterpolateOptions o) {
  if (x.dim() == 3) {
    if (o.mode == InterpolateMode::bilinear) o.mode = InterpolateMode::linear;
    if (o.size.size() == 2) o.size = {o.size[1]};
    if (o.scale_factor.size() == 2) o.scale_factor = {o.scale_factor[1]};
  }
  return interpolate(x, o);
}

std::vector<OpInfo> pool_table() {
  std::vector<OpInfo> t;
  for (const MaxCase& c : max_cases()) {
    const Fn values = [c](const Tensor& x) { return max_pool2d(x, c.k, c.o); };
    t.push_back(forward_info("max_pool2d_" + c.name, values, {OpId::max_pool2d}));
    t.push_back(
        forward_info("max_pool2d_indices_" + c.name,
                     [c](const Tensor& x) { return max_pool2d_with_indices(x, c.k, c.o).second; },
                     {OpId::max_pool2d}));
    t.push_back(backward_info("max_pool2d_backward_" + c.name, values,
                              [c](const Tensor& x, const Tensor& g) {
                                return ops::max_pool2d_backward(
                                    g, max_pool2d_with_indices(x, c.k, c.o).second, x.shape());
                              },
                              {OpId::max_pool2d, OpId::max_pool2d_backward}));
  }
  for (const AvgCase& c : avg_cases()) {
    const Fn f = [c](const Tensor& x) { return avg_pool2d(x, c.k, c.o); };
    t.push_back(forward_info("avg_pool2d_" + c.name, f, {OpId::avg_pool2d},
                             kFloatingTypes | DTypeSet{DType::i64}));
    t.push_back(backward_info("avg_pool2d_backward_" + c.name, f,
                              [c](const Tensor& x, const Tensor& g) {
                                return ops::avg_pool2d_backward(g, x.shape(), c.k, c.o);
                              },
                              {OpId::avg_pool2d_backward}));
  }
  const std::vector<std::pair<std::string, std::vector<std::optional<int64_t>>>> sizes = {
      {"1x1", {1}},
      {"3x4", {3, 4}},
      {"none_x5", {std::nullopt, 5}},
      {"12x13", {12, 13}},
      {"0x2", {0, 2}}};
  for (const auto& [name, size] : sizes) {
    const Fn avg = [size](const Tensor& x) { return adaptive_avg_pool2d(x, size); };
    t.push_back(forward_info("adaptive_avg_pool2d_" + name, avg, {OpId::adaptive_avg_pool2d}));
    t.push_back(backward_info("adaptive_avg_pool2d_backward_" + name, avg,
                              [](const Tensor& x, const Tensor& g) {
                                return ops::adaptive_avg_pool2d_backward(g, x.shape());
                              },
                              {OpId::adaptive_avg_pool2d_backward}));
    const Fn max = [size](const Tensor& x) { return adaptive_max_pool2d(x, size); };
    t.push_back(forward_info("adaptive_max_pool2d_" + name, max, {OpId::adaptive_max_pool2d}));
    t.push_back(forward_info(
        "adaptive_max_pool2d_indices_" + name,
        [size](const Tensor& x) { return adaptive_max_pool2d_with_indices(x, size).second; },
        {OpId::adaptive_max_pool2d}));
    t.push_back(backward_info("adaptive_max_pool2d_backward_" + name, max,
                              [size](const Tensor& x, const Tensor& g) {
                                return ops::max_pool2d_backward(
                                    g, adaptive_max_pool2d_with_indices(x, size).second, x.shape());
                              },
                              {OpId::adaptive_max_pool2d, OpId::max_pool2d_backward}));
  }
  for (const InterpCase& c : interp_cases()) {
    const Fn f = [c](const Tensor& x) { return interp(x, c.o); };
    const bool nearest =
        c.o.mode == InterpolateMode::nearest || c.o.mode == InterpolateMode::nearest_exact;
    const bool area = c.o.mode == InterpolateMode::area;
    t.push_back(forward_info("interpolate_" + c.name, f,
                             {area ? OpId::adaptive_avg_pool2d : OpId::upsample2d},
                             nearest ? kFloatingTypes | DTypeSet{DType::u8} : kFloatingTypes));
    t.push_back(
        backward_info("interpolate_backward_" + c.name, f,
                      [c](const Tensor& x, const Tensor& g) {
                        InterpolateOptions o = c.o;
                        if (x.dim() == 3) {  // as interp() does
                          if (o.mode == InterpolateMode::bilinear) o.mode = InterpolateMode::linear;
                          if (o.size.size() == 2) o.size = {o.size[1]};
                          if (o.scale_factor.size() == 2) o.scale_factor = {o.scale_factor[1]};
                        }
                        return ops::interpolate_backward(g, x.shape(), o);
                      },
                      {area ? OpId::adaptive_avg_pool2d_backward : OpId::upsample2d_backward}));
  }
  // dropout draws from the default generator: both runs start from the same seed.
  t.push_back({"dropout_p03",
               [](const std::vector<Tensor>& in) {
                 manual_seed(7);
                 return dropout(in[0], 0.3, true);
               },
               kFloatingTypes,
               [](DType d) { return testing::default_samples(d, 1); },
               {OpId::dropout}});
  t.push_back({"dropout_backward",
               [](const std::vector<Tensor>& in) {
                 return ops::dropout_backward(in[0], ops::gt(in[0], Scalar(0.5)), 0.25);
               },
               kFloatingTypes,
               [](DType d) { return testing::default_samples(d, 1); },
               {OpId::masked_scale}});
  static const Tensor emb_idx = i64s({3, 0, 4, 4, 1, 3, 0, 2, 4, 4, 1, 0}, {3, 4});
  auto emb_samples = [](DType d) {
    std::vector<Sample> s;
    s.push_back({{random_tensor({5, 6}, d, -2, 2, 3), random_tensor({3, 4, 6}, d, -1, 1, 4)},
                 "weight [5,6]"});
    s.push_back({{with_layout(random_tensor({5, 3}, d, -2, 2, 5), Layout::transposed),
                  random_tensor({3, 4, 3}, d, -1, 1, 6)},
                 "transposed weight [5,3]"});
    return s;
  };
  t.push_back({"embedding",
               [](const std::vector<Tensor>& in) { return embedding(emb_idx, in[0]); },
               kFloatingTypes,
               emb_samples,
               {OpId::index_select}});
  t.push_back({"embedding_backward_pad_freq",
               [](const std::vector<Tensor>& in) {
                 return ops::embedding_backward(in[1], emb_idx, 5,
                                                {.padding_idx = -1, .scale_grad_by_freq = true});
               },
               kFloatingTypes,
               emb_samples,
               {OpId::index_add}});
  return t;
}

INSTANTIATE_TEST_SUITE_P(Pool, OpInfoTest, ::testing::ValuesIn(testing::op_cases(pool_table())),
                         testing::op_case_name);

// ---- values against PyTorch (torch 1.13, float64, on one fixed input) ---------------------------

// ((a * 7) % 11 * 0.5 - a * 0.03) over a = 0, 1, ... in the given shape.
Tensor golden_input(const Shape& shape) {
  std::vector<double> v(numel_of(shape));
  for (size_t a = 0; a < v.size(); ++a) v[a] = double((a * 7) % 11) * 0.5 - double(a) * 0.03;
  return tensor<double>(v, shape);
}

const std::map<std::string, std::vector<double>>& torch_values() {
  static const std::map<std::string, std::vector<double>> values = {
      {"max_k3s2p1", {3.47, 4.91, 4.91, 4.32, 4.58, 3.99, 4.25, 3.4,  3.66, 3.07, 4.25, 2.48,
                      3.92, 3.92, 3.59, 3.59, 3,    3.26, 3.59, 3.59, 2.08, 3.26, 2.67, 2.93}},
      {"max_k3s2p1_idx",
       {1, 3, 3, 6, 14, 17, 25, 20, 28, 31, 25, 34, 1, 1, 12, 12, 15, 23, 12, 12, 29, 23, 26, 34}},
      {"max_k2s1d2_ceil",
       {3.73, 3.73, 3.73, 3.14, 3.14, 3.73, 3.73, 4.25, 4.25, 4.25, 2.81, 2.81, 4.25, 4.25, 4.25,
        2.74, 2.15, 2.15, 3.59, 3.59, 3.26, 3.26, 3.26, 3.59, 3.59, 3.26, 3.26, 3.26, 2.67, 2.67}},
      {"avg_k3s2p1",
       {0.668888888889, 1.72333333333,  1.46111111111,  1.04666666667,  1.15444444444,
        1.74222222222,  1.96,           1.11,           0.666666666667, 0.803333333333,
        1.15222222222,  0.433333333333, 0.868888888889, 0.801111111111, 1.15,
        0.635555555556, 0.843333333333, 0.97,           1.18777777778,  0.798888888889,
        0.255555555556, 0.492222222222, 0.23,           0.633333333333}},
      {"avg_k3s2p1_nopad_ceil",
       {1.505, 2.585, 2.19166666667, 2.355,         1.73166666667, 1.74222222222,  1.96,  1.665,
        1.5,   1.205, 1.72833333333, 0.975,         1.955,         1.20166666667,  1.725, 1.43,
        1.265, 0.97,  1.18777777778, 1.19833333333, 0.575,         0.738333333333, 0.345, 1.425}},
      {"avg_k23_div5",
       {0.694, 1.964, 1.728, 1.034, 1.204, 3.102, 2.63,  1.884, 1.936, 2.55, 2.078,  1.516,
        1.568, 1.998, 2.626, 1.148, 1.2,   1.446, 2.074, 0.78,  1.058, 0.86, 0.624,  0.298,
        0.874, 1.134, 0.898, 0.114, 1.564, 1.442, 2.07,  1.144, 1.196, 0.89, 1.518,  0.776,
        0.828, 1.438, 0.966, 0.408, 0.46,  0.886, 0.414, 1.14,  0.138, 0.03, -0.206, 0.478}},
      {"aavg_3x4",
       {1.505, 2.585, 2.19166666667, 2.355,         1.73166666667, 1.74222222222,  1.96,  1.665,
        1.5,   1.205, 1.72833333333, 0.975,         1.955,         1.20166666667,  1.725, 1.43,
        1.265, 0.97,  1.18777777778, 1.19833333333, 0.575,         0.738333333333, 0.345, 1.425}},
      {"amax_3x4", {3.47, 4.91, 4.91, 4.32, 4.58, 3.99, 4.25, 3.4,  3.66, 3.07, 4.25, 2.48,
                    3.92, 3.92, 3.59, 3.59, 3,    3.26, 3.59, 3.59, 2.08, 3.26, 2.67, 2.93}},
      {"amax_3x4_idx",
       {1, 3, 3, 6, 14, 17, 25, 20, 28, 31, 25, 34, 1, 1, 12, 12, 15, 23, 12, 12, 29, 23, 26, 34}},
      {"nearest_scale2.1",
       {0,     0,     0,     3.47,  3.47,  1.44,  1.44,  4.91,  4.91,  2.88,  2.88,  0.85,  0.85,
        4.32,  0,     0,     0,     3.47,  3.47,  1.44,  1.44,  4.91,  4.91,  2.88,  2.88,  0.85,
        0.85,  4.32,  0,     0,     0,     3.47,  3.47,  1.44,  1.44,  4.91,  4.91,  2.88,  2.88,
        0.85,  0.85,  4.32,  2.29,  2.29,  2.29,  0.26,  0.26,  3.73,  3.73,  1.7,   1.7,   -0.33,
        -0.33, 3.14,  3.14,  1.11,  2.29,  2.29,  2.29,  0.26,  0.26,  3.73,  3.73,  1.7,   1.7,
        -0.33, -0.33, 3.14,  3.14,  1.11,  4.58,  4.58,  4.58,  2.55,  2.55,  0.52,  0.52,  3.99,
        3.99,  1.96,  1.96,  -0.07, -0.07, 3.4,   4.58,  4.58,  4.58,  2.55,  2.55,  0.52,  0.52,
        3.99,  3.99,  1.96,  1.96,  -0.07, -0.07, 3.4,   1.37,  1.37,  1.37,  -0.66, -0.66, 2.81,
        2.81,  0.78,  0.78,  4.25,  4.25,  2.22,  2.22,  0.19,  1.37,  1.37,  1.37,  -0.66, -0.66,
        2.81,  2.81,  0.78,  0.78,  4.25,  4.25,  2.22,  2.22,  0.19,  3.66,  3.66,  3.66,  1.63,
        1.63,  -0.4,  -0.4,  3.07,  3.07,  1.04,  1.04,  -0.99, -0.99, 2.48,  0.45,  0.45,  0.45,
        3.92,  3.92,  1.89,  1.89,  -0.14, -0.14, 3.33,  3.33,  1.3,   1.3,   -0.73, 0.45,  0.45,
        0.45,  3.92,  3.92,  1.89,  1.89,  -0.14, -0.14, 3.33,  3.33,  1.3,   1.3,   -0.73, 0.45,
        0.45,  0.45,  3.92,  3.92,  1.89,  1.89,  -0.14, -0.14, 3.33,  3.33,  1.3,   1.3,   -0.73,
        2.74,  2.74,  2.74,  0.71,  0.71,  -1.32, -1.32, 2.15,  2.15,  0.12,  0.12,  3.59,  3.59,
        1.56,  2.74,  2.74,  2.74,  0.71,  0.71,  -1.32, -1.32, 2.15,  2.15,  0.12,  0.12,  3.59,
        3.59,  1.56,  -0.47, -0.47, -0.47, 3,     3,     0.97,  0.97,  -1.06, -1.06, 2.41,  2.41,
        0.38,  0.38,  -1.65, -0.47, -0.47, -0.47, 3,     3,     0.97,  0.97,  -1.06, -1.06, 2.41,
        2.41,  0.38,  0.38,  -1.65, 1.82,  1.82,  1.82,  -0.21, -0.21, 3.26,  3.26,  1.23,  1.23,
        -0.8,  -0.8,  2.67,  2.67,  0.64,  1.82,  1.82,  1.82,  -0.21, -0.21, 3.26,  3.26,  1.23,
        1.23,  -0.8,  -0.8,  2.67,  2.67,  0.64,  -1.39, -1.39, -1.39, 2.08,  2.08,  0.05,  0.05,
        -1.98, -1.98, 1.49,  1.49,  -0.54, -0.54, 2.93}},
      {"nearest_scale0.7",
       {0,    3.47, 1.44, 2.88, 2.29, 0.26, 3.73,  -0.33, 4.58,  2.55, 0.52, 1.96,
        0.45, 3.92, 1.89, 3.33, 2.74, 0.71, -1.32, 0.12,  -0.47, 3,    0.97, 2.41}},
      {"nearest_exact_size",
       {0,    3.47,  3.47,  1.44,  4.91, 2.88, 0.85, 0.85,  4.32,  4.58,  2.55,  2.55,  0.52,  3.99,
        1.96, -0.07, -0.07, 3.4,   3.66, 1.63, 1.63, -0.4,  3.07,  1.04,  -0.99, -0.99, 2.48,  0.45,
        3.92, 3.92,  1.89,  -0.14, 3.33, 1.3,  1.3,  -0.73, -0.47, 3,     3,     0.97,  -1.06, 2.41,
        0.38, 0.38,  -1.65, -1.39, 2.08, 2.08, 0.05, -1.98, 1.49,  -0.54, -0.54, 2.93}},
      {"bilinear_scale1.5",
       {0,
        1.735,
        3.13166666667,
        1.77833333333,
        3.175,
        4.57166666667,
        3.21833333333,
        1.865,
        1.42833333333,
        3.74166666667,
        1.145,
        1.505,
        1.985,
        2.465,
        2.945,
        2.96666666667,
        1.61333333333,
        1.635,
        2.115,
        2.595,
        2.67166666667,
        1.65666666667,
        1.06722222222,
        2.76944444444,
        2.63833333333,
        1.74333333333,
        0.39,
        1.32833333333,
        2.41944444444,
        1.67722222222,
        4.19833333333,
        3.18333333333,
        1.98277777778,
        1.24055555556,
        2.33166666667,
        3.27,
        1.91666666667,
        1.02166666667,
        0.890555555556,
        2.59277777778,
        2.975,
        1.96,
        1.065,
        1.545,
        2.025,
        2.505,
        2.985,
        2.09,
        1.195,
        1.675,
        1.75166666667,
        0.736666666667,
        0.147222222222,
        1.84944444444,
        1.71833333333,
        1.58722222222,
        3.28944444444,
        2.7,
        1.49944444444,
        0.757222222222,
        3.27833333333,
        2.26333333333,
        1.06277777778,
        0.320555555556,
        1.41166666667,
        2.50277777778,
        1.76055555556,
        0.56,
        -0.0294444444444,
        1.67277777778,
        0.45,
        2.185,
        3.58166666667,
        2.22833333333,
        0.875,
        0.438333333333,
        2.75166666667,
        2.315,
        0.961666666667,
        -0.391666666667,
        1.595,
        1.955,
        1.97666666667,
        0.623333333333,
        0.645,
        1.125,
        1.605,
        2.085,
        2.10666666667,
        0.753333333333,
        2.205,
        1.64833333333,
        0.753333333333,
        -0.6,
        0.338333333333,
        1.42944444444,
        0.687222222222,
        1.77833333333,
        2.71666666667,
        1.36333333333,
        0.065,
        1.34166666667,
        2.28,
        0.926666666667,
        0.0316666666667,
        -0.0994444444444,
        1.60277777778,
        1.47166666667,
        0.576666666667,
        -0.776666666667,
        0.675,
        1.035,
        1.515,
        1.995,
        1.1,
        0.205,
        0.685,
        1.165,
        1.18666666667,
        -0.166666666667,
        1.285,
        0.728333333333,
        0.597222222222,
        2.29944444444,
        1.71,
        0.509444444444,
        -0.232777777778,
        0.858333333333,
        1.94944444444,
        1.20722222222,
        -0.855,
        0.421666666667,
        1.51277777778,
        0.770555555556,
        -0.43,
        -1.01944444444,
        0.682777777778,
        0.551666666667,
        0.420555555556,
        2.12277777778}},
      {"bilinear_recompute",
       {0,
        1.9085,
        2.9625,
        1.5415,
        3.6955,
        4.1995,
        2.7785,
        1.3575,
        2.4115,
        4.32,
        1.30857142857,
        1.4885,
        1.91392857143,
        2.69292857143,
        2.96121428571,
        2.36521428571,
        1.10135714286,
        1.88035714286,
        2.30578571429,
        2.48571428571,
        2.94428571429,
        1.82778571429,
        1.38892857143,
        2.71792857143,
        2.51478571429,
        1.64378571429,
        0.419214285714,
        1.74821428571,
        2.0165,
        1.76428571429,
        4.58,
        3.4635,
        2.0425,
        0.6215,
        2.7755,
        3.2795,
        1.8585,
        0.4375,
        1.4915,
        3.4,
        2.28714285714,
        1.17064285714,
        0.731785714286,
        2.06078571429,
        1.85764285714,
        2.36164285714,
        3.49421428571,
        2.07321428571,
        1.35935714286,
        1.10714285714,
        2.35142857143,
        1.23492857143,
        0.599642857143,
        1.37864285714,
        1.64692857143,
        2.15092857143,
        2.77278571429,
        1.35178571429,
        0.9915,
        1.17142857143,
        3.66,
        2.5435,
        1.1225,
        -0.2985,
        1.8555,
        2.3595,
        0.9385,
        -0.4825,
        0.5715,
        2.48,
        0.45,
        2.3585,
        3.4125,
        1.9915,
        0.5705,
        1.0745,
        3.2285,
        1.8075,
        0.3865,
        -0.73,
        1.75857142857,
        1.9385,
        1.57821428571,
        0.157214285714,
        0.779071428571,
        1.28307142857,
        1.55135714286,
        2.33035714286,
        1.69507142857,
        0.578571428571,
        1.82285714286,
        1.57064285714,
        0.856785714286,
        -0.564214285714,
        0.568357142857,
        1.07235714286,
        0.869214285714,
        2.19821428571,
        1.75935714286,
        0.642857142857,
        -0.47,
        1.4385,
        2.4925,
        1.0715,
        -0.3495,
        0.1545,
        2.3085,
        0.8875,
        -0.5335,
        -1.65,
        1.16571428571,
        0.9135,
        1.18178571429,
        2.51078571429,
        1.28621428571,
        0.415214285714,
        0.212071428571,
        1.54107142857,
        1.10221428571,
        -0.0142857142857,
        0.444285714286,
        0.624214285714,
        1.04964285714,
        1.82864285714,
        0.564785714286,
        -0.0312142857143,
        0.237071428571,
        1.01607142857,
        1.4415,
        1.62142857143,
        -1.39,
        0.5185,
        1.5725,
        0.1515,
        -1.2695,
        -0.7655,
        1.3885,
        -0.0325,
        1.0215,
        2.93}},
      {"bilinear_align",
       {0,
        2.31333333333,
        2.79333333333,
        1.44,
        3.75333333333,
        4.23333333333,
        2.88,
        1.52666666667,
        2.00666666667,
        4.32,
        3.05333333333,
        1.7,
        1.56888888889,
        2.66,
        2.52888888889,
        1.78666666667,
        0.433333333333,
        1.52444444444,
        2.00444444444,
        1.87333333333,
        2.44,
        1.08666666667,
        0.955555555556,
        2.04666666667,
        1.91555555556,
        2.39555555556,
        3.48666666667,
        2.13333333333,
        1.39111111111,
        1.26,
        3.66,
        2.30666666667,
        0.953333333333,
        -0.4,
        1.91333333333,
        2.39333333333,
        1.04,
        -0.313333333333,
        0.166666666667,
        2.48,
        0.45,
        2.76333333333,
        3.24333333333,
        1.89,
        0.536666666667,
        1.01666666667,
        3.33,
        1.97666666667,
        0.623333333333,
        -0.73,
        1.67,
        1.53888888889,
        0.796666666667,
        -0.556666666667,
        0.534444444444,
        1.01444444444,
        0.883333333333,
        1.97444444444,
        1.84333333333,
        0.49,
        1.05666666667,
        0.925555555556,
        1.40555555556,
        2.49666666667,
        1.14333333333,
        0.401111111111,
        0.27,
        1.36111111111,
        1.23,
        -0.123333333333,
        -1.39,
        0.923333333333,
        1.40333333333,
        0.05,
        -1.30333333333,
        -0.823333333333,
        1.49,
        0.136666666667,
        0.616666666667,
        2.93}},
      {"bilinear_down",
       {1.28083333333, 2.5025, 2.34916666667, 0.589166666667, 1.3525, 1.19916666667, 1.73083333333,
        1.5775, 2.34083333333, 0.580833333333, 0.4275, 1.64916666667}},
      {"linear_3d",
       {0,
        2.26884615385,
        2.61115384615,
        2.10730769231,
        4.77653846154,
        3.42653846154,
        1.865,
        1.78423076923,
        4.32,
        2.29,
        0.962692307692,
        1.72807692308,
        3.33961538462,
        1.77807692308,
        0.216538461538,
        1.405,
        2.59346153846,
        1.11,
        4.58,
        3.25269230769,
        1.69115384615,
        1.18730769231,
        3.85653846154,
        2.50653846154,
        0.945,
        0.864230769231,
        3.4,
        1.37,
        0.0426923076923,
        0.808076923077,
        2.41961538462,
        0.858076923077,
        3.31576923077,
        3.235,
        1.67346153846,
        0.19,
        3.66,
        2.33269230769,
        0.771153846154,
        0.267307692308,
        2.93653846154,
        1.58653846154,
        0.025,
        -0.0557692307692,
        2.48,
        0.45,
        2.71884615385,
        3.06115384615,
        1.49961538462,
        -0.0619230769231,
        2.39576923077,
        2.315,
        0.753461538462,
        -0.73,
        2.74,
        1.41269230769,
        -0.148846153846,
        -0.652692307692,
        2.01653846154,
        0.666538461538,
        1.855,
        3.04346153846,
        1.56,
        -0.47,
        1.79884615385,
        2.14115384615,
        0.579615384615,
        -0.981923076923,
        1.47576923077,
        1.395,
        -0.166538461538,
        -1.65,
        1.82,
        0.492692307692,
        1.25807692308,
        2.86961538462,
        1.30807692308,
        -0.253461538462,
        0.935,
        2.12346153846,
        0.64,
        -1.39,
        0.878846153846,
        1.22115384615,
        -0.340384615385,
        -1.90192307692,
        0.555769230769,
        0.475,
        0.394230769231,
        2.93}},
      {"area",
       {1.505, 2.585, 2.19166666667, 2.355,         1.73166666667, 1.74222222222,  1.96,  1.665,
        1.5,   1.205, 1.72833333333, 0.975,         1.955,         1.20166666667,  1.725, 1.43,
        1.265, 0.97,  1.18777777778, 1.19833333333, 0.575,         0.738333333333, 0.345, 1.425}},
      {"bilinear_scale1.5_grad",
       {4.315,          4.95416666667,   5.59333333333,   6.28166666667,  6.92083333333,
        4.40083333333,  1.25916666667,   3.88166666667,   4.52083333333,  5.16,
        5.69555555556,  3.43194444444,   2.43972222222,   3.26194444444,  3.44833333333,
        4.0875,         4.72666666667,   2.35944444444,   1.31805555556,  3.22861111111,
        1.13972222222,  2.98166666667,   3.46805555556,   1.20444444444,  0.212222222222,
        2.07361111111,  1.53972222222,   2.66194444444,   2.69333333333,  0.827777777778,
        -1.03777777778, 1.25444444444,   -0.152777777778, 2.13944444444,  0.258888888889,
        -0.535,         -2.1875,         0.285,           -0.86,          1.6125,
        0.4675,         1.6925,          -3.26,           -1.09305555556, -1.67611111111,
        0.234444444444, -0.348611111111, 1.56194444444,   0.639722222222, -1.86,
        -2.74861111111, -0.887222222222, -1.42111111111,  0.440277777778, -0.551944444444,
        -1.32972222222, -4.16,           -1.99305555556,  -2.57611111111, -0.665555555556,
        -1.70694444444, -4.07416666667,  -3.01583333333,  -1.915,         -2.25277777778,
        -1.21555555556, -1.36777777778,  -2.62222222222,  -3.53833333333, -0.521666666667}},
      {"nearest_scale1.5_grad",
       {5.88,  6.28,  8.24,  7.46,  10.6,  3.14,  1.7,   5.29,  0.19,  6.47, 0.78,  2.15,
        1.37,  3.4,   4.28,  5.48,  6.64,  1.16,  3.5,   2.34,  0.9,   4.49, -0.21, 0.17,
        0.38,  1.35,  0.97,  3,     2.39,  1.49,  -1.93, 2.08,  -0.75, 2.67, -0.8,  -1.52,
        -2.92, 0.84,  -1.74, 3.2,   -0.56, 3.5,   -3.91, 1.09,  -2.73, 1.68, -1.55, 2.27,
        -1.2,  -3.12, -3.72, -0.76, -2.54, 1.6,   -1.36, -2.8,  -4.71, 0.69, -3.53, 1.28,
        -2.35, -3.63, -1.6,  -1.31, -3.11, -0.13, -2.52, -4.45, -1.93, 0.1}},
  };
  return values;
}

TEST(Pool, MatchesPyTorchValues) {
  using M = InterpolateMode;
  const Tensor x = golden_input({1, 2, 5, 7});
  const std::map<std::string, std::function<Tensor()>> ops = {
      {"max_k3s2p1", [&] { return max_pool2d(x, {3}, {.stride = {2}, .padding = {1}}); }},
      {"max_k3s2p1_idx",
       [&] { return max_pool2d_with_indices(x, {3}, {.stride = {2}, .padding = {1}}).second; }},
      {"max_k2s1d2_ceil",
       [&] {
         return max_pool2d(
             x, {2, 3},
             {.stride = {2, 1}, .padding = {1, 0}, .dilation = {2, 1}, .ceil_mode = true});
       }},
      {"avg_k3s2p1", [&] { return avg_pool2d(x, {3}, {.stride = {2}, .padding = {1}}); }},
      {"avg_k3s2p1_nopad_ceil",
       [&] {
         return avg_pool2d(
             x, {3},
             {.stride = {2}, .padding = {1}, .ceil_mode = true, .count_include_pad = false});
       }},
      {"avg_k23_div5",
       [&] {
         return avg_pool2d(x, {2, 3}, {.stride = {1, 2}, .padding = {1, 1}, .divisor_override = 5});
       }},
      {"aavg_3x4",
       [&] {
         return adaptive_avg_pool2d(x, {3, 4});
       }},
      {"amax_3x4",
       [&] {
         return adaptive_max_pool2d(x, {3, 4});
       }},
      {"amax_3x4_idx",
       [&] {
         return adaptive_max_pool2d_with_indices(x, {3, 4}).second;
       }},
      {"nearest_scale2.1", [&] { return interpolate(x, {.scale_factor = {2.1}}); }},
      {"nearest_scale0.7", [&] { return interpolate(x, {.scale_factor = {0.7}}); }},
      {"nearest_exact_size",
       [&] {
         return interpolate(x, {.size = {3, 9}, .mode = M::nearest_exact});
       }},
      {"bilinear_scale1.5",
       [&] { return interpolate(x, {.scale_factor = {1.5}, .mode = M::bilinear}); }},
      {"bilinear_recompute",
       [&] {
         return interpolate(
             x, {.scale_factor = {1.5}, .mode = M::bilinear, .recompute_scale_factor = true});
       }},
      {"bilinear_align",
       [&] {
         return interpolate(x, {.size = {4, 10}, .mode = M::bilinear, .align_corners = true});
       }},
      {"bilinear_down",
       [&] {
         return interpolate(x, {.size = {2, 3}, .mode = M::bilinear});
       }},
      {"linear_3d",
       [&] {
         return interpolate(x.reshape({2, 5, 7}), {.scale_factor = {1.3}, .mode = M::linear});
       }},
      {"area",
       [&] {
         return interpolate(x, {.size = {3, 4}, .mode = M::area});
       }},
      {"bilinear_scale1.5_grad",
       [&] {
         return ops::interpolate_backward(flip(golden_input({1, 2, 7, 10}), {-1}), x.shape(),
                                          {.scale_factor = {1.5}, .mode = M::bilinear});
       }},
      {"nearest_scale1.5_grad",
       [&] {
         return ops::interpolate_backward(flip(golden_input({1, 2, 7, 10}), {-1}), x.shape(),
                                          {.scale_factor = {1.5}});
       }},
  };
  for (const auto& [name, expected] : torch_values()) {
    SCOPED_TRACE(name);
    const Tensor got = ops.at(name)();
    EXPECT_TRUE(
        all_close(got.reshape({-1}).to(DType::f64), tensor<double>(expected), {1e-9, 1e-9}));
  }
}

// Output sizes over a sweep of H, kernel, stride, padding, dilation and ceil_mode, as torch 1.13
// gives them (0: torch rejects the options).
TEST(Pool, MaxPoolOutputSizesMatchPyTorch) {
  const std::vector<int64_t> expected = {
      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 0, 1,
      0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 1,
      2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 3, 3, 2, 2, 1, 1, 0, 1, 2, 2, 1, 2, 1, 1,
      0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 0, 0, 0, 1, 0, 0, 1, 2, 0, 1, 0, 1, 0, 0, 1, 1, 0, 1,
      5, 5, 5, 5, 3, 3, 3, 3, 2, 2, 2, 2, 4, 4, 3, 3, 6, 6, 5, 5, 2, 3, 2, 2, 3, 3, 3, 3, 2, 2,
      1, 2, 2, 2, 2, 2, 3, 3, 1, 1, 5, 5, 3, 3, 2, 2, 1, 1, 3, 3, 2, 2, 1, 2, 1, 1, 2, 2, 1, 2,
      7, 7, 7, 7, 4, 4, 4, 4, 3, 3, 3, 3, 6, 6, 5, 5, 8, 8, 7, 7, 3, 4, 3, 3, 4, 4, 4, 4, 2, 3,
      2, 3, 3, 3, 3, 3, 5, 5, 3, 3, 7, 7, 5, 5, 3, 3, 2, 2, 4, 4, 3, 3, 2, 3, 1, 2, 3, 3, 2, 3,
      8, 8, 8, 8, 4, 4, 4, 4, 3, 3, 3, 3, 7, 7, 6, 6, 9, 9, 8, 8, 4, 4, 3, 4, 5, 5, 4, 5, 3, 3,
      2, 3, 3, 3, 3, 3, 6, 6, 4, 4, 8, 8, 6, 6, 3, 4, 2, 3, 4, 5, 3, 4, 2, 3, 2, 2, 3, 3, 2, 3};
  size_t i = 0;
  for (int64_t h : {1, 2, 5, 7, 8}) {
    for (int64_t k = 1; k <= 3; ++k) {
      for (int64_t s = 1; s <= 3; ++s) {
        for (int64_t p = 0; p <= k / 2; ++p) {
          for (int64_t d = 1; d <= 2; ++d) {
            for (bool ceil : {false, true}) {
              const int64_t want = expected[i++];
              const MaxPool2dOptions o{
                  .stride = {s}, .padding = {p}, .dilation = {d}, .ceil_mode = ceil};
              SCOPED_TRACE(fmt::format("H={} k={} s={} p={} d={} ceil={}", h, k, s, p, d, ceil));
              if (want == 0) {
                expect_error(
                    [&] {
                      max_pool2d(zeros({1, 1, h, h}), {k}, o);
                    },
                    {"max_pool2d", "too small"});
              } else {
                EXPECT_EQ(max_pool2d(zeros({1, 1, h, h}), {k}, o).shape(),
                          (Shape{1, 1, want, want}));
              }
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(i, expected.size());
}

// Ties go to the first element in row-major window order; NaN wins (the last NaN); a window of
// -inf (or wholly in the padding) points at its first tap, as in PyTorch.
TEST(Pool, MaxPoolTiesNaNAndInfinities) {
  const Tensor x = tensor<double>({1, 3, 3, 0, 3, 2, 3, 1, 0, 3, 1, 3, 2, 2, 2, 2}, {1, 1, 4, 4});
  for (DType t : {DType::f32, DType::bf16, DType::f64}) {
    const auto [v, i] = max_pool2d_with_indices(x.to(t), {3}, {.stride = {1}, .padding = {1}});
    EXPECT_EQ(i.to_vector<int64_t>(),
              (std::vector<int64_t>{1, 1, 1, 2, 1, 1, 1, 2, 4, 4, 6, 6, 9, 9, 9, 11}));
    EXPECT_TRUE(all_close(v, full({1, 1, 4, 4}, 3.0), {0, 0}));
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const Tensor y =
      tensor<double>({-inf, 3, 3, 0, 3, nan, 3, 1, 0, 3, nan, 3, 2, 2, 2, 2}, {1, 1, 4, 4});
  const auto [v, i] =
      max_pool2d_with_indices(y.to(DType::f32), {3}, {.stride = {1}, .padding = {1}});
  EXPECT_EQ(i.to_vector<int64_t>(),
            (std::vector<int64_t>{5, 5, 5, 2, 5, 10, 10, 10, 5, 10, 10, 10, 9, 10, 10, 10}));
  EXPECT_TRUE(std::isnan(v.to_vector<float>()[0]));
  EXPECT_EQ(v.to_vector<float>()[3], 3.0f);
  const auto [vi, ii] =
      max_pool2d_with_indices(full({1, 1, 3, 3}, -inf), {2}, {.stride = {1}, .padding = {1}});
  EXPECT_EQ(ii.to_vector<int64_t>(),
            (std::vector<int64_t>{0, 0, 1, 2, 0, 0, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8}));
  EXPECT_EQ(vi.to_vector<double>()[0], -inf);
  // H = 3, kernel 2, dilation 4, padding 1: the taps -1 and 3 both miss the input.
  const auto [ve, ie] = max_pool2d_with_indices(ones({1, 1, 3, 3}), {2},
                                                {.stride = {1}, .padding = {1}, .dilation = {4}});
  EXPECT_EQ(ve.to_vector<float>(), (std::vector<float>{-INFINITY}));
  EXPECT_EQ(ie.to_vector<int64_t>(), (std::vector<int64_t>{12}));
  EXPECT_EQ(ops::max_pool2d_backward(ones({1, 1, 1, 1}), ie, {1, 1, 3, 3}).to_vector<float>(),
            std::vector<float>(9, 0.0f));
}

// Global average pooling runs 16 f32 planes at a time: plane counts and sizes around that.
TEST(Pool, GlobalAveragePoolingEqualsTheMean) {
  for (const Shape& s :
       {Shape{3, 7, 4, 4}, Shape{2, 9, 7, 7}, Shape{1, 33, 1, 3}, Shape{16, 1, 5, 7}}) {
    for (DType t : {DType::f32, DType::bf16}) {
      const Tensor x = random_tensor(s, t);
      EXPECT_TRUE(all_close(adaptive_avg_pool2d(x, {1}), x.mean({-2, -1}, true),
                            testing::default_tolerance(t)))
          << shape_str(s);
    }
  }
}

TEST(Pool, AvgPoolOnIntegersDividesAsIntegers) {
  const Tensor x = tensor<int64_t>({1, 2, 3, 5}, {1, 1, 2, 2});
  EXPECT_EQ(avg_pool2d(x, {2}).to_vector<int64_t>(), (std::vector<int64_t>{2}));
  EXPECT_EQ(avg_pool2d(ops::neg(x), {2}).to_vector<int64_t>(), (std::vector<int64_t>{-2}));
  EXPECT_EQ(avg_pool2d(x, {2}, {.padding = {1}}).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 0, 0, 1}));
  EXPECT_EQ(avg_pool2d(x, {2}, {.padding = {1}}).dtype(), DType::i64);
}

TEST(Pool, UnbatchedInputsGiveUnbatchedOutputs) {
  const Tensor x = random_tensor({3, 8, 9}, DType::f32);
  EXPECT_EQ(max_pool2d(x, {2}).shape(), (Shape{3, 4, 4}));
  EXPECT_EQ(avg_pool2d(x, {3}, {.stride = {2}, .padding = {1}}).shape(), (Shape{3, 4, 5}));
  EXPECT_EQ(adaptive_avg_pool2d(x, {2, std::nullopt}).shape(), (Shape{3, 2, 9}));
  EXPECT_EQ(adaptive_max_pool2d_with_indices(x, {1}).second.shape(), (Shape{3, 1, 1}));
  EXPECT_TRUE(all_close(max_pool2d(x, {2}), max_pool2d(x.unsqueeze(0), {2}).squeeze(0), {0, 0}));
  // interpolate reads a 3-D input as [N,C,W].
  EXPECT_EQ(interpolate(x, {.scale_factor = {2}}).shape(), (Shape{3, 8, 18}));
}

TEST(Pool, InterpolateNearestOnBytes) {
  const Tensor x = tensor<uint8_t>({1, 2, 3, 4, 5, 6}, {1, 1, 2, 3});
  const Tensor y = interpolate(x, {.size = {3, 5}});
  EXPECT_EQ(y.dtype(), DType::u8);
  EXPECT_EQ(y.to_vector<uint8_t>(),
            (std::vector<uint8_t>{1, 1, 2, 2, 3, 1, 1, 2, 2, 3, 4, 4, 5, 5, 6}));
}

TEST(Pool, ErrorsNameTheOpAndValues) {
  const Tensor x = zeros({2, 3, 8, 8});
  expect_error([&] { max_pool2d(zeros({8, 8}), {2}); }, {"max_pool2d", "3-D", "4-D", "[8,8]"});
  expect_error(
      [&] {
        max_pool2d(zeros({2, 0, 8, 8}), {2});
      },
      {"max_pool2d", "nonzero", "[2,0,8,8]"});
  expect_error(
      [&] {
        max_pool2d(x, {2, 2, 2});
      },
      {"max_pool2d", "kernel_size", "1 or 2", "[2,2,2]"});
  expect_error([&] { max_pool2d(x, {0}); }, {"max_pool2d", "kernel_size", "positive", "(0, 0)"});
  expect_error([&] { max_pool2d(x, {2}, {.stride = {0, 1}}); }, {"max_pool2d", "stride", "(0, 1)"});
  expect_error([&] { max_pool2d(x, {2}, {.dilation = {-1}}); }, {"max_pool2d", "dilation"});
  expect_error([&] { max_pool2d(x, {2}, {.padding = {2}}); },
               {"max_pool2d", "padding (2, 2)", "half of kernel_size (2, 2)"});
  expect_error(
      [&] {
        max_pool2d(zeros({1, 1, 2, 2}), {3});
      },
      {"max_pool2d", "[1,1,2,2]", "too small", "0x0"});
  expect_error(
      [&] {
        max_pool2d(zeros({1, 1, 4, 4}, DType::i64), {2});
      },
      {"max_pool2d", "floating", "i64"});
  expect_error([&] { avg_pool2d(x, {2}, {.divisor_override = 0}); },
               {"avg_pool2d", "divisor_override", "nonzero"});
  expect_error(
      [&] {
        avg_pool2d(zeros({1, 1, 4, 4}, DType::u8), {2});
      },
      {"avg_pool2d", "floating or i64", "u8"});
  expect_error(
      [&] {
        adaptive_avg_pool2d(x, {-1, 2});
      },
      {"adaptive_avg_pool2d", "output_size", "(-1, 2)"});
  expect_error(
      [&] {
        adaptive_max_pool2d(x, {1, 2, 3});
      },
      {"adaptive_max_pool2d", "output_size", "1 or 2"});
  expect_error([&] { interpolate(x, {}); },
               {"interpolate", "exactly one of size and scale_factor"});
  expect_error([&] { interpolate(x, {.size = {4}, .scale_factor = {2}}); },
               {"interpolate", "exactly one", "size [4]", "scale_factor [2]"});
  expect_error(
      [&] {
        interpolate(x, {.size = {1, 2, 3}});
      },
      {"interpolate", "size", "1 or 2 values", "[2,3,8,8]", "got 3"});
  expect_error(
      [&] {
        interpolate(zeros({2, 3, 8}), {.size = {4}, .mode = InterpolateMode::bilinear});
      },
      {"interpolate", "bilinear mode needs a 4-D input", "[2,3,8]"});
  expect_error([&] { interpolate(x, {.size = {4}, .mode = InterpolateMode::linear}); },
               {"interpolate", "linear mode needs a 3-D input"});
  expect_error([&] { interpolate(x, {.size = {4}, .align_corners = false}); },
               {"interpolate", "align_corners", "mode nearest"});
  expect_error([&] { interpolate(x, {.size = {4}, .recompute_scale_factor = true}); },
               {"interpolate", "recompute_scale_factor", "explicit size"});
  expect_error([&] { interpolate(x, {.scale_factor = {0.1}}); },
               {"interpolate", "greater than 0", "[2,3,8,8]", "(0, 0)"});
  expect_error(
      [&] { interpolate(x.to(DType::u8), {.size = {4}, .mode = InterpolateMode::bilinear}); },
      {"interpolate", "floating", "u8"});
  expect_error(
      [&] {
        interpolate(zeros({2, 3, 4, 4, 4}), {.size = {2}});
      },
      {"interpolate", "3-D", "4-D", "[2,3,4,4,4]"});
  expect_error(
      [&] {
        ops::max_pool2d_backward(zeros({2, 3, 4, 4}), zeros({2, 3, 4, 4}), x.shape());
      },
      {"max_pool2d_backward", "i64 indices"});
  expect_error(
      [&] {
        ops::avg_pool2d_backward(zeros({2, 3, 5, 4}), x.shape(), {2});
      },
      {"avg_pool2d_backward", "grad_output [2,3,5,4]", "[2,3,4,4]", "[2,3,8,8]"});
  expect_error(
      [&] {
        ops::interpolate_backward(zeros({2, 3, 5, 4}), x.shape(), {.size = {4}});
      },
      {"interpolate_backward", "grad_output [2,3,5,4]", "[2,3,4,4]"});
}

// ---- embedding ----------------------------------------------------------------------------------

TEST(Pool, EmbeddingLooksUpRows) {
  const Tensor w = arange(12, TensorOptions(DType::f32)).reshape({4, 3});
  const Tensor idx = tensor<int32_t>({3, 0, 3, 1}, {2, 2});
  const Tensor y = embedding(idx, w);
  EXPECT_EQ(y.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{9, 10, 11, 0, 1, 2, 9, 10, 11, 3, 4, 5}));
  EXPECT_EQ(embedding(scalar_tensor(2), w).shape(), (Shape{3}));
  EXPECT_EQ(embedding(zeros({0}, DType::i64), w).shape(), (Shape{0, 3}));
}

TEST(Pool, EmbeddingBackwardSkipsPaddingAndScalesByFrequency) {
  const Tensor idx = i64s({2, 0, 2, 3, 2}, {5});
  const Tensor g = ones({5, 2});
  EXPECT_EQ(ops::embedding_backward(g, idx, 4).to_vector<float>(),
            (std::vector<float>{1, 1, 0, 0, 3, 3, 1, 1}));
  EXPECT_EQ(ops::embedding_backward(g, idx, 4, {.padding_idx = 2}).to_vector<float>(),
            (std::vector<float>{1, 1, 0, 0, 0, 0, 1, 1}));
  EXPECT_EQ(ops::embedding_backward(g, idx, 4, {.padding_idx = -4}).to_vector<float>(),
            (std::vector<float>{0, 0, 0, 0, 3, 3, 1, 1}));
  EXPECT_EQ(ops::embedding_backward(g, idx, 4, {.scale_grad_by_freq = true}).to_vector<float>(),
            (std::vector<float>{1, 1, 0, 0, 1, 1, 1, 1}));
}

TEST(Pool, EmbeddingMaxNormRenormalizesLookedUpRowsInPlace) {
  Tensor w = tensor<double>({3, 4, 0.3, 0.4, 6, 8}, {3, 2});
  const uint64_t version = w.version();
  const Tensor y = embedding(i64s({0, 1, 0}, {3}), w, {.max_norm = 1.0});
  const std::vector<double> got = w.to_vector<double>();
  EXPECT_NEAR(got[0], 3 / (5 + 1e-7), 1e-12);
  EXPECT_NEAR(got[1], 4 / (5 + 1e-7), 1e-12);
  EXPECT_EQ(got[2], 0.3);  // norm 0.5: kept
  EXPECT_EQ(got[4], 6);    // not looked up
  EXPECT_GT(w.version(), version);
  EXPECT_TRUE(all_close(y.select(0, 0), w.select(0, 0), {0, 0}));
  // The L1 norm of row 2 is 14.
  embedding(i64s({2}, {1}), w, {.max_norm = 7.0, .norm_type = 1});
  EXPECT_NEAR(w.to_vector<double>()[4], 6 * 7 / (14 + 1e-7), 1e-12);
}

TEST(Pool, EmbeddingErrors) {
  const Tensor w = zeros({4, 3});
  expect_error(
      [&] {
        embedding(i64s({1, 4}, {2}), w);
      },
      {"embedding", "index 4", "out of range", "[4,3]"});
  expect_error([&] { embedding(i64s({-1}, {1}), w); }, {"embedding", "index -1"});
  expect_error([&] { embedding(zeros({2}), w); }, {"embedding", "i64 or i32", "[2] (f32, cpu)"});
  expect_error([&] { embedding(i64s({1}, {1}), zeros({4})); }, {"embedding", "2-D", "[4]"});
  expect_error([&] { embedding(i64s({1}, {1}), w, {.padding_idx = 4}); },
               {"embedding", "padding_idx 4", "4 embeddings"});
}

// ---- dropout ------------------------------------------------------------------------------------

TEST(Pool, DropoutKeepsOneMinusPScaledAndReproducesUnderASeed) {
  const Tensor x = ones({400, 100});
  for (double p : {0.1, 0.5, 0.9}) {
    manual_seed(123);
    const Tensor y = dropout(x, p, true);
    const std::vector<float> v = y.to_vector<float>();
    int64_t kept = 0;
    for (float e : v) {
      if (e != 0) {
        ++kept;
        EXPECT_FLOAT_EQ(e, float(1 / (1 - p)));
      }
    }
    const double n = double(v.size()), frac = double(kept) / n;
    // 5 standard deviations of a binomial proportion.
    EXPECT_NEAR(frac, 1 - p, 5 * std::sqrt(p * (1 - p) / n)) << "p=" << p;
    EXPECT_NEAR(y.mean().item<double>(), 1.0, 5 * std::sqrt(p / (1 - p) / n)) << "p=" << p;
    manual_seed(123);
    EXPECT_TRUE(all_close(dropout(x, p, true), y, {0, 0}));
    EXPECT_FALSE(all_close(dropout(x, p, true), y, {0, 0}));  // the stream moved on
  }
}

TEST(Pool, DropoutMaskIsTheSameForEveryDtypeAndLayout) {
  const Tensor x = random_tensor({37, 29}, DType::f64, 0.5, 1.5);
  manual_seed(5);
  const Tensor mask = ops::native_dropout(x, 0.4).second;
  for (DType t : {DType::f32, DType::f16, DType::bf16}) {
    manual_seed(5);
    EXPECT_EQ(ops::native_dropout(x.to(t), 0.4).second.to_vector<bool>(), mask.to_vector<bool>());
  }
  manual_seed(5);
  const Tensor xt = with_layout(x, Layout::transposed);
  EXPECT_EQ(ops::native_dropout(xt, 0.4).second.to_vector<bool>(), mask.to_vector<bool>());
  // The reference kernel draws the same mask.
  manual_seed(5);
  ReferenceModeGuard guard;
  EXPECT_EQ(ops::native_dropout(x, 0.4).second.to_vector<bool>(), mask.to_vector<bool>());
}

TEST(Pool, DropoutEdgeCases) {
  const Tensor x = random_tensor({4, 5}, DType::f32);
  EXPECT_TRUE(dropout(x, 0.5, false).is_same(x));
  EXPECT_TRUE(dropout(x, 0.0, true).is_same(x));
  EXPECT_EQ(dropout(x, 1.0, true).to_vector<float>(), std::vector<float>(20, 0.0f));
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(std::isnan(dropout(full({1}, inf), 1.0, true).to_vector<float>()[0]));  // inf * 0
  EXPECT_EQ(dropout(zeros({0, 3}), 0.5, true).shape(), (Shape{0, 3}));
  expect_error([&] { dropout(x, 1.5, true); }, {"dropout", "between 0 and 1", "1.5"});
  expect_error([&] { dropout(zeros({2}, DType::i64), 0.5, true); }, {"dropout", "floating", "i64"});
}

TEST(Pool, DropoutInPlaceWritesWhatDropoutReturns) {
  const Tensor x = random_tensor({30, 7}, DType::f32);
  manual_seed(9);
  const Tensor y = dropout(x, 0.3, true);
  for (Layout l : {Layout::contiguous, Layout::transposed}) {
    Tensor z = with_layout(x.clone(), l);
    manual_seed(9);
    const uint64_t version = z.version();
    EXPECT_EQ(&dropout_(z, 0.3, true), &z);
    EXPECT_TRUE(all_close(z, y, {0, 0}));
    EXPECT_GT(z.version(), version);
  }
  Tensor w = x.clone();
  dropout_(w, 0.3, false);
  EXPECT_TRUE(all_close(w, x, {0, 0}));
}

}  // namespace
}  // namespace anvil
