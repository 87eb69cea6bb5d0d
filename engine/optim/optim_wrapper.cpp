#include "engine/optim/optim_wrapper.h"

#include <fmt/format.h>

#include <cstdio>

#include "nn/modules/normalization.h"
#include "tensor/error.h"

namespace anvil::engine {

OptimWrapper::OptimWrapper(std::unique_ptr<optim::Optimizer> optimizer,
                           const OptimWrapperOptions& options)
    : optimizer_(std::move(optimizer)),
      accumulative_counts_(options.accumulative_counts),
      clip_grad_(options.clip_grad) {
  ANVIL_CHECK(optimizer_ != nullptr, "OptimWrapper: got no optimizer");
  ANVIL_CHECK(accumulative_counts_ > 0, "OptimWrapper: accumulative_counts must be >= 1, got {}",
              accumulative_counts_);
  if (clip_grad_) {
    ANVIL_CHECK(clip_grad_->type == "norm" || clip_grad_->type == "value",
                "OptimWrapper: type of clip_grad should be \"norm\" or \"value\" but got \"{}\"",
                clip_grad_->type);
  }
  if (optimizer_->param_groups().size() > 1) base_param_settings_ = optimizer_->defaults();
}

void OptimWrapper::update_params(const Tensor& loss) {
  backward(scale_loss(loss));
  if (should_update()) {
    step();
    zero_grad();
  }
}

void OptimWrapper::backward(const Tensor& loss) {
  loss.backward();
  ++inner_count_;
}

void OptimWrapper::step() {
  if (clip_grad_) clip_grad();
  optimizer_->step();
}

void OptimWrapper::zero_grad(bool set_to_none) {
  optimizer_->zero_grad(set_to_none);
}

OptimContext OptimWrapper::optim_context(nn::Module&) {
  return {};
}

void OptimWrapper::clip_grad() {
  std::vector<Tensor> params;
  for (const optim::ParamGroup& g : optimizer_->param_groups()) {
    for (const Tensor& p : g.params) {
      if (p.requires_grad() && p.grad().defined()) params.push_back(p);
    }
  }
  if (params.empty()) return;
  if (clip_grad_->type == "norm") {
    const double norm = clip_grad_norm_(params, clip_grad_->max_norm, clip_grad_->norm_type,
                                        clip_grad_->error_if_nonfinite);
    last_grad_norm_ = norm;
    if (scalar_sink_) scalar_sink_("train/grad_norm", norm);
  } else {
    // clip_grad_value_ returns nothing, so MMEngine logs no train/grad_value either.
    clip_grad_value_(params, clip_grad_->clip_value);
  }
}

namespace {

bool has_batch_norm(const nn::Module& module) {
  if (dynamic_cast<const nn::BatchNorm*>(&module) != nullptr) return true;
  for (const auto& [name, child] : module.named_children()) {
    if (has_batch_norm(*child)) return true;
  }
  return false;
}

}  // namespace

void OptimWrapper::initialize_count_status(nn::Module& model, int64_t init_counts,
                                           int64_t max_counts) {
  inner_count_ = init_counts;
  max_counts_ = max_counts;
  if (inner_count_ % accumulative_counts_ != 0) {
    fmt::print(stderr,
               "Warning: resumed iteration {} is not divisible by accumulative_counts {}: the "
               "gradients of some iterations are lost and the result may change slightly.\n",
               inner_count_, accumulative_counts_);
  }
  if (accumulative_counts_ > 1 && has_batch_norm(model)) {
    fmt::print(stderr,
               "Warning: gradient accumulation may slightly decrease performance because the model "
               "has BatchNorm layers.\n");
  }
  remainder_counts_ = max_counts_ % accumulative_counts_;
}

bool OptimWrapper::should_update() const {
  return inner_count_ % accumulative_counts_ == 0 || inner_count_ == max_counts_;
}

bool OptimWrapper::should_sync() const {
  return (inner_count_ + 1) % accumulative_counts_ == 0 || inner_count_ + 1 == max_counts_;
}

Tensor OptimWrapper::scale_loss(const Tensor& loss) const {
  int64_t factor = accumulative_counts_;
  if (accumulative_counts_ == 1) return loss;
  if (max_counts_ != -1 && inner_count_ >= max_counts_ - remainder_counts_) {
    factor = remainder_counts_;
  }
  ANVIL_CHECK(factor > 0,
              "OptimWrapper.scale_loss: loss factor {} at count {} of {} (was "
              "initialize_count_status called with wrong init_counts or max_counts?)",
              factor, inner_count_, max_counts_);
  return loss / Scalar(static_cast<double>(factor));
}

GroupValues OptimWrapper::get_lr() const {
  GroupValues out;
  if (base_param_settings_) out["base_lr"] = {base_param_settings_->at("lr")};
  std::vector<double>& lr = out["lr"];
  for (const optim::ParamGroup& g : optimizer_->param_groups()) lr.push_back(g.at("lr"));
  return out;
}

GroupValues OptimWrapper::get_momentum() const {
  std::vector<double> momentum;
  for (const optim::ParamGroup& g : optimizer_->param_groups()) {
    if (g.options.count("momentum")) {
      momentum.push_back(g.at("momentum"));
    } else if (g.options.count("beta1")) {
      momentum.push_back(g.at("beta1"));
    } else {
      momentum.push_back(0);
    }
  }
  return {{"momentum", momentum}};
}

std::vector<optim::Options*> OptimWrapper::scheduled_groups() {
  std::vector<optim::Options*> out;
  for (optim::ParamGroup& g : optimizer_->param_groups()) out.push_back(&g.options);
  if (base_param_settings_) out.push_back(&*base_param_settings_);
  return out;
}

OptimWrapperState OptimWrapper::state_dict() const {
  OptimWrapperState out;
  out.optimizer = optimizer_->state_dict();
  out.base_param_settings = base_param_settings_;
  return out;
}

void OptimWrapper::load_state_dict(const OptimWrapperState& state) {
  if (state.base_param_settings) base_param_settings_ = state.base_param_settings;
  optimizer_->load_state_dict(state.optimizer);
}

// ---- OptimWrapperDict ---------------------------------------------------------------------------

OptimWrapperDict::OptimWrapperDict(std::map<std::string, std::unique_ptr<OptimWrapper>> wrappers)
    : wrappers_(std::move(wrappers)) {
  for (const auto& [name, w] : wrappers_) {
    ANVIL_CHECK(w != nullptr, "OptimWrapperDict: \"{}\" holds no optimizer wrapper", name);
  }
}

namespace {

[[noreturn]] void per_wrapper_only(const char* what) {
  throw ValueError(fmt::format(
      "OptimWrapperDict.{}: call it on each wrapper (optim_wrapper[\"name\"].{}) instead", what,
      what));
}

}  // namespace

void OptimWrapperDict::update_params(const Tensor&) {
  per_wrapper_only("update_params");
}

void OptimWrapperDict::backward(const Tensor&) {
  per_wrapper_only("backward");
}

void OptimWrapperDict::step() {
  per_wrapper_only("step");
}

OptimContext OptimWrapperDict::optim_context(nn::Module&) {
  per_wrapper_only("optim_context");
}

void OptimWrapperDict::zero_grad(bool set_to_none) {
  for (auto& [name, w] : wrappers_) w->zero_grad(set_to_none);
}

namespace {

GroupValues prefixed(const std::map<std::string, std::unique_ptr<OptimWrapper>>& wrappers,
                     GroupValues (OptimWrapper::*get)() const) {
  GroupValues out;
  for (const auto& [name, w] : wrappers) {
    for (auto& [key, values] : ((*w).*get)()) out[name + "." + key] = std::move(values);
  }
  return out;
}

}  // namespace

GroupValues OptimWrapperDict::get_lr() const {
  return prefixed(wrappers_, &OptimWrapper::get_lr);
}

GroupValues OptimWrapperDict::get_momentum() const {
  return prefixed(wrappers_, &OptimWrapper::get_momentum);
}

std::map<std::string, OptimWrapperState> OptimWrapperDict::state_dict() const {
  std::map<std::string, OptimWrapperState> out;
  for (const auto& [name, w] : wrappers_) out[name] = w->state_dict();
  return out;
}

void OptimWrapperDict::load_state_dict(const std::map<std::string, OptimWrapperState>& state) {
  for (const auto& [name, s] : state) {
    ANVIL_CHECK(wrappers_.count(name),
                "OptimWrapperDict.load_state_dict: no wrapper \"{}\" (has {})", name, keys());
    wrappers_.at(name)->load_state_dict(s);
  }
}

OptimWrapper& OptimWrapperDict::operator[](const std::string& name) {
  auto it = wrappers_.find(name);
  ANVIL_CHECK(it != wrappers_.end(), "OptimWrapperDict: no wrapper \"{}\" (has {})", name, keys());
  return *it->second;
}

const OptimWrapper& OptimWrapperDict::at(const std::string& name) const {
  return const_cast<OptimWrapperDict&>(*this)[name];
}

std::vector<std::string> OptimWrapperDict::keys() const {
  std::vector<std::string> out;
  for (const auto& [name, w] : wrappers_) out.push_back(name);
  return out;
}

}  // namespace anvil::engine
