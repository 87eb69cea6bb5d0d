// Front-end of the elementwise binary and ternary ops: type promotion (PyTorch's result_type),
// broadcasting, device checks and the in-place rules. Inputs reach the kernels cast to the
// compute dtype and expanded to the output shape (stride-0 views, no copies).
#include "tensor/ops/binary.h"

#include <array>
#include <optional>
#include <span>
#include <utility>

#include "tensor/dispatch.h"
#include "tensor/ops/factory.h"

namespace anvil {

namespace {

// One operand of an elementwise op: a tensor, or a Scalar (PyTorch's "wrapped number").
class Operand {
 public:
  Operand(const Tensor& t) : tensor_(&t) {}  // NOLINT: implicit, so that ops take either
  Operand(const Scalar& s) : scalar_(&s) {}  // NOLINT

  bool is_tensor() const { return tensor_ != nullptr; }
  const Tensor& tensor() const { return *tensor_; }
  const Scalar& scalar() const { return *scalar_; }
  DType dtype() const { return is_tensor() ? tensor_->dtype() : scalar_->default_dtype(); }
  std::string describe() const {
    return is_tensor() ? tensor_->describe() : "scalar " + scalar_->str();
  }

 private:
  const Tensor* tensor_ = nullptr;
  const Scalar* scalar_ = nullptr;
};

std::string describe_all(std::span<const Operand> xs) {
  std::string s;
  for (const Operand& x : xs) s += (s.empty() ? "" : " and ") + x.describe();
  return s;
}

// PyTorch's ResultTypeState: one promotion per priority class (dimensioned tensors, 0-d
// tensors, Scalars); a lower class counts only when its category is higher.
class Promotion {
 public:
  void add(const Operand& x) {
    std::optional<DType>& slot = !x.is_tensor()         ? wrapped_
                                 : x.tensor().dim() > 0 ? dimensioned_
                                                        : zero_dim_;
    slot = slot ? promote_types(*slot, x.dtype()) : x.dtype();
  }
  DType result() const { return combine(dimensioned_, combine(zero_dim_, wrapped_)).value(); }

 private:
  static std::optional<DType> combine(std::optional<DType> higher, std::optional<DType> lower) {
    if (!higher) return lower;
    if (!lower || dtype_category(*lower) <= dtype_category(*higher)) return higher;
    return promote_types(*higher, *lower);
  }

  std::optional<DType> dimensioned_, zero_dim_, wrapped_;
};

// Checks that the tensors are defined and returns the promoted dtype of the operands.
DType promoted(const char* name, std::span<const Operand> xs) {
  Promotion p;
  for (const Operand& x : xs) {
    ANVIL_CHECK(!x.is_tensor() || x.tensor().defined(), "{}: an input tensor is undefined", name);
    p.add(x);
  }
  return p.result();
}

// torch.can_cast: floats do not become integers, nothing but bool becomes bool.
bool can_cast(DType from, DType to) {
  if (is_floating(from) && is_integral(to)) return false;
  return from == DType::boolean || to != DType::boolean;
}

// How an op runs: the dtype the inputs are cast to (it selects the kernel) and the dtype of the
// result.
struct Spec {
  const char* name;
  DType compute;
  DType out;
  bool keep_first_dtype = false;  // where: the condition stays bool
};

// The device of the tensors, which must agree, except that 0-d CPU tensors may join tensors on
// any device, as numbers do (as in PyTorch).
Device common_device(const char* name, std::span<const Operand> xs) {
  const Tensor* first = nullptr;
  for (const Operand& x : xs) {
    if (!x.is_tensor() || (x.tensor().dim() == 0 && x.tensor().is_cpu())) continue;
    if (!first) {
      first = &x.tensor();
    } else {
      ANVIL_CHECK(x.tensor().device() == first->device(),
                  "{}: expected all tensors on the same device, got {}", name, describe_all(xs));
    }
  }
  return first ? first->device() : Device::cpu();
}

// The broadcast shape of the tensors: the first tensor's own shape when nothing broadcasts (no
// copy: this runs on every op), else built in `storage`.
const Shape& common_shape(const char* name, std::span<const Operand> xs, Shape& storage) {
  const Shape* shape = nullptr;
  for (const Operand& x : xs) {
    if (!x.is_tensor()) continue;
    const Shape& s = x.tensor().shape();
    if (!shape) {
      shape = &s;
    } else if (s != *shape) {
      storage = broadcast_shapes(*shape, s, name);
      shape = &storage;
    }
  }
  return shape ? *shape : storage;
}

template <OpId op>
typename OpSignature<op>::type find_kernel(const Spec& spec, Device device,
                                           std::span<const Operand> xs) {
  try {
    return kernel<op>(device, spec.compute);
  } catch (const NotSupportedError& e) {
    throw NotSupportedError(
        fmt::format("{}: not supported for {}: {}", spec.name, describe_all(xs), e.what()));
  }
}

// The operands as kernel inputs: cast, on the device, expanded to `shape`.
template <size_t N>
std::array<Tensor, N> kernel_inputs(const Spec& spec, const std::array<Operand, N>& xs,
                                    Device device, const Shape& shape) {
  std::array<Tensor, N> in;
  for (size_t k = 0; k < N; ++k) {
    const DType t = k == 0 && spec.keep_first_dtype ? xs[0].dtype() : spec.compute;
    in[k] = xs[k].is_tensor() ? xs[k].tensor().to(device, t)
                              : scalar_tensor(xs[k].scalar(), TensorOptions(t, device));
    if (in[k].shape() != shape) in[k] = in[k].expand(shape);
  }
  return in;
}

template <class Fn, size_t N, size_t... I>
void invoke(Fn fn, const Tensor& out, const std::array<Tensor, N>& in, const Scalar& param,
            std::index_sequence<I...>) {
  fn(out, in[I]..., param);
}

template <OpId op, size_t N>
Tensor run(const Spec& spec, const Scalar& param, const std::array<Operand, N>& xs) {
  const Device device = common_device(spec.name, xs);
  Shape storage;
  const Shape& shape = common_shape(spec.name, xs, storage);
  const auto fn = find_kernel<op>(spec, device, xs);
  Tensor out = empty(shape, TensorOptions(spec.out, device));
  invoke(fn, out, kernel_inputs(spec, xs, device, shape), param, std::make_index_sequence<N>{});
  return out;
}

bool has_internal_overlap(const Tensor& t) {
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.shape()[d] > 1 && t.strides()[d] == 0) return true;
  }
  return false;
}

// self = op(xs...), where xs[0] is self: self is not broadcast and keeps its dtype.
template <OpId op, size_t N>
Tensor& run_inplace(Tensor& self, const Spec& spec, const Scalar& param,
                    const std::array<Operand, N>& xs) {
  const Device device = common_device(spec.name, xs);
  Shape storage;
  const Shape& shape = common_shape(spec.name, xs, storage);
  ANVIL_CHECK(self.device() == device, "{}: expected all tensors on the device of {}, got {}",
              spec.name, self.describe(), describe_all(xs));
  ANVIL_CHECK(shape == self.shape(),
              "{}: output {} doesn't match the broadcast shape {} of the inputs {}", spec.name,
              self.describe(), shape_str(shape), describe_all(xs));
  ANVIL_CHECK(can_cast(spec.out, self.dtype()),
              "{}: result type {} can't be cast to the desired output type {} of {}", spec.name,
              dtype_name(spec.out), dtype_name(self.dtype()), self.describe());
  ANVIL_CHECK(!has_internal_overlap(self),
              "{}: more than one element of the written-to tensor {} refers to a single memory "
              "location (an expanded tensor); clone() it first",
              spec.name, self.describe());
  if (spec.out != self.dtype()) {
    self.copy_(run<op>(spec, param, xs));  // computed in the wider dtype, then cast
    return self;
  }
  const auto fn = find_kernel<op>(spec, device, xs);
  std::array<Tensor, N> in = kernel_inputs(spec, xs, device, shape);
  // An input that overlaps self in any other way than element for element would read values
  // already overwritten: it is read from a copy.
  for (Tensor& t : in) {
    if (t.shares_storage(self) && (t.offset() != self.offset() || t.strides() != self.strides())) {
      t = t.clone();
    }
  }
  invoke(fn, self, in, param, std::make_index_sequence<N>{});
  self.bump_version();
  return self;
}

// What an op's result dtype is, given the promoted dtype of its operands.
enum class Result {
  promoted,  // the promoted dtype
  floating,  // the promoted dtype, integers and bool giving the default float (true division)
  boolean,   // bool (comparisons, logical ops), computed in the promoted dtype
};

Spec binary_spec(const char* name, Result result, std::span<const Operand> xs) {
  DType t = promoted(name, xs);
  if (result == Result::floating && !is_floating(t)) t = kDefaultFloat;
  return {name, t, result == Result::boolean ? DType::boolean : t};
}

template <OpId op>
Tensor binary(const char* name, Result result, const Operand& a, const Operand& b,
              const Scalar& param = 0) {
  const std::array<Operand, 2> xs{a, b};
  return run<op>(binary_spec(name, result, xs), param, xs);
}

template <OpId op>
Tensor& binary_(Tensor& self, const char* name, Result result, const Operand& other,
                const Scalar& param = 0) {
  const std::array<Operand, 2> xs{self, other};
  return run_inplace<op>(self, binary_spec(name, result, xs), param, xs);
}

// alpha must suit the result dtype (PyTorch's alpha_check).
void check_alpha(const char* name, DType t, const Scalar& alpha) {
  ANVIL_CHECK(!alpha.is_bool() || t == DType::boolean,
              "{}: a bool alpha is only supported for bool results, the result is {}", name,
              dtype_name(t));
  ANVIL_CHECK(is_floating(t) || !alpha.is_floating(),
              "{}: for integral inputs, alpha must not be a floating point number, got alpha={} "
              "for a {} result",
              name, alpha.str(), dtype_name(t));
}

void check_sub(const char* name, const Operand& a, const Operand& b) {
  const bool ab = a.dtype() == DType::boolean, bb = b.dtype() == DType::boolean;
  ANVIL_CHECK(!(ab && bb),
              "{}: subtraction of two bools ({} and {}) is not supported; use logical_xor() "
              "instead",
              name, a.describe(), b.describe());
  ANVIL_CHECK(!(ab || bb),
              "{}: subtraction with a bool ({} and {}) is not supported; to invert a mask, use "
              "logical_not() instead",
              name, a.describe(), b.describe());
}

Tensor add_impl(const Operand& a, const Operand& b, const Scalar& alpha) {
  const std::array<Operand, 2> xs{a, b};
  const Spec spec = binary_spec("add", Result::promoted, xs);
  check_alpha(spec.name, spec.out, alpha);
  return run<OpId::add>(spec, alpha, xs);
}

Tensor& add_inplace(Tensor& self, const Operand& other, const Scalar& alpha) {
  const std::array<Operand, 2> xs{self, other};
  const Spec spec = binary_spec("add_", Result::promoted, xs);
  check_alpha(spec.name, spec.out, alpha);
  return run_inplace<OpId::add>(self, spec, alpha, xs);
}

Tensor sub_impl(const Operand& a, const Operand& b, const Scalar& alpha) {
  const std::array<Operand, 2> xs{a, b};
  const Spec spec = binary_spec("sub", Result::promoted, xs);
  check_sub(spec.name, a, b);
  check_alpha(spec.name, spec.out, alpha);
  return run<OpId::sub>(spec, alpha, xs);
}

Tensor& sub_inplace(Tensor& self, const Operand& other, const Scalar& alpha) {
  const std::array<Operand, 2> xs{self, other};
  const Spec spec = binary_spec("sub_", Result::promoted, xs);
  check_sub(spec.name, self, other);
  check_alpha(spec.name, spec.out, alpha);
  return run_inplace<OpId::sub>(self, spec, alpha, xs);
}

Tensor div_impl(const Operand& a, const Operand& b, RoundingMode mode) {
  switch (mode) {
    case RoundingMode::trunc:
      return binary<OpId::div_trunc>("div", Result::promoted, a, b);
    case RoundingMode::floor:
      return binary<OpId::floor_divide>("div", Result::promoted, a, b);
    case RoundingMode::none:
      break;
  }
  return binary<OpId::div>("div", Result::floating, a, b);
}

Tensor& div_inplace(Tensor& self, const Operand& other, RoundingMode mode) {
  switch (mode) {
    case RoundingMode::trunc:
      return binary_<OpId::div_trunc>(self, "div_", Result::promoted, other);
    case RoundingMode::floor:
      return binary_<OpId::floor_divide>(self, "div_", Result::promoted, other);
    case RoundingMode::none:
      break;
  }
  return binary_<OpId::div>(self, "div_", Result::floating, other);
}

Tensor where_impl(const Tensor& cond, const Operand& a, const Operand& b) {
  ANVIL_CHECK(cond.defined(), "where: the condition tensor is undefined");
  ANVIL_CHECK(cond.dtype() == DType::boolean, "where: expected a bool condition, got {}",
              cond.describe());
  const std::array<Operand, 3> xs{cond, a, b};
  const DType t = promoted("where", std::span(xs).subspan(1));
  return run<OpId::where>({"where", t, t, /*keep_first_dtype=*/true}, 0, xs);
}

Spec lerp_spec(const char* name, const Tensor& start, const Tensor& end, const Operand& weight) {
  ANVIL_CHECK(
      start.defined() && end.defined() && (!weight.is_tensor() || weight.tensor().defined()),
      "{}: an input tensor is undefined", name);
  ANVIL_CHECK(start.is_floating_point(), "{}: expected floating-point tensors, got start {}", name,
              start.describe());
  ANVIL_CHECK(end.dtype() == start.dtype(), "{}: expected end {} to have the dtype of start {}",
              name, end.describe(), start.describe());
  ANVIL_CHECK(!weight.is_tensor() || weight.dtype() == start.dtype(),
              "{}: expected weight {} to have the dtype of start {}", name, weight.describe(),
              start.describe());
  return {name, start.dtype(), start.dtype()};
}

Tensor lerp_impl(const Tensor& start, const Tensor& end, const Operand& weight) {
  const std::array<Operand, 3> xs{start, end, weight};
  return run<OpId::lerp>(lerp_spec("lerp", start, end, weight), 0, xs);
}

Spec addc_spec(const char* name, bool divides, std::span<const Operand> xs) {
  const Spec spec = binary_spec(name, Result::promoted, xs);
  ANVIL_CHECK(!divides || !(is_integral(xs[1].dtype(), true) && is_integral(xs[2].dtype(), true)),
              "{}: integer division of tensor1 {} by tensor2 {} is not supported; pass a "
              "floating-point tensor1 or tensor2 for true division",
              name, xs[1].describe(), xs[2].describe());
  return spec;
}

template <OpId op>
Tensor addc(const char* name, const Tensor& self, const Tensor& t1, const Tensor& t2,
            const Scalar& value) {
  const std::array<Operand, 3> xs{self, t1, t2};
  return run<op>(addc_spec(name, op == OpId::addcdiv, xs), value, xs);
}

template <OpId op>
Tensor& addc_(const char* name, Tensor& self, const Tensor& t1, const Tensor& t2,
              const Scalar& value) {
  const std::array<Operand, 3> xs{self, t1, t2};
  return run_inplace<op>(self, addc_spec(name, op == OpId::addcdiv, xs), value, xs);
}

}  // namespace

// ---- promotion -------------------------------------------------------------------------------

DType result_type(const Tensor& a, const Tensor& b) {
  return promoted("result_type", std::array<Operand, 2>{a, b});
}
DType result_type(const Tensor& a, const Scalar& b) {
  return promoted("result_type", std::array<Operand, 2>{a, b});
}

namespace ops {

// ---- arithmetic -------------------------------------------------------------------------------

Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return add_impl(a, b, alpha);
}
Tensor add(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  return add_impl(a, b, alpha);
}
Tensor add(const Scalar& a, const Tensor& b, const Scalar& alpha) {
  return add_impl(a, b, alpha);
}
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return sub_impl(a, b, alpha);
}
Tensor sub(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  return sub_impl(a, b, alpha);
}
Tensor sub(const Scalar& a, const Tensor& b, const Scalar& alpha) {
  return sub_impl(a, b, alpha);
}

Tensor mul(const Tensor& a, const Tensor& b) {
  return binary<OpId::mul>("mul", Result::promoted, a, b);
}
Tensor mul(const Tensor& a, const Scalar& b) {
  return binary<OpId::mul>("mul", Result::promoted, a, b);
}
Tensor mul(const Scalar& a, const Tensor& b) {
  return binary<OpId::mul>("mul", Result::promoted, a, b);
}

Tensor div(const Tensor& a, const Tensor& b, RoundingMode mode) {
  return div_impl(a, b, mode);
}
Tensor div(const Tensor& a, const Scalar& b, RoundingMode mode) {
  return div_impl(a, b, mode);
}
Tensor div(const Scalar& a, const Tensor& b, RoundingMode mode) {
  return div_impl(a, b, mode);
}

Tensor floor_divide(const Tensor& a, const Tensor& b) {
  return binary<OpId::floor_divide>("floor_divide", Result::promoted, a, b);
}
Tensor floor_divide(const Tensor& a, const Scalar& b) {
  return binary<OpId::floor_divide>("floor_divide", Result::promoted, a, b);
}
Tensor floor_divide(const Scalar& a, const Tensor& b) {
  return binary<OpId::floor_divide>("floor_divide", Result::promoted, a, b);
}

Tensor remainder(const Tensor& a, const Tensor& b) {
  return binary<OpId::remainder>("remainder", Result::promoted, a, b);
}
Tensor remainder(const Tensor& a, const Scalar& b) {
  return binary<OpId::remainder>("remainder", Result::promoted, a, b);
}
Tensor remainder(const Scalar& a, const Tensor& b) {
  return binary<OpId::remainder>("remainder", Result::promoted, a, b);
}

Tensor pow(const Tensor& base, const Tensor& exponent) {
  return binary<OpId::pow_tensor>("pow", Result::promoted, base, exponent);
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary<OpId::maximum>("maximum", Result::promoted, a, b);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary<OpId::minimum>("minimum", Result::promoted, a, b);
}
Tensor atan2(const Tensor& a, const Tensor& b) {
  return binary<OpId::atan2>("atan2", Result::floating, a, b);
}

// ---- comparisons and logical ops --------------------------------------------------------------

#define ANVIL_PREDICATE(name)                                \
  Tensor name(const Tensor& a, const Tensor& b) {            \
    return binary<OpId::name>(#name, Result::boolean, a, b); \
  }                                                          \
  Tensor name(const Tensor& a, const Scalar& b) {            \
    return binary<OpId::name>(#name, Result::boolean, a, b); \
  }
ANVIL_PREDICATE(eq)
ANVIL_PREDICATE(ne)
ANVIL_PREDICATE(lt)
ANVIL_PREDICATE(le)
ANVIL_PREDICATE(gt)
ANVIL_PREDICATE(ge)
#undef ANVIL_PREDICATE

Tensor threshold_backward(const Tensor& grad, const Tensor& self, const Scalar& threshold) {
  return binary<OpId::threshold_backward>("threshold_backward", Result::promoted, grad, self,
                                          threshold);
}

Tensor logical_and(const Tensor& a, const Tensor& b) {
  return binary<OpId::logical_and>("logical_and", Result::boolean, a, b);
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  return binary<OpId::logical_or>("logical_or", Result::boolean, a, b);
}
Tensor logical_xor(const Tensor& a, const Tensor& b) {
  return binary<OpId::logical_xor>("logical_xor", Result::boolean, a, b);
}

// ---- ternary ----------------------------------------------------------------------------------

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  return where_impl(cond, a, b);
}
Tensor where(const Tensor& cond, const Scalar& a, const Tensor& b) {
  return where_impl(cond, a, b);
}
Tensor where(const Tensor& cond, const Tensor& a, const Scalar& b) {
  return where_impl(cond, a, b);
}
Tensor where(const Tensor& cond, const Scalar& a, const Scalar& b) {
  return where_impl(cond, a, b);
}

Tensor lerp(const Tensor& start, const Tensor& end, const Scalar& weight) {
  return lerp_impl(start, end, weight);
}
Tensor lerp(const Tensor& start, const Tensor& end, const Tensor& weight) {
  return lerp_impl(start, end, weight);
}

Tensor addcmul(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return addc<OpId::addcmul>("addcmul", self, t1, t2, value);
}
Tensor addcdiv(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return addc<OpId::addcdiv>("addcdiv", self, t1, t2, value);
}

Tensor& add_(Tensor& self, const Tensor& other, const Scalar& alpha) {
  return add_inplace(self, other, alpha);
}
Tensor& add_(Tensor& self, const Scalar& other, const Scalar& alpha) {
  return add_inplace(self, other, alpha);
}
Tensor& sub_(Tensor& self, const Tensor& other, const Scalar& alpha) {
  return sub_inplace(self, other, alpha);
}
Tensor& sub_(Tensor& self, const Scalar& other, const Scalar& alpha) {
  return sub_inplace(self, other, alpha);
}
Tensor& mul_(Tensor& self, const Tensor& other) {
  return binary_<OpId::mul>(self, "mul_", Result::promoted, other);
}
Tensor& mul_(Tensor& self, const Scalar& other) {
  return binary_<OpId::mul>(self, "mul_", Result::promoted, other);
}
Tensor& div_(Tensor& self, const Tensor& other, RoundingMode mode) {
  return div_inplace(self, other, mode);
}
Tensor& div_(Tensor& self, const Scalar& other, RoundingMode mode) {
  return div_inplace(self, other, mode);
}
Tensor& pow_(Tensor& self, const Tensor& exponent) {
  return binary_<OpId::pow_tensor>(self, "pow_", Result::promoted, exponent);
}
Tensor& lerp_(Tensor& self, const Tensor& end, const Scalar& weight) {
  const std::array<Operand, 3> xs{self, end, weight};
  return run_inplace<OpId::lerp>(self, lerp_spec("lerp_", self, end, weight), 0, xs);
}
Tensor& addcmul_(Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return addc_<OpId::addcmul>("addcmul_", self, t1, t2, value);
}
Tensor& addcdiv_(Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  return addc_<OpId::addcdiv>("addcdiv_", self, t1, t2, value);
}

}  // namespace ops

}  // namespace anvil
