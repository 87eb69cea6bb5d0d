// Copies, conversions and fills (Tensor methods) with their derivatives.
#include "tensor/ops/copy.h"
#include "autograd/function.h"
#include "autograd/functions/grad_utils.h"
#include "tensor/ops/factory.h"

namespace anvil {

namespace {

using autograd::Node;

// clone, contiguous, to: the gradient passes through (the engine converts it back to the input's
// dtype and device).
struct CopyBackward final : Node {
  std::string name() const override { return "CopyBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {std::move(g[0])}; }
};

// An op that may return its input itself (already contiguous, already of that dtype): then it is
// the same tensor, with the same history.
Tensor record_copy(const Tensor& self, Tensor out) {
  if (!out.is_same(self)) autograd::record<CopyBackward>({self}, {out});
  return out;
}

// copy_ and the fills overwrite self: its old value gets a zero gradient; a copied source gets
// the gradient (summed back over broadcast dims), a 0-d fill value the sum of it.
struct OverwriteBackward final : Node {
  Shape source_shape;  // empty for a Scalar fill (no edge)
  explicit OverwriteBackward(Shape source_shape = {}) : source_shape(std::move(source_shape)) {}
  std::string name() const override { return "OverwriteBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    std::vector<Tensor> out(num_outputs());
    if (needs_input_grad(0)) out[0] = zeros_like(g[0]);
    if (needs_input_grad(1)) out[1] = autograd::sum_to(g[0], source_shape);
    return out;
  }
};

template <class F>
Tensor& overwrite(const char* op, Tensor& self, const Tensor& source, F&& write) {
  auto node = autograd::record_inplace<OverwriteBackward>(
      op, self, {source}, source.defined() ? source.shape() : Shape{});
  autograd::raw(std::forward<F>(write));
  if (node) autograd::rebase_history(self, node);
  return self;
}

}  // namespace

Tensor& Tensor::copy_(const Tensor& src) {
  return overwrite("copy_", *this, src, [&] { ops::copy_(*this, src); });
}
Tensor& Tensor::fill_(const Scalar& value) {
  return overwrite("fill_", *this, Tensor(), [&] { ops::fill_(*this, value); });
}
Tensor& Tensor::fill_(const Tensor& value) {
  return overwrite("fill_", *this, value, [&] { ops::fill_(*this, value); });
}
Tensor& Tensor::zero_() {
  return overwrite("zero_", *this, Tensor(), [&] { ops::zero_(*this); });
}
Tensor Tensor::contiguous() const {
  return record_copy(*this, autograd::raw([&] { return ops::contiguous(*this); }));
}
Tensor Tensor::clone() const {
  return record_copy(*this, autograd::raw([&] { return ops::clone(*this); }));
}
Tensor Tensor::to(DType dtype) const {
  return record_copy(*this, autograd::raw([&] { return ops::to(*this, dtype); }));
}
Tensor Tensor::to(Device device, bool non_blocking) const {
  return record_copy(*this, autograd::raw([&] { return ops::to(*this, device, non_blocking); }));
}
Tensor Tensor::to(Device device, DType dtype, bool non_blocking) const {
  return record_copy(*this,
                     autograd::raw([&] { return ops::to(*this, device, dtype, non_blocking); }));
}

}  // namespace anvil
