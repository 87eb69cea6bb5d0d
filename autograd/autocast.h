// Autocast (mixed precision), as torch.autocast: while an AutocastGuard is alive for a device type
// on this thread, the differentiable ops on that device's tensors pick their compute dtype
// themselves, following PyTorch's op lists (aten/src/ATen/autocast_mode.cpp, 2.x):
//   - lower precision: matmul, mm, bmm, addmm, linear, conv1d, conv2d, conv_transpose2d,
//     scaled_dot_product_attention cast their floating inputs (f32, and f16/bf16 of the other
//     kind) to the autocast dtype and compute in it;
//   - float32: the losses (cross_entropy, nll_loss, mse, l1, smooth_l1, huber,
//     binary_cross_entropy with and without logits) and prod cast f16/bf16 inputs up to f32;
//     on CUDA also exp, expm1, log, log1p, log2, rsqrt, reciprocal, softplus, pow, layer_norm,
//     group_norm, rms_norm, norm, logsumexp, and sum, cumsum, softmax, log_softmax (these four
//     reduce in f32 when no dtype is given). On the CPU those run in their inputs' dtype, as
//     PyTorch's CPU list has them (its kernels accumulate in f32 anyway);
//   - every other op runs in its inputs' dtypes (binary ops promote: bf16 + f32 gives f32).
// f64 tensors and tensors of another device type are never cast. The casts are differentiable
// (Tensor::to), so an f32 parameter used in bf16 gets an f32 gradient. Run backward outside the
// guard, as PyTorch recommends (the backward of each op runs in the dtypes its forward chose).
//
//   {
//     AutocastGuard autocast(DeviceType::cpu, DType::bf16);
//     loss = cross_entropy(model->forward(x), y);  // convs and linears in bf16, the loss in f32
//   }
//   loss.backward();
#pragma once

#include <array>
#include <optional>

#include "tensor/tensor.h"

namespace anvil {

// The thread's autocast state, one entry per device type (torch.is_autocast_enabled,
// torch.get_autocast_dtype).
class AutocastMode {
 public:
  static bool is_enabled(DeviceType device) { return state_[index(device)].enabled; }
  static DType dtype(DeviceType device) { return state_[index(device)].dtype; }
  // f16 on CUDA, bf16 on the CPU, as torch.
  static constexpr DType default_dtype(DeviceType device) {
    return device == DeviceType::cuda ? DType::f16 : DType::bf16;
  }
  // Whether autocast is on for any device type: the ops' whole cost when it is not.
  static bool any_enabled() { return any_enabled_; }
  // dtype: f16 or bf16 (an error otherwise).
  static void set(DeviceType device, bool enabled, DType dtype);

 private:
  struct State {
    bool enabled;
    DType dtype;
  };
  static constexpr size_t index(DeviceType device) { return static_cast<size_t>(device); }
  static thread_local inline std::array<State, kNumDeviceTypes> state_ = {
      State{false, default_dtype(DeviceType::cpu)}, State{false, default_dtype(DeviceType::cuda)}};
  static thread_local inline bool any_enabled_ = false;
};

// torch.autocast(device_type, dtype, enabled): sets the device type's autocast state for its
// lifetime and restores the previous one (guards nest; enabled = false turns autocast off inside
// an enabled region). The other device types' states are untouched.
class AutocastGuard {
 public:
  AutocastGuard(DeviceType device, DType dtype, bool enabled = true);
  // With the device type's default dtype.
  explicit AutocastGuard(DeviceType device, bool enabled = true)
      : AutocastGuard(device, AutocastMode::default_dtype(device), enabled) {}
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  DeviceType device_;
  bool previous_enabled_;
  DType previous_dtype_;
};

namespace autocast {

// Which of PyTorch's lists an op is on. The lower precision rules also name the kernels the op
// runs, so that an op whose kernels lack the autocast dtype on a device stays in its inputs'
// dtype there instead of failing.
enum class Rule : uint8_t {
  gemm,          // matmul, mm, bmm, addmm, linear: lower precision
  conv,          // conv1d, conv2d, conv_transpose2d: lower precision
  attention,     // scaled_dot_product_attention: lower precision
  fp32,          // the losses and prod: f32 on every device type
  fp32_on_cuda,  // exp, log, pow, the norms, softmax, sum...: f32 on CUDA only
};

// Casts an op's inputs at the top of its public function, which then calls itself again:
//   if (const autocast::Cast cast{autocast::Rule::gemm, input, weight, bias})
//     return linear(cast(input), cast(weight), cast(bias));
// A Cast is true when autocast is on for the inputs' device type (CUDA when any input is on a
// GPU), the rule applies there, and an eligible input (floating, not f64, on that device type)
// is not of the target dtype. The inputs it returns all are, so the second call goes on to run
// the op. Arguments: Tensors and optional Tensors (undefined ones are skipped).
class Cast {
 public:
  template <class... Args>
  explicit Cast(Rule rule, const Args&... inputs) {
    if (!AutocastMode::any_enabled()) return;
    const Tensor* tensors[] = {tensor_ptr(inputs)...};
    decide(rule, tensors, sizeof...(Args));
  }

  explicit operator bool() const { return target_.has_value(); }
  // The target dtype (only when true).
  DType dtype() const { return *target_; }
  // `t` in the target dtype when eligible, else `t` itself.
  Tensor operator()(const Tensor& t) const;
  std::optional<Tensor> operator()(const std::optional<Tensor>& t) const;

 private:
  static const Tensor* tensor_ptr(const Tensor& t) { return &t; }
  static const Tensor* tensor_ptr(const std::optional<Tensor>& t) { return t ? &*t : nullptr; }
  void decide(Rule rule, const Tensor* const* tensors, size_t n);
  bool eligible(const Tensor& t) const;

  std::optional<DType> target_;
  DeviceType device_ = DeviceType::cpu;
};

// For the reductions with a dtype argument (sum, prod, cumsum, softmax, log_softmax): the dtype
// they run in under autocast, f32 when the rule casts `x` up and no dtype was asked for, else
// `dtype` unchanged.
std::optional<DType> reduction_dtype(Rule rule, const Tensor& x, std::optional<DType> dtype);

}  // namespace autocast

}  // namespace anvil
