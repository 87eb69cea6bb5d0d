// Small differentiable ops for the autograd tests, built with autograd/function.h over the tensor
// core, independent of the op families' derivatives. Values go through f64 host vectors: slow,
// simple and obviously right.
#pragma once

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "anvil.h"
#include "autograd/function.h"
#include "autograd/saved_tensor.h"

namespace anvil::testing {

using autograd::Node;
using autograd::SavedTensor;

inline Tensor map1(const Tensor& a, const std::function<double(double)>& f) {
  std::vector<double> v = a.to_vector<double>();
  for (double& x : v) x = f(x);
  return tensor<double>(v, a.shape()).to(a.dtype());
}

inline Tensor map2(const Tensor& a, const Tensor& b,
                   const std::function<double(double, double)>& f) {
  std::vector<double> va = a.to_vector<double>();
  const std::vector<double> vb = b.to_vector<double>();
  for (size_t i = 0; i < va.size(); ++i) va[i] = f(va[i], vb[i]);
  return tensor<double>(va, a.shape()).to(a.dtype());
}

// y = c * x
struct ScaleBackward : Node {
  double c;
  explicit ScaleBackward(double c) : c(c) {}
  std::string name() const override { return "ScaleBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {map1(g[0], [this](double v) { return c * v; })};
  }
};
inline Tensor scale(const Tensor& x, double c) {
  Tensor y = map1(x, [c](double v) { return c * v; });
  autograd::record<ScaleBackward>({x}, {y}, c);
  return y;
}

// y = a + b (same shape)
struct AddBackward : Node {
  std::string name() const override { return "AddBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {g[0], g[0]}; }
};
inline Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = map2(a, b, [](double u, double v) { return u + v; });
  autograd::record<AddBackward>({a, b}, {y});
  return y;
}

// y = a * b (same shape); saves both inputs
struct MulBackward : Node {
  SavedTensor a, b;
  std::string name() const override { return "MulBackward"; }
  void release_variables() override {
    a.release();
    b.release();
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    const auto times = [](double u, double v) { return u * v; };
    Tensor ga, gb;
    if (needs_input_grad(0)) ga = map2(g[0], b.unpack(name()), times);
    if (needs_input_grad(1)) gb = map2(g[0], a.unpack(name()), times);
    return {ga, gb};
  }
};
inline Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = map2(a, b, [](double u, double v) { return u * v; });
  if (auto node = autograd::record<MulBackward>({a, b}, {y})) {
    node->a = SavedTensor(a);
    node->b = SavedTensor(b);
  }
  return y;
}

// y = exp(x); saves its own output
struct ExpBackward : Node {
  SavedTensor y;
  std::string name() const override { return "ExpBackward"; }
  void release_variables() override { y.release(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {map2(g[0], y.unpack(name()), [](double u, double v) { return u * v; })};
  }
};
inline Tensor exp(const Tensor& x) {
  Tensor y = map1(x, [](double v) { return std::exp(v); });
  if (auto node = autograd::record<ExpBackward>({x}, {y})) node->y = SavedTensor(y);
  return y;
}

// The sum of all elements, 0-d.
struct SumBackward : Node {
  Shape shape;
  DType dtype;
  SumBackward(Shape shape, DType dtype) : shape(std::move(shape)), dtype(dtype) {}
  std::string name() const override { return "SumBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {full(shape, g[0].item<double>(), TensorOptions(dtype))};
  }
};
inline Tensor sum(const Tensor& x) {
  double s = 0;
  for (double v : x.to_vector<double>()) s += v;
  Tensor y = full({}, s, TensorOptions(x.dtype()));
  autograd::record<SumBackward>({x}, {y}, x.shape(), x.dtype());
  return y;
}

// Two outputs from one node: (x, 2x).
struct TwiceBackward : Node {
  std::string name() const override { return "TwiceBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {map2(g[0], g[1], [](double u, double v) { return u + 2 * v; })};
  }
};
inline std::vector<Tensor> twice(const Tensor& x) {
  std::vector<Tensor> ys{x.detach().clone(), map1(x, [](double v) { return 2 * v; })};
  autograd::record<TwiceBackward>({x}, {ys[0], ys[1]});
  return ys;
}

// An integer result (rounding): never requires grad.
struct RoundBackward : Node {
  std::string name() const override { return "RoundBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override { return {Tensor()}; }
};
inline Tensor round_to_int(const Tensor& x) {
  Tensor y = map1(x, [](double v) { return std::round(v); }).to(DType::i64);
  autograd::record<RoundBackward>({x}, {y});
  return y;
}

// y = x * x with a deliberately wrong derivative (g * x instead of 2 g x).
struct WrongSquareBackward : Node {
  SavedTensor x;
  std::string name() const override { return "WrongSquareBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {map2(g[0], x.unpack(name()), [](double u, double v) { return u * v; })};
  }
};
inline Tensor wrong_square(const Tensor& x) {
  Tensor y = map1(x, [](double v) { return v * v; });
  if (auto node = autograd::record<WrongSquareBackward>({x}, {y})) node->x = SavedTensor(x);
  return y;
}

// y = x, whose backward plants a NaN.
struct PlantedNanBackward : Node {
  std::string name() const override { return "PlantedNanBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {map1(g[0], [](double) { return std::numeric_limits<double>::quiet_NaN(); })};
  }
};
inline Tensor planted_nan(const Tensor& x) {
  Tensor y = x.detach().clone();
  autograd::record<PlantedNanBackward>({x}, {y});
  return y;
}

// Dropout: keeps each element with probability 1 - p (scaled by 1 / (1 - p)), from the default
// generator; saves the mask.
struct DropoutBackward : Node {
  SavedTensor mask;
  std::string name() const override { return "DropoutBackward"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    return {map2(g[0], mask.unpack(name()), [](double u, double v) { return u * v; })};
  }
};
inline Tensor dropout(const Tensor& x, double p) {
  const Tensor mask = map1(rand(x.shape(), TensorOptions(x.dtype())),
                           [p](double r) { return r < p ? 0.0 : 1.0 / (1.0 - p); });
  Tensor y = map2(x, mask, [](double u, double v) { return u * v; });
  if (auto node = autograd::record<DropoutBackward>({x}, {y})) node->mask = SavedTensor(mask);
  return y;
}

}  // namespace anvil::testing
