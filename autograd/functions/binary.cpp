// The binary and ternary ops with their derivatives (formulas as in PyTorch's derivatives.yaml
// and FunctionsManual.cpp). Every gradient is summed back to its input's shape (sum_to undoes
// broadcasting); the engine casts it to the input's dtype. A Scalar operand is a constant: it has
// no edge (an undefined tensor stands for it among the node's inputs), and a formula that needs
// its value gets it as a 0-d tensor of the result's dtype, the value the kernel computed with.
#include "autograd/functions/binary.h"

#include <utility>

#include "autograd/autocast.h"
#include "autograd/function.h"
#include "autograd/functions/grad_utils.h"
#include "autograd/functions/unary.h"
#include "autograd/saved_tensor.h"
#include "tensor/ops/factory.h"

namespace anvil {

namespace {

using autograd::SavedTensor;
using autograd::sum_to;

const Tensor kScalar;  // stands for a Scalar operand among a node's inputs: no edge

// An operand as a node sees it: a tensor, or a Scalar.
class Arg {
 public:
  Arg(const Tensor& t) : t_(t) {}                // NOLINT: implicit, ops take either
  Arg(const Scalar& s) : t_(kScalar), s_(&s) {}  // NOLINT
  const Tensor& tensor() const { return t_; }    // kScalar for a Scalar
  Shape shape() const { return s_ ? Shape{} : t_.shape(); }
  // The value for a formula: the tensor, or the Scalar as a 0-d tensor of `out`'s dtype.
  SavedTensor save(const Tensor& out) const {
    return SavedTensor(s_ ? scalar_tensor(*s_, TensorOptions(out.dtype(), out.device())) : t_);
  }

 private:
  const Tensor& t_;
  const Scalar* s_ = nullptr;
};

Scalar negated(const Scalar& s) {
  return s.is_floating() ? Scalar(-s.to_double()) : Scalar(-s.to_int());
}

// g * s, or g itself for s == 1.
Tensor scaled(const Tensor& g, const Scalar& s) {
  return s.to_double() == 1 ? g : mul(g, s);
}

// Copies self before an in-place op overwrites it (for a formula that needs its old value).
SavedTensor save_old(const Tensor& self) {
  return SavedTensor(autograd::raw([&] { return self.clone(); }));
}

// The in-place op `op` on self, with `node` (from record_inplace; null when not recording):
// `after` saves what the formula needs of the result, then self gets the node as history.
template <class NodeT, class Op, class After>
Tensor& run_inplace(Tensor& self, const std::shared_ptr<NodeT>& node, Op&& op, After&& after) {
  autograd::raw(std::forward<Op>(op));
  if (node) {
    after(*node);
    autograd::rebase_history(self, node);
  }
  return self;
}

template <class NodeT, class Op>
Tensor& run_inplace(Tensor& self, const std::shared_ptr<NodeT>& node, Op&& op) {
  return run_inplace(self, node, std::forward<Op>(op), [](NodeT&) {});
}

// ---- zero gradient ----------------------------------------------------------------------------

// Ops that are piecewise constant in every input (rounded division): zero gradients, as in
// PyTorch.
struct ZeroBackward final : autograd::Node {
  const char* op;
  std::vector<Shape> shapes;
  ZeroBackward(const char* op, std::vector<Shape> shapes) : op(op), shapes(std::move(shapes)) {}
  std::string name() const override { return op; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    std::vector<Tensor> out(shapes.size());
    for (size_t i = 0; i < shapes.size(); ++i) {
      if (needs_input_grad(i)) {
        out[i] = zeros(shapes[i], TensorOptions(g[0].dtype(), g[0].device()));
      }
    }
    return out;
  }
};

Tensor record_zero(const char* name, const Arg& a, const Arg& b, Tensor out) {
  autograd::record<ZeroBackward>({a.tensor(), b.tensor()}, {out}, name,
                                 std::vector<Shape>{a.shape(), b.shape()});
  return out;
}

}  // namespace

// ---- add, sub ---------------------------------------------------------------------------------

namespace {

// y = a + alpha b (sub: alpha negated).
struct AddBackward final : autograd::Node {
  const char* op;
  Scalar alpha;
  Shape a_shape, b_shape;
  AddBackward(const char* op, const Scalar& alpha) : op(op), alpha(alpha) {}
  std::string name() const override { return op; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    Tensor ga, gb;
    if (needs_input_grad(0)) ga = sum_to(g[0], a_shape);
    if (needs_input_grad(1)) gb = sum_to(scaled(g[0], alpha), b_shape);
    return {ga, gb};
  }
};

Tensor record_add(const char* name, const Arg& a, const Arg& b, const Scalar& alpha, Tensor out) {
  if (auto node = autograd::record<AddBackward>({a.tensor(), b.tensor()}, {out}, name, alpha)) {
    node->a_shape = a.shape();
    node->b_shape = b.shape();
  }
  return out;
}

template <class Op>
Tensor& add_inplace(const char* op_name, const char* name, Tensor& self, const Arg& other,
                    const Scalar& alpha, Op&& op) {
  auto node = autograd::record_inplace<AddBackward>(op_name, self, {other.tensor()}, name, alpha);
  if (node) {
    node->a_shape = self.shape();
    node->b_shape = other.shape();
  }
  return run_inplace(self, node, std::forward<Op>(op));
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return record_add("AddBackward", a, b, alpha,
                    autograd::raw([&] { return ops::add(a, b, alpha); }));
}
Tensor add(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  return record_add("AddBackward", a, b, alpha,
                    autograd::raw([&] { return ops::add(a, b, alpha); }));
}
Tensor add(const Scalar& a, const Tensor& b, const Scalar& alpha) {
  return record_add("AddBackward", a, b, alpha,
                    autograd::raw([&] { return ops::add(a, b, alpha); }));
}
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return record_add("SubBackward", a, b, negated(alpha),
                    autograd::raw([&] { return ops::sub(a, b, alpha); }));
}
Tensor sub(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  return record_add("SubBackward", a, b, negated(alpha),
                    autograd::raw([&] { return ops::sub(a, b, alpha); }));
}
Tensor sub(const Scalar& a, const Tensor& b, const Scalar& alpha) {
  return record_add("SubBackward", a, b, negated(alpha),
                    autograd::raw([&] { return ops::sub(a, b, alpha); }));
}
Tensor& add_(Tensor& self, const Tensor& other, const Scalar& alpha) {
  return add_inplace("add_", "AddBackward", self, other, alpha,
                     [&] { ops::add_(self, other, alpha); });
}
Tensor& add_(Tensor& self, const Scalar& other, const Scalar& alpha) {
  return add_inplace("add_", "AddBackward", self, other, alpha,
                     [&] { ops::add_(self, other, alpha); });
}
Tensor& sub_(Tensor& self, const Tensor& other, const Scalar& alpha) {
  return add_inplace("sub_", "SubBackward", self, other, negated(alpha),
                     [&] { ops::sub_(self, other, alpha); });
}
Tensor& sub_(Tensor& self, const Scalar& other, const Scalar& alpha) {
  return add_inplace("sub_", "SubBackward", self, other, negated(alpha),
                     [&] { ops::sub_(self, other, alpha); });
}

// ---- mul --------------------------------------------------------------------------------------

namespace {

// y = a b: grad_a = g b, grad_b = g a.
struct MulBackward final : autograd::Node {
  SavedTensor a, b;
  Shape a_shape, b_shape;
  std::string name() const override { return "MulBackward"; }
  void release_variables() override {
    a.release();
    b.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    Tensor ga, gb;
    if (needs_input_grad(0)) ga = sum_to(mul(g[0], b.unpack(name())), a_shape);
    if (needs_input_grad(1)) gb = sum_to(mul(g[0], a.unpack(name())), b_shape);
    return {ga, gb};
  }
};

Tensor record_mul(const Arg& a, const Arg& b, Tensor out) {
  if (auto node = autograd::record<MulBackward>({a.tensor(), b.tensor()}, {out})) {
    if (node->needs_input_grad(0)) node->b = b.save(out);
    if (node->needs_input_grad(1)) node->a = a.save(out);
    node->a_shape = a.shape();
    node->b_shape = b.shape();
  }
  return out;
}

template <class Op>
Tensor& mul_inplace(Tensor& self, const Arg& other, Op&& op) {
  auto node = autograd::record_inplace<MulBackward>("mul_", self, {other.tensor()});
  if (node) {
    if (node->needs_input_grad(0)) node->b = other.save(self);
    if (node->needs_input_grad(1)) node->a = save_old(self);
    node->a_shape = self.shape();
    node->b_shape = other.shape();
  }
  return run_inplace(self, node, std::forward<Op>(op));
}

}  // namespace

Tensor mul(const Tensor& a, const Tensor& b) {
  return record_mul(a, b, autograd::raw([&] { return ops::mul(a, b); }));
}
Tensor mul(const Tensor& a, const Scalar& b) {
  return record_mul(a, b, autograd::raw([&] { return ops::mul(a, b); }));
}
Tensor mul(const Scalar& a, const Tensor& b) {
  return record_mul(a, b, autograd::raw([&] { return ops::mul(a, b); }));
}
Tensor& mul_(Tensor& self, const Tensor& other) {
  return mul_inplace(self, other, [&] { ops::mul_(self, other); });
}
Tensor& mul_(Tensor& self, const Scalar& other) {
  return mul_inplace(self, other, [&] { ops::mul_(self, other); });
}

// ---- div, floor_divide, remainder -------------------------------------------------------------

namespace {

// y = a / b: grad_a = g / b, grad_b = -g a / b^2 = -g y / b (the output saves a copy of a in
// place). Rounded division (trunc, floor) has zero gradients.
struct DivBackward final : autograd::Node {
  SavedTensor b, out;
  Shape a_shape, b_shape;
  std::string name() const override { return "DivBackward"; }
  void release_variables() override {
    b.release();
    out.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    Tensor ga, gb;
    const Tensor bv = b.unpack(name());
    if (needs_input_grad(0)) ga = sum_to(div(g[0], bv), a_shape);
    if (needs_input_grad(1)) gb = sum_to(neg(div(mul(g[0], out.unpack(name())), bv)), b_shape);
    return {ga, gb};
  }
};

Tensor record_div(const Arg& a, const Arg& b, RoundingMode mode, Tensor out) {
  if (mode != RoundingMode::none) return record_zero("DivBackward", a, b, std::move(out));
  if (auto node = autograd::record<DivBackward>({a.tensor(), b.tensor()}, {out})) {
    node->b = b.save(out);
    if (node->needs_input_grad(1)) node->out = SavedTensor(out);
    node->a_shape = a.shape();
    node->b_shape = b.shape();
  }
  return out;
}

template <class Op>
Tensor& div_inplace(Tensor& self, const Arg& other, RoundingMode mode, Op&& op) {
  if (mode != RoundingMode::none) {
    auto node =
        autograd::record_inplace<ZeroBackward>("div_", self, {other.tensor()}, "DivBackward",
                                               std::vector<Shape>{self.shape(), other.shape()});
    return run_inplace(self, node, std::forward<Op>(op));
  }
  auto node = autograd::record_inplace<DivBackward>("div_", self, {other.tensor()});
  if (node) {
    node->b = other.save(self);
    node->a_shape = self.shape();
    node->b_shape = other.shape();
  }
  return run_inplace(self, node, std::forward<Op>(op), [&](DivBackward& n) {
    if (n.needs_input_grad(1)) n.out = SavedTensor(self);
  });
}

// y = a - floor(a / b) b: grad_a = g, grad_b = -g floor(a / b).
struct RemainderBackward final : autograd::Node {
  SavedTensor a, b;
  Shape a_shape, b_shape;
  std::string name() const override { return "RemainderBackward"; }
  void release_variables() override {
    a.release();
    b.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    Tensor ga, gb;
    if (needs_input_grad(0)) ga = sum_to(g[0], a_shape);
    if (needs_input_grad(1)) {
      const Tensor q = div(a.unpack(name()), b.unpack(name()), RoundingMode::floor);
      gb = sum_to(neg(mul(g[0], q)), b_shape);
    }
    return {ga, gb};
  }
};

Tensor record_remainder(const Arg& a, const Arg& b, Tensor out) {
  if (auto node = autograd::record<RemainderBackward>({a.tensor(), b.tensor()}, {out})) {
    if (node->needs_input_grad(1)) {
      node->a = a.save(out);
      node->b = b.save(out);
    }
    node->a_shape = a.shape();
    node->b_shape = b.shape();
  }
  return out;
}

}  // namespace

Tensor div(const Tensor& a, const Tensor& b, RoundingMode mode) {
  return record_div(a, b, mode, autograd::raw([&] { return ops::div(a, b, mode); }));
}
Tensor div(const Tensor& a, const Scalar& b, RoundingMode mode) {
  return record_div(a, b, mode, autograd::raw([&] { return ops::div(a, b, mode); }));
}
Tensor div(const Scalar& a, const Tensor& b, RoundingMode mode) {
  return record_div(a, b, mode, autograd::raw([&] { return ops::div(a, b, mode); }));
}
Tensor& div_(Tensor& self, const Tensor& other, RoundingMode mode) {
  return div_inplace(self, other, mode, [&] { ops::div_(self, other, mode); });
}
Tensor& div_(Tensor& self, const Scalar& other, RoundingMode mode) {
  return div_inplace(self, other, mode, [&] { ops::div_(self, other, mode); });
}

Tensor floor_divide(const Tensor& a, const Tensor& b) {
  return record_zero("FloorDivideBackward", a, b,
                     autograd::raw([&] { return ops::floor_divide(a, b); }));
}
Tensor floor_divide(const Tensor& a, const Scalar& b) {
  return record_zero("FloorDivideBackward", a, b,
                     autograd::raw([&] { return ops::floor_divide(a, b); }));
}
Tensor floor_divide(const Scalar& a, const Tensor& b) {
  return record_zero("FloorDivideBackward", a, b,
                     autograd::raw([&] { return ops::floor_divide(a, b); }));
}

Tensor remainder(const Tensor& a, const Tensor& b) {
  return record_remainder(a, b, autograd::raw([&] { return ops::remainder(a, b); }));
}
Tensor remainder(const Tensor& a, const Scalar& b) {
  return record_remainder(a, b, autograd::raw([&] { return ops::remainder(a, b); }));
}
Tensor remainder(const Scalar& a, const Tensor& b) {
  return record_remainder(a, b, autograd::raw([&] { return ops::remainder(a, b); }));
}

// ---- pow, maximum, minimum, atan2 -------------------------------------------------------------

namespace {

// y = x^e (pow_backward_self, pow_backward_exponent): grad_x = g e x^(e-1), 0 where e == 0;
// grad_e = g y log(x), 0 where x == 0 and e >= 0.
struct PowBackward final : autograd::Node {
  SavedTensor base, exponent, result;
  Shape base_shape, exponent_shape;
  std::string name() const override { return "PowBackward"; }
  void release_variables() override {
    base.release();
    exponent.release();
    result.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    Tensor gx, gy;
    const Tensor x = base.unpack(name()), e = exponent.unpack(name());
    if (needs_input_grad(0)) {
      const Tensor d = mul(g[0], mul(e, pow(x, sub(e, 1))));
      gx = sum_to(where(eq(e, 0), 0.0, d), base_shape);
    }
    if (needs_input_grad(1)) {
      const Tensor d = mul(g[0], mul(result.unpack(name()), log(x)));
      gy = sum_to(where(logical_and(eq(x, 0), ge(e, 0)), 0.0, d), exponent_shape);
    }
    return {gx, gy};
  }
};

// y = max(a, b) (is_max) or min(a, b): the gradient goes to the selected input, half to each on
// a tie (as PyTorch's maximum/minimum).
struct MaxMinBackward final : autograd::Node {
  bool is_max;
  SavedTensor a, b;
  Shape a_shape, b_shape;
  explicit MaxMinBackward(bool is_max) : is_max(is_max) {}
  std::string name() const override { return is_max ? "MaximumBackward" : "MinimumBackward"; }
  void release_variables() override {
    a.release();
    b.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const Tensor av = a.unpack(name()), bv = b.unpack(name());
    const Tensor tie = eq(av, bv), half = mul(g[0], 0.5);
    // An input gets nothing where the other one wins (a NaN wins nowhere: both get it all).
    const auto grad = [&](const Tensor& loses) {
      return where(tie, half, where(loses, 0.0, g[0]));
    };
    Tensor ga, gb;
    if (needs_input_grad(0)) ga = sum_to(grad(is_max ? lt(av, bv) : gt(av, bv)), a_shape);
    if (needs_input_grad(1)) gb = sum_to(grad(is_max ? gt(av, bv) : lt(av, bv)), b_shape);
    return {ga, gb};
  }
};

Tensor record_max_min(bool is_max, const Tensor& a, const Tensor& b, Tensor out) {
  if (auto node = autograd::record<MaxMinBackward>({a, b}, {out}, is_max)) {
    node->a = SavedTensor(a);
    node->b = SavedTensor(b);
    node->a_shape = a.shape();
    node->b_shape = b.shape();
  }
  return out;
}

// y = atan2(a, b): grad_a = g b / (a^2 + b^2), grad_b = -g a / (a^2 + b^2).
struct Atan2Backward final : autograd::Node {
  SavedTensor a, b;
  Shape a_shape, b_shape;
  std::string name() const override { return "Atan2Backward"; }
  void release_variables() override {
    a.release();
    b.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const Tensor av = a.unpack(name()), bv = b.unpack(name());
    const Tensor gr = div(g[0], add(square(av), square(bv)));
    Tensor ga, gb;
    if (needs_input_grad(0)) ga = sum_to(mul(gr, bv), a_shape);
    if (needs_input_grad(1)) gb = sum_to(neg(mul(gr, av)), b_shape);
    return {ga, gb};
  }
};

}  // namespace

Tensor pow(const Tensor& base, const Tensor& exponent) {
  if (const autocast::Cast cast{autocast::Rule::fp32_on_cuda, base, exponent}) {
    return pow(cast(base), cast(exponent));
  }
  Tensor out = autograd::raw([&] { return ops::pow(base, exponent); });
  if (auto node = autograd::record<PowBackward>({base, exponent}, {out})) {
    node->base = SavedTensor(base);
    node->exponent = SavedTensor(exponent);
    if (node->needs_input_grad(1)) node->result = SavedTensor(out);
    node->base_shape = base.shape();
    node->exponent_shape = exponent.shape();
  }
  return out;
}
Tensor& pow_(Tensor& self, const Tensor& exponent) {
  auto node = autograd::record_inplace<PowBackward>("pow_", self, {exponent});
  if (node) {
    node->base = save_old(self);
    node->exponent = SavedTensor(exponent);
    node->base_shape = self.shape();
    node->exponent_shape = exponent.shape();
  }
  return run_inplace(
      self, node, [&] { ops::pow_(self, exponent); },
      [&](PowBackward& n) {
        if (n.needs_input_grad(1)) n.result = SavedTensor(self);
      });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  return record_max_min(true, a, b, autograd::raw([&] { return ops::maximum(a, b); }));
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return record_max_min(false, a, b, autograd::raw([&] { return ops::minimum(a, b); }));
}

Tensor atan2(const Tensor& a, const Tensor& b) {
  Tensor out = autograd::raw([&] { return ops::atan2(a, b); });
  if (auto node = autograd::record<Atan2Backward>({a, b}, {out})) {
    node->a = SavedTensor(a);
    node->b = SavedTensor(b);
    node->a_shape = a.shape();
    node->b_shape = b.shape();
  }
  return out;
}

// ---- where, lerp, addcmul, addcdiv ------------------------------------------------------------

namespace {

// y = cond ? a : b: the gradient goes to the selected branch (cond has none).
struct WhereBackward final : autograd::Node {
  SavedTensor cond;
  Shape a_shape, b_shape;
  std::string name() const override { return "WhereBackward"; }
  void release_variables() override { cond.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const Tensor c = cond.unpack(name());
    Tensor ga, gb;
    if (needs_input_grad(0)) ga = sum_to(where(c, g[0], 0.0), a_shape);
    if (needs_input_grad(1)) gb = sum_to(where(c, 0.0, g[0]), b_shape);
    return {ga, gb};
  }
};

Tensor record_where(const Tensor& cond, const Arg& a, const Arg& b, Tensor out) {
  if (auto node = autograd::record<WhereBackward>({a.tensor(), b.tensor()}, {out})) {
    node->cond = SavedTensor(cond);
    node->a_shape = a.shape();
    node->b_shape = b.shape();
  }
  return out;
}

// y = start + w (end - start): grad_start = g (1 - w), grad_end = g w, grad_w = g (end - start).
struct LerpBackward final : autograd::Node {
  SavedTensor start, end, weight;
  Shape start_shape, end_shape, weight_shape;
  std::string name() const override { return "LerpBackward"; }
  void release_variables() override {
    start.release();
    end.release();
    weight.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    Tensor gs, gend, gw;
    if (needs_input_grad(0) || needs_input_grad(1)) {
      const Tensor w = weight.unpack(name());
      if (needs_input_grad(0)) gs = sum_to(mul(g[0], sub(1, w)), start_shape);
      if (needs_input_grad(1)) gend = sum_to(mul(g[0], w), end_shape);
    }
    if (needs_input_grad(2)) {
      const Tensor d = sub(end.unpack(name()), start.unpack(name()));
      gw = sum_to(mul(g[0], d), weight_shape);
    }
    return {gs, gend, gw};
  }
};

// addcmul: y = self + value t1 t2; addcdiv: y = self + value t1 / t2.
struct AddcBackward final : autograd::Node {
  bool divides;
  Scalar value;
  SavedTensor t1, t2;
  Shape self_shape, t1_shape, t2_shape;
  AddcBackward(bool divides, const Scalar& value) : divides(divides), value(value) {}
  std::string name() const override { return divides ? "AddcdivBackward" : "AddcmulBackward"; }
  void release_variables() override {
    t1.release();
    t2.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    Tensor gs, g1, g2;
    if (needs_input_grad(0)) gs = sum_to(g[0], self_shape);
    const Tensor gv = needs_input_grad(1) || needs_input_grad(2) ? scaled(g[0], value) : Tensor();
    const Tensor b = needs_input_grad(1) || needs_input_grad(2) ? t2.unpack(name()) : Tensor();
    if (needs_input_grad(1)) g1 = sum_to(divides ? div(gv, b) : mul(gv, b), t1_shape);
    if (needs_input_grad(2)) {
      const Tensor a = t1.unpack(name());
      g2 = sum_to(divides ? neg(div(mul(gv, a), square(b))) : mul(gv, a), t2_shape);
    }
    return {gs, g1, g2};
  }
};

// Saves what the gradients of t1 and t2 need (both use t2; t2's uses t1).
void save_addc(AddcBackward& node, const Tensor& self, const Tensor& t1, const Tensor& t2) {
  if (node.needs_input_grad(1) || node.needs_input_grad(2)) node.t2 = SavedTensor(t2);
  if (node.needs_input_grad(2)) node.t1 = SavedTensor(t1);
  node.self_shape = self.shape();
  node.t1_shape = t1.shape();
  node.t2_shape = t2.shape();
}

template <class Op>
Tensor addc(bool divides, const Tensor& self, const Tensor& t1, const Tensor& t2,
            const Scalar& value, Op&& op) {
  Tensor out = autograd::raw(std::forward<Op>(op));
  if (auto node = autograd::record<AddcBackward>({self, t1, t2}, {out}, divides, value)) {
    save_addc(*node, self, t1, t2);
  }
  return out;
}

template <class Op>
Tensor& addc_(const char* op_name, bool divides, Tensor& self, const Tensor& t1, const Tensor& t2,
              const Scalar& value, Op&& op) {
  auto node = autograd::record_inplace<AddcBackward>(op_name, self, {t1, t2}, divides, value);
  if (node) save_addc(*node, self, t1, t2);
  return run_inplace(self, node, std::forward<Op>(op));
}

}  // namespace

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  return record_where(cond, a, b, autograd::raw([&] { return ops::where(cond, a, b); }));
}
Tensor where(const Tensor& cond, const Scalar& a, const Tensor& b) {
  return record_where(cond, a, b, autograd::raw([&] { return ops::where(cond, a, b); }));
}
Tensor where(const Tensor& cond, const Tensor& a, const Scalar& b) {
  return record_where(cond, a, b, autograd::raw([&] { return ops::where(cond, a, b); }));
}
Tensor where(const Tensor& cond, const Scalar& a, const Scalar& b) {
  return autograd::raw([&] { return ops::where(cond, a, b); });  // constants only
}

Tensor lerp(const Tensor& start, const Tensor& end, const Scalar& weight) {
  Tensor out = autograd::raw([&] { return ops::lerp(start, end, weight); });
  if (auto node = autograd::record<LerpBackward>({start, end, kScalar}, {out})) {
    node->weight = Arg(weight).save(out);
    node->start_shape = start.shape();
    node->end_shape = end.shape();
  }
  return out;
}
Tensor lerp(const Tensor& start, const Tensor& end, const Tensor& weight) {
  Tensor out = autograd::raw([&] { return ops::lerp(start, end, weight); });
  if (auto node = autograd::record<LerpBackward>({start, end, weight}, {out})) {
    if (node->needs_input_grad(0) || node->needs_input_grad(1)) node->weight = SavedTensor(weight);
    if (node->needs_input_grad(2)) {
      node->start = SavedTensor(start);
      node->end = SavedTensor(end);
    }
    node->start_shape = start.shape();
    node->end_shape = end.shape();
    node->weight_shape = weight.shape();
  }
  return out;
}
Tensor& lerp_(Tensor& self, const Tensor& end, const Scalar& weight) {
  auto node = autograd::record_inplace<LerpBackward>("lerp_", self, {end, kScalar});
  if (node) {
    node->weight = Arg(weight).save(self);
    node->start_shape = self.shape();
    node->end_shape = end.shape();
  }
  return run_inplace(self, node, [&] { ops::lerp_(self, end, weight); });
}

Tensor addcmul(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return addc(false, self, t1, t2, value, [&] { return ops::addcmul(self, t1, t2, value); });
}
Tensor addcdiv(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return addc(true, self, t1, t2, value, [&] { return ops::addcdiv(self, t1, t2, value); });
}
Tensor& addcmul_(Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return addc_("addcmul_", false, self, t1, t2, value, [&] { ops::addcmul_(self, t1, t2, value); });
}
Tensor& addcdiv_(Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return addc_("addcdiv_", true, self, t1, t2, value, [&] { ops::addcdiv_(self, t1, t2, value); });
}

// ---- Tensor methods and operators -------------------------------------------------------------

Tensor& Tensor::add_(const Tensor& other, const Scalar& alpha) {
  return anvil::add_(*this, other, alpha);
}
Tensor& Tensor::add_(const Scalar& other, const Scalar& alpha) {
  return anvil::add_(*this, other, alpha);
}
Tensor& Tensor::sub_(const Tensor& other, const Scalar& alpha) {
  return anvil::sub_(*this, other, alpha);
}
Tensor& Tensor::sub_(const Scalar& other, const Scalar& alpha) {
  return anvil::sub_(*this, other, alpha);
}
Tensor& Tensor::mul_(const Tensor& other) {
  return anvil::mul_(*this, other);
}
Tensor& Tensor::mul_(const Scalar& other) {
  return anvil::mul_(*this, other);
}
Tensor& Tensor::div_(const Tensor& other, RoundingMode mode) {
  return anvil::div_(*this, other, mode);
}
Tensor& Tensor::div_(const Scalar& other, RoundingMode mode) {
  return anvil::div_(*this, other, mode);
}
Tensor& Tensor::pow_(const Tensor& exponent) {
  return anvil::pow_(*this, exponent);
}
Tensor& Tensor::lerp_(const Tensor& end, const Scalar& weight) {
  return anvil::lerp_(*this, end, weight);
}
Tensor& Tensor::addcmul_(const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return anvil::addcmul_(*this, t1, t2, value);
}
Tensor& Tensor::addcdiv_(const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return anvil::addcdiv_(*this, t1, t2, value);
}
Tensor Tensor::add(const Tensor& other, const Scalar& alpha) const {
  return anvil::add(*this, other, alpha);
}
Tensor Tensor::sub(const Tensor& other, const Scalar& alpha) const {
  return anvil::sub(*this, other, alpha);
}
Tensor Tensor::mul(const Tensor& other) const {
  return anvil::mul(*this, other);
}
Tensor Tensor::div(const Tensor& other, RoundingMode mode) const {
  return anvil::div(*this, other, mode);
}
Tensor Tensor::pow(const Tensor& exponent) const {
  return anvil::pow(*this, exponent);
}
Tensor Tensor::eq(const Tensor& other) const {
  return anvil::eq(*this, other);
}
Tensor Tensor::ne(const Tensor& other) const {
  return anvil::ne(*this, other);
}
Tensor Tensor::lt(const Tensor& other) const {
  return anvil::lt(*this, other);
}
Tensor Tensor::le(const Tensor& other) const {
  return anvil::le(*this, other);
}
Tensor Tensor::gt(const Tensor& other) const {
  return anvil::gt(*this, other);
}
Tensor Tensor::ge(const Tensor& other) const {
  return anvil::ge(*this, other);
}

Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
Tensor operator+(const Tensor& a, const Scalar& b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, const Scalar& b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, const Scalar& b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, const Scalar& b) {
  return div(a, b);
}
Tensor operator+(const Scalar& a, const Tensor& b) {
  return add(a, b);
}
Tensor operator-(const Scalar& a, const Tensor& b) {
  return sub(a, b);
}
Tensor operator*(const Scalar& a, const Tensor& b) {
  return mul(a, b);
}
Tensor operator/(const Scalar& a, const Tensor& b) {
  return div(a, b);
}
Tensor& operator+=(Tensor& a, const Tensor& b) {
  return a.add_(b);
}
Tensor& operator-=(Tensor& a, const Tensor& b) {
  return a.sub_(b);
}
Tensor& operator*=(Tensor& a, const Tensor& b) {
  return a.mul_(b);
}
Tensor& operator/=(Tensor& a, const Tensor& b) {
  return a.div_(b);
}
Tensor& operator+=(Tensor& a, const Scalar& b) {
  return a.add_(b);
}
Tensor& operator-=(Tensor& a, const Scalar& b) {
  return a.sub_(b);
}
Tensor& operator*=(Tensor& a, const Scalar& b) {
  return a.mul_(b);
}
Tensor& operator/=(Tensor& a, const Scalar& b) {
  return a.div_(b);
}

}  // namespace anvil
