// The linalg ops with their derivatives. Every gradient is a matrix product of the incoming
// gradient with the other operand's transposed view (mT()): the GEMM reads transposed operands
// in place, so nothing is copied to make them contiguous.
#include "autograd/functions/linalg.h"

#include "autograd/autocast.h"
#include "autograd/function.h"
#include "autograd/functions/binary.h"
#include "autograd/functions/grad_utils.h"
#include "autograd/functions/reduce.h"
#include "autograd/saved_tensor.h"

namespace anvil {

namespace {

using autograd::SavedTensor;

// The number of rows of `t` seen as a matrix [rows, t.size(-1)] (0-size dims included).
int64_t leading_rows(const Tensor& t) {
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < t.dim(); ++d) rows *= t.size(d);
  return rows;
}

// `t` as a matrix [leading_rows, last] (a view when its layout allows, else a copy).
Tensor as_rows(const Tensor& t) {
  return t.reshape({leading_rows(t), t.dim() == 0 ? 1 : t.size(-1)});
}

// The gradients of out = matmul(a, b) (torch.matmul's rules, so also mm, bmm and dot) for
// a [..., m, k] (or [k]) and b [..., k, n] (or [k]); undefined where not `need_*`.
//   da = g @ b^T, summed over the batch dims that a was broadcast along;
//   db = a^T @ g, likewise.
// 1-D operands are treated as a row (a) or a column (b), as the forward does.
std::pair<Tensor, Tensor> matmul_backward(const Tensor& g, const Tensor& a, const Tensor& b,
                                          const Shape& a_shape, const Shape& b_shape, bool need_a,
                                          bool need_b) {
  const bool a_vec = a_shape.size() == 1, b_vec = b_shape.size() == 1;
  Tensor ga, gb;
  if (a_vec && b_vec) {  // dot: g is 0-d
    if (need_a) ga = mul(g, b);
    if (need_b) gb = mul(g, a);
    return {ga, gb};
  }
  // The product as the forward ran it: A [..., m, k] @ B [..., k, n] = G [..., m, n].
  Tensor G = g;
  if (a_vec) G = G.unsqueeze(-2);
  if (b_vec) G = G.unsqueeze(-1);
  if (need_a) {
    const Tensor B = b_vec ? b.unsqueeze(-1) : b;
    const Shape A_shape = a_vec ? Shape{1, a_shape[0]} : a_shape;
    // With a 2-D B, G has A's batch dims exactly; otherwise sum over the broadcast ones.
    ga = autograd::sum_to(matmul(G, B.mT()), A_shape).reshape(a_shape);
  }
  if (need_b) {
    const Tensor A = a_vec ? a.unsqueeze(0) : a;
    const Shape B_shape = b_vec ? Shape{b_shape[0], 1} : b_shape;
    if (B_shape.size() == 2 && A.dim() > 2) {
      // A batched lhs against a matrix: one GEMM over the flattened batch, [k, rows] @ [rows, n],
      // instead of a batched product and a sum.
      gb = mm(as_rows(A).mT(), as_rows(G));
    } else {
      gb = autograd::sum_to(matmul(A.mT(), G), B_shape);
    }
    gb = gb.reshape(b_shape);
  }
  return {ga, gb};
}

// out = matmul(a, b) and its special cases mm, bmm, dot (one formula; `op` names the node).
struct MatmulBackward final : autograd::Node {
  const char* op;
  SavedTensor a, b;
  Shape a_shape, b_shape;
  explicit MatmulBackward(const char* op) : op(op) {}
  std::string name() const override { return op; }
  void release_variables() override {
    a.release();
    b.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    auto [ga, gb] = matmul_backward(g[0], a.unpack(name()), b.unpack(name()), a_shape, b_shape,
                                    needs_input_grad(0), needs_input_grad(1));
    return {ga, gb};
  }
};

Tensor record_matmul(const char* op, const Tensor& a, const Tensor& b, const Tensor& out) {
  if (auto node = autograd::record<MatmulBackward>({a, b}, {out}, op)) {
    if (node->needs_input_grad(0)) node->b = SavedTensor(b);
    if (node->needs_input_grad(1)) node->a = SavedTensor(a);
    node->a_shape = a.shape();
    node->b_shape = b.shape();
  }
  return out;
}

}  // namespace

Tensor matmul(const Tensor& lhs, const Tensor& rhs) {
  if (const autocast::Cast cast{autocast::Rule::gemm, lhs, rhs}) {
    return matmul(cast(lhs), cast(rhs));
  }
  Tensor out = autograd::raw([&]() -> Tensor { return ops::matmul(lhs, rhs); });
  return record_matmul("MatmulBackward", lhs, rhs, out);
}

Tensor mm(const Tensor& lhs, const Tensor& rhs) {
  if (const autocast::Cast cast{autocast::Rule::gemm, lhs, rhs}) return mm(cast(lhs), cast(rhs));
  Tensor out = autograd::raw([&]() -> Tensor { return ops::mm(lhs, rhs); });
  return record_matmul("MmBackward", lhs, rhs, out);
}

Tensor bmm(const Tensor& batch1, const Tensor& batch2) {
  if (const autocast::Cast cast{autocast::Rule::gemm, batch1, batch2}) {
    return bmm(cast(batch1), cast(batch2));
  }
  Tensor out = autograd::raw([&]() -> Tensor { return ops::bmm(batch1, batch2); });
  return record_matmul("BmmBackward", batch1, batch2, out);
}

Tensor dot(const Tensor& lhs, const Tensor& rhs) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::dot(lhs, rhs); });
  return record_matmul("DotBackward", lhs, rhs, out);
}

// ---- addmm ------------------------------------------------------------------------------------

namespace {

// out = beta * self + alpha * mat1 @ mat2: dself = beta * g summed to self's shape,
// dmat1 = alpha * g @ mat2^T, dmat2 = alpha * mat1^T @ g.
struct AddmmBackward final : autograd::Node {
  SavedTensor mat1, mat2;
  Shape self_shape;
  Scalar beta, alpha;
  std::string name() const override { return "AddmmBackward"; }
  void release_variables() override {
    mat1.release();
    mat2.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    Tensor gs, g1, g2;
    if (needs_input_grad(0)) gs = autograd::sum_to(mul(g[0], beta), self_shape);
    const Tensor ga = alpha.to_double() == 1.0 ? g[0] : mul(g[0], alpha);
    if (needs_input_grad(1)) g1 = mm(ga, mat2.unpack(name()).mT());
    if (needs_input_grad(2)) g2 = mm(mat1.unpack(name()).mT(), ga);
    return {gs, g1, g2};
  }
};

}  // namespace

Tensor addmm(const Tensor& self, const Tensor& mat1, const Tensor& mat2, const Scalar& beta,
             const Scalar& alpha) {
  if (const autocast::Cast cast{autocast::Rule::gemm, self, mat1, mat2}) {
    return addmm(cast(self), cast(mat1), cast(mat2), beta, alpha);
  }
  Tensor out = autograd::raw([&]() -> Tensor { return ops::addmm(self, mat1, mat2, beta, alpha); });
  if (auto node = autograd::record<AddmmBackward>({self, mat1, mat2}, {out})) {
    if (node->needs_input_grad(1)) node->mat2 = SavedTensor(mat2);
    if (node->needs_input_grad(2)) node->mat1 = SavedTensor(mat1);
    node->self_shape = self.shape();
    node->beta = beta;
    node->alpha = alpha;
  }
  return out;
}

// ---- linear -----------------------------------------------------------------------------------

namespace {

// out = input @ weight^T + bias, input [..., in], weight [out, in] or [in]:
//   dinput = g @ weight; dweight = g^T @ input over the flattened leading dims;
//   dbias = g summed to bias's shape.
struct LinearBackward final : autograd::Node {
  SavedTensor input, weight;
  Shape input_shape, weight_shape, bias_shape;
  std::string name() const override { return "LinearBackward"; }
  void release_variables() override {
    input.release();
    weight.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    const Tensor& g = grads[0];
    Tensor gi, gw, gb;
    const bool vector_weight = weight_shape.size() == 1;
    if (needs_input_grad(0)) {
      const Tensor w = weight.unpack(name());
      // [..., out] @ [out, in]; a 1-D weight: [...] times [in] as an outer product.
      gi = vector_weight ? mul(g.unsqueeze(-1), w) : matmul(g, w);
      gi = gi.reshape(input_shape);
    }
    if (needs_input_grad(1)) {
      const Tensor x = as_rows(input.unpack(name()));         // [rows, in]
      gw = vector_weight ? matmul(g.reshape({x.size(0)}), x)  // [rows] @ [rows, in]
                         : mm(g.reshape({x.size(0), weight_shape[0]}).mT(), x);
    }
    if (needs_input_grad(2)) gb = autograd::sum_to(g, bias_shape);
    return {gi, gw, gb};
  }
};

}  // namespace

Tensor linear(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias) {
  if (const autocast::Cast cast{autocast::Rule::gemm, input, weight, bias}) {
    return linear(cast(input), cast(weight), cast(bias));
  }
  Tensor out = autograd::raw([&]() -> Tensor { return ops::linear(input, weight, bias); });
  const Tensor b = bias ? *bias : Tensor();
  if (auto node = autograd::record<LinearBackward>({input, weight, b}, {out})) {
    if (node->needs_input_grad(0)) node->weight = SavedTensor(weight);
    if (node->needs_input_grad(1)) node->input = SavedTensor(input);
    node->input_shape = input.shape();
    node->weight_shape = weight.shape();
    if (b.defined()) node->bias_shape = b.shape();
  }
  return out;
}

// ---- outer ------------------------------------------------------------------------------------

namespace {

// out[i, j] = a[i] * b[j] (in the promoted dtype): da = g @ b, db = g^T @ a.
struct OuterBackward final : autograd::Node {
  SavedTensor a, b;
  std::string name() const override { return "OuterBackward"; }
  void release_variables() override {
    a.release();
    b.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    const Tensor& g = grads[0];
    Tensor ga, gb;
    if (needs_input_grad(0)) ga = matmul(g, b.unpack(name()).to(g.dtype()));
    if (needs_input_grad(1)) gb = matmul(a.unpack(name()).to(g.dtype()), g);
    return {ga, gb};
  }
};

}  // namespace

Tensor outer(const Tensor& a, const Tensor& b) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::outer(a, b); });
  if (auto node = autograd::record<OuterBackward>({a, b}, {out})) {
    if (node->needs_input_grad(0)) node->b = SavedTensor(b);
    if (node->needs_input_grad(1)) node->a = SavedTensor(a);
  }
  return out;
}

// ---- Tensor methods -------------------------------------------------------------------------

Tensor Tensor::matmul(const Tensor& other) const {
  return anvil::matmul(*this, other);
}
Tensor Tensor::mm(const Tensor& other) const {
  return anvil::mm(*this, other);
}

}  // namespace anvil
