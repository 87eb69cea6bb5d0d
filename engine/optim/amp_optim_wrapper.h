// AmpOptimWrapper, as MMEngine's (amp_optimizer_wrapper.py), with a loss scaler that behaves as
// torch.cuda.amp.GradScaler and works on tensors of any device.
//
// optim_context() runs the forward pass under autocast (autograd/autocast.h) on the model's
// device: convolutions and matmuls in the lower precision dtype, losses in f32, parameters and
// their gradients staying f32. On CUDA the dtype is the one asked for. On the CPU it is always
// bf16, as torch's CPU autocast (bf16 only before PyTorch 2.2) under MMEngine's autocast: anvil's
// CPU kernels have native bf16 convolutions and GEMMs (oneDNN, on CPUs with AVX512-BF16) but
// compute f16 by converting to f32, so f16 would only cost time and range there. The loss scaler
// follows the dtype asked for ("float16": dynamic scaling, which is then harmless on the CPU).
#pragma once

#include <variant>

#include "engine/optim/optim_wrapper.h"

namespace anvil::engine {

// torch.cuda.amp.GradScaler's arguments and defaults.
struct GradScalerOptions {
  double init_scale = 65536.0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
  bool enabled = true;
};

// Dynamic loss scaling: the loss is multiplied by `scale` before backward; unscale_ divides the
// gradients back and records whether any is inf/nan; step skips the optimizer step then; update
// halves the scale after an overflow and doubles it after growth_interval clean steps. The scale
// is a float32 number, as torch keeps it.
class GradScaler {
 public:
  explicit GradScaler(const GradScalerOptions& options = {});

  Tensor scale(const Tensor& loss) const;
  // Once per step (an error the second time before update()).
  void unscale_(optim::Optimizer& optimizer);
  // Unscales if not done yet; steps the optimizer unless a gradient was inf/nan. Returns whether
  // it stepped.
  bool step(optim::Optimizer& optimizer);
  // new_scale: a fixed scale (MMEngine's static loss_scale) instead of the dynamic rule.
  void update(std::optional<double> new_scale = std::nullopt);

  double get_scale() const { return enabled_ ? scale_ : 1.0; }
  bool is_enabled() const { return enabled_; }
  // Whether the last unscale_ found an inf/nan gradient.
  bool found_inf() const { return found_inf_; }
  int64_t growth_tracker() const { return growth_tracker_; }

  // {"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"} (empty
  // when disabled), as torch's.
  std::map<std::string, double> state_dict() const;
  void load_state_dict(const std::map<std::string, double>& state);

 private:
  bool enabled_;
  float scale_;
  double growth_factor_, backoff_factor_;
  int64_t growth_interval_;
  int64_t growth_tracker_ = 0;
  bool unscaled_ = false;
  bool found_inf_ = false;
};

// MMEngine's loss_scale: "dynamic", a float (a fixed scale, re-imposed at every update), or the
// scaler's arguments.
using LossScale = std::variant<std::string, double, GradScalerOptions>;

struct AmpOptimWrapperOptions {
  LossScale loss_scale = std::string("dynamic");
  // "float16" or "bfloat16". bfloat16 has float32's exponent range, so its scaler is disabled.
  std::string dtype = "float16";
};

class AmpOptimWrapper : public OptimWrapper {
 public:
  AmpOptimWrapper(std::unique_ptr<optim::Optimizer> optimizer,
                  const AmpOptimWrapperOptions& amp_options = {},
                  const OptimWrapperOptions& options = {});

  // The scaled loss goes backward.
  void backward(const Tensor& loss) override;
  // Unscale before clipping, step unless overflowed, update the scale.
  void step() override;
  // The base context, then autocast on the model's device (that of its first parameter; the CPU
  // for a model without parameters) in autocast_dtype() for that device type.
  OptimContext optim_context(nn::Module& model) override;

  OptimWrapperState state_dict() const override;
  void load_state_dict(const OptimWrapperState& state) override;

  GradScaler& loss_scaler() { return loss_scaler_; }
  // The dtype asked for (f16 for "float16", bf16 for "bfloat16").
  DType cast_dtype() const { return cast_dtype_; }
  // The dtype the forward pass autocasts to on a device type: cast_dtype() on CUDA, bf16 on the
  // CPU.
  DType autocast_dtype(DeviceType device) const;

 private:
  GradScaler loss_scaler_;
  std::optional<double> scale_update_param_;
  DType cast_dtype_;
};

}  // namespace anvil::engine
