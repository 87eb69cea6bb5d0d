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

// ---- values against PyTorch (torch 1.13, float64, on fixed inputs) ------------------------------
// The inputs have C > 1: a [N,1,H,W] tensor also counts as channels-last in PyTorch, whose
// channels-last nearest kernel maps indices differently (out = 2 * in reads index o / 2).

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
       {0,    0,    0,    3.47, 3.47, 1.44,  1.44, 4.91,  4.91,  2.88,  0,    0,     0,     3.47,
        3.47, 1.44, 1.44, 4.91, 4.91, 2.88,  0,    0,     0,     3.47,  3.47, 1.44,  1.44,  4.91,
        4.91, 2.88, 0.85, 0.85, 0.85, 4.32,  4.32, 2.29,  2.29,  0.26,  0.26, 3.73,  0.85,  0.85,
        0.85, 4.32, 4.32, 2.29, 2.29, 0.26,  0.26, 3.73,  1.7,   1.7,   1.7,  -0.33, -0.33, 3.14,
        3.14, 1.11, 1.11, 4.58, 2.55, 2.55,  2.55, 0.52,  0.52,  3.99,  3.99, 1.96,  1.96,  -0.07,
        2.55, 2.55, 2.55, 0.52, 0.52, 3.99,  3.99, 1.96,  1.96,  -0.07, 2.55, 2.55,  2.55,  0.52,
        0.52, 3.99, 3.99, 1.96, 1.96, -0.07, 3.4,  3.4,   3.4,   1.37,  1.37, -0.66, -0.66, 2.81,
        2.81, 0.78, 3.4,  3.4,  3.4,  1.37,  1.37, -0.66, -0.66, 2.81,  2.81, 0.78,  4.25,  4.25,
        4.25, 2.22, 2.22, 0.19, 0.19, 3.66,  3.66, 1.63}},
      {"nearest_scale0.7",
       {0, 3.47, 1.44, 0.85, 4.32, 2.29, 1.7, -0.33, 3.14, 2.55, 0.52, 3.99, 3.4, 1.37, -0.66, 4.25,
        2.22, 0.19}},
      {"nearest_exact_size",
       {0,    3.47, 3.47, 1.44, 4.91, 4.91, 2.88,  1.7,  -0.33, -0.33, 3.14, 1.11, 1.11, 4.58,
        2.55, 0.52, 0.52, 3.99, 1.96, 1.96, -0.07, 4.25, 2.22,  2.22,  0.19, 3.66, 3.66, 1.63}},
      {"bilinear_scale1.5",
       {0,
        1.735,
        3.13166666667,
        1.77833333333,
        3.175,
        4.57166666667,
        3.21833333333,
        0.425,
        2.16,
        3.55666666667,
        2.20333333333,
        2.225,
        2.705,
        3.185,
        0.991666666667,
        2.26833333333,
        3.35944444444,
        2.61722222222,
        1.41666666667,
        0.98,
        3.29333333333,
        1.55833333333,
        1.00166666667,
        0.870555555556,
        2.57277777778,
        1.98333333333,
        1.54666666667,
        3.86,
        2.55,
        1.535,
        1.09833333333,
        3.41166666667,
        2.975,
        1.62166666667,
        0.268333333333,
        2.975,
        1.96,
        1.065,
        1.545,
        2.025,
        2.04666666667,
        0.693333333333,
        3.54166666667,
        2.52666666667,
        1.17333333333,
        -0.18,
        1.21666666667,
        2.61333333333,
        1.26,
        4.10833333333,
        3.09333333333,
        1.74,
        0.386666666667,
        1.78333333333,
        3.18,
        1.82666666667}},
      {"bilinear_recompute",
       {0,       1.98285714286, 2.89,           1.44,     3.91857142857, 4.04,          2.88,
        0.53125, 2.51410714286, 3.42125,        1.97125,  1.99446428571, 2.60696428571, 3.41125,
        1.16875, 1.97303571429, 2.58553571429,  2.60875,  1.15875,       2.06589285714, 4.04875,
        1.7,     0.54,          0.661428571429, 3.14,     1.69,          2.59714285714, 4.58,
        2.55,    1.39,          1.51142857143,  3.99,     2.54,          1.09,          -0.07,
        3.08125, 1.92125,       1.06053571429,  1.08375,  2.08910714286, 1.62125,       0.46125,
        3.71875, 2.55875,       1.10875,        -0.34125, 2.13732142857, 2.25875,       1.09875,
        4.25,    3.09,          1.64,           0.19,     2.66857142857, 2.79,          1.63}},
      {"bilinear_align",
       {0,
        2.776,
        2.252,
        2.828,
        4.504,
        2.88,
        0.566666666667,
        3.34266666667,
        2.81866666667,
        1.928,
        2.13733333333,
        3.44666666667,
        1.13333333333,
        2.44266666667,
        2.652,
        1.76133333333,
        1.23733333333,
        4.01333333333,
        1.7,
        0.076,
        1.752,
        2.328,
        1.804,
        4.58,
        2.55,
        0.926,
        2.602,
        3.178,
        1.554,
        -0.07,
        3.11666666667,
        1.49266666667,
        0.968666666667,
        1.54466666667,
        2.12066666667,
        0.496666666667,
        3.68333333333,
        2.05933333333,
        0.435333333333,
        1.01133333333,
        2.68733333333,
        1.06333333333,
        4.25,
        2.626,
        1.002,
        1.578,
        3.254,
        1.63}},
      {"bilinear_down",
       {1.28083333333, 2.5025, 2.34916666667, 0.589166666667, 1.3525, 1.19916666667, 1.73083333333,
        1.5775, 2.34083333333, 0.580833333333, 0.4275, 1.64916666667}},
      {"linear_3d",
       {0,    2.26884615385,  2.61115384615,  2.10730769231,    4.77653846154,  3.42653846154,
        0.85, 3.11884615385,  3.46115384615,  1.89961538462,    0.338076923077, 2.79576923077,
        1.7,  0.372692307692, 1.13807692308,  2.74961538462,    1.18807692308,  3.64576923077,
        2.55, 1.22269230769,  1.98807692308,  3.59961538462,    2.03807692308,  0.476538461538,
        3.4,  2.07269230769,  0.511153846154, 0.00730769230769, 2.67653846154,  1.32653846154,
        4.25, 2.92269230769,  1.36115384615,  0.857307692308,   3.52653846154,  2.17653846154}},
      {"area",
       {1.505, 2.585, 2.19166666667, 2.355,         1.73166666667, 1.74222222222,  1.96,  1.665,
        1.5,   1.205, 1.72833333333, 0.975,         1.955,         1.20166666667,  1.725, 1.43,
        1.265, 0.97,  1.18777777778, 1.19833333333, 0.575,         0.738333333333, 0.345, 1.425}},
      {"bilinear_scale1.5_grad",
       {6.085,         4.4325,        6.905,          4.84333333333, 1.55416666667,
        4.36083333333, 3.47222222222, 5.33361111111,  4.03583333333, 4.6825,
        1.64416666667, 4.36194444444, 2.95472222222,  1.4275,        1.56666666667,
        1.945,         2.58416666667, 3.22333333333,  3.91166666667, 3.83583333333,
        2.5125,        3.91555555556, 1.65194444444,  2.95138888889, 2.53361111111,
        -0.6575,       2.06027777778, 0.194722222222, 2.48694444444, 0.490555555556}},
      {"nearest_scale1.5_grad", {9.42, 2.55, 11.78, 3.73,  2.29, 3.33,  1.96, 4.51,  2.55, 4.58,
                                 2.41, 4.25, 3.59,  -0.66, 1.37, 2.06,  4.37, 4.42,  5.55, 4.11,
                                 5.15, 0.12, 0.83,  0.71,  2.74, -1.27, 2.41, -0.09, 3,    -0.47}},
  };
  return values;
}

TEST(Pool, MatchesPyTorchValues) {
  using M = InterpolateMode;
  const Tensor x = golden_input({1, 2, 5, 7}), y = golden_input({1, 2, 3, 5});
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
      {"nearest_scale2.1", [&] { return interpolate(y, {.scale_factor = {2.1}}); }},
      {"nearest_scale0.7",
       [&] {
         return interpolate(y, {.scale_factor = {1, 0.7}});
       }},
      {"nearest_exact_size",
       [&] {
         return interpolate(y, {.size = {2, 7}, .mode = M::nearest_exact});
       }},
      {"bilinear_scale1.5",
       [&] { return interpolate(y, {.scale_factor = {1.5}, .mode = M::bilinear}); }},
      {"bilinear_recompute",
       [&] {
         return interpolate(
             y, {.scale_factor = {1.5}, .mode = M::bilinear, .recompute_scale_factor = true});
       }},
      {"bilinear_align",
       [&] {
         return interpolate(y, {.size = {4, 6}, .mode = M::bilinear, .align_corners = true});
       }},
      {"bilinear_down",
       [&] {
         return interpolate(x, {.size = {2, 3}, .mode = M::bilinear});
       }},
      {"linear_3d",
       [&] {
         return interpolate(y.reshape({2, 3, 5}), {.scale_factor = {1.3}, .mode = M::linear});
       }},
      {"area",
       [&] {
         return interpolate(x, {.size = {3, 4}, .mode = M::area});
       }},
      {"bilinear_scale1.5_grad",
       [&] {
         return ops::interpolate_backward(flip(golden_input({1, 2, 4, 7}), {-1}), y.shape(),
                                          {.scale_factor = {1.5}, .mode = M::bilinear});
       }},
      {"nearest_scale1.5_grad",
       [&] {
         return ops::interpolate_backward(flip(golden_input({1, 2, 4, 7}), {-1}), y.shape(),
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
