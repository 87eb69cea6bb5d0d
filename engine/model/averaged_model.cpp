#include "engine/model/averaged_model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

#include "tensor/ops/factory.h"

namespace anvil::engine {

BaseAveragedModel::BaseAveragedModel(const nn::Module& model, AveragedModelOptions options)
    : options_(options) {
  ANVIL_CHECK(options_.interval > 0, "averaged model: interval must be positive, got {}",
              options_.interval);
  std::set<std::string> parameters;
  for (const auto& [name, p] : model.named_parameters()) parameters.insert(name);
  for (const auto& [name, t] : model.state_dict()) {
    Tensor copy = empty(t.shape(), TensorOptions(t.dtype(), options_.device.value_or(t.device())));
    copy.copy_(t);
    module_.emplace_back(name, copy);
    averaged_.push_back(options_.update_buffers || parameters.count(name) != 0);
  }
}

nn::NamedTensors BaseAveragedModel::source(const nn::Module& model) const {
  nn::NamedTensors state = model.state_dict();
  ANVIL_CHECK(state.size() == module_.size(),
              "{}: the model has {} state-dict entries, its averaged copy {}", name(), state.size(),
              module_.size());
  for (size_t i = 0; i < state.size(); ++i) {
    ANVIL_CHECK(state[i].first == module_[i].first,
                "{}: the model's state-dict entry {} is '{}', the averaged copy's '{}'", name(), i,
                state[i].first, module_[i].first);
  }
  return state;
}

void BaseAveragedModel::update_parameters(const nn::Module& model) {
  const nn::NamedTensors state = source(model);
  for (size_t i = 0; i < module_.size(); ++i) {
    Tensor& avg = module_[i].second;
    const Tensor& src = state[i].second;
    if (!averaged_[i] || steps_ == 0) {
      avg.copy_(src);
    } else if (steps_ % options_.interval == 0 && avg.is_floating_point()) {
      average(avg, src.device() == avg.device() ? src : src.to(avg.device()), steps_);
    }
  }
  ++steps_;
}

void BaseAveragedModel::swap_parameters(nn::Module& model) {
  nn::NamedTensors state = source(model);
  for (size_t i = 0; i < module_.size(); ++i) {
    if (!averaged_[i]) continue;
    // The model's tensors change in place (its members hold them); the copy takes a new one.
    Tensor own = empty_like(module_[i].second);
    own.copy_(state[i].second);
    state[i].second.copy_(module_[i].second);
    module_[i].second = own;
  }
}

nn::NamedTensors BaseAveragedModel::state_dict() const {
  nn::NamedTensors out{{"steps", scalar_tensor(steps_, DType::i64)}};
  for (const auto& [name, t] : module_) out.emplace_back("module." + name, t);
  return out;
}

LoadWeightsResult BaseAveragedModel::load_state_dict(const nn::NamedTensors& state, bool strict) {
  return load(state, strict, /*with_steps=*/true);
}

LoadWeightsResult BaseAveragedModel::load_module(const nn::NamedTensors& state, bool strict) {
  return load(state, strict, /*with_steps=*/false);
}

// Matches `state` with module() by name (with "module." and "steps" for a state_dict()), then
// copies what matches unless strict and something does not.
LoadWeightsResult BaseAveragedModel::load(const nn::NamedTensors& state, bool strict,
                                          bool with_steps) {
  const std::string prefix = with_steps ? "module." : "";
  LoadWeightsResult result;
  std::map<std::string, Tensor> given;
  std::optional<int64_t> steps;
  for (const auto& [key, t] : state) {
    if (with_steps && key == "steps") {
      steps = t.item<int64_t>();
    } else if (key.starts_with(prefix)) {
      given.emplace(key.substr(prefix.size()), t);
    } else {
      result.unexpected_keys.push_back(key);
    }
  }
  if (with_steps && !steps) result.missing_keys.push_back("steps");
  std::vector<std::pair<Tensor*, Tensor>> copies;
  for (auto& [name, t] : module_) {
    auto it = given.find(name);
    if (it == given.end()) {
      result.missing_keys.push_back(prefix + name);
    } else if (it->second.shape() != t.shape()) {
      result.mismatched_keys.push_back(fmt::format("{}{}: checkpoint {} vs averaged model {}",
                                                   prefix, name, shape_str(it->second.shape()),
                                                   shape_str(t.shape())));
    } else {
      copies.emplace_back(&t, it->second);
    }
    if (it != given.end()) given.erase(it);
  }
  for (const auto& [name, t] : given) result.unexpected_keys.push_back(prefix + name);
  const bool clean = result.missing_keys.empty() && result.unexpected_keys.empty() &&
                     result.mismatched_keys.empty();
  ANVIL_CHECK(clean || !strict,
              "{}: loading a strict state dict: missing keys [{}]; unexpected keys [{}]; size "
              "mismatch [{}]",
              name(), fmt::join(result.missing_keys, ", "), fmt::join(result.unexpected_keys, ", "),
              fmt::join(result.mismatched_keys, "; "));
  for (auto& [target, source] : copies) target->copy_(source);
  if (steps) steps_ = *steps;
  return result;
}

ExponentialMovingAverage::ExponentialMovingAverage(const nn::Module& model, double momentum,
                                                   AveragedModelOptions options)
    : BaseAveragedModel(model, options), momentum_(momentum) {
  ANVIL_CHECK(momentum > 0 && momentum < 1,
              "averaged model: momentum must be in (0, 1) (the weight of the new value, e.g. "
              "0.0002), got {}",
              momentum);
}

void ExponentialMovingAverage::average(Tensor& averaged, const Tensor& source, int64_t) {
  averaged.lerp_(source, momentum_);
}

MomentumAnnealingEMA::MomentumAnnealingEMA(const nn::Module& model, double momentum, double gamma,
                                           AveragedModelOptions options)
    : ExponentialMovingAverage(model, momentum, options), gamma_(gamma) {
  ANVIL_CHECK(gamma > 0, "MomentumAnnealingEMA: gamma must be positive, got {}", gamma);
}

void MomentumAnnealingEMA::average(Tensor& averaged, const Tensor& source, int64_t steps) {
  averaged.lerp_(source, std::max(momentum(), gamma_ / (gamma_ + static_cast<double>(steps))));
}

void StochasticWeightAverage::average(Tensor& averaged, const Tensor& source, int64_t steps) {
  averaged.add_(source - averaged, 1.0 / static_cast<double>(steps / options().interval + 1));
}

std::unique_ptr<BaseAveragedModel> build_averaged_model(const std::string& type,
                                                        const nn::Module& model,
                                                        std::optional<double> momentum,
                                                        std::optional<double> gamma,
                                                        const AveragedModelOptions& options) {
  if (type == "ExponentialMovingAverage") {
    ANVIL_CHECK(!gamma, "ExponentialMovingAverage takes no gamma (MomentumAnnealingEMA does)");
    return std::make_unique<ExponentialMovingAverage>(model, momentum.value_or(0.0002), options);
  }
  if (type == "MomentumAnnealingEMA") {
    return std::make_unique<MomentumAnnealingEMA>(model, momentum.value_or(0.0002),
                                                  gamma.value_or(100), options);
  }
  if (type == "StochasticWeightAverage") {
    ANVIL_CHECK(!momentum && !gamma, "StochasticWeightAverage takes no momentum or gamma");
    return std::make_unique<StochasticWeightAverage>(model, options);
  }
  throw ValueError(
      fmt::format("'{}' is not an averaged model; ema_type is one of ExponentialMovingAverage, "
                  "MomentumAnnealingEMA, StochasticWeightAverage",
                  type));
}

}  // namespace anvil::engine
