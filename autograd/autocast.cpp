#include "autograd/autocast.h"

#include <span>

#include "tensor/dispatch.h"
#include "tensor/error.h"

namespace anvil {

void AutocastMode::set(DeviceType device, bool enabled, DType dtype) {
  ANVIL_CHECK(dtype == DType::f16 || dtype == DType::bf16,
              "autocast: dtype should be f16 or bf16, got {} (for {})", dtype_name(dtype),
              Device{device, 0}.str());
  state_[index(device)] = {enabled, dtype};
  any_enabled_ = false;
  for (const State& s : state_) any_enabled_ = any_enabled_ || s.enabled;
}

AutocastGuard::AutocastGuard(DeviceType device, DType dtype, bool enabled)
    : device_(device),
      previous_enabled_(AutocastMode::is_enabled(device)),
      previous_dtype_(AutocastMode::dtype(device)) {
  AutocastMode::set(device, enabled, dtype);
}

AutocastGuard::~AutocastGuard() {
  AutocastMode::set(device_, previous_enabled_, previous_dtype_);
}

namespace autocast {

namespace {

enum class Policy : uint8_t { none, lower_precision, fp32 };

Policy policy(Rule rule, DeviceType device) {
  switch (rule) {
    case Rule::gemm:
    case Rule::conv:
    case Rule::attention:
      return Policy::lower_precision;
    case Rule::fp32:
      return Policy::fp32;
    case Rule::fp32_on_cuda:
      return device == DeviceType::cuda ? Policy::fp32 : Policy::none;
  }
  return Policy::none;
}

// The kernels a lower precision op runs (forward and backward).
std::span<const OpId> kernels(Rule rule) {
  static constexpr OpId gemm[] = {OpId::gemm};
  static constexpr OpId conv[] = {OpId::conv2d, OpId::conv2d_backward_input,
                                  OpId::conv2d_backward_weight};
  static constexpr OpId attention[] = {OpId::attention_forward, OpId::attention_backward};
  switch (rule) {
    case Rule::gemm:
      return gemm;
    case Rule::conv:
      return conv;
    case Rule::attention:
      return attention;
    default:
      return {};
  }
}

}  // namespace

bool Cast::eligible(const Tensor& t) const {
  return t.defined() && t.is_floating_point() && t.dtype() != DType::f64 &&
         t.device().type == device_;
}

void Cast::decide(Rule rule, const Tensor* const* tensors, size_t n) {
  device_ = DeviceType::cpu;
  for (size_t i = 0; i < n; ++i) {
    if (tensors[i] && tensors[i]->defined() && tensors[i]->device().is_cuda()) {
      device_ = DeviceType::cuda;
    }
  }
  if (!AutocastMode::is_enabled(device_)) return;
  const Policy p = policy(rule, device_);
  if (p == Policy::none) return;
  const DType target = p == Policy::fp32 ? DType::f32 : AutocastMode::dtype(device_);
  bool needed = false;
  for (size_t i = 0; i < n; ++i) {
    needed = needed || (tensors[i] && eligible(*tensors[i]) && tensors[i]->dtype() != target);
  }
  if (!needed) return;
  // The device's own kernels (ops in reference mode fall back to them where ref has none).
  const Backend backend = device_ == DeviceType::cuda ? Backend::cuda : Backend::cpu;
  for (OpId op : kernels(rule)) {
    if (!has_kernel(op, backend, target)) return;
  }
  target_ = target;
}

Tensor Cast::operator()(const Tensor& t) const {
  return target_ && eligible(t) && t.dtype() != *target_ ? t.to(*target_) : t;
}

std::optional<Tensor> Cast::operator()(const std::optional<Tensor>& t) const {
  if (!t) return t;
  return (*this)(*t);
}

std::optional<DType> reduction_dtype(Rule rule, const Tensor& x, std::optional<DType> dtype) {
  if (dtype) return dtype;
  const Cast cast(rule, x);
  return cast ? std::optional<DType>(cast.dtype()) : std::nullopt;
}

}  // namespace autocast

}  // namespace anvil
