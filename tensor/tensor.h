// Tensor: a cheap, refcounted handle to a TensorImpl (shape, strides, offset, dtype, storage).
// Views share the storage; the autograd layer hangs its data off an opaque pointer.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tensor/device.h"
#include "tensor/dtype.h"
#include "tensor/scalar.h"
#include "tensor/shape.h"
#include "tensor/storage.h"

namespace anvil {

// Whatever autograd attaches to a tensor; tensor/ never looks inside.
class AutogradMetaBase {
 public:
  virtual ~AutogradMetaBase() = default;
};

struct TensorImpl {
  Shape shape;
  Strides strides;
  int64_t offset = 0;  // in elements
  DType dtype = DType::f32;
  Storage storage;
  bool is_view = false;  // made by a view op: shares its storage with the tensor it views
  std::shared_ptr<AutogradMetaBase> autograd_meta;
};

struct TensorOptions {
  std::optional<DType> dtype;  // unset: the factory's default (f32, or inferred from values)
  Device device = Device::cpu();

  TensorOptions() = default;
  TensorOptions(DType t) : dtype(t) {}    // NOLINT: `zeros({2}, DType::i64)` reads well
  TensorOptions(Device d) : device(d) {}  // NOLINT
  TensorOptions(DType t, Device d) : dtype(t), device(d) {}
  DType dtype_or(DType fallback) const { return dtype.value_or(fallback); }
};

// ---- autograd-facing types (autograd/ implements them; tensor/ never includes autograd/) ----
namespace autograd {
class Node;
}

// Returned by Tensor::register_hook and friends: remove() unregisters the hook (once; later calls
// do nothing). Keeps nothing alive.
class HookHandle {
 public:
  HookHandle() = default;
  explicit HookHandle(std::function<void()> remover) : remover_(std::move(remover)) {}
  void remove() {
    if (remover_) std::exchange(remover_, nullptr)();
  }

 private:
  std::function<void()> remover_;
};

enum class GeluApprox : uint8_t { none, tanh };
enum class RoundingMode : uint8_t { none, trunc, floor };
enum class PadMode : uint8_t { constant, reflect, replicate, circular };

class Tensor {
 public:
  Tensor() = default;  // undefined
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- metadata -------------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& sizes() const { return impl().shape; }
  const Strides& strides() const { return impl().strides; }
  int64_t size(int64_t dim) const;  // negative dims count from the end
  int64_t stride(int64_t dim) const;
  int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t numel() const;
  int64_t offset() const { return impl().offset; }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  bool is_cpu() const { return device().is_cpu(); }
  bool is_cuda() const { return device().is_cuda(); }
  int64_t element_size() const { return dtype_size(dtype()); }
  int64_t nbytes() const { return numel() * element_size(); }
  bool is_contiguous() const;
  bool is_floating_point() const { return is_floating(dtype()); }
  const Storage& storage() const { return impl().storage; }
  uint64_t version() const { return impl().storage->version(); }
  void bump_version() const { impl().storage->bump_version(); }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  bool shares_storage(const Tensor& other) const;
  // "[2,3] (f32, cpu)": how errors name a tensor.
  std::string describe() const;
  std::string str() const;  // the full printed form, as print() shows it

  // Makes this tensor (every handle to it) describe `data`'s elements: shape, strides, offset,
  // dtype and storage, keeping its identity and autograd state (PyTorch's `param.data = data`;
  // Module::to and state loading use it).
  void set_data(const Tensor& data) const;

  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  // ---- data access (CPU) --------------------------------------------------------------------
  void* raw_data() const;  // pointer to the first element (storage base + offset)
  template <class T>
  T* data_ptr() const;  // checks dtype
  template <class T>
  T item() const;  // one-element tensor -> T (converted)
  Scalar item() const;
  template <class T>
  std::vector<T> to_vector() const;  // all elements in row-major order (any device, converted)

  // ---- views (share storage) ------------------------------------------------------------------
  Tensor view(const Shape& shape) const;
  Tensor reshape(const Shape& shape) const;
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const;   // 2-D transpose (0-D and 1-D returned as is)
  Tensor mT() const;  // transpose of the last two dims
  Tensor slice(int64_t dim, std::optional<int64_t> start = std::nullopt,
               std::optional<int64_t> end = std::nullopt, int64_t step = 1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor operator[](int64_t index) const { return select(0, index); }
  Tensor expand(const Shape& shape) const;  // -1 keeps a size
  Tensor expand_as(const Tensor& other) const { return expand(other.shape()); }
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor unflatten(int64_t dim, const Shape& sizes) const;
  Tensor as_strided(const Shape& shape, const Strides& strides,
                    std::optional<int64_t> offset = std::nullopt) const;
  Tensor movedim(int64_t source, int64_t destination) const;
  Tensor diagonal(int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1) const;

  // ---- copies and conversions -------------------------------------------------------------
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor to(Device device, bool non_blocking = false) const;
  Tensor to(Device device, DType dtype, bool non_blocking = false) const;
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor cuda(int index = 0) const { return to(Device::cuda(index)); }

  // ---- in-place (bump the version counter) ------------------------------------------------
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(const Scalar& value);
  Tensor& fill_(const Tensor& value);  // 0-d value
  Tensor& zero_();
  Tensor& add_(const Tensor& other, const Scalar& alpha = 1);
  Tensor& add_(const Scalar& other, const Scalar& alpha = 1);
  Tensor& sub_(const Tensor& other, const Scalar& alpha = 1);
  Tensor& sub_(const Scalar& other, const Scalar& alpha = 1);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(const Scalar& other);
  Tensor& div_(const Tensor& other, RoundingMode mode = RoundingMode::none);
  Tensor& div_(const Scalar& other, RoundingMode mode = RoundingMode::none);
  Tensor& pow_(const Scalar& exponent);
  Tensor& pow_(const Tensor& exponent);
  Tensor& clamp_(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt);
  Tensor& lerp_(const Tensor& end, const Scalar& weight);
  Tensor& addcmul_(const Tensor& t1, const Tensor& t2, const Scalar& value = 1);
  Tensor& addcdiv_(const Tensor& t1, const Tensor& t2, const Scalar& value = 1);
  Tensor& masked_fill_(const Tensor& mask, const Scalar& value);
  Tensor& index_add_(int64_t dim, const Tensor& index, const Tensor& source,
                     const Scalar& alpha = 1);
  Tensor& scatter_(int64_t dim, const Tensor& index, const Tensor& src);
  Tensor& scatter_(int64_t dim, const Tensor& index, const Scalar& value);
  Tensor& scatter_add_(int64_t dim, const Tensor& index, const Tensor& src);
  Tensor& neg_();
  Tensor& abs_();
  Tensor& exp_();
  Tensor& log_();
  Tensor& sqrt_();
  Tensor& sigmoid_();
  Tensor& tanh_();
  Tensor& relu_();
  Tensor& uniform_(double low = 0, double high = 1);
  Tensor& normal_(double mean = 0, double std = 1);
  Tensor& bernoulli_(double p);

  // ---- arithmetic (see ops.h for the full list of free functions) ---------------------------
  Tensor add(const Tensor& other, const Scalar& alpha = 1) const;
  Tensor sub(const Tensor& other, const Scalar& alpha = 1) const;
  Tensor mul(const Tensor& other) const;
  Tensor div(const Tensor& other, RoundingMode mode = RoundingMode::none) const;
  Tensor pow(const Scalar& exponent) const;
  Tensor pow(const Tensor& exponent) const;
  Tensor neg() const;
  Tensor abs() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor square() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor relu() const;
  Tensor clamp(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt) const;
  Tensor eq(const Tensor& other) const;
  Tensor ne(const Tensor& other) const;
  Tensor lt(const Tensor& other) const;
  Tensor le(const Tensor& other) const;
  Tensor gt(const Tensor& other) const;
  Tensor ge(const Tensor& other) const;
  Tensor masked_fill(const Tensor& mask, const Scalar& value) const;
  Tensor matmul(const Tensor& other) const;
  Tensor mm(const Tensor& other) const;

  // ---- reductions ----------------------------------------------------------------------------
  Tensor sum(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor mean(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor max() const;
  Tensor min() const;
  Tensor argmax(std::optional<int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;

  // ---- autograd (implemented in autograd/tensor_autograd.cpp) -------------------------------
  bool requires_grad() const;
  // Leaves only (a non-leaf can only be switched on, which it already is); floating dtypes only.
  Tensor& requires_grad_(bool requires_grad = true);
  const Tensor& grad() const;         // undefined when there is none
  Tensor& mutable_grad();             // for optimizers and zero_grad
  void set_grad(const Tensor& grad);  // checked: same shape, dtype and device, or undefined
  bool is_leaf() const;               // made by the user, not by a recorded op
  Tensor detach() const;              // shares storage (and version counter), no autograd history
  void retain_grad() const;           // a non-leaf keeps its .grad() after backward
  bool retains_grad() const;
  std::shared_ptr<autograd::Node> grad_fn() const;  // null for leaves
  std::string grad_fn_name() const;                 // "" for leaves
  // grad_output may be left out for a one-element tensor.
  void backward(const Tensor& grad_output = {}, bool retain_graph = false) const;
  // The hook sees this tensor's gradient during backward and may return a replacement (or an
  // undefined tensor to keep it).
  HookHandle register_hook(std::function<Tensor(const Tensor&)> hook) const;
  // Leaves: runs after the gradient was accumulated into .grad().
  HookHandle register_post_accumulate_grad_hook(std::function<void(Tensor&)> hook) const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);  // prints t.str()

// Arithmetic operators, as in PyTorch.
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, const Scalar& b);
Tensor operator-(const Tensor& a, const Scalar& b);
Tensor operator*(const Tensor& a, const Scalar& b);
Tensor operator/(const Tensor& a, const Scalar& b);
Tensor operator+(const Scalar& a, const Tensor& b);
Tensor operator-(const Scalar& a, const Tensor& b);
Tensor operator*(const Scalar& a, const Tensor& b);
Tensor operator/(const Scalar& a, const Tensor& b);
Tensor& operator+=(Tensor& a, const Tensor& b);
Tensor& operator-=(Tensor& a, const Tensor& b);
Tensor& operator*=(Tensor& a, const Tensor& b);
Tensor& operator/=(Tensor& a, const Tensor& b);
Tensor& operator+=(Tensor& a, const Scalar& b);
Tensor& operator-=(Tensor& a, const Scalar& b);
Tensor& operator*=(Tensor& a, const Scalar& b);
Tensor& operator/=(Tensor& a, const Scalar& b);

// ---- templated accessors ------------------------------------------------------------------

namespace detail {
[[noreturn]] void throw_dtype_mismatch(const Tensor& t, DType requested, const char* what);
void check_cpu(const Tensor& t, const char* what);
}  // namespace detail

template <class T>
T* Tensor::data_ptr() const {
  if (dtype() != dtype_of_v<T>) detail::throw_dtype_mismatch(*this, dtype_of_v<T>, "data_ptr");
  return static_cast<T*>(raw_data());
}

template <class T>
T Tensor::item() const {
  return item().to<T>();
}

}  // namespace anvil
