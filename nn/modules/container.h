// Containers: Sequential (runs its children in order), ModuleList and ModuleDict (hold children
// for a parent's own forward), with PyTorch's child names ("0", "1", ... or the keys).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"

namespace anvil::nn {

using ModulePtr = std::shared_ptr<Module>;

class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(const std::vector<ModulePtr>& modules);
  void push_back(ModulePtr module);
  Tensor forward(const Tensor& input) override;
  size_t size() const { return modules_.size(); }
  const ModulePtr& operator[](size_t i) const;
  // Activation checkpointing (MMEngine's activation_checkpointing key): while training with
  // autograd, the children run without keeping their activations and are run again in backward
  // (autograd::checkpoint).
  void set_activation_checkpointing(bool on) { checkpointing_ = on; }
  bool activation_checkpointing() const { return checkpointing_; }

 private:
  Tensor run(const Tensor& input);
  std::vector<ModulePtr> modules_;
  bool checkpointing_ = false;
};

class ModuleList : public Module {
 public:
  ModuleList() = default;
  explicit ModuleList(const std::vector<ModulePtr>& modules);
  void push_back(ModulePtr module);
  size_t size() const { return modules_.size(); }
  const ModulePtr& operator[](size_t i) const;
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 private:
  std::vector<ModulePtr> modules_;
};

class ModuleDict : public Module {
 public:
  ModuleDict() = default;
  void insert(const std::string& key, ModulePtr module);
  bool contains(const std::string& key) const;
  const ModulePtr& at(const std::string& key) const;
  std::vector<std::string> keys() const;
  size_t size() const { return named_children().size(); }
};

}  // namespace anvil::nn
