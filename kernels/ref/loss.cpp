// Reference losses: every element read as a double and the textbook formula applied, row by row
// (cross_entropy: -sum_c w_c q_c log_softmax(x)_c with q the smoothed target distribution).
#include <cmath>

#include "kernels/ref/ref_loops.h"
#include "tensor/dispatch.h"

namespace anvil::ref {

namespace {

double weight_of(const Tensor& weight, int64_t c) {
  return weight.defined() ? load(weight, {c}) : 1.0;
}

// log(sum_c exp(x[n, s, c])), shifted by the row max.
double row_lse(const Tensor& x, int64_t n, int64_t s) {
  const int64_t C = x.size(2);
  double m = -INFINITY;
  for (int64_t c = 0; c < C; ++c) m = std::max(m, load(x, {n, s, c}));
  double sum = 0;
  for (int64_t c = 0; c < C; ++c) sum += std::exp(load(x, {n, s, c}) - m);
  return m + std::log(sum);
}

// The class index of row (n, s), or -1 when it is ignored; out of range is an IndexError.
int64_t class_of(const char* op, const Tensor& target, int64_t n, int64_t s, int64_t classes,
                 int64_t ignore_index) {
  const int64_t t = static_cast<int64_t*>(target.storage()->data())[offset_of(target, {n, s})];
  if (t == ignore_index) return -1;
  ANVIL_CHECK_INDEX(t >= 0 && t < classes, "{}: target {} is out of bounds for {} classes", op, t,
                    classes);
  return t;
}

// The target distribution of row (n, s): smoothed one-hot or smoothed probabilities (empty when
// the row is ignored).
std::vector<double> target_distribution(const Tensor& target, int64_t n, int64_t s, int64_t C,
                                        const CrossEntropyArgs& args) {
  const double ls = args.label_smoothing;
  std::vector<double> q(C);
  if (target.is_floating_point()) {
    for (int64_t c = 0; c < C; ++c) q[c] = (1 - ls) * load(target, {n, s, c}) + ls / C;
    return q;
  }
  const int64_t t = class_of("cross_entropy", target, n, s, C, args.ignore_index);
  if (t < 0) return {};
  for (int64_t c = 0; c < C; ++c) q[c] = (1 - ls) * (c == t ? 1.0 : 0.0) + ls / C;
  return q;
}

// What a mean divides by for row (n, s): 1 for probabilities, the target's class weight else.
double row_weight(const Tensor& target, const Tensor& weight, int64_t n, int64_t s, int64_t C,
                  const CrossEntropyArgs& args) {
  if (target.is_floating_point()) return 1.0;
  const int64_t t = class_of("cross_entropy", target, n, s, C, args.ignore_index);
  return t < 0 ? 0.0 : weight_of(weight, t);
}

void store_reduced(const Tensor& out, const Tensor& total_weight, double total, double weight,
                   Reduction reduction) {
  store(total_weight, {}, weight);
  if (reduction != Reduction::none)
    store(out, {}, reduction == Reduction::mean ? total / weight : total);
}

// The upstream gradient of row (n, s) (a mean's division included).
double grad_of(const Tensor& grad_out, const Tensor& total_weight, int64_t n, int64_t s,
               Reduction reduction) {
  if (reduction == Reduction::none) return load(grad_out, {n, s});
  const double g = load(grad_out, {});
  return reduction == Reduction::mean ? g / load(total_weight, {}) : g;
}

void cross_entropy_kernel(const Tensor& out, const Tensor& lse, const Tensor& total_weight,
                          const Tensor& logits, const Tensor& target, const Tensor& weight,
                          const CrossEntropyArgs& args) {
  const int64_t N = logits.size(0), S = logits.size(1), C = logits.size(2);
  double total = 0, total_w = 0;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t s = 0; s < S; ++s) {
      const double l = row_lse(logits, n, s);
      store(lse, {n, s}, l);
      const std::vector<double> q = target_distribution(target, n, s, C, args);
      double loss = 0;
      for (int64_t c = 0; c < static_cast<int64_t>(q.size()); ++c)
        loss -= weight_of(weight, c) * q[c] * (load(logits, {n, s, c}) - l);
      total_w += row_weight(target, weight, n, s, C, args);
      if (args.reduction == Reduction::none) {
        store(out, {n, s}, loss);
      } else {
        total += loss;
      }
    }
  }
  store_reduced(out, total_weight, total, total_w, args.reduction);
}

// d/dx_c = g (softmax_c sum_k w_k q_k - w_c q_c); d/dy_c = -g (1 - ls) w_c log_softmax_c.
void cross_entropy_backward_kernel(const Tensor& grad_logits, const Tensor& grad_target,
                                   const Tensor& grad_out, const Tensor& logits, const Tensor& lse,
                                   const Tensor& target, const Tensor& weight,
                                   const Tensor& total_weight, const CrossEntropyArgs& args) {
  const int64_t N = logits.size(0), S = logits.size(1), C = logits.size(2);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t s = 0; s < S; ++s) {
      const double l = load(lse, {n, s});
      const double g = grad_of(grad_out, total_weight, n, s, args.reduction);
      const std::vector<double> q = target_distribution(target, n, s, C, args);
      double wq = 0;
      for (int64_t c = 0; c < static_cast<int64_t>(q.size()); ++c)
        wq += weight_of(weight, c) * q[c];
      for (int64_t c = 0; c < C; ++c) {
        const double logp = load(logits, {n, s, c}) - l;
        const double wc = weight_of(weight, c);
        if (grad_logits.defined()) {
          store(grad_logits, {n, s, c}, q.empty() ? 0.0 : g * (std::exp(logp) * wq - wc * q[c]));
        }
        if (grad_target.defined())
          store(grad_target, {n, s, c}, -g * (1 - args.label_smoothing) * wc * logp);
      }
    }
  }
}

void nll_loss_kernel(const Tensor& out, const Tensor& total_weight, const Tensor& input,
                     const Tensor& target, const Tensor& weight, const CrossEntropyArgs& args) {
  const int64_t N = input.size(0), S = input.size(1), C = input.size(2);
  double total = 0, total_w = 0;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t s = 0; s < S; ++s) {
      const int64_t t = class_of("nll_loss", target, n, s, C, args.ignore_index);
      const double w = t < 0 ? 0.0 : weight_of(weight, t);
      const double loss = t < 0 ? 0.0 : -w * load(input, {n, s, t});
      total_w += w;
      if (args.reduction == Reduction::none) {
        store(out, {n, s}, loss);
      } else {
        total += loss;
      }
    }
  }
  store_reduced(out, total_weight, total, total_w, args.reduction);
}

void nll_loss_backward_kernel(const Tensor& grad_input, const Tensor& grad_out,
                              const Tensor& target, const Tensor& weight,
                              const Tensor& total_weight, const CrossEntropyArgs& args) {
  const int64_t N = grad_input.size(0), S = grad_input.size(1), C = grad_input.size(2);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t s = 0; s < S; ++s) {
      const int64_t t = class_of("nll_loss", target, n, s, C, args.ignore_index);
      const double g = grad_of(grad_out, total_weight, n, s, args.reduction);
      for (int64_t c = 0; c < C; ++c)
        store(grad_input, {n, s, c}, c == t ? -weight_of(weight, t) * g : 0.0);
    }
  }
}

// ---- elementwise losses ----------------------------------------------------------------------

double log_sigmoid(double x) {
  return x < 0 ? x - std::log1p(std::exp(x)) : -std::log1p(std::exp(-x));
}

double sign(double x) {
  return (x > 0) - (x < 0);
}

double loss_value(const PointwiseLossArgs& args, double x, double y, double pw) {
  const double d = x - y, p = args.param;
  switch (args.kind) {
    case ops::PointwiseLoss::mse:
      return d * d;
    case ops::PointwiseLoss::l1:
      return std::abs(d);
    case ops::PointwiseLoss::smooth_l1:
      return std::abs(d) < p ? 0.5 * d * d / p : std::abs(d) - 0.5 * p;
    case ops::PointwiseLoss::huber:
      return std::abs(d) < p ? 0.5 * d * d : p * (std::abs(d) - 0.5 * p);
    case ops::PointwiseLoss::bce:
      return -(y * std::max(std::log(x), -100.0) + (1 - y) * std::max(std::log(1 - x), -100.0));
    case ops::PointwiseLoss::bce_with_logits:
      return -(pw * y * log_sigmoid(x) + (1 - y) * log_sigmoid(-x));
  }
  return 0;
}

double input_grad(const PointwiseLossArgs& args, double x, double y, double pw) {
  const double d = x - y, p = args.param;
  switch (args.kind) {
    case ops::PointwiseLoss::mse:
      return 2 * d;
    case ops::PointwiseLoss::l1:
      return sign(d);
    case ops::PointwiseLoss::smooth_l1:
      return std::abs(d) < p ? d / p : sign(d);
    case ops::PointwiseLoss::huber:
      return std::abs(d) < p ? d : p * sign(d);
    case ops::PointwiseLoss::bce:
      return (x - y) / std::max(x * (1 - x), 1e-12);
    case ops::PointwiseLoss::bce_with_logits: {
      const double sig = 1 / (1 + std::exp(-x));
      return -pw * y * (1 - sig) + (1 - y) * sig;
    }
  }
  return 0;
}

double target_grad(const PointwiseLossArgs& args, double x, double y, double pw) {
  switch (args.kind) {
    case ops::PointwiseLoss::bce:
      return std::log(1 - x) - std::log(x);
    case ops::PointwiseLoss::bce_with_logits:
      return log_sigmoid(-x) - pw * log_sigmoid(x);
    default:
      return -input_grad(args, x, y, pw);
  }
}

double operand(const Tensor& t, const std::vector<int64_t>& idx) {
  return t.defined() ? load(t, idx) : 1.0;
}

void pointwise_loss_kernel(const Tensor& out, const Tensor& input, const Tensor& target,
                           const Tensor& weight, const Tensor& pos_weight,
                           const PointwiseLossArgs& args) {
  double total = 0;
  bool in_range = true;
  for_each_index(input.shape(), [&](const std::vector<int64_t>& idx) {
    const double x = load(input, idx);
    in_range = in_range && x >= 0 && x <= 1;
    const double v =
        operand(weight, idx) * loss_value(args, x, load(target, idx), operand(pos_weight, idx));
    if (args.reduction == Reduction::none) {
      store(out, idx, v);
    } else {
      total += v;
    }
  });
  ANVIL_CHECK(args.kind != ops::PointwiseLoss::bce || in_range,
              "binary_cross_entropy: all elements of input should be between 0 and 1");
  if (args.reduction == Reduction::mean) total /= static_cast<double>(input.numel());
  if (args.reduction != Reduction::none) store(out, {}, total);
}

void pointwise_loss_backward_kernel(const Tensor& grad_input, const Tensor& grad_target,
                                    const Tensor& grad_out, const Tensor& input,
                                    const Tensor& target, const Tensor& weight,
                                    const Tensor& pos_weight, const PointwiseLossArgs& args) {
  const double n = static_cast<double>(input.numel());
  for_each_index(input.shape(), [&](const std::vector<int64_t>& idx) {
    const double x = load(input, idx), y = load(target, idx), pw = operand(pos_weight, idx);
    double g = load(grad_out, idx) * operand(weight, idx);
    if (args.reduction == Reduction::mean) g /= n;
    if (grad_input.defined()) store(grad_input, idx, g * input_grad(args, x, y, pw));
    if (grad_target.defined()) store(grad_target, idx, g * target_grad(args, x, y, pw));
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(cross_entropy, ref, kFloatingTypes, cross_entropy_kernel);
ANVIL_REGISTER_KERNEL(cross_entropy_backward, ref, kFloatingTypes, cross_entropy_backward_kernel);
ANVIL_REGISTER_KERNEL(nll_loss, ref, kFloatingTypes, nll_loss_kernel);
ANVIL_REGISTER_KERNEL(nll_loss_backward, ref, kFloatingTypes, nll_loss_backward_kernel);
ANVIL_REGISTER_KERNEL(pointwise_loss, ref, kFloatingTypes, pointwise_loss_kernel);
ANVIL_REGISTER_KERNEL(pointwise_loss_backward, ref, kFloatingTypes, pointwise_loss_backward_kernel);

}  // namespace anvil::ref
