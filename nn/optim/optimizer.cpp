#include "nn/optim/optimizer.h"

#include <set>

#include "autograd/grad_mode.h"
#include "tensor/error.h"

namespace anvil::optim {

double& ParamGroup::operator[](const std::string& key) {
  return options[key];
}

double ParamGroup::at(const std::string& key) const {
  auto it = options.find(key);
  ANVIL_CHECK(it != options.end(), "param group: no option \"{}\"", key);
  return it->second;
}

Optimizer::Optimizer(std::string name, std::vector<ParamGroup> groups, Options defaults)
    : name_(std::move(name)), defaults_(std::move(defaults)) {
  ANVIL_CHECK(!groups.empty(), "{}: got an empty parameter list", name_);
  for (ParamGroup& g : groups) add_param_group(std::move(g));
}

void Optimizer::add_param_group(ParamGroup group) {
  std::set<const TensorImpl*> seen;
  for (const ParamGroup& g : groups_) {
    for (const Tensor& p : g.params) seen.insert(&p.impl());
  }
  for (const Tensor& p : group.params) {
    ANVIL_CHECK(p.defined() && p.is_leaf() && p.is_floating_point(),
                "{}: can only optimize floating leaf tensors, got {}", type_name(), p.describe());
    ANVIL_CHECK(seen.insert(&p.impl()).second,
                "{}: some parameters appear in more than one parameter group", type_name());
  }
  for (const auto& [key, value] : group.options) {
    ANVIL_CHECK(defaults_.count(key), "{}: unknown option \"{}\" in a parameter group", type_name(),
                key);
  }
  for (const auto& [key, value] : defaults_) group.options.try_emplace(key, value);
  groups_.push_back(std::move(group));
}

void Optimizer::zero_grad(bool set_to_none) {
  for (ParamGroup& g : groups_) {
    for (Tensor& p : g.params) {
      if (!p.grad().defined()) continue;
      if (set_to_none) {
        p.set_grad({});
      } else {
        p.mutable_grad().zero_();
      }
    }
  }
}

std::map<std::string, Tensor>& Optimizer::state(const Tensor& param) {
  return state_[&param.impl()];
}

OptimizerState Optimizer::state_dict() const {
  OptimizerState out;
  int64_t index = 0;
  for (const ParamGroup& g : groups_) {
    out.groups.push_back(g.options);
    std::vector<int64_t>& numbers = out.group_params.emplace_back();
    for (const Tensor& p : g.params) {
      auto it = state_.find(&p.impl());
      if (it != state_.end() && !it->second.empty()) out.state[index] = it->second;
      numbers.push_back(index++);
    }
  }
  return out;
}

void Optimizer::load_state_dict(const OptimizerState& loaded) {
  ANVIL_CHECK(
      loaded.groups.size() == groups_.size() && loaded.group_params.size() == groups_.size(),
      "{}.load_state_dict: the state has {} parameter groups, the optimizer {}", type_name(),
      loaded.groups.size(), groups_.size());
  std::vector<const Tensor*> by_index;
  for (size_t i = 0; i < groups_.size(); ++i) {
    ANVIL_CHECK(loaded.group_params[i].size() == groups_[i].params.size(),
                "{}.load_state_dict: parameter group {} has {} parameters in the state, {} in "
                "the optimizer",
                type_name(), i, loaded.group_params[i].size(), groups_[i].params.size());
    for (const Tensor& p : groups_[i].params) by_index.push_back(&p);
  }
  NoGradGuard no_grad;
  state_.clear();
  for (const auto& [index, tensors] : loaded.state) {
    ANVIL_CHECK(index >= 0 && index < static_cast<int64_t>(by_index.size()),
                "{}.load_state_dict: state for parameter {} of {}", type_name(), index,
                by_index.size());
    const Tensor& p = *by_index[index];
    std::map<std::string, Tensor>& s = state_[&p.impl()];
    for (const auto& [name, t] : tensors) {
      // Moments follow the parameter's dtype and device, as PyTorch casts them; "step" stays.
      s[name] = name == "step" ? t.clone() : t.to(p.device(), p.dtype()).clone();
    }
  }
  for (size_t i = 0; i < groups_.size(); ++i) groups_[i].options = loaded.groups[i];
}

}  // namespace anvil::optim
