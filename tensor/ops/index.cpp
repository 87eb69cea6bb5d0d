// Shape and indexing ops. Concatenation, splitting, padding, flips, rolls and repeats are views
// and copies; the indexing ops validate their arguments here and run one kernel each.
#include "tensor/ops/index.h"

#include <algorithm>

#include "tensor/dispatch.h"
#include "tensor/ops/factory.h"

namespace anvil::ops {

namespace {

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  ANVIL_CHECK(a.device() == b.device(), "{}: expected {} and {} on the same device", op,
              a.describe(), b.describe());
}

// The i64 index of an op; i32 is converted where PyTorch accepts it.
Tensor index_tensor(const char* op, const Tensor& index, const Tensor& self, bool allow_i32) {
  ANVIL_CHECK(index.defined(), "{}: the index tensor is undefined", op);
  const bool ok = index.dtype() == DType::i64 || (allow_i32 && index.dtype() == DType::i32);
  ANVIL_CHECK(ok, "{}: expected an i64{} index tensor, got {}", op, allow_i32 ? " or i32" : "",
              index.describe());
  check_same_device(op, self, index);
  return index.to(DType::i64);
}

// A 1-D view of a 0-d tensor, so that kernels always see a dim to index along.
Tensor at_least_1d(const Tensor& t) {
  return t.dim() == 0 ? t.reshape({1}) : t;
}

// Indices into `self` along dim may only be as large as self apart from that dim, and every
// tensor of a gather/scatter has the same number of dims (0-d counting as 1-d).
void check_index_shape(const char* op, const Tensor& self, int64_t dim, const Tensor& index,
                       const Tensor* src) {
  const int64_t nd = std::max<int64_t>(self.dim(), 1);
  ANVIL_CHECK(std::max<int64_t>(index.dim(), 1) == nd,
              "{}: index {} must have as many dims as self {}", op, index.describe(),
              self.describe());
  const Tensor s = at_least_1d(self), i = at_least_1d(index);
  for (int64_t d = 0; d < nd; ++d) {
    ANVIL_CHECK(d == dim || i.size(d) <= s.size(d),
                "{}: index {} is larger than self {} in dim {} (only dim {} may differ)", op,
                index.describe(), self.describe(), d, dim);
  }
  if (!src) return;
  ANVIL_CHECK(std::max<int64_t>(src->dim(), 1) == nd,
              "{}: src {} must have as many dims as self {}", op, src->describe(), self.describe());
  const Tensor r = at_least_1d(*src);
  for (int64_t d = 0; d < nd; ++d) {
    ANVIL_CHECK(i.size(d) <= r.size(d), "{}: index {} is larger than src {} in dim {}", op,
                index.describe(), src->describe(), d);
  }
}

// Reads `t` from a copy when it shares memory with the tensor being written.
Tensor unaliased(const Tensor& t, const Tensor& written) {
  return t.shares_storage(written) ? t.clone() : t;
}

// scatter_ and scatter_add_.
template <OpId op>
void scatter_into(const Tensor& self, int64_t dim, const Tensor& index_in, const Tensor& src) {
  const char* name = op_name(op);
  const Tensor index = index_tensor(name, index_in, self, false);
  ANVIL_CHECK(src.dtype() == self.dtype(), "{}: expected src {} to have the dtype of self {}", name,
              src.describe(), self.describe());
  check_same_device(name, self, src);
  const int64_t d = wrap_dim(dim, self.dim(), name);
  check_index_shape(name, self, d, index, &src);
  if (index.numel() > 0) {
    // Values and indices are read from copies when they share memory with self: a write must
    // never change an index after it was bounds-checked.
    kernel<op>(self.device(), self.dtype())(at_least_1d(self), d,
                                            at_least_1d(unaliased(index, self)),
                                            at_least_1d(unaliased(src, self)));
  }
  self.bump_version();
}

// The indices of the last dims for F.pad's non-constant modes: output position p of a dim of
// `size` padded by (left, right) reads input position map[p].
std::vector<int64_t> pad_source_positions(PadMode mode, int64_t size, int64_t left, int64_t right) {
  std::vector<int64_t> map(static_cast<size_t>(size + left + right));
  // Circular padding wraps around the cropped interior [lo, hi).
  const int64_t lo = std::max<int64_t>(0, -left), hi = size - std::max<int64_t>(0, -right);
  for (int64_t p = 0; p < static_cast<int64_t>(map.size()); ++p) {
    const int64_t i = p - left;
    switch (mode) {
      case PadMode::reflect:
        map[p] = i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i;
        break;
      case PadMode::replicate:
        map[p] = std::clamp<int64_t>(i, 0, size - 1);
        break;
      case PadMode::circular: {
        const int64_t m = hi - lo, j = p - std::max<int64_t>(left, 0);
        map[p] = lo + ((j % m) + m) % m;
        break;
      }
      case PadMode::constant:
        break;
    }
  }
  return map;
}

const char* pad_mode_name(PadMode mode) {
  constexpr const char* names[] = {"constant", "reflect", "replicate", "circular"};
  return names[static_cast<int>(mode)];
}

Tensor roll_dim(const Tensor& x, int64_t shift, int64_t d) {
  const int64_t n = x.size(d);
  if (n == 0) return x.clone();
  const int64_t s = ((shift % n) + n) % n;
  Tensor out = empty(x.shape(), TensorOptions(x.dtype(), x.device()));
  out.narrow(d, s, n - s).copy_(x.narrow(d, 0, n - s));
  out.narrow(d, 0, s).copy_(x.narrow(d, n - s, s));
  return out;
}

// The extreme element of a non-empty i64 tensor.
int64_t extreme(const Tensor& t, bool largest) {
  return topk(t.flatten(), 1, 0, largest).first.item<int64_t>();
}

}  // namespace

// ---- composed from views and copies -----------------------------------------------------------

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  ANVIL_CHECK(!tensors.empty(), "cat: expected a non-empty list of tensors");
  auto legacy_empty = [](const Tensor& t) { return t.dim() == 1 && t.size(0) == 0; };
  DType dtype = DType::boolean;  // the bottom of the promotion lattice
  int64_t first = -1;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    ANVIL_CHECK(t.defined(), "cat: tensor {} is undefined", i);
    ANVIL_CHECK(t.dim() > 0, "cat: tensor {} {} is 0-d and cannot be concatenated", i,
                t.describe());
    check_same_device("cat", tensors[0], t);
    dtype = promote_types(dtype, t.dtype());
    if (first < 0 && !legacy_empty(t)) first = static_cast<int64_t>(i);
  }
  if (first < 0) return empty({0}, TensorOptions(dtype, tensors[0].device()));
  const Tensor& ref = tensors[first];
  const int64_t d = wrap_dim(dim, ref.dim(), "cat");
  Shape shape = ref.shape();
  shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (legacy_empty(t)) continue;
    ANVIL_CHECK(t.dim() == ref.dim(),
                "cat: tensors must have the same number of dims, but tensor {} is {} and tensor {} "
                "is {}",
                first, ref.describe(), i, t.describe());
    for (int64_t k = 0; k < ref.dim(); ++k) {
      ANVIL_CHECK(k == d || t.size(k) == ref.size(k),
                  "cat: sizes must match except in dim {}, but tensor {} {} has size {} in dim {} "
                  "where tensor {} {} has size {}",
                  d, i, t.describe(), t.size(k), k, first, ref.describe(), ref.size(k));
    }
    shape[d] += t.size(d);
  }
  Tensor out = empty(shape, TensorOptions(dtype, ref.device()));
  int64_t offset = 0;
  for (const Tensor& t : tensors) {
    if (legacy_empty(t)) continue;
    out.narrow(d, offset, t.size(d)).copy_(t);
    offset += t.size(d);
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  ANVIL_CHECK(!tensors.empty(), "stack: expected a non-empty list of tensors");
  std::vector<Tensor> parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    ANVIL_CHECK(tensors[i].defined(), "stack: tensor {} is undefined", i);
    ANVIL_CHECK(tensors[i].shape() == tensors[0].shape(),
                "stack: expected tensors of equal size, but tensor 0 is {} and tensor {} is {}",
                tensors[0].describe(), i, tensors[i].describe());
  }
  const int64_t d = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  for (const Tensor& t : tensors) parts.push_back(t.unsqueeze(d));
  return cat(parts, d);
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  ANVIL_CHECK(x.dim() > 0, "split: cannot split a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  const int64_t size = x.size(d);
  ANVIL_CHECK(split_size > 0 || (split_size == 0 && size == 0),
              "split: split_size must be positive (or 0 for a dim of size 0), got {} for dim {} "
              "of {}",
              split_size, d, x.describe());
  const int64_t pieces =
      split_size == 0 ? 1 : std::max<int64_t>(1, (size + split_size - 1) / split_size);
  std::vector<Tensor> out;
  for (int64_t i = 0; i < pieces; ++i) {
    const int64_t start = i * split_size;
    out.push_back(x.narrow(d, start, std::min(split_size, size - start)));
  }
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  ANVIL_CHECK(x.dim() > 0, "split: cannot split a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    ANVIL_CHECK(s >= 0, "split: sizes {} must not be negative", sizes);
    total += s;
  }
  ANVIL_CHECK(total == x.size(d), "split: sizes {} must sum to {} (the size of dim {} of {})",
              sizes, x.size(d), d, x.describe());
  std::vector<Tensor> out;
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(x.narrow(d, start, s));
    start += s;
  }
  return out;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  ANVIL_CHECK(chunks > 0, "chunk: expected a positive number of chunks, got {}", chunks);
  ANVIL_CHECK(x.dim() > 0, "chunk: cannot chunk a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "chunk");
  const int64_t size = x.size(d);
  // An empty dim still gives `chunks` empty pieces.
  if (size == 0) return split(x, std::vector<int64_t>(static_cast<size_t>(chunks), 0), d);
  return split(x, (size + chunks - 1) / chunks, d);
}

std::vector<Tensor> unbind(const Tensor& x, int64_t dim) {
  ANVIL_CHECK(x.dim() > 0, "unbind: cannot unbind a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "unbind");
  std::vector<Tensor> out;
  for (int64_t i = 0; i < x.size(d); ++i) out.push_back(x.select(d, i));
  return out;
}

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value) {
  const int64_t k = static_cast<int64_t>(pads.size()) / 2;
  ANVIL_CHECK(pads.size() % 2 == 0, "pad: expected an even number of pads, got {}", pads.size());
  ANVIL_CHECK(k <= x.dim(), "pad: {} pads cover {} dims but the input {} has only {}", pads.size(),
              k, x.describe(), x.dim());
  const char* name = pad_mode_name(mode);
  if (mode != PadMode::constant) {
    ANVIL_CHECK(k >= 1 && k <= 3 && (x.dim() == k + 1 || x.dim() == k + 2),
                "pad: {} padding of {} dims expects a {}-d or {}-d input, got {}", name, k, k + 1,
                k + 2, x.describe());
  }
  Shape shape = x.shape();
  for (int64_t j = 0; j < k; ++j) {
    const int64_t d = x.dim() - 1 - j, l = pads[2 * j], r = pads[2 * j + 1], n = x.size(d);
    ANVIL_CHECK(n + l + r >= 0, "pad: pads ({}, {}) of dim {} of {} give a negative size", l, r, d,
                x.describe());
    if (mode == PadMode::reflect) {
      ANVIL_CHECK(l < n && r < n,
                  "pad: reflect pads ({}, {}) must be smaller than the size {} of dim {} of {}", l,
                  r, n, d, x.describe());
    } else if (mode == PadMode::replicate) {
      ANVIL_CHECK(n > 0, "pad: replicate padding needs a non-empty dim {} in {}", d, x.describe());
    } else if (mode == PadMode::circular) {
      ANVIL_CHECK(l <= n && r <= n && n + std::min<int64_t>(l, 0) + std::min<int64_t>(r, 0) > 0,
                  "pad: circular pads ({}, {}) would wrap around dim {} of {} more than once", l, r,
                  d, x.describe());
    }
    shape[d] = n + l + r;
  }
  if (mode == PadMode::constant) {
    Tensor out = full(shape, value, TensorOptions(x.dtype(), x.device()));
    // The input region that survives cropping goes to its padded position.
    Tensor src = x, dst = out;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t d = x.dim() - 1 - j, l = pads[2 * j], r = pads[2 * j + 1], n = x.size(d);
      const int64_t keep = n - std::max<int64_t>(0, -l) - std::max<int64_t>(0, -r);
      if (keep <= 0) return out;
      src = src.narrow(d, std::max<int64_t>(0, -l), keep);
      dst = dst.narrow(d, std::max<int64_t>(0, l), keep);
    }
    dst.copy_(src);
    return out;
  }
  Tensor out = x;
  for (int64_t j = 0; j < k; ++j) {
    const int64_t d = x.dim() - 1 - j;
    const std::vector<int64_t> map =
        pad_source_positions(mode, x.size(d), pads[2 * j], pads[2 * j + 1]);
    out = index_select(out, d, tensor(map, x.device()));
  }
  return out;
}

Tensor flip(const Tensor& x, const std::vector<int64_t>& dims) {
  const uint64_t mask = dims.empty() ? 0 : dim_mask(dims, x.dim(), "flip");
  Tensor out = x;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (!(mask >> d & 1)) continue;
    out =
        index_select(out, d, arange(x.size(d) - 1, -1, -1, TensorOptions(DType::i64, x.device())));
  }
  return out.is_same(x) ? x.clone() : out;
}

Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& dims) {
  if (dims.empty()) {
    ANVIL_CHECK(shifts.size() == 1, "roll: without dims, expected one shift, got {}", shifts);
    return roll_dim(x.flatten(), shifts[0], 0).view(x.shape());
  }
  ANVIL_CHECK(shifts.size() == dims.size(), "roll: got {} shifts for {} dims ({} and {})",
              shifts.size(), dims.size(), shifts, dims);
  ANVIL_CHECK(x.dim() > 0, "roll: cannot roll a 0-d tensor along a dim");
  Tensor out = x;
  for (size_t i = 0; i < dims.size(); ++i)
    out = roll_dim(out, shifts[i], wrap_dim(dims[i], x.dim(), "roll"));
  return out;
}

Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats) {
  const int64_t n = static_cast<int64_t>(repeats.size());
  ANVIL_CHECK(n >= x.dim(), "repeat: {} repeats given for the {} dims of {}", n, x.dim(),
              x.describe());
  Shape padded(static_cast<size_t>(n - x.dim()), 1);
  padded.insert(padded.end(), x.shape().begin(), x.shape().end());
  // x as [1, s0, 1, s1, ...] expanded to [r0, s0, r1, s1, ...], copied, then merged pairwise.
  Shape interleaved, expanded, result;
  for (int64_t i = 0; i < n; ++i) {
    ANVIL_CHECK(repeats[i] >= 0, "repeat: repeats {} must not be negative", repeats);
    interleaved.insert(interleaved.end(), {1, padded[i]});
    expanded.insert(expanded.end(), {repeats[i], padded[i]});
    result.push_back(repeats[i] * padded[i]);
  }
  Tensor out = empty(expanded, TensorOptions(x.dtype(), x.device()));
  out.copy_(x.reshape(interleaved).expand(expanded));
  return out.view(result);
}

Tensor tile(const Tensor& x, const std::vector<int64_t>& reps) {
  std::vector<int64_t> r(static_cast<size_t>(std::max<int64_t>(0, x.dim() - int64_t(reps.size()))),
                         1);
  r.insert(r.end(), reps.begin(), reps.end());
  return repeat(x, r);
}

// ---- indexing ---------------------------------------------------------------------------------

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index_in) {
  const Tensor index = index_tensor("gather", index_in, x, false);
  const int64_t d = wrap_dim(dim, x.dim(), "gather");
  check_index_shape("gather", x, d, index, nullptr);
  Tensor out = empty(index.shape(), TensorOptions(x.dtype(), x.device()));
  if (out.numel() > 0) {
    kernel<OpId::gather>(x.device(), x.dtype())(at_least_1d(out), at_least_1d(x), d,
                                                at_least_1d(index));
  }
  return out;
}

Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  Tensor out = x.clone();
  scatter_(out, dim, index, src);
  return out;
}

Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Scalar& value) {
  Tensor out = x.clone();
  scatter_(out, dim, index, value);
  return out;
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  Tensor out = x.clone();
  scatter_add_(out, dim, index, src);
  return out;
}

Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  scatter_into<OpId::scatter>(self, dim, index, src);
  return self;
}

Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Scalar& value) {
  const Tensor src = scalar_tensor(value, TensorOptions(self.dtype(), self.device()));
  scatter_into<OpId::scatter>(self, dim, index, src.expand(index.shape()));
  return self;
}

Tensor& scatter_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  scatter_into<OpId::scatter_add>(self, dim, index, src);
  return self;
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index_in) {
  const Tensor index = index_tensor("index_select", index_in, x, true);
  ANVIL_CHECK(index.dim() <= 1, "index_select: expected a 1-d index, got {}", index.describe());
  const int64_t d = wrap_dim(dim, x.dim(), "index_select");
  const Tensor self = at_least_1d(x);
  Shape shape = self.shape();
  shape[d] = index.numel();
  Tensor out = empty(shape, TensorOptions(x.dtype(), x.device()));
  if (out.numel() > 0) {
    kernel<OpId::index_select>(x.device(), x.dtype())(out, self, d, at_least_1d(index));
  }
  // A 0-d input gives a 0-d result, as in PyTorch.
  return x.dim() == 0 && out.numel() == 1 ? out.reshape({}) : out;
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source,
                 const Scalar& alpha) {
  Tensor out = x.clone();
  index_add_(out, dim, index, source, alpha);
  return out;
}

Tensor& index_add_(Tensor& target, int64_t dim, const Tensor& index_in, const Tensor& source,
                   const Scalar& alpha) {
  const Tensor index = index_tensor("index_add", index_in, target, true);
  ANVIL_CHECK(index.dim() <= 1, "index_add: expected a 1-d index, got {}", index.describe());
  ANVIL_CHECK(source.dtype() == target.dtype(),
              "index_add: expected source {} to have the dtype of self {}", source.describe(),
              target.describe());
  check_same_device("index_add", target, source);
  const int64_t d = wrap_dim(dim, target.dim(), "index_add");
  const Tensor self = at_least_1d(target), src = at_least_1d(source);
  ANVIL_CHECK(src.dim() == self.dim(), "index_add: source {} must have as many dims as self {}",
              source.describe(), target.describe());
  for (int64_t k = 0; k < self.dim(); ++k) {
    const int64_t want = k == d ? index.numel() : self.size(k);
    ANVIL_CHECK(src.size(k) == want,
                "index_add: source {} must have size {} in dim {} (self {}, index {})",
                source.describe(), want, k, target.describe(), index.describe());
  }
  if (src.numel() > 0) {
    kernel<OpId::index_add>(target.device(), target.dtype())(
        self, d, at_least_1d(unaliased(index, self)), unaliased(src, self), alpha);
  }
  target.bump_version();
  return target;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Scalar& value) {
  const Shape shape = broadcast_shapes(x.shape(), mask.shape(), "masked_fill");
  Tensor out = empty(shape, TensorOptions(x.dtype(), x.device()));
  out.copy_(x);
  masked_fill_(out, mask, value);
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value) {
  ANVIL_CHECK(value.dim() == 0, "masked_fill: expected a 0-d value tensor, got {}",
              value.describe());
  return masked_fill(x, mask, value.item());
}

Tensor& masked_fill_(Tensor& self, const Tensor& mask, const Scalar& value) {
  ANVIL_CHECK(mask.dtype() == DType::boolean, "masked_fill_: expected a bool mask, got {}",
              mask.describe());
  check_same_device("masked_fill_", self, mask);
  ANVIL_CHECK(broadcast_shapes(self.shape(), mask.shape(), "masked_fill_") == self.shape(),
              "masked_fill_: mask {} cannot be broadcast to self {}", mask.describe(),
              self.describe());
  if (self.numel() > 0) {
    kernel<OpId::masked_fill>(self.device(), self.dtype())(
        self, unaliased(mask, self).expand(self.shape()), value);
  }
  self.bump_version();
  return self;
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  ANVIL_CHECK(mask.dtype() == DType::boolean, "masked_select: expected a bool mask, got {}",
              mask.describe());
  check_same_device("masked_select", x, mask);
  const Shape shape = broadcast_shapes(x.shape(), mask.shape(), "masked_select");
  const Tensor xe = x.expand(shape), me = mask.expand(shape);
  const int64_t n = kernel<OpId::count_nonzero>(x.device(), DType::boolean)(me);
  Tensor out = empty({n}, TensorOptions(x.dtype(), x.device()));
  if (n > 0) kernel<OpId::masked_select>(x.device(), x.dtype())(out, xe, me);
  return out;
}

Tensor nonzero(const Tensor& x) {
  const int64_t n = kernel<OpId::count_nonzero>(x.device(), x.dtype())(x);
  Tensor out = empty({n, x.dim()}, TensorOptions(DType::i64, x.device()));
  if (out.numel() > 0) kernel<OpId::nonzero>(x.device(), x.dtype())(out, x);
  return out;
}

Tensor one_hot(const Tensor& index, int64_t num_classes) {
  ANVIL_CHECK(index.dtype() == DType::i64, "one_hot: expected an i64 index tensor, got {}",
              index.describe());
  ANVIL_CHECK(num_classes >= -1, "one_hot: num_classes must be -1 or non-negative, got {}",
              num_classes);
  if (num_classes == -1) {
    ANVIL_CHECK(index.numel() > 0,
                "one_hot: cannot infer the number of classes from an empty index {}",
                index.describe());
    num_classes = extreme(index, true) + 1;
  }
  if (index.numel() > 0) {
    const int64_t lo = extreme(index, false), hi = extreme(index, true);
    ANVIL_CHECK(lo >= 0, "one_hot: class values must be non-negative, got {}", lo);
    ANVIL_CHECK(hi < num_classes, "one_hot: class value {} must be smaller than num_classes={}", hi,
                num_classes);
  }
  Shape shape = index.shape();
  shape.push_back(num_classes);
  Tensor out = zeros(shape, TensorOptions(DType::i64, index.device()));
  out.scatter_(-1, index.unsqueeze(-1), Scalar(1));
  return out;
}

Tensor tril(const Tensor& x, int64_t diagonal) {
  ANVIL_CHECK(x.dim() >= 2, "tril: expected a tensor of at least 2 dims, got {}", x.describe());
  Tensor out = empty(x.shape(), TensorOptions(x.dtype(), x.device()));
  if (x.numel() > 0) kernel<OpId::tril>(x.device(), x.dtype())(out, x, diagonal);
  return out;
}

Tensor triu(const Tensor& x, int64_t diagonal) {
  ANVIL_CHECK(x.dim() >= 2, "triu: expected a tensor of at least 2 dims, got {}", x.describe());
  Tensor out = empty(x.shape(), TensorOptions(x.dtype(), x.device()));
  if (x.numel() > 0) kernel<OpId::triu>(x.device(), x.dtype())(out, x, diagonal);
  return out;
}

// `stable` is accepted for PyTorch's signature; every sort here is stable.
std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending, bool /*stable*/) {
  const int64_t d = wrap_dim(dim, x.dim(), "sort");
  if (x.dim() == 0) return {x.clone(), zeros({}, TensorOptions(DType::i64, x.device()))};
  Tensor values = empty(x.shape(), TensorOptions(x.dtype(), x.device()));
  Tensor indices = empty(x.shape(), TensorOptions(DType::i64, x.device()));
  if (x.numel() > 0) kernel<OpId::sort>(x.device(), x.dtype())(values, indices, x, d, descending);
  return {values, indices};
}

Tensor argsort(const Tensor& x, int64_t dim, bool descending) {
  return sort(x, dim, descending).second;
}

// `sorted` is accepted for PyTorch's signature; the result is always sorted.
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest,
                               bool /*sorted*/) {
  const int64_t d = wrap_dim(dim, x.dim(), "topk");
  const int64_t n = x.dim() == 0 ? 1 : x.size(d);
  ANVIL_CHECK_INDEX(k >= 0 && k <= n, "topk: k={} is out of range for dim {} of size {} in {}", k,
                    d, n, x.describe());
  if (x.dim() == 0) return {x.clone(), zeros({}, TensorOptions(DType::i64, x.device()))};
  Shape shape = x.shape();
  shape[d] = k;
  Tensor values = empty(shape, TensorOptions(x.dtype(), x.device()));
  Tensor indices = empty(shape, TensorOptions(DType::i64, x.device()));
  if (values.numel() > 0) kernel<OpId::topk>(x.device(), x.dtype())(values, indices, x, d, largest);
  return {values, indices};
}

}  // namespace anvil::ops
