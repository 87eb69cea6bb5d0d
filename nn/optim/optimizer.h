// Optimizers, as torch.optim: parameter groups with their own hyper-parameters, per-parameter
// state, state dicts. They work in a user's own loop (zero_grad, backward, step) and under the
// engine's optimizer wrapper.
//
// A group's hyper-parameters are numbers by name ("lr", "momentum", "weight_decay", "beta1", ...)
// so that parameter schedulers can change them as MMEngine's do (param_group['lr']).
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensor/tensor.h"

namespace anvil::optim {

using Options = std::map<std::string, double>;

struct ParamGroup {
  std::vector<Tensor> params;
  Options options;  // missing entries take the optimizer's defaults

  double& operator[](const std::string& key);
  double at(const std::string& key) const;  // throws, naming the key, when it is missing
};

// An optimizer's state in a serializable form: per parameter (numbered across groups in order)
// its state tensors, and per group its options and the numbers of its parameters.
struct OptimizerState {
  std::map<int64_t, std::map<std::string, Tensor>> state;
  std::vector<Options> groups;
  std::vector<std::vector<int64_t>> group_params;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Updates every parameter that has a gradient (with recording off).
  virtual void step() = 0;
  const std::string& type_name() const { return name_; }
  void zero_grad(bool set_to_none = true);

  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  void add_param_group(ParamGroup group);
  const Options& defaults() const { return defaults_; }

  // The state tensors of a parameter ("momentum_buffer", "exp_avg", "step", ...).
  std::map<std::string, Tensor>& state(const Tensor& param);

  OptimizerState state_dict() const;
  // Checks that the groups and their sizes match, then copies the state in (sharing nothing
  // with `state`) and takes the groups' options.
  void load_state_dict(const OptimizerState& state);

 protected:
  Optimizer(std::string name, std::vector<ParamGroup> groups, Options defaults);

 private:
  std::string name_;
  std::vector<ParamGroup> groups_;
  Options defaults_;
  std::unordered_map<const TensorImpl*, std::map<std::string, Tensor>> state_;
};

}  // namespace anvil::optim
