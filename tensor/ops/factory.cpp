// Factories: empty/zeros/ones/full, ranges, random tensors, tensors from host data.
#include "tensor/ops/factory.h"

#include <cmath>
#include <cstring>
#include <numeric>

#include "tensor/dispatch.h"

namespace anvil {

namespace {

void check_shape(const char* op, const Shape& shape) {
  for (int64_t d : shape) {
    ANVIL_CHECK(d >= 0, "{}: negative dimension {} in shape {}", op, d, shape_str(shape));
  }
}

Generator& generator_or_default(Generator* gen, Device device) {
  return gen ? *gen : default_generator(device);
}

}  // namespace

Tensor empty(const Shape& shape, TensorOptions options) {
  check_shape("empty", shape);
  const DType t = options.dtype_or(kDefaultFloat);
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = t;
  impl->storage = std::make_shared<StorageImpl>(
      static_cast<size_t>(numel_of(shape) * dtype_size(t)), options.device);
  return Tensor(std::move(impl));
}

Tensor zeros(const Shape& shape, TensorOptions options) {
  return full(shape, 0, TensorOptions(options.dtype_or(kDefaultFloat), options.device));
}

Tensor ones(const Shape& shape, TensorOptions options) {
  return full(shape, 1, TensorOptions(options.dtype_or(kDefaultFloat), options.device));
}

Tensor full(const Shape& shape, const Scalar& value, TensorOptions options) {
  Tensor t = empty(shape, TensorOptions(options.dtype_or(value.default_dtype()), options.device));
  t.fill_(value);
  return t;
}

Tensor scalar_tensor(const Scalar& value, TensorOptions options) {
  return full({}, value, options);
}

Tensor empty_like(const Tensor& t) {
  return empty(t.shape(), TensorOptions(t.dtype(), t.device()));
}
Tensor zeros_like(const Tensor& t) {
  return full(t.shape(), 0, TensorOptions(t.dtype(), t.device()));
}
Tensor ones_like(const Tensor& t) {
  return full(t.shape(), 1, TensorOptions(t.dtype(), t.device()));
}
Tensor full_like(const Tensor& t, const Scalar& value) {
  return full(t.shape(), value, TensorOptions(t.dtype(), t.device()));
}
Tensor rand_like(const Tensor& t, Generator* gen) {
  return rand(t.shape(), TensorOptions(t.dtype(), t.device()), gen);
}
Tensor randn_like(const Tensor& t, Generator* gen) {
  return randn(t.shape(), TensorOptions(t.dtype(), t.device()), gen);
}

// ---- ranges -------------------------------------------------------------------------------------

Tensor arange(const Scalar& end, TensorOptions options) {
  return arange(0, end, 1, options);
}

Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, TensorOptions options) {
  const bool all_integral = !start.is_floating() && !end.is_floating() && !step.is_floating();
  const DType t = options.dtype_or(all_integral ? DType::i64 : kDefaultFloat);
  const double s = start.to_double(), e = end.to_double(), st = step.to_double();
  ANVIL_CHECK(st != 0, "arange: step must be nonzero");
  ANVIL_CHECK((st > 0 && e >= s) || (st < 0 && e <= s),
              "arange: upper bound {} and lower bound {} are inconsistent with step sign {}",
              end.str(), start.str(), step.str());
  const int64_t n =
      all_integral
          ? (end.to_int() - start.to_int() + step.to_int() - (st > 0 ? 1 : -1)) / step.to_int()
          : static_cast<int64_t>(std::ceil((e - s) / st));
  Tensor out = empty({n}, TensorOptions(t, options.device));
  if (n > 0) kernel<OpId::arange>(out.device(), t)(out, start, step);
  return out;
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions options) {
  ANVIL_CHECK(steps >= 0, "linspace: number of steps must be non-negative, got {}", steps);
  const DType t = options.dtype_or(kDefaultFloat);
  Tensor out = empty({steps}, TensorOptions(t, options.device));
  if (steps > 0) {
    // The kernel gets start and end; it fills the first half counting up from start and the
    // second half counting down from end, as torch.linspace does, so both ends are exact.
    kernel<OpId::linspace>(out.device(), t)(out, start, end);
  }
  return out;
}

Tensor eye(int64_t n, int64_t m, TensorOptions options) {
  if (m < 0) m = n;
  ANVIL_CHECK(n >= 0, "eye: n must be non-negative, got {}", n);
  Tensor out = zeros({n, m}, TensorOptions(options.dtype_or(kDefaultFloat), options.device));
  if (n > 0 && m > 0) out.diagonal().fill_(1);
  return out;
}

// ---- random -------------------------------------------------------------------------------------

namespace {

// Every random kernel draws element i from 32-bit words 2i and 2i+1 of the stream, so a tensor
// of n elements takes ceil(n / 2) blocks.
uint64_t blocks_for(int64_t n) {
  return static_cast<uint64_t>((n + 1) / 2);
}

Tensor random_tensor(OpId op, const Shape& shape, TensorOptions options, DType default_dtype,
                     Generator* gen, const Scalar& a, const Scalar& b) {
  Tensor out = empty(shape, TensorOptions(options.dtype_or(default_dtype), options.device));
  if (out.numel() == 0) return out;
  const PhiloxState state =
      generator_or_default(gen, out.device()).reserve(blocks_for(out.numel()));
  RandomKernel k = op == OpId::uniform  ? kernel<OpId::uniform>(out.device(), out.dtype())
                   : op == OpId::normal ? kernel<OpId::normal>(out.device(), out.dtype())
                                        : kernel<OpId::randint>(out.device(), out.dtype());
  k(out, state, a, b);
  return out;
}

}  // namespace

Tensor rand(const Shape& shape, TensorOptions options, Generator* gen) {
  check_shape("rand", shape);
  ANVIL_CHECK(is_floating(options.dtype_or(kDefaultFloat)),
              "rand: expected a floating dtype, got {}", dtype_name(*options.dtype));
  return random_tensor(OpId::uniform, shape, options, kDefaultFloat, gen, 0.0, 1.0);
}

Tensor randn(const Shape& shape, TensorOptions options, Generator* gen) {
  check_shape("randn", shape);
  ANVIL_CHECK(is_floating(options.dtype_or(kDefaultFloat)),
              "randn: expected a floating dtype, got {}", dtype_name(*options.dtype));
  return random_tensor(OpId::normal, shape, options, kDefaultFloat, gen, 0.0, 1.0);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options,
               Generator* gen) {
  check_shape("randint", shape);
  ANVIL_CHECK(high > low, "randint: expected low < high, got low={} high={}", low, high);
  return random_tensor(OpId::randint, shape, options, DType::i64, gen, low, high);
}

Tensor randperm(int64_t n, TensorOptions options, Generator* gen) {
  ANVIL_CHECK(n >= 0, "randperm: n must be non-negative, got {}", n);
  // Fisher-Yates on the host with the device's stream (the same permutation on every device).
  const PhiloxState state = generator_or_default(gen, options.device).reserve(blocks_for(n));
  std::vector<int64_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) {
    const uint64_t r = (uint64_t(philox_word(state, 2 * i)) << 32) | philox_word(state, 2 * i + 1);
    std::swap(perm[i], perm[static_cast<int64_t>(r % uint64_t(i + 1))]);
  }
  return tensor(perm, Device::cpu()).to(options.device, options.dtype_or(DType::i64));
}

Tensor bernoulli(const Tensor& p, Generator* gen) {
  ANVIL_CHECK(p.is_floating_point(), "bernoulli: expected floating probabilities, got {}",
              p.describe());
  Tensor out = empty(p.shape(), TensorOptions(p.dtype(), p.device()));
  if (out.numel() == 0) return out;
  const PhiloxState state = generator_or_default(gen, p.device()).reserve(blocks_for(out.numel()));
  kernel<OpId::bernoulli>(out.device(), out.dtype())(out, p, state);
  return out;
}

Tensor bernoulli(const Shape& shape, double p, TensorOptions options, Generator* gen) {
  ANVIL_CHECK(p >= 0 && p <= 1, "bernoulli: p must be in [0, 1], got {}", p);
  return bernoulli(full(shape, p, TensorOptions(options.dtype_or(kDefaultFloat), options.device)),
                   gen);
}

Tensor& Tensor::uniform_(double low, double high) {
  ANVIL_CHECK(is_floating_point(), "uniform_: expected a floating tensor, got {}", describe());
  ANVIL_CHECK(low <= high, "uniform_: expected low <= high, got {} > {}", low, high);
  copy_(random_tensor(OpId::uniform, shape(), TensorOptions(dtype(), device()), dtype(), nullptr,
                      low, high));
  return *this;
}

Tensor& Tensor::normal_(double mean, double std) {
  ANVIL_CHECK(is_floating_point(), "normal_: expected a floating tensor, got {}", describe());
  ANVIL_CHECK(std >= 0, "normal_: expected std >= 0, got {}", std);
  copy_(random_tensor(OpId::normal, shape(), TensorOptions(dtype(), device()), dtype(), nullptr,
                      mean, std));
  return *this;
}

Tensor& Tensor::bernoulli_(double p) {
  copy_(bernoulli(shape(), p, TensorOptions(dtype(), device())));
  return *this;
}

// ---- from host data -----------------------------------------------------------------------------

template <class T>
Tensor tensor(const std::vector<T>& values, const Shape& shape, Device device) {
  ANVIL_CHECK(numel_of(shape) == static_cast<int64_t>(values.size()),
              "tensor: {} values do not fill shape {} ({} elements)", values.size(),
              shape_str(shape), numel_of(shape));
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<uint8_t> bytes(values.begin(), values.end());
    return from_data(bytes.data(), shape, DType::boolean, device);
  } else {
    return from_data(values.data(), shape, dtype_of_v<T>, device);
  }
}
template Tensor tensor(const std::vector<float>&, const Shape&, Device);
template Tensor tensor(const std::vector<double>&, const Shape&, Device);
template Tensor tensor(const std::vector<Half>&, const Shape&, Device);
template Tensor tensor(const std::vector<BFloat16>&, const Shape&, Device);
template Tensor tensor(const std::vector<int64_t>&, const Shape&, Device);
template Tensor tensor(const std::vector<int32_t>&, const Shape&, Device);
template Tensor tensor(const std::vector<uint8_t>&, const Shape&, Device);
template Tensor tensor(const std::vector<bool>&, const Shape&, Device);

Tensor from_data(const void* data, const Shape& shape, DType dtype, Device device) {
  check_shape("from_data", shape);
  Tensor host = empty(shape, dtype);
  if (host.nbytes() > 0) std::memcpy(host.raw_data(), data, static_cast<size_t>(host.nbytes()));
  return host.to(device);
}

Tensor from_blob(void* data, const Shape& shape, DType dtype, Device device,
                 std::function<void(void*)> deleter) {
  check_shape("from_blob", shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  impl->storage = std::make_shared<StorageImpl>(
      data, static_cast<size_t>(numel_of(shape) * dtype_size(dtype)), device, std::move(deleter));
  return Tensor(std::move(impl));
}

}  // namespace anvil
