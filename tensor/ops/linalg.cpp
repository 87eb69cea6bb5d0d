// Linear algebra front-ends: each op checks its operands, allocates its output, and reduces the
// product to the batched GEMM kernel through views (transposes, unsqueezes, stride-0 expands),
// never copying an operand (except outer's type promotion).
#include "tensor/ops/linalg.h"

#include <algorithm>

#include "tensor/dispatch.h"
#include "tensor/ops/factory.h"

namespace anvil::ops {

namespace {

// "matmul: lhs [2,3] (f32, cpu) and rhs [4] (f32, cpu)": how errors start.
std::string operands(const char* op, const char* na, const Tensor& a, const char* nb,
                     const Tensor& b) {
  return fmt::format("{}: {} {} and {} {}", op, na, a.describe(), nb, b.describe());
}

// Both defined, on one device, of one dtype (PyTorch does not promote in matrix products).
void check_same_kind(const char* op, const char* na, const Tensor& a, const char* nb,
                     const Tensor& b) {
  ANVIL_CHECK(a.defined() && b.defined(), "{}: {} and {} must be defined tensors", op, na, nb);
  ANVIL_CHECK(a.device() == b.device(), "{}: expected both on the same device, got {} and {}",
              operands(op, na, a, nb, b), a.device().str(), b.device().str());
  ANVIL_CHECK(a.dtype() == b.dtype(), "{}: expected both to have the same dtype, got {} and {}",
              operands(op, na, a, nb, b), dtype_name(a.dtype()), dtype_name(b.dtype()));
}

// As check_same_kind, and of a dtype that matrix products support (not bool, as PyTorch).
void check_operands(const char* op, const char* na, const Tensor& a, const char* nb,
                    const Tensor& b) {
  check_same_kind(op, na, a, nb, b);
  ANVIL_CHECK(a.dtype() != DType::boolean,
              "{}: bool is not supported (expected a floating or integer dtype)",
              operands(op, na, a, nb, b));
}

void check_dims(const char* op, const char* na, const Tensor& a, const char* nb, const Tensor& b,
                int64_t expected) {
  ANVIL_CHECK(a.dim() == expected && b.dim() == expected,
              "{}: expected {}-D tensors, got {}-D and {}-D", operands(op, na, a, nb, b), expected,
              a.dim(), b.dim());
}

// The contracted sizes, named as in "lhs.size(-1)=32 != rhs.size(0)=512".
void check_inner(const char* op, const char* na, const Tensor& a, int64_t da, const char* nb,
                 const Tensor& b, int64_t db) {
  ANVIL_CHECK(a.size(da) == b.size(db), "{}: {}.size({})={} != {}.size({})={}",
              operands(op, na, a, nb, b), na, da, a.size(da), nb, db, b.size(db));
}

// Whether a tensor of shape `from` expands to `to` (Tensor::expand's rule, one direction only).
bool expands_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  const size_t lead = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[lead + i]) return false;
  return true;
}

Shape with_matrix(Shape batch, int64_t rows, int64_t cols) {
  batch.push_back(rows);
  batch.push_back(cols);
  return batch;
}

// out[..., M, N] = alpha * a[..., M, K] @ b[..., K, N] + beta * out.
void run_gemm(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar& alpha,
              const Scalar& beta) {
  if (out.numel() == 0) return;
  kernel<OpId::gemm>(out.device(), out.dtype())(out, a, b, alpha, beta);
}

// matmul with its rules; mm and bmm call it after their own stricter checks.
Tensor matmul_impl(const char* op, const char* na, const Tensor& lhs, const char* nb,
                   const Tensor& rhs) {
  ANVIL_CHECK(lhs.dim() >= 1 && rhs.dim() >= 1,
              "{}: both arguments need to be at least 1-D, got {}-D and {}-D",
              operands(op, na, lhs, nb, rhs), lhs.dim(), rhs.dim());
  check_inner(op, na, lhs, -1, nb, rhs, rhs.dim() <= 2 ? 0 : -2);
  // A 1-D lhs is one row, a 1-D rhs one column; the added dims are left out of the result.
  const Tensor a = lhs.dim() == 1 ? lhs.unsqueeze(0) : lhs;
  const Tensor b = rhs.dim() == 1 ? rhs.unsqueeze(1) : rhs;
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  const bool same_batch =
      std::equal(a.shape().begin(), a.shape().end() - 2, b.shape().begin(), b.shape().end() - 2);
  const Shape batch =
      same_batch
          ? Shape(a.shape().begin(), a.shape().end() - 2)
          : broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                             Shape(b.shape().begin(), b.shape().end() - 2),
                             fmt::format("{}: batch dims", operands(op, na, lhs, nb, rhs)).c_str());
  Shape result = batch;
  if (lhs.dim() > 1) result.push_back(m);
  if (rhs.dim() > 1) result.push_back(n);
  Tensor out = empty(result, TensorOptions(lhs.dtype(), lhs.device()));
  // Views only where shapes differ: small products are dominated by such overheads.
  const bool dropped_dims = lhs.dim() == 1 || rhs.dim() == 1;
  run_gemm(dropped_dims ? out.view(with_matrix(batch, m, n)) : out,
           same_batch ? a : a.expand(with_matrix(batch, m, k)),
           same_batch ? b : b.expand(with_matrix(batch, k, n)), 1, 0);
  return out;
}

}  // namespace

Tensor matmul(const Tensor& lhs, const Tensor& rhs) {
  check_operands("matmul", "lhs", lhs, "rhs", rhs);
  return matmul_impl("matmul", "lhs", lhs, "rhs", rhs);
}

Tensor mm(const Tensor& lhs, const Tensor& rhs) {
  check_operands("mm", "lhs", lhs, "rhs", rhs);
  check_dims("mm", "lhs", lhs, "rhs", rhs, 2);
  return matmul_impl("mm", "lhs", lhs, "rhs", rhs);
}

Tensor bmm(const Tensor& batch1, const Tensor& batch2) {
  check_operands("bmm", "batch1", batch1, "batch2", batch2);
  check_dims("bmm", "batch1", batch1, "batch2", batch2, 3);
  check_inner("bmm", "batch1", batch1, 0, "batch2", batch2, 0);
  return matmul_impl("bmm", "batch1", batch1, "batch2", batch2);
}

Tensor addmm(const Tensor& self, const Tensor& mat1, const Tensor& mat2, const Scalar& beta,
             const Scalar& alpha) {
  check_operands("addmm", "mat1", mat1, "mat2", mat2);
  check_same_kind("addmm", "self", self, "mat1", mat1);
  check_dims("addmm", "mat1", mat1, "mat2", mat2, 2);
  check_inner("addmm", "mat1", mat1, 1, "mat2", mat2, 0);
  const Shape shape{mat1.size(0), mat2.size(1)};
  ANVIL_CHECK(expands_to(self.shape(), shape),
              "addmm: self {} cannot be broadcast to the product's shape {} of mat1 {} and mat2 {}",
              self.describe(), shape_str(shape), mat1.describe(), mat2.describe());
  Tensor out = empty(shape, TensorOptions(mat1.dtype(), mat1.device()));
  // beta = 0 leaves self unread, so NaN or inf in it cannot leak into the result.
  const bool use_self = beta.to_double() != 0.0;
  if (use_self) out.copy_(self);
  run_gemm(out, mat1, mat2, alpha, use_self ? beta : Scalar(0));
  return out;
}

Tensor linear(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias) {
  check_operands("linear", "input", input, "weight", weight);
  ANVIL_CHECK(input.dim() >= 1 && (weight.dim() == 1 || weight.dim() == 2),
              "{}: expected input of at least 1-D and a 1-D or 2-D weight",
              operands("linear", "input", input, "weight", weight));
  check_inner("linear", "input", input, -1, "weight", weight, -1);
  Shape result(input.shape().begin(), input.shape().end() - 1);
  if (weight.dim() == 2) result.push_back(weight.size(0));
  Tensor out = empty(result, TensorOptions(input.dtype(), input.device()));
  const bool has_bias = bias && bias->defined();
  if (has_bias) {
    check_same_kind("linear", "input", input, "bias", *bias);
    ANVIL_CHECK(
        expands_to(bias->shape(), result),
        "linear: bias {} cannot be broadcast to the output shape {} of input {} and weight {}",
        bias->describe(), shape_str(result), input.describe(), weight.describe());
    out.copy_(*bias);
  }
  // input [..., M, K] @ weight.T [K, N], the weight shared by every batch through stride 0.
  const Tensor a = input.dim() == 1 ? input.unsqueeze(0) : input;
  const Tensor w = weight.dim() == 1 ? weight.unsqueeze(0) : weight;
  const int64_t m = a.size(-2), k = a.size(-1), n = w.size(0);
  const Shape batch(a.shape().begin(), a.shape().end() - 2);
  const bool dropped_dims = input.dim() == 1 || weight.dim() == 1;
  run_gemm(dropped_dims ? out.view(with_matrix(batch, m, n)) : out, a,
           batch.empty() ? w.t() : w.t().expand(with_matrix(batch, k, n)), 1, has_bias ? 1 : 0);
  return out;
}

Tensor outer(const Tensor& a, const Tensor& b) {
  ANVIL_CHECK(a.defined() && b.defined(), "outer: both arguments must be defined tensors");
  ANVIL_CHECK(a.device() == b.device(), "{}: expected both on the same device, got {} and {}",
              operands("outer", "lhs", a, "rhs", b), a.device().str(), b.device().str());
  check_dims("outer", "lhs", a, "rhs", b, 1);
  const DType t = promote_types(a.dtype(), b.dtype());
  Tensor out = empty({a.size(0), b.size(0)}, TensorOptions(t, a.device()));
  run_gemm(out, a.to(t).unsqueeze(1), b.to(t).unsqueeze(0), 1, 0);
  return out;
}

Tensor dot(const Tensor& lhs, const Tensor& rhs) {
  check_operands("dot", "lhs", lhs, "rhs", rhs);
  check_dims("dot", "lhs", lhs, "rhs", rhs, 1);
  check_inner("dot", "lhs", lhs, 0, "rhs", rhs, 0);
  Tensor out = empty({}, TensorOptions(lhs.dtype(), lhs.device()));
  run_gemm(out.view({1, 1}), lhs.unsqueeze(0), rhs.unsqueeze(1), 1, 0);
  return out;
}

}  // namespace anvil::ops
