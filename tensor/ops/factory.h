// Factories: tensors made from shapes, values, ranges and random numbers.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/generator.h"
#include "tensor/tensor.h"

namespace anvil {

Tensor empty(const Shape& shape, TensorOptions options = {});
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
// dtype defaults to the value's own (full({2}, 3) is i64, full({2}, 1.5) is f32).
Tensor full(const Shape& shape, const Scalar& value, TensorOptions options = {});
Tensor scalar_tensor(const Scalar& value, TensorOptions options = {});
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, const Scalar& value);
Tensor rand_like(const Tensor& t, Generator* gen = nullptr);
Tensor randn_like(const Tensor& t, Generator* gen = nullptr);

// dtype: i64 when start, end and step are all integers, else f32 (as torch.arange).
Tensor arange(const Scalar& end, TensorOptions options = {});
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step = 1,
              TensorOptions options = {});
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
Tensor eye(int64_t n, int64_t m = -1, TensorOptions options = {});

// Random: Philox counter-based, from `gen` or the device's default generator.
Tensor rand(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);
Tensor randn(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);
// Integers uniform in [low, high); dtype defaults to i64.
Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options = {},
               Generator* gen = nullptr);
Tensor randperm(int64_t n, TensorOptions options = {}, Generator* gen = nullptr);
// Each element is 1 with probability p[i] (same dtype as p).
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);
Tensor bernoulli(const Shape& shape, double p, TensorOptions options = {},
                 Generator* gen = nullptr);

// Copies host data into a new tensor.
template <class T>
Tensor tensor(const std::vector<T>& values, const Shape& shape, Device device = Device::cpu());
template <class T>
Tensor tensor(const std::vector<T>& values, Device device = Device::cpu()) {
  return tensor(values, Shape{static_cast<int64_t>(values.size())}, device);
}
// Copies `shape`-many elements of `dtype` from host memory.
Tensor from_data(const void* data, const Shape& shape, DType dtype, Device device = Device::cpu());
// Wraps memory without copying; `deleter` (may be empty) runs when the last view dies.
Tensor from_blob(void* data, const Shape& shape, DType dtype, Device device = Device::cpu(),
                 std::function<void(void*)> deleter = {});

// Kernels.
using RangeKernel = void (*)(const Tensor& out, const Scalar& start, const Scalar& step);
using RandomKernel = void (*)(const Tensor& out, PhiloxState state, const Scalar& a,
                              const Scalar& b);
using BernoulliKernel = void (*)(const Tensor& out, const Tensor& p, PhiloxState state);

#define ANVIL_FACTORY_OPS(X) \
  X(arange, RangeKernel)     \
  X(linspace, RangeKernel)   \
  X(uniform, RandomKernel)   \
  X(normal, RandomKernel)    \
  X(randint, RandomKernel)   \
  X(bernoulli, BernoulliKernel)

}  // namespace anvil
