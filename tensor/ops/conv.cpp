// Convolution front-ends: conv1d, conv2d and conv_transpose2d check their arguments with
// PyTorch's rules, resolve the padding ("same" splits an odd total with the extra zero at the
// end) and reduce to three kernels on 4-D operands: the convolution, its backward-data pass (also
// the transposed convolution) and its backward-weight pass. Degenerate problems (nothing to sum
// over) are answered here, so the kernels only see non-empty ones.
#include "tensor/ops/conv.h"

#include "tensor/dispatch.h"
#include "tensor/ops/binary.h"
#include "tensor/ops/copy.h"
#include "tensor/ops/factory.h"
#include "tensor/ops/reduce.h"

namespace anvil::ops {

namespace {

using Int2 = std::array<int64_t, 2>;

// The options of conv1d / conv2d in 2-D form (conv1d fills the width, index 1).
struct Spec {
  const char* op;
  int spatial;  // 1 or 2
  Int2 stride, dilation, padding;
  std::string mode;  // "", "same" or "valid"
  int64_t groups;
};

// "(3 x 3)" for 2-D, "3" for 1-D: how errors show spatial sizes and options.
std::string sizes(const Spec& s, const Int2& v) {
  return s.spatial == 1 ? fmt::format("{}", v[1]) : fmt::format("({} x {})", v[0], v[1]);
}

std::string pair_str(const ConvPair& p) {
  return fmt::format("({} x {})", p.h, p.w);
}

// "conv2d: input [2,4,6,7] (f32, cpu) and weight [6,2,2,3] (f32, cpu)": how errors start.
std::string operands(const char* op, const Tensor& input, const Tensor& weight) {
  return fmt::format("{}: input {} and weight {}", op, input.describe(), weight.describe());
}

// Defined, on one device, of one dtype that convolutions support (PyTorch does not promote).
void check_kinds(const char* op, const Tensor& input, const Tensor& weight, const Tensor& bias) {
  ANVIL_CHECK(input.defined() && weight.defined(), "{}: input and weight must be defined tensors",
              op);
  ANVIL_CHECK(input.device() == weight.device(),
              "{}: expected both on the same device, got {} and {}", operands(op, input, weight),
              input.device().str(), weight.device().str());
  ANVIL_CHECK(input.dtype() == weight.dtype(),
              "{}: expected both to have the same dtype, got {} and {}",
              operands(op, input, weight), dtype_name(input.dtype()), dtype_name(weight.dtype()));
  ANVIL_CHECK(input.dtype() != DType::boolean,
              "{}: bool is not supported (expected a floating or integer dtype)",
              operands(op, input, weight));
  if (bias.defined()) {
    ANVIL_CHECK(bias.device() == input.device() && bias.dtype() == input.dtype(),
                "{}: bias {} must have the dtype and device of input {}", op, bias.describe(),
                input.describe());
  }
}

void check_bias(const char* op, const Tensor& bias, const Tensor& weight, int64_t out_channels) {
  if (!bias.defined()) return;
  ANVIL_CHECK(bias.dim() == 1 && bias.size(0) == out_channels,
              "{}: expected bias to be 1-D with {} elements (the output channels of weight {}), "
              "got bias {}",
              op, out_channels, weight.describe(), bias.describe());
}

void check_positive(const char* op, const char* what, const Int2& v, int spatial) {
  ANVIL_CHECK(v[0] > 0 && v[1] > 0, "{}: {} must be positive, got {}", op, what,
              spatial == 1 ? fmt::format("{}", v[1]) : fmt::format("({}, {})", v[0], v[1]));
}

Tensor bias_or_undefined(const std::optional<Tensor>& bias) {
  return bias && bias->defined() ? *bias : Tensor();
}

// conv1d and conv2d: the checks in PyTorch's order of concern, then the geometry.
ConvProblem conv_problem(const Spec& s, const Tensor& input, const Tensor& weight,
                         const Tensor& bias) {
  const char* op = s.op;
  check_kinds(op, input, weight, bias);
  const int64_t nd = s.spatial + 2;
  ANVIL_CHECK(input.dim() == nd || input.dim() == nd - 1,
              "{}: expected a {}-D (unbatched) or {}-D (batched) input, got input {}", op, nd - 1,
              nd, input.describe());
  ANVIL_CHECK(weight.dim() == nd,
              "{}: expected a {}-D weight [out_channels, in_channels / groups, {}], got weight {}",
              op, nd, s.spatial == 1 ? "kernel_size" : "kH, kW", weight.describe());
  ANVIL_CHECK(s.groups > 0, "{}: groups must be positive, got {}", op, s.groups);
  check_positive(op, "stride", s.stride, s.spatial);
  check_positive(op, "dilation", s.dilation, s.spatial);
  ANVIL_CHECK(s.padding[0] >= 0 && s.padding[1] >= 0, "{}: padding must be non-negative, got {}",
              op, sizes(s, s.padding));
  ANVIL_CHECK(s.mode.empty() || s.mode == "same" || s.mode == "valid",
              "{}: invalid padding string \"{}\" (expected \"same\", \"valid\" or numbers)", op,
              s.mode);
  ANVIL_CHECK(s.mode != "same" || (s.stride[0] == 1 && s.stride[1] == 1),
              "{}: padding=\"same\" is not supported for strided convolutions (stride {})", op,
              sizes(s, s.stride));

  // The operands in 4-D form: [N, C, H, W] and [O, C/groups, kH, kW].
  const bool batched = input.dim() == nd;
  Shape in4 = input.shape(), w4 = weight.shape();
  if (!batched) in4.insert(in4.begin(), 1);
  if (s.spatial == 1) {
    in4.insert(in4.begin() + 2, 1);
    w4.insert(w4.begin() + 2, 1);
  }
  const int64_t out_channels = w4[0], channels = in4[1];
  ANVIL_CHECK(out_channels > 0, "{}: weight {} has no output channels", op, weight.describe());
  ANVIL_CHECK(out_channels % s.groups == 0,
              "{}: the output channels of weight {} ({}) are not divisible by groups={}", op,
              weight.describe(), out_channels, s.groups);
  ANVIL_CHECK(channels == w4[1] * s.groups,
              "{}: expected input {} to have {} channels (weight {} with groups={}), got {}", op,
              input.describe(), w4[1] * s.groups, weight.describe(), s.groups, channels);
  const Int2 kernel{w4[2], w4[3]}, extent{in4[2], in4[3]};
  ANVIL_CHECK(kernel[0] > 0 && kernel[1] > 0, "{}: weight {} has an empty kernel", op,
              weight.describe());
  check_bias(op, bias, weight, out_channels);
  ANVIL_CHECK(extent[0] > 0 && extent[1] > 0,
              "{}: input {} has an empty spatial dim (only the batch and channel dims may be 0)",
              op, input.describe());

  ConvProblem p;
  p.params.stride = s.stride;
  p.params.dilation = s.dilation;
  p.params.groups = s.groups;
  Int2 padded;
  for (int d = 0; d < 2; ++d) {
    int64_t begin = s.padding[d], end = s.padding[d];
    if (s.mode == "valid") begin = end = 0;
    if (s.mode == "same") {
      const int64_t total = s.dilation[d] * (kernel[d] - 1);
      begin = total / 2;
      end = total - begin;
    }
    p.params.pad_begin[d] = begin;
    p.params.pad_end[d] = end;
    padded[d] = extent[d] + begin + end;
  }
  const Int2 dilated{s.dilation[0] * (kernel[0] - 1) + 1, s.dilation[1] * (kernel[1] - 1) + 1};
  ANVIL_CHECK(padded[0] >= dilated[0] && padded[1] >= dilated[1],
              "{}: the padded input size {} is smaller than the dilated kernel size {} (input {}, "
              "weight {}, padding {}, dilation {})",
              op, sizes(s, padded), sizes(s, dilated), input.describe(), weight.describe(),
              sizes(s, {p.params.pad_begin[0], p.params.pad_begin[1]}), sizes(s, s.dilation));
  p.input4 = std::move(in4);
  p.weight4 = std::move(w4);
  return p;
}

// The output size of one spatial dim of a convolution.
int64_t out_size(int64_t in, int64_t kernel, const Conv2dParams& p, int d) {
  return (in + p.pad_begin[d] + p.pad_end[d] - p.dilation[d] * (kernel - 1) - 1) / p.stride[d] + 1;
}

// A negative pad_end (conv_transpose2d's output_padding seen from the convolution) means the
// last -pad_end rows (columns) of the convolution's input are never read: the geometry without
// them, and their count per spatial dim.
Int2 crop_of(Conv2dParams& p) {
  Int2 crop{0, 0};
  for (int d = 0; d < 2; ++d) {
    if (p.pad_end[d] < 0) {
      crop[d] = -p.pad_end[d];
      p.pad_end[d] = 0;
    }
  }
  return crop;
}

Tensor cropped(const Tensor& t, const Int2& crop) {
  Tensor r = t;
  for (int d = 0; d < 2; ++d) {
    if (crop[d] > 0) r = r.narrow(2 + d, 0, std::max<int64_t>(0, t.size(2 + d) - crop[d]));
  }
  return r;
}

void check_4d(const char* op, const char* name, const Tensor& t) {
  ANVIL_CHECK(t.defined() && t.dim() == 4, "{}: expected a 4-D {}, got {}", op, name,
              t.defined() ? t.describe() : "an undefined tensor");
}

// The raw ops' own consistency checks: 4-D operands of one dtype and device, channels and
// groups that agree, and grad_output of the size the geometry gives.
void check_raw(const char* op, const Tensor& a, const char* na, const Tensor& b, const char* nb) {
  check_4d(op, na, a);
  check_4d(op, nb, b);
  ANVIL_CHECK(a.dtype() == b.dtype() && a.device() == b.device() && a.dtype() != DType::boolean,
              "{}: {} {} and {} {} must have one (non-bool) dtype and device", op, na, a.describe(),
              nb, b.describe());
}

void check_params(const char* op, const Conv2dParams& p) {
  ANVIL_CHECK(p.groups > 0 && p.stride[0] > 0 && p.stride[1] > 0 && p.dilation[0] > 0 &&
                  p.dilation[1] > 0 && p.pad_begin[0] >= 0 && p.pad_begin[1] >= 0,
              "{}: invalid geometry (stride, dilation and groups must be positive, pad_begin "
              "non-negative)",
              op);
}

// Expected grad_output shape of the convolution of `input_shape` by `weight_shape`.
Shape conv_output_shape(const char* op, const Shape& input_shape, const Shape& weight_shape,
                        const Conv2dParams& p) {
  ANVIL_CHECK(input_shape.size() == 4 && weight_shape.size() == 4 &&
                  weight_shape[0] % p.groups == 0 && input_shape[1] == weight_shape[1] * p.groups,
              "{}: input {} and weight {} do not fit with groups={}", op, shape_str(input_shape),
              shape_str(weight_shape), p.groups);
  return {input_shape[0], weight_shape[0], out_size(input_shape[2], weight_shape[2], p, 0),
          out_size(input_shape[3], weight_shape[3], p, 1)};
}

}  // namespace

ConvProblem conv2d_problem(const Tensor& input, const Tensor& weight,
                           const std::optional<Tensor>& bias, const Conv2dOptions& o) {
  const Spec s{"conv2d",
               2,
               {o.stride.h, o.stride.w},
               {o.dilation.h, o.dilation.w},
               {o.padding.size.h, o.padding.size.w},
               o.padding.mode,
               o.groups};
  return conv_problem(s, input, weight, bias_or_undefined(bias));
}

ConvProblem conv1d_problem(const Tensor& input, const Tensor& weight,
                           const std::optional<Tensor>& bias, const Conv1dOptions& o) {
  const Spec s{"conv1d",       1,       {1, o.stride}, {1, o.dilation}, {0, o.padding.size},
               o.padding.mode, o.groups};
  return conv_problem(s, input, weight, bias_or_undefined(bias));
}

ConvProblem conv_transpose2d_problem(const Tensor& input, const Tensor& weight,
                                     const std::optional<Tensor>& bias_opt,
                                     const ConvTranspose2dOptions& o) {
  const char* op = "conv_transpose2d";
  const Tensor bias = bias_or_undefined(bias_opt);
  check_kinds(op, input, weight, bias);
  ANVIL_CHECK(input.dim() == 3 || input.dim() == 4,
              "{}: expected a 3-D (unbatched) or 4-D (batched) input, got input {}", op,
              input.describe());
  ANVIL_CHECK(weight.dim() == 4,
              "{}: expected a 4-D weight [in_channels, out_channels / groups, kH, kW], got "
              "weight {}",
              op, weight.describe());
  ANVIL_CHECK(o.groups > 0, "{}: groups must be positive, got {}", op, o.groups);
  check_positive(op, "stride", {o.stride.h, o.stride.w}, 2);
  check_positive(op, "dilation", {o.dilation.h, o.dilation.w}, 2);
  ANVIL_CHECK(
      o.padding.h >= 0 && o.padding.w >= 0 && o.output_padding.h >= 0 && o.output_padding.w >= 0,
      "{}: padding {} and output_padding {} must be non-negative", op, pair_str(o.padding),
      pair_str(o.output_padding));
  ANVIL_CHECK((o.output_padding.h < o.stride.h || o.output_padding.h < o.dilation.h) &&
                  (o.output_padding.w < o.stride.w || o.output_padding.w < o.dilation.w),
              "{}: output_padding {} must be smaller than either stride {} or dilation {}", op,
              pair_str(o.output_padding), pair_str(o.stride), pair_str(o.dilation));
  const bool batched = input.dim() == 4;
  Shape in4 = input.shape();
  if (!batched) in4.insert(in4.begin(), 1);
  const int64_t in_channels = weight.size(0);
  ANVIL_CHECK(in_channels > 0, "{}: weight {} has no input channels", op, weight.describe());
  ANVIL_CHECK(in_channels % o.groups == 0,
              "{}: the input channels of weight {} ({}) are not divisible by groups={}", op,
              weight.describe(), in_channels, o.groups);
  ANVIL_CHECK(in4[1] == in_channels,
              "{}: expected input {} to have {} channels (the size(0) of weight {}), got {}", op,
              input.describe(), in_channels, weight.describe(), in4[1]);
  ANVIL_CHECK(weight.size(2) > 0 && weight.size(3) > 0, "{}: weight {} has an empty kernel", op,
              weight.describe());
  const int64_t out_channels = weight.size(1) * o.groups;
  check_bias(op, bias, weight, out_channels);
  ANVIL_CHECK(in4[2] > 0 && in4[3] > 0,
              "{}: input {} has an empty spatial dim (only the batch and channel dims may be 0)",
              op, input.describe());
  const Int2 stride{o.stride.h, o.stride.w}, dilation{o.dilation.h, o.dilation.w},
      padding{o.padding.h, o.padding.w}, output_padding{o.output_padding.h, o.output_padding.w};
  Int2 out;
  for (int d = 0; d < 2; ++d) {
    out[d] = (in4[2 + d] - 1) * stride[d] - 2 * padding[d] +
             dilation[d] * (weight.size(2 + d) - 1) + output_padding[d] + 1;
  }
  ANVIL_CHECK(out[0] > 0 && out[1] > 0,
              "{}: the output size ({} x {}) of input {} is too small (weight {}, stride {}, "
              "padding {}, dilation {})",
              op, out[0], out[1], input.describe(), weight.describe(), pair_str(o.stride),
              pair_str(o.padding), pair_str(o.dilation));
  ConvProblem p;
  p.params.stride = stride;
  p.params.dilation = dilation;
  p.params.groups = o.groups;
  // The convolution from the output back to the input: output_padding extra rows at the end
  // that no window reaches.
  p.params.pad_begin = padding;
  p.params.pad_end = {padding[0] - output_padding[0], padding[1] - output_padding[1]};
  p.input4 = std::move(in4);
  p.weight4 = weight.shape();
  p.output4 = {p.input4[0], out_channels, out[0], out[1]};
  return p;
}

Tensor conv2d_forward(const Tensor& input_in, const Tensor& weight, const Tensor& bias,
                      const Conv2dParams& params) {
  const char* op = "conv2d_forward";
  check_raw(op, input_in, "input", weight, "weight");
  check_params(op, params);
  Conv2dParams p = params;
  const Tensor input = cropped(input_in, crop_of(p));
  const Shape shape = conv_output_shape(op, input.shape(), weight.shape(), p);
  ANVIL_CHECK(shape[2] > 0 && shape[3] > 0, "{}: input {} is smaller than weight {}'s kernel", op,
              input.describe(), weight.describe());
  Tensor out = empty(shape, TensorOptions(input.dtype(), input.device()));
  if (out.numel() == 0) return out;
  if (input.numel() == 0) {  // nothing to sum over: the bias alone
    if (bias.defined()) return copy_(out, bias.view({1, shape[1], 1, 1}));
    return zero_(out);
  }
  kernel<OpId::conv2d>(out.device(), out.dtype())(out, input, weight, bias, p);
  return out;
}

Tensor conv2d_backward_input(const Tensor& grad_output, const Tensor& weight,
                             const Shape& input_shape, const Conv2dParams& params) {
  const char* op = "conv2d_backward_input";
  check_raw(op, grad_output, "grad_output", weight, "weight");
  check_params(op, params);
  Conv2dParams p = params;
  const Int2 crop = crop_of(p);
  const TensorOptions opts(grad_output.dtype(), grad_output.device());
  Tensor grad_input = empty(input_shape, opts);
  // What the kernel computes: the rows the cropped convolution reads.
  Shape read = input_shape;
  for (int d = 0; d < 2; ++d) read[2 + d] = std::max<int64_t>(0, read[2 + d] - crop[d]);
  const Shape expected = conv_output_shape(op, read, weight.shape(), p);
  ANVIL_CHECK(grad_output.shape() == expected,
              "{}: expected grad_output of shape {} for input {} and weight {}, got {}", op,
              shape_str(expected), shape_str(input_shape), weight.describe(),
              grad_output.describe());
  if (grad_input.numel() == 0) return grad_input;
  Tensor target = crop[0] > 0 || crop[1] > 0 ? empty(read, opts) : grad_input;
  if (target.numel() == 0 || grad_output.numel() == 0) {
    zero_(target);
  } else {
    kernel<OpId::conv2d_backward_input>(grad_output.device(), grad_output.dtype())(
        target, grad_output, weight, p);
  }
  if (!target.is_same(grad_input)) {  // the rows no window reached get no gradient
    zero_(grad_input);
    Tensor region = cropped(grad_input, crop);
    copy_(region, target);
  }
  return grad_input;
}

std::pair<Tensor, Tensor> conv2d_backward_weight(const Tensor& grad_output, const Tensor& input_in,
                                                 const Shape& weight_shape,
                                                 const Conv2dParams& params, bool bias) {
  const char* op = "conv2d_backward_weight";
  check_raw(op, grad_output, "grad_output", input_in, "input");
  check_params(op, params);
  Conv2dParams p = params;
  const Tensor input = cropped(input_in, crop_of(p));
  const Shape expected = conv_output_shape(op, input.shape(), weight_shape, p);
  ANVIL_CHECK(grad_output.shape() == expected,
              "{}: expected grad_output of shape {} for input {} and weight {}, got {}", op,
              shape_str(expected), input_in.describe(), shape_str(weight_shape),
              grad_output.describe());
  const TensorOptions opts(grad_output.dtype(), grad_output.device());
  Tensor grad_weight = empty(weight_shape, opts);
  Tensor grad_bias = bias ? empty({weight_shape[0]}, opts) : Tensor();
  if (grad_weight.numel() == 0 || grad_output.numel() == 0 || input.numel() == 0) {
    zero_(grad_weight);
    if (bias) copy_(grad_bias, sum(grad_output, {0, 2, 3}));
    return {grad_weight, grad_bias};
  }
  kernel<OpId::conv2d_backward_weight>(grad_output.device(), grad_output.dtype())(
      grad_weight, grad_bias, grad_output, input, p);
  return {grad_weight, grad_bias};
}

Tensor conv2d(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias,
              const Conv2dOptions& options) {
  const ConvProblem p = conv2d_problem(input, weight, bias, options);
  const Tensor out =
      conv2d_forward(input.view(p.input4), weight, bias_or_undefined(bias), p.params);
  return input.dim() == 4 ? out : out.squeeze(0);
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias,
              const Conv1dOptions& options) {
  const ConvProblem p = conv1d_problem(input, weight, bias, options);
  const Tensor out = conv2d_forward(input.view(p.input4), weight.view(p.weight4),
                                    bias_or_undefined(bias), p.params);
  Shape shape = out.shape();
  shape.erase(shape.begin() + 2);
  if (input.dim() == 2) shape.erase(shape.begin());
  return out.view(shape);
}

Tensor conv_transpose2d(const Tensor& input, const Tensor& weight,
                        const std::optional<Tensor>& bias, const ConvTranspose2dOptions& options) {
  const ConvProblem p = conv_transpose2d_problem(input, weight, bias, options);
  Tensor out = conv2d_backward_input(input.view(p.input4), weight, p.output4, p.params);
  if (bias && bias->defined()) add_(out, bias->view({1, p.output4[1], 1, 1}));
  return input.dim() == 4 ? out : out.squeeze(0);
}

}  // namespace anvil::ops
