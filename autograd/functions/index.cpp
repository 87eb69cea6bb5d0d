// The index ops with their derivatives. Each op's backward node sits right before it; the
// formulas follow PyTorch's derivatives.yaml.
#include "autograd/functions/index.h"

#include <string>
#include <utility>

#include "autograd/function.h"
#include "autograd/functions/binary.h"
#include "autograd/functions/grad_utils.h"
#include "autograd/functions/reduce.h"
#include "autograd/saved_tensor.h"
#include "tensor/ops/factory.h"

namespace anvil {

namespace {

using autograd::Node;
using autograd::SavedTensor;

Tensor zeros_for(const Shape& shape, const Tensor& grad) {
  return zeros(shape, TensorOptions(grad.dtype(), grad.device()));
}

// `t` (the gradient of the elements an index op read from a tensor of `shape`, which covers only
// the leading corner of it) padded with zeros to `shape`; scatter's src may be larger than the
// index.
Tensor zero_extend(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  Tensor s = t.dim() == 0 ? t.reshape({1}) : t;
  if (shape.empty()) return s.reshape({});
  std::vector<int64_t> pads;
  for (int64_t d = s.dim() - 1; d >= 0; --d) pads.insert(pads.end(), {0, shape[d] - s.size(d)});
  return pad(s, pads);
}

bool legacy_empty(const Tensor& t) {
  return t.dim() == 1 && t.size(0) == 0;
}

}  // namespace

// ---- composed from views and copies -----------------------------------------------------------

// y = cat(x_i, dim): each input gets its slice of the gradient (legacy empty inputs, which cat
// skips, get zeros of their own shape).
struct CatBackward final : Node {
  int64_t dim = 0;
  struct Part {
    Shape shape;
    DType dtype;
    bool skipped;
  };
  std::vector<Part> parts;
  std::string name() const override { return "CatBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    std::vector<Tensor> out(parts.size());
    int64_t offset = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      const Part& p = parts[i];
      if (p.skipped) {
        if (needs_input_grad(i)) out[i] = zeros(p.shape, TensorOptions(p.dtype, g[0].device()));
        continue;
      }
      if (needs_input_grad(i)) out[i] = g[0].narrow(dim, offset, p.shape[dim]);
      offset += p.shape[dim];
    }
    return out;
  }
};

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::cat(tensors, dim); });
  if (auto node = autograd::record_range<CatBackward>(tensors, autograd::TensorRefs{out})) {
    for (const Tensor& t : tensors) {
      node->parts.push_back({t.shape(), t.dtype(), legacy_empty(t)});
      if (!legacy_empty(t)) node->dim = wrap_dim(dim, t.dim(), "cat");
    }
  }
  return out;
}

// y = stack(x_i, dim): x_i's gradient is the gradient's slice i along dim.
struct StackBackward final : Node {
  int64_t dim = 0;
  std::string name() const override { return "StackBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    std::vector<Tensor> out(num_outputs());
    for (size_t i = 0; i < out.size(); ++i) {
      if (needs_input_grad(i)) out[i] = g[0].select(dim, static_cast<int64_t>(i));
    }
    return out;
  }
};

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::stack(tensors, dim); });
  if (auto node = autograd::record_range<StackBackward>(tensors, autograd::TensorRefs{out})) {
    node->dim = wrap_dim(dim, out.dim(), "stack");
  }
  return out;
}

// The pieces of split and chunk (consecutive along dim, covering it): the input's gradient is
// the pieces' gradients concatenated (zeros for unused pieces, which the engine supplies).
struct SplitBackward final : Node {
  int64_t dim = 0;
  std::string name() const override { return "SplitBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {cat(g, dim)}; }
};

namespace {

std::vector<Tensor> record_split(const Tensor& x, std::vector<Tensor> pieces, int64_t dim) {
  if (!pieces.empty()) {
    if (auto node = autograd::record_range<SplitBackward>(autograd::TensorRefs{x}, pieces)) {
      node->dim = wrap_dim(dim, x.dim(), "split");
    }
  }
  return pieces;
}

}  // namespace

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  return record_split(
      x, autograd::raw([&]() -> std::vector<Tensor> { return ops::split(x, split_size, dim); }),
      dim);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  return record_split(
      x, autograd::raw([&]() -> std::vector<Tensor> { return ops::split(x, sizes, dim); }), dim);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  return record_split(
      x, autograd::raw([&]() -> std::vector<Tensor> { return ops::chunk(x, chunks, dim); }), dim);
}

// The slices of unbind: the input's gradient stacks theirs.
struct UnbindBackward final : Node {
  int64_t dim = 0;
  std::string name() const override { return "UnbindBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {stack(g, dim)}; }
};

std::vector<Tensor> unbind(const Tensor& x, int64_t dim) {
  std::vector<Tensor> out =
      autograd::raw([&]() -> std::vector<Tensor> { return ops::unbind(x, dim); });
  if (!out.empty()) {
    if (auto node = autograd::record_range<UnbindBackward>(autograd::TensorRefs{x}, out)) {
      node->dim = wrap_dim(dim, x.dim(), "unbind");
    }
  }
  return out;
}

// Constant padding: the gradient cropped back (pads negated: what was cropped gets zeros).
// reflect / replicate / circular: every output position reads one input position per padded dim
// (the forward's index_select along each dim), so the gradient is index_add-ed back along each
// dim in reverse order. The positions come from padding an arange with the same mode, so they
// are the forward's own.
struct PadBackward final : Node {
  std::vector<int64_t> pads;
  PadMode mode = PadMode::constant;
  Shape x_shape;
  std::string name() const override { return "PadBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    if (mode == PadMode::constant) {
      std::vector<int64_t> crop(pads.size());
      for (size_t i = 0; i < pads.size(); ++i) crop[i] = -pads[i];
      return {pad(g[0], crop)};
    }
    Tensor grad = g[0];
    const auto n_dims = static_cast<int64_t>(x_shape.size());
    for (int64_t j = static_cast<int64_t>(pads.size()) / 2 - 1; j >= 0; --j) {
      const int64_t d = n_dims - 1 - j, n = x_shape[d];
      const Tensor positions = pad(arange(n, TensorOptions(DType::f64, grad.device())).view({1, n}),
                                   {pads[2 * j], pads[2 * j + 1]}, mode)
                                   .view({-1})
                                   .to(DType::i64);
      Shape shape = grad.shape();
      shape[d] = n;
      grad = index_add(zeros_for(shape, grad), d, positions, grad);
    }
    return {grad};
  }
};

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::pad(x, pads, mode, value); });
  if (auto node = autograd::record<PadBackward>({x}, {out})) {
    node->pads = pads;
    node->mode = mode;
    node->x_shape = x.shape();
  }
  return out;
}

struct FlipBackward final : Node {
  std::vector<int64_t> dims;
  std::string name() const override { return "FlipBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {flip(g[0], dims)}; }
};

Tensor flip(const Tensor& x, const std::vector<int64_t>& dims) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::flip(x, dims); });
  if (auto node = autograd::record<FlipBackward>({x}, {out})) node->dims = dims;
  return out;
}

// Rolled back by the opposite shifts.
struct RollBackward final : Node {
  std::vector<int64_t> shifts, dims;
  std::string name() const override { return "RollBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    std::vector<int64_t> back(shifts.size());
    for (size_t i = 0; i < shifts.size(); ++i) back[i] = -shifts[i];
    return {roll(g[0], back, dims)};
  }
};

Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& dims) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::roll(x, shifts, dims); });
  if (auto node = autograd::record<RollBackward>({x}, {out})) {
    node->shifts = shifts;
    node->dims = dims;
  }
  return out;
}

// y = x repeated r_i times along each dim (x's shape padded with leading 1s to s_i): the
// gradient seen as [r0, s0, r1, s1, ...] summed over the r dims.
struct RepeatBackward final : Node {
  std::vector<int64_t> repeats;
  Shape x_shape;
  std::string name() const override { return "RepeatBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const auto n = static_cast<int64_t>(repeats.size());
    const int64_t lead = n - static_cast<int64_t>(x_shape.size());
    Shape blocks;
    std::vector<int64_t> repeat_dims;
    for (int64_t i = 0; i < n; ++i) {
      blocks.insert(blocks.end(), {repeats[i], i < lead ? 1 : x_shape[i - lead]});
      repeat_dims.push_back(2 * i);
    }
    if (repeat_dims.empty()) return {g[0]};  // 0-d x, no repeats: y is a copy of x
    return {sum(g[0].reshape(blocks), repeat_dims).reshape(x_shape)};
  }
};

Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::repeat(x, repeats); });
  if (auto node = autograd::record<RepeatBackward>({x}, {out})) {
    node->repeats = repeats;
    node->x_shape = x.shape();
  }
  return out;
}

// tile is repeat with the reps padded by leading 1s to x's dims.
Tensor tile(const Tensor& x, const std::vector<int64_t>& reps) {
  const auto given = static_cast<int64_t>(reps.size());
  std::vector<int64_t> repeats(static_cast<size_t>(std::max<int64_t>(0, x.dim() - given)), 1);
  repeats.insert(repeats.end(), reps.begin(), reps.end());
  return repeat(x, repeats);
}

// ---- indexing ---------------------------------------------------------------------------------

// y = gather(x, dim, index): the gradient scatter-added back to where it was read.
struct GatherBackward final : Node {
  SavedTensor index;
  int64_t dim = 0;
  Shape x_shape;
  std::string name() const override { return "GatherBackward"; }
  void release_variables() override { index.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {scatter_add(zeros_for(x_shape, g[0]), dim, index.unpack(name()), g[0])};
  }
};

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::gather(x, dim, index); });
  if (auto node = autograd::record<GatherBackward>({x}, {out})) {
    node->index = SavedTensor(index);
    node->dim = dim;
    node->x_shape = x.shape();
  }
  return out;
}

// y = x with the indexed positions overwritten (by src, or by a value: then no src edge). x's
// gradient is zero where it was overwritten; src's is the gradient gathered from where it went
// (zeros for the part of src the index does not reach).
struct ScatterBackward final : Node {
  SavedTensor index;
  int64_t dim = 0;
  Shape src_shape;
  std::string name() const override { return "ScatterBackward"; }
  void release_variables() override { index.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const Tensor idx = index.unpack(name());
    std::vector<Tensor> out(num_outputs());  // no src edge for a Scalar value
    if (needs_input_grad(0)) out[0] = scatter(g[0], dim, idx, 0);
    if (needs_input_grad(1)) out[1] = zero_extend(gather(g[0], dim, idx), src_shape);
    return out;
  }
};

// y = x with src added at the indexed positions: x's gradient passes, src's is gathered.
struct ScatterAddBackward final : Node {
  SavedTensor index;
  int64_t dim = 0;
  Shape src_shape;
  std::string name() const override { return "ScatterAddBackward"; }
  void release_variables() override { index.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    Tensor gsrc;
    if (needs_input_grad(1)) {
      gsrc = zero_extend(gather(g[0], dim, index.unpack(name())), src_shape);
    }
    return {needs_input_grad(0) ? g[0] : Tensor(), gsrc};
  }
};

namespace {

// The fields of a scatter node (ScatterBackward, ScatterAddBackward); src is undefined for a
// Scalar value.
template <class NodeT>
void save_scatter(NodeT& node, int64_t dim, const Tensor& index, const Tensor& src) {
  node.index = SavedTensor(index);
  node.dim = dim;
  if (src.defined()) node.src_shape = src.shape();
}

}  // namespace

Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::scatter(x, dim, index, src); });
  if (auto node = autograd::record<ScatterBackward>({x, src}, {out})) {
    save_scatter(*node, dim, index, src);
  }
  return out;
}

Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Scalar& value) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::scatter(x, dim, index, value); });
  if (auto node = autograd::record<ScatterBackward>({x}, {out})) {
    save_scatter(*node, dim, index, Tensor());
  }
  return out;
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::scatter_add(x, dim, index, src); });
  if (auto node = autograd::record<ScatterAddBackward>({x, src}, {out})) {
    save_scatter(*node, dim, index, src);
  }
  return out;
}

// y = index_select(x, dim, index): the gradient index-added back into zeros.
struct IndexSelectBackward final : Node {
  SavedTensor index;
  int64_t dim = 0;
  Shape x_shape;
  std::string name() const override { return "IndexSelectBackward"; }
  void release_variables() override { index.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {index_add(zeros_for(x_shape, g[0]), dim, index.unpack(name()), g[0])};
  }
};

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::index_select(x, dim, index); });
  if (auto node = autograd::record<IndexSelectBackward>({x}, {out})) {
    node->index = SavedTensor(index);
    node->dim = dim;
    node->x_shape = x.shape();
  }
  return out;
}

// y = x + alpha * source placed at the indices: x's gradient passes, source's is alpha times the
// gradient selected at the indices.
struct IndexAddBackward final : Node {
  SavedTensor index;
  int64_t dim = 0;
  Scalar alpha;
  Shape source_shape;
  std::string name() const override { return "IndexAddBackward"; }
  void release_variables() override { index.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    Tensor gsource;
    if (needs_input_grad(1)) {
      gsource = index_select(g[0], dim, index.unpack(name()));
      if (alpha.to<double>() != 1) gsource = mul(gsource, alpha);
      gsource = gsource.reshape(source_shape);  // a 0-d source reads as one element
    }
    return {needs_input_grad(0) ? g[0] : Tensor(), gsource};
  }
};

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source,
                 const Scalar& alpha) {
  Tensor out =
      autograd::raw([&]() -> Tensor { return ops::index_add(x, dim, index, source, alpha); });
  if (auto node = autograd::record<IndexAddBackward>({x, source}, {out})) {
    node->index = SavedTensor(index);
    node->dim = dim;
    node->alpha = alpha;
    node->source_shape = source.shape();
  }
  return out;
}

// y = where(mask, value, x) (mask broadcast with x): x's gradient is the gradient where the mask
// is false, summed back to x's shape; a 0-d tensor value (second edge) gets the sum of the
// gradient where it is true.
struct MaskedFillBackward final : Node {
  SavedTensor mask;
  Shape x_shape;
  std::string name() const override { return "MaskedFillBackward"; }
  void release_variables() override { mask.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const Tensor m = mask.unpack(name());
    std::vector<Tensor> out(num_outputs());  // no value edge for a Scalar value
    if (needs_input_grad(0)) out[0] = autograd::sum_to(masked_fill(g[0], m, 0), x_shape);
    if (needs_input_grad(1)) out[1] = sum(where(m, g[0], 0));
    return out;
  }
};

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Scalar& value) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::masked_fill(x, mask, value); });
  if (auto node = autograd::record<MaskedFillBackward>({x}, {out})) {
    node->mask = SavedTensor(mask);
    node->x_shape = x.shape();
  }
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::masked_fill(x, mask, value); });
  if (auto node = autograd::record<MaskedFillBackward>({x, value}, {out})) {
    node->mask = SavedTensor(mask);
    node->x_shape = x.shape();
  }
  return out;
}

// y = x[mask] (1-D, mask broadcast with x): the gradient goes back to the selected positions of
// the broadcast shape, then is summed to x's shape.
struct MaskedSelectBackward final : Node {
  SavedTensor mask;
  Shape x_shape, shape;  // x's and the broadcast one
  std::string name() const override { return "MaskedSelectBackward"; }
  void release_variables() override { mask.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const int64_t numel = numel_of(shape);
    const Tensor positions = masked_select(
        arange(numel, TensorOptions(DType::i64, g[0].device())).view(shape), mask.unpack(name()));
    const Tensor full = index_add(zeros_for({numel}, g[0]), 0, positions, g[0]).view(shape);
    return {autograd::sum_to(full, x_shape)};
  }
};

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::masked_select(x, mask); });
  if (auto node = autograd::record<MaskedSelectBackward>({x}, {out})) {
    node->mask = SavedTensor(mask);
    node->x_shape = x.shape();
    node->shape = broadcast_shapes(x.shape(), mask.shape(), "masked_select");
  }
  return out;
}

struct TrilBackward final : Node {
  int64_t diagonal = 0;
  std::string name() const override { return "TrilBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {tril(g[0], diagonal)}; }
};

Tensor tril(const Tensor& x, int64_t diagonal) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::tril(x, diagonal); });
  if (auto node = autograd::record<TrilBackward>({x}, {out})) node->diagonal = diagonal;
  return out;
}

struct TriuBackward final : Node {
  int64_t diagonal = 0;
  std::string name() const override { return "TriuBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {triu(g[0], diagonal)}; }
};

Tensor triu(const Tensor& x, int64_t diagonal) {
  Tensor out = autograd::raw([&]() -> Tensor { return ops::triu(x, diagonal); });
  if (auto node = autograd::record<TriuBackward>({x}, {out})) node->diagonal = diagonal;
  return out;
}

// sort and topk: values taken from x at `indices` along dim, so the values' gradient is
// scatter-added back there (the indices output is integer and gets none).
struct SortBackward final : Node {
  const char* op;
  SavedTensor indices;
  int64_t dim = 0;
  Shape x_shape;
  explicit SortBackward(const char* op) : op(op) {}
  std::string name() const override { return op; }
  void release_variables() override { indices.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {scatter_add(zeros_for(x_shape, g[0]), dim, indices.unpack(name()), g[0])};
  }
};

namespace {

std::pair<Tensor, Tensor> record_sort(const char* op, const Tensor& x,
                                      std::pair<Tensor, Tensor> out, int64_t dim) {
  if (auto node = autograd::record<SortBackward>({x}, {out.first, out.second}, op)) {
    node->indices = SavedTensor(out.second);
    node->dim = dim;
    node->x_shape = x.shape();
  }
  return out;
}

}  // namespace

std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending, bool stable) {
  return record_sort("SortBackward", x, autograd::raw([&]() -> std::pair<Tensor, Tensor> {
                       return ops::sort(x, dim, descending, stable);
                     }),
                     dim);
}

std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest, bool sorted) {
  return record_sort("TopkBackward", x, autograd::raw([&]() -> std::pair<Tensor, Tensor> {
                       return ops::topk(x, k, dim, largest, sorted);
                     }),
                     dim);
}

// ---- in place -----------------------------------------------------------------------------------
// The same nodes as the out-of-place forms: self's old history is edge 0.

Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  auto node = autograd::record_inplace<ScatterBackward>("scatter_", self, {src});
  if (node) save_scatter(*node, dim, index, src);
  autograd::raw([&]() -> Tensor& { return ops::scatter_(self, dim, index, src); });
  if (node) autograd::rebase_history(self, node);
  return self;
}

Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Scalar& value) {
  auto node = autograd::record_inplace<ScatterBackward>("scatter_", self, {});
  if (node) save_scatter(*node, dim, index, Tensor());
  autograd::raw([&]() -> Tensor& { return ops::scatter_(self, dim, index, value); });
  if (node) autograd::rebase_history(self, node);
  return self;
}

Tensor& scatter_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  auto node = autograd::record_inplace<ScatterAddBackward>("scatter_add_", self, {src});
  if (node) save_scatter(*node, dim, index, src);
  autograd::raw([&]() -> Tensor& { return ops::scatter_add_(self, dim, index, src); });
  if (node) autograd::rebase_history(self, node);
  return self;
}

Tensor& index_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& source,
                   const Scalar& alpha) {
  auto node = autograd::record_inplace<IndexAddBackward>("index_add_", self, {source});
  if (node) {
    node->index = SavedTensor(index);
    node->dim = dim;
    node->alpha = alpha;
    node->source_shape = source.shape();
  }
  autograd::raw([&]() -> Tensor& { return ops::index_add_(self, dim, index, source, alpha); });
  if (node) autograd::rebase_history(self, node);
  return self;
}

Tensor& masked_fill_(Tensor& self, const Tensor& mask, const Scalar& value) {
  auto node = autograd::record_inplace<MaskedFillBackward>("masked_fill_", self, {});
  if (node) {
    node->mask = SavedTensor(mask);
    node->x_shape = self.shape();
  }
  autograd::raw([&]() -> Tensor& { return ops::masked_fill_(self, mask, value); });
  if (node) autograd::rebase_history(self, node);
  return self;
}

// ---- Tensor methods -------------------------------------------------------------------------

Tensor& Tensor::scatter_(int64_t dim, const Tensor& index, const Tensor& src) {
  return anvil::scatter_(*this, dim, index, src);
}
Tensor& Tensor::scatter_(int64_t dim, const Tensor& index, const Scalar& value) {
  return anvil::scatter_(*this, dim, index, value);
}
Tensor& Tensor::scatter_add_(int64_t dim, const Tensor& index, const Tensor& src) {
  return anvil::scatter_add_(*this, dim, index, src);
}
Tensor& Tensor::index_add_(int64_t dim, const Tensor& index, const Tensor& source,
                           const Scalar& alpha) {
  return anvil::index_add_(*this, dim, index, source, alpha);
}
Tensor Tensor::masked_fill(const Tensor& mask, const Scalar& value) const {
  return anvil::masked_fill(*this, mask, value);
}
Tensor& Tensor::masked_fill_(const Tensor& mask, const Scalar& value) {
  return anvil::masked_fill_(*this, mask, value);
}

}  // namespace anvil
