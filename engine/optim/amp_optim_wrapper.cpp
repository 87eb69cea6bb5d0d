#include "engine/optim/amp_optim_wrapper.h"

#include <cmath>
#include <memory>

#include "autograd/autocast.h"
#include "autograd/grad_mode.h"
#include "tensor/error.h"

namespace anvil::engine {

GradScaler::GradScaler(const GradScalerOptions& options)
    : enabled_(options.enabled),
      scale_(static_cast<float>(options.init_scale)),
      growth_factor_(options.growth_factor),
      backoff_factor_(options.backoff_factor),
      growth_interval_(options.growth_interval) {
  ANVIL_CHECK(options.growth_factor > 1, "GradScaler: growth_factor should be > 1, got {}",
              options.growth_factor);
  ANVIL_CHECK(options.backoff_factor < 1, "GradScaler: backoff_factor should be < 1, got {}",
              options.backoff_factor);
  ANVIL_CHECK(options.growth_interval > 0, "GradScaler: growth_interval should be > 0, got {}",
              options.growth_interval);
}

Tensor GradScaler::scale(const Tensor& loss) const {
  if (!enabled_) return loss;
  return loss * Scalar(static_cast<double>(scale_));
}

void GradScaler::unscale_(optim::Optimizer& optimizer) {
  if (!enabled_) return;
  ANVIL_CHECK(!unscaled_,
              "GradScaler.unscale_: already called on this optimizer since the last update()");
  NoGradGuard no_grad;
  // torch multiplies by the float32 reciprocal of the scale.
  const double inv_scale = static_cast<float>(1.0 / static_cast<double>(scale_));
  found_inf_ = false;
  for (optim::ParamGroup& g : optimizer.param_groups()) {
    for (Tensor& p : g.params) {
      if (!p.grad().defined()) continue;
      Tensor grad = p.mutable_grad();
      if (!std::isfinite(grad.to(DType::f64).abs().sum().item<double>())) found_inf_ = true;
      grad.mul_(inv_scale);
    }
  }
  unscaled_ = true;
}

bool GradScaler::step(optim::Optimizer& optimizer) {
  if (!enabled_) {
    optimizer.step();
    return true;
  }
  if (!unscaled_) unscale_(optimizer);
  if (found_inf_) return false;
  optimizer.step();
  return true;
}

void GradScaler::update(std::optional<double> new_scale) {
  if (!enabled_) return;
  if (new_scale) {
    scale_ = static_cast<float>(*new_scale);
  } else if (found_inf_) {
    scale_ = static_cast<float>(scale_ * backoff_factor_);
    growth_tracker_ = 0;
  } else if (++growth_tracker_ == growth_interval_) {
    // torch keeps the old scale when growing would overflow float32.
    const auto grown = static_cast<float>(scale_ * growth_factor_);
    if (std::isfinite(grown)) scale_ = grown;
    growth_tracker_ = 0;
  }
  unscaled_ = false;
  found_inf_ = false;
}

std::map<std::string, double> GradScaler::state_dict() const {
  if (!enabled_) return {};
  return {{"scale", scale_},
          {"growth_factor", growth_factor_},
          {"backoff_factor", backoff_factor_},
          {"growth_interval", static_cast<double>(growth_interval_)},
          {"_growth_tracker", static_cast<double>(growth_tracker_)}};
}

void GradScaler::load_state_dict(const std::map<std::string, double>& state) {
  ANVIL_CHECK(enabled_ || state.empty(),
              "GradScaler.load_state_dict: the state is of an enabled scaler, this one is not");
  if (!enabled_) return;
  for (const char* key :
       {"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"}) {
    ANVIL_CHECK(state.count(key), "GradScaler.load_state_dict: the state has no \"{}\"", key);
  }
  scale_ = static_cast<float>(state.at("scale"));
  growth_factor_ = state.at("growth_factor");
  backoff_factor_ = state.at("backoff_factor");
  growth_interval_ = static_cast<int64_t>(state.at("growth_interval"));
  growth_tracker_ = static_cast<int64_t>(state.at("_growth_tracker"));
}

namespace {

DType amp_dtype(const std::string& name) {
  ANVIL_CHECK(name == "float16" || name == "bfloat16",
              "AmpOptimWrapper: dtype should be \"float16\" or \"bfloat16\", got \"{}\"", name);
  return name == "float16" ? DType::f16 : DType::bf16;
}

GradScalerOptions scaler_options(const LossScale& loss_scale, DType dtype) {
  GradScalerOptions out;
  if (const auto* s = std::get_if<std::string>(&loss_scale)) {
    ANVIL_CHECK(*s == "dynamic",
                "AmpOptimWrapper: loss_scale must be \"dynamic\", a number or scaler options, "
                "got \"{}\"",
                *s);
  } else if (const auto* f = std::get_if<double>(&loss_scale)) {
    out.init_scale = *f;
  } else {
    out = std::get<GradScalerOptions>(loss_scale);
  }
  if (dtype == DType::bf16) out.enabled = false;
  return out;
}

}  // namespace

AmpOptimWrapper::AmpOptimWrapper(std::unique_ptr<optim::Optimizer> optimizer,
                                 const AmpOptimWrapperOptions& amp_options,
                                 const OptimWrapperOptions& options)
    : OptimWrapper(std::move(optimizer), options),
      loss_scaler_(scaler_options(amp_options.loss_scale, amp_dtype(amp_options.dtype))),
      cast_dtype_(amp_dtype(amp_options.dtype)) {
  if (const auto* f = std::get_if<double>(&amp_options.loss_scale)) scale_update_param_ = *f;
}

void AmpOptimWrapper::backward(const Tensor& loss) {
  loss_scaler_.scale(loss).backward();
  ++inner_count_;
}

void AmpOptimWrapper::step() {
  if (clip_grad_config()) {
    loss_scaler_.unscale_(optimizer());
    clip_grad();
  }
  loss_scaler_.step(optimizer());
  loss_scaler_.update(scale_update_param_);
}

DType AmpOptimWrapper::autocast_dtype(DeviceType device) const {
  return device == DeviceType::cuda ? cast_dtype_ : DType::bf16;
}

OptimContext AmpOptimWrapper::optim_context(nn::Module& model) {
  const std::vector<Tensor> params = model.parameters();
  const DeviceType device = params.empty() ? DeviceType::cpu : params.front().device().type;
  // Shared pointers: OptimContext keeps a copyable callback. Autocast ends before the base
  // context, in the reverse order of entering.
  auto base = std::make_shared<OptimContext>(OptimWrapper::optim_context(model));
  auto autocast = std::make_shared<AutocastGuard>(device, autocast_dtype(device));
  return OptimContext([base, autocast]() mutable {
    autocast.reset();
    base.reset();
  });
}

OptimWrapperState AmpOptimWrapper::state_dict() const {
  OptimWrapperState out = OptimWrapper::state_dict();
  out.loss_scaler = loss_scaler_.state_dict();
  return out;
}

void AmpOptimWrapper::load_state_dict(const OptimWrapperState& state) {
  if (state.loss_scaler) loss_scaler_.load_state_dict(*state.loss_scaler);
  OptimWrapper::load_state_dict(state);
}

}  // namespace anvil::engine
