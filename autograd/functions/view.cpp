// The view methods of Tensor with their derivatives. A view's gradient puts the output's gradient
// back into the input's geometry: reshaped, permuted back, summed over expanded dims, or written
// into zeros at the viewed positions.
#include "tensor/ops/view.h"
#include "autograd/function.h"
#include "autograd/functions/grad_utils.h"
#include "autograd/functions/index.h"
#include "tensor/ops/factory.h"

namespace anvil {

namespace {

using autograd::Node;

// The gradient of a view is a function of the output's gradient and the input's shape.
struct ViewBackward final : Node {
  using GradFn = std::function<Tensor(const Tensor& grad, const Shape& input_shape)>;
  const char* op;
  Shape input_shape;
  GradFn fn;
  ViewBackward(const char* op, Shape input_shape, GradFn fn)
      : op(op), input_shape(std::move(input_shape)), fn(std::move(fn)) {}
  std::string name() const override { return std::string(op) + "Backward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {fn(g[0], input_shape)}; }
};

// Records `out`, a view of `self` made by `op`, with its gradient function (which becomes a
// std::function only when the op records).
template <class F>
Tensor record_view(const char* op, const Tensor& self, Tensor out, F&& fn) {
  autograd::record<ViewBackward>({self}, {out}, op, self.shape(), std::forward<F>(fn));
  return out;
}

// Zeros of the input's shape with the gradient written at the viewed positions.
Tensor scatter_into_zeros(const Tensor& g, const Shape& input_shape,
                          const std::function<Tensor(const Tensor&)>& view_of) {
  Tensor out = zeros(input_shape, TensorOptions(g.dtype(), g.device()));
  view_of(out).copy_(g);
  return out;
}

Tensor reshape_back(const Tensor& g, const Shape& input_shape) {
  return g.reshape(input_shape);
}

// The storage element each element of a (shape, strides, offset) geometry reads, as i64.
Tensor storage_positions(const Shape& shape, const Strides& strides, int64_t offset) {
  Tensor pos = full({}, offset, TensorOptions(DType::i64));
  for (size_t d = 0; d < shape.size(); ++d) {
    Shape along(shape.size(), 1);
    along[d] = shape[d];
    pos = pos + (arange(shape[d], TensorOptions(DType::i64)) * strides[d]).reshape(along);
  }
  return pos.expand(shape).contiguous().reshape({-1});
}

}  // namespace

Tensor Tensor::view(const Shape& shape) const {
  return record_view("View", *this, autograd::raw([&] { return ops::view(*this, shape); }),
                     reshape_back);
}

Tensor Tensor::reshape(const Shape& shape) const {
  return record_view("Reshape", *this, autograd::raw([&] { return ops::reshape(*this, shape); }),
                     reshape_back);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  Tensor out = autograd::raw([&] { return ops::permute(*this, dims); });
  std::vector<int64_t> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inverse[wrap_dim(dims[i], dim(), "permute")] = i;
  return record_view("Permute", *this, out,
                     [inverse](const Tensor& g, const Shape&) { return g.permute(inverse); });
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  return record_view("Transpose", *this,
                     autograd::raw([&] { return ops::transpose(*this, d0, d1); }),
                     [d0, d1](const Tensor& g, const Shape&) { return g.transpose(d0, d1); });
}

Tensor Tensor::t() const {
  return record_view("T", *this, autograd::raw([&] { return ops::t(*this); }),
                     [](const Tensor& g, const Shape&) { return g.t(); });
}

Tensor Tensor::mT() const {
  return record_view("MT", *this, autograd::raw([&] { return ops::mT(*this); }),
                     [](const Tensor& g, const Shape&) { return g.mT(); });
}

Tensor Tensor::slice(int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end,
                     int64_t step) const {
  return record_view(
      "Slice", *this, autograd::raw([&] { return ops::slice(*this, dim, start, end, step); }),
      [=](const Tensor& g, const Shape& shape) {
        return scatter_into_zeros(g, shape,
                                  [&](const Tensor& z) { return z.slice(dim, start, end, step); });
      });
}

Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  return record_view("Narrow", *this,
                     autograd::raw([&] { return ops::narrow(*this, dim, start, length); }),
                     [=](const Tensor& g, const Shape& shape) {
                       return scatter_into_zeros(
                           g, shape, [&](const Tensor& z) { return z.narrow(dim, start, length); });
                     });
}

Tensor Tensor::select(int64_t dim, int64_t index) const {
  return record_view("Select", *this, autograd::raw([&] { return ops::select(*this, dim, index); }),
                     [=](const Tensor& g, const Shape& shape) {
                       return scatter_into_zeros(
                           g, shape, [&](const Tensor& z) { return z.select(dim, index); });
                     });
}

Tensor Tensor::expand(const Shape& shape) const {
  return record_view("Expand", *this, autograd::raw([&] { return ops::expand(*this, shape); }),
                     autograd::sum_to);
}

Tensor Tensor::squeeze() const {
  return record_view("Squeeze", *this, autograd::raw([&] { return ops::squeeze(*this); }),
                     reshape_back);
}

Tensor Tensor::squeeze(int64_t dim) const {
  return record_view("Squeeze", *this, autograd::raw([&] { return ops::squeeze(*this, dim); }),
                     reshape_back);
}

Tensor Tensor::unsqueeze(int64_t dim) const {
  return record_view("Unsqueeze", *this, autograd::raw([&] { return ops::unsqueeze(*this, dim); }),
                     reshape_back);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  return record_view("Flatten", *this,
                     autograd::raw([&] { return ops::flatten(*this, start_dim, end_dim); }),
                     reshape_back);
}

Tensor Tensor::unflatten(int64_t dim, const Shape& sizes) const {
  return record_view("Unflatten", *this,
                     autograd::raw([&] { return ops::unflatten(*this, dim, sizes); }),
                     reshape_back);
}

// Any geometry, overlapping included: the gradient of each storage element is the sum over the
// output elements that read it; the input's elements then read their storage element's sum.
Tensor Tensor::as_strided(const Shape& shape, const Strides& strides,
                          std::optional<int64_t> offset) const {
  Tensor out = autograd::raw([&] { return ops::as_strided(*this, shape, strides, offset); });
  const Strides in_strides = this->strides();
  const int64_t in_offset = this->offset();
  const int64_t out_offset = out.offset();
  const int64_t storage_numel = static_cast<int64_t>(storage()->nbytes()) / element_size();
  return record_view("AsStrided", *this, out, [=](const Tensor& g, const Shape& input_shape) {
    Tensor flat = zeros({storage_numel}, TensorOptions(g.dtype(), g.device()));
    flat.index_add_(0, storage_positions(shape, strides, out_offset).to(g.device()),
                    g.reshape({-1}));
    const Tensor in_pos = storage_positions(input_shape, in_strides, in_offset);
    return index_select(flat, 0, in_pos.to(g.device())).reshape(input_shape);
  });
}

Tensor Tensor::movedim(int64_t source, int64_t destination) const {
  return record_view("Movedim", *this,
                     autograd::raw([&] { return ops::movedim(*this, source, destination); }),
                     [=](const Tensor& g, const Shape&) { return g.movedim(destination, source); });
}

Tensor Tensor::diagonal(int64_t offset, int64_t dim1, int64_t dim2) const {
  return record_view(
      "Diagonal", *this, autograd::raw([&] { return ops::diagonal(*this, offset, dim1, dim2); }),
      [=](const Tensor& g, const Shape& shape) {
        return scatter_into_zeros(g, shape,
                                  [&](const Tensor& z) { return z.diagonal(offset, dim1, dim2); });
      });
}

}  // namespace anvil
