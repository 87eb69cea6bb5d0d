// Normalization front-ends: argument checks (PyTorch's messages, prefixed with the op), the
// layouts the kernels take, output and statistics allocation, and batch norm's running-statistics
// update.
#include "tensor/ops/norm.h"

#include <limits>

#include "tensor/dispatch.h"
#include "tensor/ops/binary.h"
#include "tensor/ops/copy.h"
#include "tensor/ops/factory.h"
#include "tensor/ops/unary.h"
#include "tensor/ops/view.h"

namespace anvil::ops {

namespace {

// Statistics, weight and bias reach the kernels in float, or in double for f64 inputs.
DType stats_dtype(DType t) {
  return t == DType::f64 ? DType::f64 : DType::f32;
}

TensorOptions stats_options(const Tensor& x) {
  return TensorOptions(stats_dtype(x.dtype()), x.device());
}

void check_input(const char* op, const Tensor& x) {
  ANVIL_CHECK(x.defined(), "{}: the input tensor is undefined", op);
  ANVIL_CHECK(x.is_floating_point(), "{}: expected a floating point input, got {}", op,
              x.describe());
}

// An optional tensor argument: null when absent or undefined.
const Tensor* present(const std::optional<Tensor>& t) {
  return t && t->defined() ? &*t : nullptr;
}

// A parameter (weight, bias, running statistic) has the input's device and dtype, or f32 for an
// f16/bf16 input (mixed precision).
void check_param(const char* op, const char* what, const Tensor& p, const Tensor& x) {
  ANVIL_CHECK(p.device() == x.device(), "{}: expected {} on the input's device {}, got {}", op,
              what, x.device().str(), p.describe());
  const bool reduced = x.dtype() == DType::f16 || x.dtype() == DType::bf16;
  ANVIL_CHECK(p.dtype() == x.dtype() || (reduced && p.dtype() == DType::f32),
              "{}: expected {} to have the input's dtype {}{}, got {} (input {})", op, what,
              dtype_name(x.dtype()), reduced ? " or f32" : "", p.describe(), x.describe());
}

// A checked parameter as the kernels take it: flat, contiguous, in the statistics dtype.
Tensor kernel_param(const Tensor* p, const Tensor& x) {
  if (!p) return Tensor();
  return contiguous(to(reshape(*p, {p->numel()}), stats_dtype(x.dtype())));
}

// grad_out must have the input's shape; it is brought to the input's dtype.
Tensor checked_grad(const char* op, const Tensor& grad_out, const Tensor& input) {
  ANVIL_CHECK(grad_out.defined() && grad_out.shape() == input.shape(),
              "{}: expected grad_out of the input's shape, got grad_out {} and input {}", op,
              grad_out.defined() ? grad_out.describe() : "undefined", input.describe());
  return to(grad_out, input.dtype());
}

// A statistics tensor passed back to a backward op: `numel` values.
void check_stats(const char* op, const char* what, const Tensor& t, int64_t numel,
                 const Tensor& input) {
  ANVIL_CHECK(t.defined() && t.numel() == numel && t.dtype() == stats_dtype(input.dtype()),
              "{}: expected {} with {} {} values (from the forward of input {}), got {}", op, what,
              numel, dtype_name(stats_dtype(input.dtype())), input.describe(),
              t.defined() ? t.describe() : "undefined");
}

// ---- batch norm: the [N, C, S] view -----------------------------------------------------------

int64_t spatial_size(const Tensor& x) {
  return numel_of(Shape(x.shape().begin() + 2, x.shape().end()));
}

// Rows of S contiguous elements per (n, c) (NCHW); otherwise the kernels walk rows of C
// contiguous channels per (n, s) (channels-last, and [N, C] inputs).
bool rows_along_s(const Tensor& x3) {
  return x3.size(2) > 1 && x3.stride(2) == 1;
}

// The input as [N, C, S] in a layout the kernels take: a view where possible, else contiguous.
Tensor channel_view(const Tensor& x) {
  Tensor v = reshape(x, {x.size(0), x.size(1), spatial_size(x)});
  if (rows_along_s(v) || v.size(1) == 1 || v.stride(1) == 1) return v;
  return contiguous(v);
}

// A new [N, C, S] tensor with the layout of x3 (channels-last stays channels-last).
Tensor empty_like_layout(const Tensor& x3, DType dtype) {
  const TensorOptions opt(dtype, x3.device());
  if (rows_along_s(x3)) return empty(x3.shape(), opt);
  return permute(empty({x3.size(0), x3.size(2), x3.size(1)}, opt), {0, 2, 1});
}

// `t` (of x3's shape) in a layout the batch norm kernels can read together with x3.
Tensor in_layout_of(const Tensor& t, const Tensor& x3) {
  if (rows_along_s(x3)) return rows_along_s(t) ? t : contiguous(t);
  if (t.size(1) == 1 || t.stride(1) == 1) return t;
  return transpose(contiguous(transpose(t, 1, 2)), 1, 2);
}

void check_channels(const char* what, const Tensor* p, const Tensor& input) {
  if (!p) return;
  check_param("batch_norm", what, *p, input);
  ANVIL_CHECK(p->numel() == input.size(1),
              "batch_norm: {} should contain {} elements not {} (input {}, {} {})", what,
              input.size(1), p->numel(), input.describe(), what, p->describe());
}

// running = (1 - momentum) * running + momentum * factor * batch.
void update_running(const Tensor* running, const Tensor& batch, double momentum, double factor) {
  if (!running) return;
  Tensor r = *running;
  mul_(r, 1 - momentum);
  add_(r, view(batch, r.shape()), momentum * factor);
}

// ---- row norms (layer norm, rms norm) ---------------------------------------------------------

// Checks input [*, normalized_shape] and returns (M rows, K = prod(normalized_shape)).
std::pair<int64_t, int64_t> check_rows(const char* op, const Tensor& input,
                                       const Shape& normalized_shape) {
  check_input(op, input);
  ANVIL_CHECK(!normalized_shape.empty(),
              "{}: Expected normalized_shape to be at least 1-dimensional, i.e., containing at "
              "least one element, but got normalized_shape = []",
              op);
  const auto nd = static_cast<int64_t>(normalized_shape.size());
  const bool suffix =
      input.dim() >= nd && Shape(input.shape().end() - nd, input.shape().end()) == normalized_shape;
  ANVIL_CHECK(suffix,
              "{}: Given normalized_shape={}, expected input with shape [*, {}], but got input {}",
              op, shape_str(normalized_shape), fmt::join(normalized_shape, ","), input.describe());
  const int64_t k = numel_of(normalized_shape);
  return {
      k == 0 ? numel_of(Shape(input.shape().begin(), input.shape().end() - nd)) : input.numel() / k,
      k};
}

void check_affine(const char* op, const char* what, const Tensor* p, const Tensor& input,
                  const Shape& normalized_shape) {
  if (!p) return;
  check_param(op, what, *p, input);
  ANVIL_CHECK(p->shape() == normalized_shape,
              "{}: Expected {} to be of same shape as normalized_shape, but got {} {} and "
              "normalized_shape = {}",
              op, what, what, p->describe(), shape_str(normalized_shape));
}

// ---- group norm -------------------------------------------------------------------------------

void check_group_input(const Tensor& input, int64_t num_groups) {
  check_input("group_norm", input);
  ANVIL_CHECK(input.dim() >= 2,
              "group_norm: Expected at least 2 dimensions for input tensor but received {}",
              input.describe());
  ANVIL_CHECK(num_groups > 0, "group_norm: expected num_groups > 0, got {} (input {})", num_groups,
              input.describe());
  ANVIL_CHECK(input.size(1) % num_groups == 0,
              "group_norm: Expected number of channels in input to be divisible by num_groups, "
              "but got input {} and num_groups={}",
              input.describe(), num_groups);
}

void check_group_param(const char* what, const Tensor* p, const Tensor& input) {
  if (!p) return;
  check_param("group_norm", what, *p, input);
  ANVIL_CHECK(p->dim() == 1 && p->numel() == input.size(1),
              "group_norm: Expected {} to be a vector of size equal to the number of channels in "
              "input, but got {} {} and input {}",
              what, what, p->describe(), input.describe());
}

// The kernels' [N, C, S] contiguous view.
Tensor group_view(const Tensor& t) {
  return view(contiguous(t), {t.size(0), t.size(1), spatial_size(t)});
}

// The machine epsilon of a floating dtype (torch.finfo(dtype).eps).
double machine_eps(DType t) {
  switch (t) {
    case DType::f64:
      return std::numeric_limits<double>::epsilon();
    case DType::f16:
      return 0.0009765625;  // 2^-10
    case DType::bf16:
      return 0.0078125;  // 2^-7
    default:
      return std::numeric_limits<float>::epsilon();
  }
}

}  // namespace

// ---- batch norm -------------------------------------------------------------------------------

std::tuple<Tensor, Tensor, Tensor> batch_norm_forward(const Tensor& input,
                                                      const std::optional<Tensor>& running_mean,
                                                      const std::optional<Tensor>& running_var,
                                                      const std::optional<Tensor>& weight,
                                                      const std::optional<Tensor>& bias,
                                                      const BatchNormOptions& options) {
  check_input("batch_norm", input);
  ANVIL_CHECK(input.dim() >= 2,
              "batch_norm: expected an input of at least 2 dims [N, C, *], got {}",
              input.describe());
  const Tensor *rm = present(running_mean), *rv = present(running_var);
  const Tensor *w = present(weight), *b = present(bias);
  check_channels("running_mean", rm, input);
  check_channels("running_var", rv, input);
  check_channels("weight", w, input);
  check_channels("bias", b, input);
  const int64_t c = input.size(1), count = input.size(0) * spatial_size(input);
  if (options.training) {
    ANVIL_CHECK(count != 1,
                "batch_norm: Expected more than 1 value per channel when training, got input size "
                "{}",
                shape_str(input.shape()));
  } else {
    ANVIL_CHECK(rm, "batch_norm: running_mean must be defined in evaluation mode (input {})",
                input.describe());
    ANVIL_CHECK(rv, "batch_norm: running_var must be defined in evaluation mode (input {})",
                input.describe());
  }
  const Tensor x = channel_view(input);
  const Tensor y = empty_like_layout(x, input.dtype());
  const Tensor wk = kernel_param(w, input), bk = kernel_param(b, input);
  const bool empty_input = x.numel() == 0;
  Tensor mean, invstd;
  if (options.training) {
    if (empty_input) {  // nothing to normalize; the running statistics stay as they are
      mean = zeros({c}, stats_options(input));
      invstd = zeros({c}, stats_options(input));
    } else {
      mean = empty({c}, stats_options(input));
      invstd = empty({c}, stats_options(input));
      const Tensor var = rv ? empty({c}, stats_options(input)) : Tensor();
      kernel<OpId::batch_norm_train>(input.device(), input.dtype())(y, mean, invstd, var, x, wk, bk,
                                                                    options.eps);
      update_running(rm, mean, options.momentum, 1.0);
      // The running variance is the unbiased one.
      update_running(rv, var, options.momentum, double(count) / double(count - 1));
    }
  } else {
    mean = kernel_param(rm, input);
    invstd = rsqrt(add(kernel_param(rv, input), options.eps));
    if (!empty_input) {
      kernel<OpId::batch_norm_apply>(input.device(), input.dtype())(y, x, mean, invstd, wk, bk);
    }
  }
  return {view(y, input.shape()), mean, invstd};
}

Tensor batch_norm(const Tensor& input, const std::optional<Tensor>& running_mean,
                  const std::optional<Tensor>& running_var, const std::optional<Tensor>& weight,
                  const std::optional<Tensor>& bias, const BatchNormOptions& options) {
  return std::get<0>(batch_norm_forward(input, running_mean, running_var, weight, bias, options));
}

std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& grad_out, const Tensor& input,
                                                       const std::optional<Tensor>& weight,
                                                       const Tensor& mean, const Tensor& invstd,
                                                       bool training,
                                                       std::array<bool, 3> output_mask) {
  constexpr const char* op = "batch_norm_backward";
  check_input(op, input);
  ANVIL_CHECK(input.dim() >= 2, "{}: expected an input of at least 2 dims [N, C, *], got {}", op,
              input.describe());
  const Tensor g = checked_grad(op, grad_out, input);
  const Tensor* w = present(weight);
  if (w) check_channels("weight", w, input);
  const int64_t c = input.size(1);
  check_stats(op, "mean", mean, c, input);
  check_stats(op, "invstd", invstd, c, input);
  const Tensor x = channel_view(input);
  const TensorOptions sopt = stats_options(input);
  Tensor gi = output_mask[0] ? empty_like_layout(x, input.dtype()) : Tensor();
  Tensor gw = output_mask[1] && w ? empty({c}, sopt) : Tensor();
  Tensor gb = output_mask[2] ? empty({c}, sopt) : Tensor();
  if (x.numel() == 0) {
    if (gw.defined()) gw = zeros({c}, sopt);
    if (gb.defined()) gb = zeros({c}, sopt);
  } else if (gi.defined() || gw.defined() || gb.defined()) {
    kernel<OpId::batch_norm_backward>(input.device(), input.dtype())(
        gi, gw, gb, in_layout_of(reshape(g, x.shape()), x), x, contiguous(mean), contiguous(invstd),
        kernel_param(w, input), training);
  }
  if (gi.defined()) gi = view(gi, input.shape());
  if (gw.defined()) gw = view(gw, w->shape());
  return {gi, gw, gb};
}

// ---- layer norm -------------------------------------------------------------------------------

std::tuple<Tensor, Tensor, Tensor> layer_norm_forward(const Tensor& input,
                                                      const Shape& normalized_shape,
                                                      const std::optional<Tensor>& weight,
                                                      const std::optional<Tensor>& bias,
                                                      double eps) {
  const auto [m, k] = check_rows("layer_norm", input, normalized_shape);
  const Tensor *w = present(weight), *b = present(bias);
  check_affine("layer_norm", "weight", w, input, normalized_shape);
  check_affine("layer_norm", "bias", b, input, normalized_shape);
  const Tensor y = empty(input.shape(), TensorOptions(input.dtype(), input.device()));
  if (m * k == 0) return {y, zeros({m}, stats_options(input)), zeros({m}, stats_options(input))};
  const Tensor mean = empty({m}, stats_options(input)), rstd = empty({m}, stats_options(input));
  kernel<OpId::layer_norm_forward>(input.device(), input.dtype())(
      view(y, {m, k}), mean, rstd, view(contiguous(input), {m, k}), kernel_param(w, input),
      kernel_param(b, input), eps);
  return {y, mean, rstd};
}

Tensor layer_norm(const Tensor& input, const Shape& normalized_shape,
                  const std::optional<Tensor>& weight, const std::optional<Tensor>& bias,
                  double eps) {
  return std::get<0>(layer_norm_forward(input, normalized_shape, weight, bias, eps));
}

std::tuple<Tensor, Tensor, Tensor> layer_norm_backward(const Tensor& grad_out, const Tensor& input,
                                                       const Shape& normalized_shape,
                                                       const Tensor& mean, const Tensor& rstd,
                                                       const std::optional<Tensor>& weight,
                                                       std::array<bool, 3> output_mask) {
  constexpr const char* op = "layer_norm_backward";
  const auto [m, k] = check_rows(op, input, normalized_shape);
  const Tensor g = checked_grad(op, grad_out, input);
  const Tensor* w = present(weight);
  check_affine(op, "weight", w, input, normalized_shape);
  check_stats(op, "mean", mean, m, input);
  check_stats(op, "rstd", rstd, m, input);
  const TensorOptions sopt = stats_options(input);
  Tensor gi = output_mask[0] ? empty(input.shape(), TensorOptions(input.dtype(), input.device()))
                             : Tensor();
  Tensor gw = output_mask[1] && w ? empty(normalized_shape, sopt) : Tensor();
  Tensor gb = output_mask[2] ? empty(normalized_shape, sopt) : Tensor();
  if (m * k == 0) {
    if (gw.defined()) gw = zeros(normalized_shape, sopt);
    if (gb.defined()) gb = zeros(normalized_shape, sopt);
  } else if (gi.defined() || gw.defined() || gb.defined()) {
    auto rows = [&](const Tensor& t) { return t.defined() ? view(t, {m, k}) : t; };
    auto flat = [&](const Tensor& t) { return t.defined() ? view(t, {k}) : t; };
    kernel<OpId::layer_norm_backward>(input.device(), input.dtype())(
        rows(gi), flat(gw), flat(gb), rows(contiguous(g)), rows(contiguous(input)),
        contiguous(mean), contiguous(rstd), kernel_param(w, input));
  }
  return {gi, gw, gb};
}

// ---- group norm -------------------------------------------------------------------------------

std::tuple<Tensor, Tensor, Tensor> group_norm_forward(const Tensor& input, int64_t num_groups,
                                                      const std::optional<Tensor>& weight,
                                                      const std::optional<Tensor>& bias,
                                                      double eps) {
  check_group_input(input, num_groups);
  const Tensor *w = present(weight), *b = present(bias);
  check_group_param("weight", w, input);
  check_group_param("bias", b, input);
  const int64_t n = input.size(0), c = input.size(1), s = spatial_size(input);
  // PyTorch's F.group_norm check (_verify_batch_size over [N * C / G, G, *]).
  Shape verified{n * (c / num_groups), num_groups};
  verified.insert(verified.end(), input.shape().begin() + 2, input.shape().end());
  ANVIL_CHECK(n * (c / num_groups) * s != 1,
              "group_norm: Expected more than 1 value per channel when training, got input size "
              "{} (input {}, num_groups={})",
              shape_str(verified), input.describe(), num_groups);
  const Tensor y = empty(input.shape(), TensorOptions(input.dtype(), input.device()));
  const Shape stats_shape{n, num_groups};
  if (input.numel() == 0) {
    return {y, zeros(stats_shape, stats_options(input)), zeros(stats_shape, stats_options(input))};
  }
  const Tensor mean = empty(stats_shape, stats_options(input));
  const Tensor rstd = empty(stats_shape, stats_options(input));
  kernel<OpId::group_norm_forward>(input.device(), input.dtype())(
      view(y, {n, c, s}), mean, rstd, group_view(input), kernel_param(w, input),
      kernel_param(b, input), eps);
  return {y, mean, rstd};
}

Tensor group_norm(const Tensor& input, int64_t num_groups, const std::optional<Tensor>& weight,
                  const std::optional<Tensor>& bias, double eps) {
  return std::get<0>(group_norm_forward(input, num_groups, weight, bias, eps));
}

std::tuple<Tensor, Tensor, Tensor> group_norm_backward(const Tensor& grad_out, const Tensor& input,
                                                       int64_t num_groups, const Tensor& mean,
                                                       const Tensor& rstd,
                                                       const std::optional<Tensor>& weight,
                                                       std::array<bool, 3> output_mask) {
  constexpr const char* op = "group_norm_backward";
  check_group_input(input, num_groups);
  const Tensor g = checked_grad(op, grad_out, input);
  const Tensor* w = present(weight);
  check_group_param("weight", w, input);
  const int64_t n = input.size(0), c = input.size(1), s = spatial_size(input);
  check_stats(op, "mean", mean, n * num_groups, input);
  check_stats(op, "rstd", rstd, n * num_groups, input);
  const TensorOptions sopt = stats_options(input);
  Tensor gi = output_mask[0] ? empty(input.shape(), TensorOptions(input.dtype(), input.device()))
                             : Tensor();
  Tensor gw = output_mask[1] && w ? empty({c}, sopt) : Tensor();
  Tensor gb = output_mask[2] ? empty({c}, sopt) : Tensor();
  if (input.numel() == 0) {
    if (gw.defined()) gw = zeros({c}, sopt);
    if (gb.defined()) gb = zeros({c}, sopt);
  } else if (gi.defined() || gw.defined() || gb.defined()) {
    const Shape stats_shape{n, num_groups};
    kernel<OpId::group_norm_backward>(input.device(), input.dtype())(
        gi.defined() ? view(gi, {n, c, s}) : gi, gw, gb, group_view(g), group_view(input),
        view(contiguous(mean), stats_shape), view(contiguous(rstd), stats_shape),
        kernel_param(w, input));
  }
  return {gi, gw, gb};
}

// ---- rms norm ---------------------------------------------------------------------------------

std::pair<Tensor, Tensor> rms_norm_forward(const Tensor& input, const Shape& normalized_shape,
                                           const std::optional<Tensor>& weight,
                                           std::optional<double> eps) {
  const auto [m, k] = check_rows("rms_norm", input, normalized_shape);
  const Tensor* w = present(weight);
  check_affine("rms_norm", "weight", w, input, normalized_shape);
  const Tensor y = empty(input.shape(), TensorOptions(input.dtype(), input.device()));
  if (m * k == 0) return {y, zeros({m}, stats_options(input))};
  const Tensor rstd = empty({m}, stats_options(input));
  kernel<OpId::rms_norm_forward>(input.device(), input.dtype())(
      view(y, {m, k}), rstd, view(contiguous(input), {m, k}), kernel_param(w, input),
      eps.value_or(machine_eps(input.dtype())));
  return {y, rstd};
}

Tensor rms_norm(const Tensor& input, const Shape& normalized_shape,
                const std::optional<Tensor>& weight, std::optional<double> eps) {
  return rms_norm_forward(input, normalized_shape, weight, eps).first;
}

std::pair<Tensor, Tensor> rms_norm_backward(const Tensor& grad_out, const Tensor& input,
                                            const Shape& normalized_shape, const Tensor& rstd,
                                            const std::optional<Tensor>& weight,
                                            std::array<bool, 2> output_mask) {
  constexpr const char* op = "rms_norm_backward";
  const auto [m, k] = check_rows(op, input, normalized_shape);
  const Tensor g = checked_grad(op, grad_out, input);
  const Tensor* w = present(weight);
  check_affine(op, "weight", w, input, normalized_shape);
  check_stats(op, "rstd", rstd, m, input);
  const TensorOptions sopt = stats_options(input);
  Tensor gi = output_mask[0] ? empty(input.shape(), TensorOptions(input.dtype(), input.device()))
                             : Tensor();
  Tensor gw = output_mask[1] && w ? empty(normalized_shape, sopt) : Tensor();
  if (m * k == 0) {
    if (gw.defined()) gw = zeros(normalized_shape, sopt);
  } else if (gi.defined() || gw.defined()) {
    kernel<OpId::rms_norm_backward>(input.device(), input.dtype())(
        gi.defined() ? view(gi, {m, k}) : gi, gw.defined() ? view(gw, {k}) : gw,
        view(contiguous(g), {m, k}), view(contiguous(input), {m, k}), contiguous(rstd),
        kernel_param(w, input));
  }
  return {gi, gw};
}

}  // namespace anvil::ops
