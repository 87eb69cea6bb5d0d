// Pooling, resampling, embedding and dropout front-ends: option resolution and checks with
// PyTorch's rules and output sizes, then the kernels on contiguous [N,C,H,W] tensors (an
// unbatched [C,H,W] input runs as N = 1).
#include "tensor/ops/pool.h"

#include <cmath>
#include <string>

#include "tensor/dispatch.h"
#include "tensor/ops/binary.h"
#include "tensor/ops/copy.h"
#include "tensor/ops/factory.h"
#include "tensor/ops/index.h"
#include "tensor/ops/reduce.h"
#include "tensor/ops/view.h"

namespace anvil::ops {

namespace {

constexpr DTypeSet kAvgPoolTypes = kFloatingTypes | DTypeSet{DType::i64};
constexpr DTypeSet kNearestTypes = kFloatingTypes | DTypeSet{DType::u8};

void check_defined(const char* op, const Tensor& t, const char* name) {
  ANVIL_CHECK(t.defined(), "{}: {} is an undefined tensor", op, name);
}

void check_dtype(const char* op, const Tensor& t, DTypeSet ok, const char* expected) {
  ANVIL_CHECK(ok.contains(t.dtype()), "{}: expected a {} tensor, got {}", op, expected,
              t.describe());
}

// The (H, W) values of a one-or-two-value option.
std::pair<int64_t, int64_t> hw(const char* op, const char* name, const std::vector<int64_t>& v) {
  ANVIL_CHECK(v.size() == 1 || v.size() == 2, "{}: {} must have 1 or 2 values (H, W), got {}", op,
              name, shape_str(v));
  return {v.front(), v.back()};
}

// A pooling input's shape: [C,H,W] or [N,C,H,W] with nonzero C, H, W (N may be 0).
void check_pool_shape(const char* op, const Shape& s, const std::string& desc) {
  ANVIL_CHECK(s.size() == 3 || s.size() == 4,
              "{}: expected a 3-D [C,H,W] or 4-D [N,C,H,W] input, got {}", op, desc);
  for (size_t d = s.size() - 3; d < s.size(); ++d) {
    ANVIL_CHECK(s[d] > 0, "{}: expected nonzero C, H and W, got {}", op, desc);
  }
}

// [N,C,H,W] of a [C,H,W] or [N,C,H,W] shape.
Shape batched_shape(const Shape& s) {
  return s.size() == 3 ? Shape{1, s[0], s[1], s[2]} : s;
}

// A pooling input as the kernels take it: 4-D and contiguous.
Tensor batched(const Tensor& x) {
  return contiguous(x.dim() == 3 ? unsqueeze(x, 0) : x);
}

// An output computed as [N,C,OH,OW] for an input of `in_dims` dims.
Tensor unbatched(const Tensor& out, size_t in_dims) {
  return in_dims == 3 ? squeeze(out, 0) : out;
}

Shape with_spatial(const Shape& in, int64_t oh, int64_t ow) {
  Shape s = in;
  s[s.size() - 2] = oh;
  s[s.size() - 1] = ow;
  return s;
}

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// PyTorch's pooling_output_shape: a ceil_mode window must start inside the input or its left
// padding.
int64_t pooled_size(int64_t in, int64_t k, int64_t pad, int64_t stride, int64_t dilation,
                    bool ceil_mode) {
  int64_t out =
      floor_div(in + 2 * pad - dilation * (k - 1) - 1 + (ceil_mode ? stride - 1 : 0), stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

struct PoolPlan {
  Pool2dWindow w;
  int64_t oh, ow;
};

PoolPlan plan_pool(const char* op, const Shape& in, const std::string& desc,
                   const std::vector<int64_t>& kernel_size, const std::vector<int64_t>& stride,
                   const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation,
                   bool ceil_mode) {
  check_pool_shape(op, in, desc);
  const auto [kh, kw] = hw(op, "kernel_size", kernel_size);
  const auto [sh, sw] = stride.empty() ? std::pair{kh, kw} : hw(op, "stride", stride);
  const auto [ph, pw] = hw(op, "padding", padding);
  const auto [dh, dw] = hw(op, "dilation", dilation);
  ANVIL_CHECK(kh > 0 && kw > 0, "{}: kernel_size must be positive, got ({}, {})", op, kh, kw);
  ANVIL_CHECK(sh > 0 && sw > 0, "{}: stride must be positive, got ({}, {})", op, sh, sw);
  ANVIL_CHECK(dh > 0 && dw > 0, "{}: dilation must be positive, got ({}, {})", op, dh, dw);
  ANVIL_CHECK(ph >= 0 && pw >= 0 && ph <= kh / 2 && pw <= kw / 2,
              "{}: padding ({}, {}) must be non-negative and at most half of kernel_size ({}, {})",
              op, ph, pw, kh, kw);
  const int64_t H = in[in.size() - 2], W = in[in.size() - 1];
  const int64_t oh = pooled_size(H, kh, ph, sh, dh, ceil_mode);
  const int64_t ow = pooled_size(W, kw, pw, sw, dw, ceil_mode);
  ANVIL_CHECK(oh > 0 && ow > 0,
              "{}: input {} is too small for kernel_size ({}, {}), stride ({}, {}), padding ({}, "
              "{}), dilation ({}, {}): the output would be {}x{}",
              op, desc, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
  return {{kh, kw, sh, sw, ph, pw, dh, dw}, oh, ow};
}

PoolPlan plan_max_pool(const char* op, const Shape& in, const std::string& desc,
                       const std::vector<int64_t>& kernel_size, const MaxPool2dOptions& o) {
  return plan_pool(op, in, desc, kernel_size, o.stride, o.padding, o.dilation, o.ceil_mode);
}

AvgPool2dParams avg_params(const char* op, const PoolPlan& plan, const AvgPool2dOptions& o) {
  ANVIL_CHECK(!o.divisor_override || *o.divisor_override != 0,
              "{}: divisor_override must be nonzero, got 0", op);
  return {plan.w, o.count_include_pad, o.divisor_override.value_or(0)};
}

PoolPlan plan_avg_pool(const char* op, const Shape& in, const std::string& desc,
                       const std::vector<int64_t>& kernel_size, const AvgPool2dOptions& o) {
  return plan_pool(op, in, desc, kernel_size, o.stride, o.padding, {1}, o.ceil_mode);
}

// A backward op's grad_output must have the forward output's shape.
void check_grad_shape(const char* op, const Tensor& grad_output, const Shape& expected,
                      const Shape& input_shape) {
  ANVIL_CHECK(grad_output.shape() == expected,
              "{}: grad_output {} does not match the output shape {} of input {}", op,
              grad_output.describe(), shape_str(expected), shape_str(input_shape));
}

std::pair<Tensor, Tensor> max_pool(const Tensor& x, const std::vector<int64_t>& kernel_size,
                                   const MaxPool2dOptions& options, bool with_indices) {
  const char* op = with_indices ? "max_pool2d_with_indices" : "max_pool2d";
  check_defined(op, x, "the input");
  const PoolPlan p = plan_max_pool(op, x.shape(), x.describe(), kernel_size, options);
  check_dtype(op, x, kFloatingTypes, "floating");
  const Tensor xb = batched(x);
  const Shape out_shape = with_spatial(xb.shape(), p.oh, p.ow);
  Tensor out = empty(out_shape, TensorOptions(x.dtype(), x.device()));
  Tensor indices;
  if (with_indices) indices = empty(out_shape, TensorOptions(DType::i64, x.device()));
  if (out.numel() > 0) kernel<OpId::max_pool2d>(x.device(), x.dtype())(out, indices, xb, p.w);
  if (!with_indices) return {unbatched(out, x.dim()), Tensor()};
  return {unbatched(out, x.dim()), unbatched(indices, x.dim())};
}

// The (OH, OW) of an adaptive pool; a missing value keeps the input's size.
std::pair<int64_t, int64_t> adaptive_size(const char* op, const Shape& in,
                                          const std::vector<std::optional<int64_t>>& size) {
  ANVIL_CHECK(size.size() == 1 || size.size() == 2,
              "{}: output_size must have 1 or 2 values (H, W), got {}", op, size.size());
  const int64_t oh = size.front().value_or(in[in.size() - 2]);
  const int64_t ow = size.back().value_or(in[in.size() - 1]);
  ANVIL_CHECK(oh >= 0 && ow >= 0, "{}: output_size must be >= 0, got ({}, {})", op, oh, ow);
  return {oh, ow};
}

std::pair<Tensor, Tensor> adaptive_max_pool(const Tensor& x,
                                            const std::vector<std::optional<int64_t>>& output_size,
                                            bool with_indices) {
  const char* op = with_indices ? "adaptive_max_pool2d_with_indices" : "adaptive_max_pool2d";
  check_defined(op, x, "the input");
  check_pool_shape(op, x.shape(), x.describe());
  check_dtype(op, x, kFloatingTypes, "floating");
  const auto [oh, ow] = adaptive_size(op, x.shape(), output_size);
  const Tensor xb = batched(x);
  const Shape out_shape = with_spatial(xb.shape(), oh, ow);
  Tensor out = empty(out_shape, TensorOptions(x.dtype(), x.device()));
  Tensor indices = empty(out_shape, TensorOptions(DType::i64, x.device()));
  if (out.numel() > 0) {
    kernel<OpId::adaptive_max_pool2d>(x.device(), x.dtype())(out, indices, xb);
  }
  return {unbatched(out, x.dim()), with_indices ? unbatched(indices, x.dim()) : Tensor()};
}

// ---- interpolate ------------------------------------------------------------------------------

const char* mode_name(InterpolateMode m) {
  switch (m) {
    case InterpolateMode::nearest:
      return "nearest";
    case InterpolateMode::nearest_exact:
      return "nearest-exact";
    case InterpolateMode::linear:
      return "linear";
    case InterpolateMode::bilinear:
      return "bilinear";
    case InterpolateMode::area:
      return "area";
  }
  return "?";
}

// interpolate's resolved call: the output's spatial size and the kernel parameters, in 2-D
// terms (a 3-D input runs as [N,C,1,W]).
struct UpsamplePlan {
  int64_t oh, ow;
  Upsample2dParams params;
};

UpsamplePlan plan_interpolate(const char* op, const Shape& in, const std::string& desc,
                              const InterpolateOptions& o) {
  ANVIL_CHECK(in.size() == 3 || in.size() == 4,
              "{}: expected a 3-D [N,C,W] or 4-D [N,C,H,W] input, got {}", op, desc);
  const size_t spatial = in.size() - 2;
  const InterpolateMode m = o.mode;
  ANVIL_CHECK(m != InterpolateMode::linear || spatial == 1,
              "{}: linear mode needs a 3-D input, got {}", op, desc);
  ANVIL_CHECK(m != InterpolateMode::bilinear || spatial == 2,
              "{}: bilinear mode needs a 4-D input, got {}", op, desc);
  const bool interpolating = m == InterpolateMode::linear || m == InterpolateMode::bilinear;
  ANVIL_CHECK(!o.align_corners || interpolating,
              "{}: align_corners can only be set with the interpolating modes linear and "
              "bilinear, got mode {}",
              op, mode_name(m));
  ANVIL_CHECK(
      o.size.empty() != o.scale_factor.empty(),
      "{}: exactly one of size and scale_factor must be given, got {} and {}", op,
      o.size.empty() ? "no size" : "size " + shape_str(o.size),
      o.scale_factor.empty() ? "no scale_factor" : fmt::format("scale_factor {}", o.scale_factor));
  const bool recompute = o.recompute_scale_factor.value_or(false);
  ANVIL_CHECK(!recompute || o.size.empty(),
              "{}: recompute_scale_factor is not meaningful with an explicit size", op);
  const size_t given = o.size.empty() ? o.scale_factor.size() : o.size.size();
  ANVIL_CHECK(given == 1 || given == spatial,
              "{}: {} must have 1 or {} values for input {} ({} spatial dims), got {}", op,
              o.size.empty() ? "scale_factor" : "size", spatial, desc, spatial, given);
  // Per spatial dim (W last): the output size and the scale the source index uses (0: none).
  int64_t out[2] = {1, 1};
  double scale[2] = {0, 0};
  for (size_t i = 0; i < spatial; ++i) {
    const size_t d = 2 - spatial + i;
    const size_t k = given == 1 ? 0 : i;
    if (!o.size.empty()) {
      out[d] = o.size[k];
    } else {
      const double s = o.scale_factor[k];
      out[d] = static_cast<int64_t>(std::floor(static_cast<double>(in[2 + i]) * s));
      // area always recomputes (PyTorch passes it an output size only).
      if (!recompute && m != InterpolateMode::area) scale[d] = s;
    }
  }
  const int64_t ih = spatial == 2 ? in[2] : 1, iw = in.back();
  if (m == InterpolateMode::area) {
    ANVIL_CHECK(out[0] >= 0 && out[1] >= 0, "{}: output sizes must be >= 0, got {} for input {}",
                op, spatial == 2 ? fmt::format("({}, {})", out[0], out[1]) : std::to_string(out[1]),
                desc);
  } else {
    ANVIL_CHECK(ih > 0 && iw > 0 && out[0] > 0 && out[1] > 0,
                "{}: input and output sizes must be greater than 0, got input {} and output size "
                "{}",
                op, desc,
                spatial == 2 ? fmt::format("({}, {})", out[0], out[1]) : std::to_string(out[1]));
  }
  for (size_t d = 1; d < in.size() - spatial; ++d) {
    ANVIL_CHECK(in[d] > 0, "{}: expected a nonzero channel dim, got {}", op, desc);
  }
  const InterpolateMode km = interpolating ? InterpolateMode::bilinear : m;
  return {out[0], out[1], {km, o.align_corners.value_or(false), scale[0], scale[1]}};
}

// [N,C,H,W] for a 3-D [N,C,W] interpolate input, then contiguous.
Tensor as_2d(const Tensor& t) {
  return contiguous(t.dim() == 3 ? unsqueeze(t, 2) : t);
}

Tensor from_2d(const Tensor& t, size_t dims) {
  return dims == 3 ? squeeze(t, 2) : t;
}

// dropout's mask and output for 0 <= p <= 1, written into `out` (contiguous, x's shape).
Tensor dropout_into(const Tensor& out, const Tensor& x, double p) {
  Tensor mask = empty(x.shape(), TensorOptions(DType::boolean, x.device()));
  if (x.numel() == 0) return mask;
  const Tensor xc = contiguous(x);
  if (p == 0 || p == 1) {
    fill_(mask, p == 0);
    kernel<OpId::masked_scale>(x.device(), x.dtype())(out, xc, mask, 1.0);
    return mask;
  }
  // One 32-bit word per element, four per Philox block.
  const uint64_t blocks = static_cast<uint64_t>((x.numel() + 3) / 4);
  const PhiloxState state = default_generator(x.device()).reserve(blocks);
  kernel<OpId::dropout>(x.device(), x.dtype())(out, mask, xc, p, state);
  return mask;
}

void check_dropout(const char* op, const Tensor& x, double p) {
  check_defined(op, x, "the input");
  ANVIL_CHECK(p >= 0 && p <= 1, "{}: probability has to be between 0 and 1, but got {}", op, p);
  check_dtype(op, x, kFloatingTypes, "floating");
}

}  // namespace

// ---- pooling ------------------------------------------------------------------------------------

Tensor max_pool2d(const Tensor& x, const std::vector<int64_t>& kernel_size,
                  const MaxPool2dOptions& options) {
  return max_pool(x, kernel_size, options, false).first;
}

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x,
                                                  const std::vector<int64_t>& kernel_size,
                                                  const MaxPool2dOptions& options) {
  return max_pool(x, kernel_size, options, true);
}

Tensor max_pool2d_backward(const Tensor& grad_output, const Tensor& indices,
                           const Shape& input_shape) {
  const char* op = "max_pool2d_backward";
  check_defined(op, grad_output, "grad_output");
  check_defined(op, indices, "indices");
  check_pool_shape(op, input_shape, shape_str(input_shape));
  check_dtype(op, grad_output, kFloatingTypes, "floating");
  ANVIL_CHECK(indices.dtype() == DType::i64, "{}: expected i64 indices, got {}", op,
              indices.describe());
  ANVIL_CHECK(indices.device() == grad_output.device(),
              "{}: grad_output {} and indices {} must be on the same device", op,
              grad_output.describe(), indices.describe());
  ANVIL_CHECK(
      grad_output.shape() == indices.shape() && grad_output.dim() == int64_t(input_shape.size()) &&
          std::equal(input_shape.begin(), input_shape.end() - 2, grad_output.shape().begin()),
      "{}: grad_output {} and indices {} must have the pooled shape of input {}", op,
      grad_output.describe(), indices.describe(), shape_str(input_shape));
  Tensor grad_input =
      empty(batched_shape(input_shape), TensorOptions(grad_output.dtype(), grad_output.device()));
  if (grad_output.numel() == 0) {
    zero_(grad_input);
  } else {
    kernel<OpId::max_pool2d_backward>(grad_output.device(), grad_output.dtype())(
        grad_input, batched(grad_output), batched(indices));
  }
  return unbatched(grad_input, input_shape.size());
}

Tensor avg_pool2d(const Tensor& x, const std::vector<int64_t>& kernel_size,
                  const AvgPool2dOptions& options) {
  const char* op = "avg_pool2d";
  check_defined(op, x, "the input");
  const PoolPlan p = plan_avg_pool(op, x.shape(), x.describe(), kernel_size, options);
  const AvgPool2dParams params = avg_params(op, p, options);
  check_dtype(op, x, kAvgPoolTypes, "floating or i64");
  const Tensor xb = batched(x);
  Tensor out = empty(with_spatial(xb.shape(), p.oh, p.ow), TensorOptions(x.dtype(), x.device()));
  if (out.numel() > 0) kernel<OpId::avg_pool2d>(x.device(), x.dtype())(out, xb, params);
  return unbatched(out, x.dim());
}

Tensor avg_pool2d_backward(const Tensor& grad_output, const Shape& input_shape,
                           const std::vector<int64_t>& kernel_size,
                           const AvgPool2dOptions& options) {
  const char* op = "avg_pool2d_backward";
  check_defined(op, grad_output, "grad_output");
  const PoolPlan p = plan_avg_pool(op, input_shape, shape_str(input_shape), kernel_size, options);
  const AvgPool2dParams params = avg_params(op, p, options);
  check_dtype(op, grad_output, kFloatingTypes, "floating");
  check_grad_shape(op, grad_output, with_spatial(input_shape, p.oh, p.ow), input_shape);
  Tensor grad_input =
      empty(batched_shape(input_shape), TensorOptions(grad_output.dtype(), grad_output.device()));
  if (grad_output.numel() == 0) {
    zero_(grad_input);
  } else {
    kernel<OpId::avg_pool2d_backward>(grad_output.device(), grad_output.dtype())(
        grad_input, batched(grad_output), params);
  }
  return unbatched(grad_input, input_shape.size());
}

Tensor adaptive_avg_pool2d(const Tensor& x,
                           const std::vector<std::optional<int64_t>>& output_size) {
  const char* op = "adaptive_avg_pool2d";
  check_defined(op, x, "the input");
  check_pool_shape(op, x.shape(), x.describe());
  check_dtype(op, x, kFloatingTypes, "floating");
  const auto [oh, ow] = adaptive_size(op, x.shape(), output_size);
  const Tensor xb = batched(x);
  Tensor out = empty(with_spatial(xb.shape(), oh, ow), TensorOptions(x.dtype(), x.device()));
  if (out.numel() > 0) kernel<OpId::adaptive_avg_pool2d>(x.device(), x.dtype())(out, xb);
  return unbatched(out, x.dim());
}

Tensor adaptive_avg_pool2d_backward(const Tensor& grad_output, const Shape& input_shape) {
  const char* op = "adaptive_avg_pool2d_backward";
  check_defined(op, grad_output, "grad_output");
  check_pool_shape(op, input_shape, shape_str(input_shape));
  check_dtype(op, grad_output, kFloatingTypes, "floating");
  ANVIL_CHECK(
      grad_output.dim() == int64_t(input_shape.size()) &&
          std::equal(input_shape.begin(), input_shape.end() - 2, grad_output.shape().begin()),
      "{}: grad_output {} must have the leading dims of input {}", op, grad_output.describe(),
      shape_str(input_shape));
  Tensor grad_input =
      empty(batched_shape(input_shape), TensorOptions(grad_output.dtype(), grad_output.device()));
  if (grad_output.numel() == 0) {
    zero_(grad_input);
  } else {
    kernel<OpId::adaptive_avg_pool2d_backward>(grad_output.device(), grad_output.dtype())(
        grad_input, batched(grad_output));
  }
  return unbatched(grad_input, input_shape.size());
}

Tensor adaptive_max_pool2d(const Tensor& x,
                           const std::vector<std::optional<int64_t>>& output_size) {
  return adaptive_max_pool(x, output_size, false).first;
}

std::pair<Tensor, Tensor> adaptive_max_pool2d_with_indices(
    const Tensor& x, const std::vector<std::optional<int64_t>>& output_size) {
  return adaptive_max_pool(x, output_size, true);
}

// ---- interpolate --------------------------------------------------------------------------------

Tensor interpolate(const Tensor& x, const InterpolateOptions& options) {
  const char* op = "interpolate";
  check_defined(op, x, "the input");
  const UpsamplePlan p = plan_interpolate(op, x.shape(), x.describe(), options);
  if (options.mode == InterpolateMode::area) {
    check_dtype(op, x, kFloatingTypes, "floating");
    return from_2d(adaptive_avg_pool2d(as_2d(x), {p.oh, p.ow}), x.dim());
  }
  const bool nearest = p.params.mode != InterpolateMode::bilinear;
  check_dtype(op, x, nearest ? kNearestTypes : kFloatingTypes,
              nearest ? "floating or u8" : "floating");
  const Tensor x4 = as_2d(x);
  Tensor out = empty(with_spatial(x4.shape(), p.oh, p.ow), TensorOptions(x.dtype(), x.device()));
  if (out.numel() > 0) kernel<OpId::upsample2d>(x.device(), x.dtype())(out, x4, p.params);
  return from_2d(out, x.dim());
}

Tensor interpolate_backward(const Tensor& grad_output, const Shape& input_shape,
                            const InterpolateOptions& options) {
  const char* op = "interpolate_backward";
  check_defined(op, grad_output, "grad_output");
  const UpsamplePlan p = plan_interpolate(op, input_shape, shape_str(input_shape), options);
  check_dtype(op, grad_output, kFloatingTypes, "floating");
  const Shape out_shape = input_shape.size() == 3 ? Shape{input_shape[0], input_shape[1], p.ow}
                                                  : with_spatial(input_shape, p.oh, p.ow);
  check_grad_shape(op, grad_output, out_shape, input_shape);
  const Shape in4 = input_shape.size() == 3
                        ? Shape{input_shape[0], input_shape[1], 1, input_shape[2]}
                        : input_shape;
  if (options.mode == InterpolateMode::area) {
    return from_2d(adaptive_avg_pool2d_backward(as_2d(grad_output), in4), input_shape.size());
  }
  Tensor grad_input = empty(in4, TensorOptions(grad_output.dtype(), grad_output.device()));
  if (grad_output.numel() == 0) {
    zero_(grad_input);
  } else {
    kernel<OpId::upsample2d_backward>(grad_output.device(), grad_output.dtype())(
        grad_input, as_2d(grad_output), p.params);
  }
  return from_2d(grad_input, input_shape.size());
}

// ---- embedding ----------------------------------------------------------------------------------

namespace {

// padding_idx wrapped into [0, num_weights), or -1 for none.
int64_t wrap_padding_idx(const char* op, const EmbeddingOptions& o, int64_t num_weights) {
  if (!o.padding_idx) return -1;
  const int64_t p = *o.padding_idx;
  ANVIL_CHECK(p >= -num_weights && p < num_weights,
              "{}: padding_idx {} must be within the {} embeddings", op, p, num_weights);
  return p < 0 ? p + num_weights : p;
}

// A weight row's norm above max_norm is scaled to max_norm / (norm + 1e-7) of it (in place, as
// torch.embedding_renorm_).
void renorm_rows(const Tensor& weight, const Tensor& flat_indices, double max_norm,
                 double norm_type) {
  if (flat_indices.numel() == 0) return;
  const Tensor rows = index_select(weight, 0, flat_indices);
  const Tensor norms = norm(rows, norm_type, {1}, true);
  const Tensor scale = where(gt(norms, Scalar(max_norm)),
                             div(Scalar(max_norm), add(norms, Scalar(1e-7))), Scalar(1.0));
  // Repeated indices write the same row values, so the order of writes does not matter.
  Tensor w = weight;
  const Tensor index = expand(unsqueeze(to(flat_indices, DType::i64), 1), rows.shape());
  scatter_(w, 0, index, to(mul(rows, scale), weight.dtype()));
}

}  // namespace

Tensor embedding(const Tensor& indices, const Tensor& weight, const EmbeddingOptions& options) {
  const char* op = "embedding";
  check_defined(op, indices, "indices");
  check_defined(op, weight, "weight");
  ANVIL_CHECK(indices.dtype() == DType::i64 || indices.dtype() == DType::i32,
              "{}: expected i64 or i32 indices, got {}", op, indices.describe());
  ANVIL_CHECK(weight.dim() == 2, "{}: weight must be 2-D [num_weights, D], got {}", op,
              weight.describe());
  ANVIL_CHECK(indices.device() == weight.device(),
              "{}: indices {} and weight {} must be on the same device", op, indices.describe(),
              weight.describe());
  const int64_t num_weights = weight.size(0);
  wrap_padding_idx(op, options, num_weights);
  const Tensor flat = reshape(indices, {-1});
  if (flat.numel() > 0) {
    const int64_t lo = amin(flat).item<int64_t>(), hi = amax(flat).item<int64_t>();
    ANVIL_CHECK_INDEX(lo >= 0 && hi < num_weights,
                      "{}: index {} is out of range for weight {} ({} rows)", op, lo < 0 ? lo : hi,
                      weight.describe(), num_weights);
  }
  if (options.max_norm) {
    check_dtype(op, weight, kFloatingTypes, "floating");
    renorm_rows(weight, flat, *options.max_norm, options.norm_type);
  }
  Shape shape = indices.shape();
  shape.push_back(weight.size(1));
  return view(index_select(weight, 0, flat), shape);
}

Tensor embedding_backward(const Tensor& grad_output, const Tensor& indices, int64_t num_weights,
                          const EmbeddingOptions& options) {
  const char* op = "embedding_backward";
  check_defined(op, grad_output, "grad_output");
  check_defined(op, indices, "indices");
  ANVIL_CHECK(
      grad_output.dim() == indices.dim() + 1 &&
          std::equal(indices.shape().begin(), indices.shape().end(), grad_output.shape().begin()),
      "{}: grad_output {} must have the shape of indices {} plus the embedding dim", op,
      grad_output.describe(), indices.describe());
  const int64_t pad = wrap_padding_idx(op, options, num_weights);
  const int64_t dim = grad_output.size(-1);
  const Tensor flat = reshape(indices, {-1});
  Tensor rows = reshape(grad_output, {-1, dim});
  const TensorOptions opts(grad_output.dtype(), grad_output.device());
  if (options.scale_grad_by_freq && flat.numel() > 0) {
    Tensor counts = zeros({num_weights}, opts);
    index_add_(counts, 0, flat, ones({flat.numel()}, opts));
    rows = div(rows, unsqueeze(index_select(counts, 0, flat), 1));
  }
  Tensor grad_weight = zeros({num_weights, dim}, opts);
  index_add_(grad_weight, 0, flat, rows);
  if (pad >= 0) {
    Tensor row = select(grad_weight, 0, pad);
    zero_(row);
  }
  return grad_weight;
}

// ---- dropout ------------------------------------------------------------------------------------

std::pair<Tensor, Tensor> native_dropout(const Tensor& x, double p) {
  check_dropout("dropout", x, p);
  Tensor out = empty(x.shape(), TensorOptions(x.dtype(), x.device()));
  Tensor mask = dropout_into(out, x, p);
  return {out, mask};
}

Tensor native_dropout_(Tensor& x, double p) {
  check_dropout("dropout_", x, p);
  if (x.is_contiguous()) {
    Tensor mask = dropout_into(x, x, p);
    x.bump_version();
    return mask;
  }
  auto [out, mask] = native_dropout(x, p);
  copy_(x, out);
  return mask;
}

Tensor dropout(const Tensor& x, double p, bool training) {
  check_dropout("dropout", x, p);
  if (!training || p == 0) return x;
  return native_dropout(x, p).first;
}

Tensor& dropout_(Tensor& x, double p, bool training) {
  check_dropout("dropout_", x, p);
  if (training && p != 0) native_dropout_(x, p);
  return x;
}

Tensor dropout_backward(const Tensor& grad_output, const Tensor& mask, double p) {
  const char* op = "dropout_backward";
  check_defined(op, grad_output, "grad_output");
  check_defined(op, mask, "mask");
  check_dtype(op, grad_output, kFloatingTypes, "floating");
  ANVIL_CHECK(mask.dtype() == DType::boolean && mask.shape() == grad_output.shape() &&
                  mask.device() == grad_output.device(),
              "{}: mask {} must be a bool tensor of grad_output's shape {}", op, mask.describe(),
              grad_output.describe());
  ANVIL_CHECK(p >= 0 && p <= 1, "{}: probability has to be between 0 and 1, but got {}", op, p);
  Tensor out = empty(grad_output.shape(), TensorOptions(grad_output.dtype(), grad_output.device()));
  if (out.numel() > 0) {
    kernel<OpId::masked_scale>(out.device(), out.dtype())(
        out, contiguous(grad_output), contiguous(mask), p == 1 ? 0.0 : 1.0 / (1.0 - p));
  }
  return out;
}

}  // namespace anvil::ops
