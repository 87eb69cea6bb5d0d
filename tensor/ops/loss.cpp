// Front-end of the losses: argument checks (with torch.nn.functional's rules), result shapes and
// dtypes, then the kernels. Class-dim losses reach their kernels as [N, S, C] views (class dim
// last), elementwise losses with every operand expanded to one shape (stride-0 views).
#include "tensor/ops/loss.h"

#include "tensor/dispatch.h"
#include "tensor/ops/factory.h"

namespace anvil::ops {

namespace {

// The dtype of lse and total_weight: what the kernels accumulate in.
DType stats_dtype(DType t) {
  return t == DType::f64 ? DType::f64 : DType::f32;
}

void check_same_device(const char* op, const Tensor& input, const Tensor& other, const char* what) {
  ANVIL_CHECK(input.device() == other.device(), "{}: expected {} {} on the device of input {}", op,
              what, other.describe(), input.describe());
}

// [C], [N, C] or [N, C, d1, ...] seen as [N, S, C] (a view unless d1, ... do not flatten).
Tensor class_last(const Tensor& x) {
  if (x.dim() == 1) return x.unsqueeze(0).unsqueeze(0);
  if (x.dim() == 2) return x.unsqueeze(1);
  return x.flatten(2).transpose(1, 2);
}

// Class-index targets [], [N] or [N, d1, ...] seen as [N, S].
Tensor target_rows(const Tensor& t) {
  if (t.dim() == 0) return t.reshape({1, 1});
  if (t.dim() == 1) return t.unsqueeze(1);
  return t.flatten(1);
}

// A class-dim loss's operands, checked and laid out for its kernels.
struct ClassProblem {
  DType dtype;         // of the result and the kernels
  bool probs = false;  // class-probability target
  Tensor logits;       // [N, S, C]
  Tensor target;       // i64 [N, S], or [N, S, C] probabilities
  Tensor weight;       // [C] contiguous, or undefined
  Shape out_shape;     // the loss's shape with reduction none
  Shape rows;          // {N, S}
};

ClassProblem class_problem(const char* op, const Tensor& input, const Tensor& target,
                           const std::optional<Tensor>& weight, bool allow_probs) {
  ANVIL_CHECK(input.defined() && target.defined(), "{}: input and target must be defined", op);
  ANVIL_CHECK(input.is_floating_point(), "{}: expected a floating point input, got {}", op,
              input.describe());
  ANVIL_CHECK(input.dim() >= 1,
              "{}: expected input of shape [C], [N, C] or [N, C, d1, ...], got {}", op,
              input.describe());
  check_same_device(op, input, target, "target");
  ClassProblem p;
  p.probs = allow_probs && target.is_floating_point();
  const int64_t class_dim = input.dim() == 1 ? 0 : 1;
  const int64_t classes = input.size(class_dim);
  Shape index_shape = input.shape();
  index_shape.erase(index_shape.begin() + class_dim);
  if (p.probs) {
    ANVIL_CHECK(target.shape() == input.shape(),
                "{}: expected a class-probability target of the input's shape {}, got {}", op,
                shape_str(input.shape()), target.describe());
    p.dtype = promote_types(input.dtype(), target.dtype());
    p.target = class_last(target.to(p.dtype));
    p.out_shape = index_shape;
  } else {
    ANVIL_CHECK(
        target.dtype() == DType::i64, "{}: expected target class indices of dtype i64{}, got {}",
        op, allow_probs ? " or class probabilities of a floating dtype" : "", target.describe());
    ANVIL_CHECK(target.shape() == index_shape,
                "{}: expected target class indices of shape {} for input {} (the input's shape "
                "without its class dim {}), got {}",
                op, shape_str(index_shape), input.describe(), class_dim, target.describe());
    p.dtype = input.dtype();
    p.target = target_rows(target);
    p.out_shape = target.shape();
  }
  p.logits = class_last(input.to(p.dtype));
  p.rows = {p.logits.size(0), p.logits.size(1)};
  if (weight && weight->defined()) {
    check_same_device(op, input, *weight, "weight");
    ANVIL_CHECK(weight->dim() == 1 && weight->size(0) == classes && weight->is_floating_point(),
                "{}: expected a floating point weight of shape [{}] (one per class of input {}), "
                "got {}",
                op, classes, input.describe(), weight->describe());
    p.weight = weight->to(p.dtype).contiguous();
  }
  return p;
}

CrossEntropyArgs ce_args(const CrossEntropyOptions& o) {
  return {o.reduction, o.ignore_index, o.label_smoothing};
}

CrossEntropyArgs nll_args(const NllLossOptions& o) {
  return {o.reduction, o.ignore_index, 0.0};
}

// The upstream gradient as the backward kernels see it: [N, S] (reduction none) or 0-d.
Tensor grad_rows(const Tensor& grad, const ClassProblem& p, Reduction reduction) {
  const Tensor g = grad.to(p.dtype);
  if (reduction != Reduction::none) {
    ANVIL_INTERNAL_ASSERT(g.dim() == 0);
    return g;
  }
  ANVIL_INTERNAL_ASSERT(g.shape() == p.out_shape);
  return g.reshape(p.rows);
}

// The loss of a class-dim op: [N, S]-shaped for reduction none, else 0-d.
Tensor class_loss_output(const ClassProblem& p, Reduction reduction, Device device) {
  return empty(reduction == Reduction::none ? p.out_shape : Shape{},
               TensorOptions(p.dtype, device));
}

Tensor kernel_view(const Tensor& out, const ClassProblem& p, Reduction reduction) {
  return reduction == Reduction::none ? out.view(p.rows) : out;
}

// ---- elementwise losses ----------------------------------------------------------------------

const char* pointwise_name(PointwiseLoss kind) {
  switch (kind) {
    case PointwiseLoss::mse:
      return "mse_loss";
    case PointwiseLoss::l1:
      return "l1_loss";
    case PointwiseLoss::smooth_l1:
      return "smooth_l1_loss";
    case PointwiseLoss::huber:
      return "huber_loss";
    case PointwiseLoss::bce:
      return "binary_cross_entropy";
    case PointwiseLoss::bce_with_logits:
      return "binary_cross_entropy_with_logits";
  }
  return "loss";
}

// An elementwise loss's operands, checked, converted to one dtype and expanded to one shape.
struct PointwiseProblem {
  DType dtype;
  Shape shape;
  Tensor input, target, weight, pos_weight;
};

// Whether `from` broadcasts to exactly `to`.
bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  const size_t lead = to.size() - from.size();
  for (size_t d = 0; d < from.size(); ++d)
    if (from[d] != 1 && from[d] != to[lead + d]) return false;
  return true;
}

Tensor expanded_weight(const char* op, const char* what, const Tensor& w, const Tensor& input,
                       const Shape& shape, DType dtype) {
  if (!w.defined()) return w;
  check_same_device(op, input, w, what);
  ANVIL_CHECK(w.is_floating_point() && broadcasts_to(w.shape(), shape),
              "{}: expected a floating point {} that broadcasts to the input's shape {}, got {}",
              op, what, shape_str(shape), w.describe());
  return w.to(dtype).expand(shape);
}

PointwiseProblem pointwise_problem(const Tensor& input, const Tensor& target,
                                   const PointwiseLossInputs& args) {
  const char* op = pointwise_name(args.kind);
  ANVIL_CHECK(input.defined() && target.defined(), "{}: input and target must be defined", op);
  check_same_device(op, input, target, "target");
  PointwiseProblem p;
  const bool binary =
      args.kind == PointwiseLoss::bce || args.kind == PointwiseLoss::bce_with_logits;
  if (binary) {
    ANVIL_CHECK(target.shape() == input.shape(),
                "{}: expected a target of the input's shape {}, got {}", op,
                shape_str(input.shape()), target.describe());
  }
  if (args.kind == PointwiseLoss::bce) {
    ANVIL_CHECK(target.dtype() == input.dtype(),
                "{}: expected a target of the input's dtype {}, got {}", op,
                dtype_name(input.dtype()), target.describe());
  }
  p.dtype = promote_types(input.dtype(), target.dtype());
  ANVIL_CHECK(is_floating(p.dtype), "{}: expected floating point input and target, got {} and {}",
              op, input.describe(), target.describe());
  p.shape = broadcast_shapes(input.shape(), target.shape(), op);
  p.input = input.to(p.dtype).expand(p.shape);
  p.target = target.to(p.dtype).expand(p.shape);
  p.weight = expanded_weight(op, "weight", args.weight, input, p.shape, p.dtype);
  p.pos_weight = expanded_weight(op, "pos_weight", args.pos_weight, input, p.shape, p.dtype);
  return p;
}

PointwiseLossArgs kernel_args(const PointwiseLossInputs& args) {
  return {args.kind, args.reduction, args.param};
}

}  // namespace

// ---- cross_entropy ---------------------------------------------------------------------------

CrossEntropyForward cross_entropy_forward(const Tensor& input, const Tensor& target,
                                          const CrossEntropyOptions& options) {
  const ClassProblem p = class_problem("cross_entropy", input, target, options.weight, true);
  ANVIL_CHECK(options.label_smoothing >= 0 && options.label_smoothing <= 1,
              "cross_entropy: label_smoothing must be in [0, 1], got {}", options.label_smoothing);
  const TensorOptions stats(stats_dtype(p.dtype), input.device());
  CrossEntropyForward r;
  r.loss = class_loss_output(p, options.reduction, input.device());
  r.lse = empty(p.out_shape, stats);
  r.total_weight = empty({}, stats);
  kernel<OpId::cross_entropy>(input.device(), p.dtype)(kernel_view(r.loss, p, options.reduction),
                                                       r.lse.view(p.rows), r.total_weight, p.logits,
                                                       p.target, p.weight, ce_args(options));
  return r;
}

Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     const CrossEntropyOptions& options) {
  return cross_entropy_forward(input, target, options).loss;
}

std::pair<Tensor, Tensor> cross_entropy_backward(const Tensor& grad, const Tensor& input,
                                                 const Tensor& target, const Tensor& lse,
                                                 const Tensor& total_weight,
                                                 const CrossEntropyOptions& options,
                                                 bool input_grad, bool target_grad) {
  const ClassProblem p = class_problem("cross_entropy", input, target, options.weight, true);
  target_grad = target_grad && p.probs;
  if (!input_grad && !target_grad) return {};
  const TensorOptions out_options(p.dtype, input.device());
  Tensor grad_input = input_grad ? empty(input.shape(), out_options) : Tensor();
  Tensor grad_target = target_grad ? empty(input.shape(), out_options) : Tensor();
  kernel<OpId::cross_entropy_backward>(input.device(), p.dtype)(
      input_grad ? class_last(grad_input) : Tensor(),
      target_grad ? class_last(grad_target) : Tensor(), grad_rows(grad, p, options.reduction),
      p.logits, lse.reshape(p.rows), p.target, p.weight, total_weight, ce_args(options));
  return {grad_input, grad_target};
}

// ---- nll_loss --------------------------------------------------------------------------------

std::pair<Tensor, Tensor> nll_loss_forward(const Tensor& input, const Tensor& target,
                                           const NllLossOptions& options) {
  const ClassProblem p = class_problem("nll_loss", input, target, options.weight, false);
  Tensor loss = class_loss_output(p, options.reduction, input.device());
  Tensor total_weight = empty({}, TensorOptions(stats_dtype(p.dtype), input.device()));
  kernel<OpId::nll_loss>(input.device(), p.dtype)(kernel_view(loss, p, options.reduction),
                                                  total_weight, p.logits, p.target, p.weight,
                                                  nll_args(options));
  return {loss, total_weight};
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const NllLossOptions& options) {
  return nll_loss_forward(input, target, options).first;
}

Tensor nll_loss_backward(const Tensor& grad, const Tensor& input, const Tensor& target,
                         const Tensor& total_weight, const NllLossOptions& options) {
  const ClassProblem p = class_problem("nll_loss", input, target, options.weight, false);
  Tensor grad_input = empty(input.shape(), TensorOptions(p.dtype, input.device()));
  kernel<OpId::nll_loss_backward>(input.device(), p.dtype)(
      class_last(grad_input), grad_rows(grad, p, options.reduction), p.target, p.weight,
      total_weight, nll_args(options));
  return grad_input;
}

// ---- elementwise losses ----------------------------------------------------------------------

Tensor pointwise_loss(const Tensor& input, const Tensor& target, const PointwiseLossInputs& args) {
  const PointwiseProblem p = pointwise_problem(input, target, args);
  Tensor out = empty(args.reduction == Reduction::none ? p.shape : Shape{},
                     TensorOptions(p.dtype, input.device()));
  kernel<OpId::pointwise_loss>(input.device(), p.dtype)(out, p.input, p.target, p.weight,
                                                        p.pos_weight, kernel_args(args));
  return out;
}

std::pair<Tensor, Tensor> pointwise_loss_backward(const Tensor& grad, const Tensor& input,
                                                  const Tensor& target,
                                                  const PointwiseLossInputs& args, bool input_grad,
                                                  bool target_grad) {
  if (!input_grad && !target_grad) return {};
  const PointwiseProblem p = pointwise_problem(input, target, args);
  const TensorOptions out_options(p.dtype, input.device());
  Tensor grad_input = input_grad ? empty(p.shape, out_options) : Tensor();
  Tensor grad_target = target_grad ? empty(p.shape, out_options) : Tensor();
  kernel<OpId::pointwise_loss_backward>(input.device(), p.dtype)(
      grad_input, grad_target, grad.to(p.dtype).expand(p.shape), p.input, p.target, p.weight,
      p.pos_weight, kernel_args(args));
  return {grad_input, grad_target};
}

PointwiseLossInputs pointwise_loss_inputs(PointwiseLoss kind, Reduction reduction, double param,
                                          const std::optional<Tensor>& weight,
                                          const std::optional<Tensor>& pos_weight) {
  if (kind == PointwiseLoss::smooth_l1) {
    ANVIL_CHECK(param >= 0, "smooth_l1_loss: beta must be >= 0, got {}", param);
    if (param == 0) kind = PointwiseLoss::l1;  // the quadratic piece vanishes
  }
  if (kind == PointwiseLoss::huber) {
    ANVIL_CHECK(param > 0, "huber_loss: delta must be > 0, got {}", param);
  }
  return {kind, reduction, param, weight.value_or(Tensor()), pos_weight.value_or(Tensor())};
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return pointwise_loss(input, target, pointwise_loss_inputs(PointwiseLoss::mse, reduction));
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return pointwise_loss(input, target, pointwise_loss_inputs(PointwiseLoss::l1, reduction));
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  return pointwise_loss(input, target,
                        pointwise_loss_inputs(PointwiseLoss::smooth_l1, reduction, beta));
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  return pointwise_loss(input, target,
                        pointwise_loss_inputs(PointwiseLoss::huber, reduction, delta));
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            const BinaryCrossEntropyOptions& options) {
  return pointwise_loss(
      input, target,
      pointwise_loss_inputs(PointwiseLoss::bce, options.reduction, 0, options.weight));
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BinaryCrossEntropyWithLogitsOptions& options) {
  return pointwise_loss(input, target,
                        pointwise_loss_inputs(PointwiseLoss::bce_with_logits, options.reduction, 0,
                                              options.weight, options.pos_weight));
}

}  // namespace anvil::ops
