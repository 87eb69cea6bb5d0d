#include "nn/modules/container.h"

#include "autograd/checkpoint.h"
#include "autograd/grad_mode.h"
#include "tensor/error.h"

namespace anvil::nn {

namespace {

const ModulePtr& checked_at(const std::vector<ModulePtr>& modules, size_t i, const char* what) {
  ANVIL_CHECK_INDEX(i < modules.size(), "{}: index {} out of range for {} modules", what, i,
                    modules.size());
  return modules[i];
}

}  // namespace

Sequential::Sequential(const std::vector<ModulePtr>& modules) {
  for (const ModulePtr& m : modules) push_back(m);
}

void Sequential::push_back(ModulePtr module) {
  modules_.push_back(register_module(std::to_string(modules_.size()), std::move(module)));
}

Tensor Sequential::run(const Tensor& input) {
  Tensor x = input;
  for (const ModulePtr& m : modules_) x = m->forward(x);
  return x;
}

Tensor Sequential::forward(const Tensor& input) {
  if (!checkpointing_ || !is_training() || !GradMode::is_enabled()) return run(input);
  // The checkpoint records only when an input requires grad; the parameters inside need it too.
  const Tensor x = input.requires_grad() ? input : input.detach().requires_grad_(true);
  return autograd::checkpoint(
      [this](const std::vector<Tensor>& in) { return std::vector{run(in[0])}; }, {x})[0];
}

const ModulePtr& Sequential::operator[](size_t i) const {
  return checked_at(modules_, i, "Sequential");
}

ModuleList::ModuleList(const std::vector<ModulePtr>& modules) {
  for (const ModulePtr& m : modules) push_back(m);
}

void ModuleList::push_back(ModulePtr module) {
  modules_.push_back(register_module(std::to_string(modules_.size()), std::move(module)));
}

const ModulePtr& ModuleList::operator[](size_t i) const {
  return checked_at(modules_, i, "ModuleList");
}

void ModuleDict::insert(const std::string& key, ModulePtr module) {
  register_module(key, std::move(module));
}

bool ModuleDict::contains(const std::string& key) const {
  for (const auto& [name, m] : named_children()) {
    if (name == key) return true;
  }
  return false;
}

const ModulePtr& ModuleDict::at(const std::string& key) const {
  for (const auto& [name, m] : named_children()) {
    if (name == key) return m;
  }
  throw IndexError(
      fmt::format("ModuleDict: no module \"{}\" (keys: {})", key, fmt::join(keys(), ", ")));
}

std::vector<std::string> ModuleDict::keys() const {
  std::vector<std::string> out;
  for (const auto& [name, m] : named_children()) out.push_back(name);
  return out;
}

}  // namespace anvil::nn
