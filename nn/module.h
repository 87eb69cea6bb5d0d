// Module: the unit networks are built from, as torch.nn.Module. A module owns named parameters
// (tensors that require grad), buffers (state that is not trained, e.g. running statistics) and
// child modules, all in registration order, and gives them PyTorch's dotted names
// ("layer1.0.bn1.running_mean") in named_parameters() and state_dict().
//
//   struct Net : nn::Module {
//     std::shared_ptr<nn::Linear> fc = register_module("fc", std::make_shared<nn::Linear>(4, 2));
//     Tensor forward(const Tensor& x) override { return fc->forward(x).relu(); }
//   };
//
// Members hold Tensor handles to the registered tensors themselves: to() and load_state_dict()
// change the tensors in place (Tensor::set_data, copy_), so the members stay valid.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nn/init.h"
#include "tensor/tensor.h"

namespace anvil::nn {

// Name -> tensor in a fixed order (a state dict).
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// A registered tensor that may be missing (bias=False) as the functional ops take it.
inline std::optional<Tensor> optional(const Tensor& t) {
  return t.defined() ? std::optional<Tensor>(t) : std::nullopt;
}

// What load_state_dict found (when not strict, or before it threw).
struct LoadResult {
  std::vector<std::string> missing_keys;     // in the module, not in the state dict
  std::vector<std::string> unexpected_keys;  // in the state dict, not in the module
};

class Module : public std::enable_shared_from_this<Module> {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The class name shown by repr() ("Linear").
  virtual std::string type_name() const;
  // The part inside the parentheses of repr() ("in_features=4, out_features=2, bias=True").
  virtual std::string extra_repr() const { return ""; }
  // Modules with one tensor in and one out (layers, Sequential) override this.
  virtual Tensor forward(const Tensor& input);
  Tensor operator()(const Tensor& input) { return forward(input); }

  // ---- registration (returns what it stores) ------------------------------------------------
  // An undefined tensor registers a missing parameter (bias=False): it is skipped everywhere.
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  // Non-persistent buffers are not part of the state dict.
  Tensor register_buffer(const std::string& name, Tensor tensor, bool persistent = true);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }
  // Replaces a registered child (Conv-BN fusion, model surgery).
  void replace_module(const std::string& name, std::shared_ptr<Module> module);

  // ---- access -----------------------------------------------------------------------------------
  // Shared tensors and modules appear once (the first name), as in PyTorch.
  NamedTensors named_parameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  // This module ("") and every descendant, depth first.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_modules();
  // The descendant at a dotted path ("layer1.0.conv1"); throws when there is none.
  std::shared_ptr<Module> get_submodule(const std::string& path);

  // ---- modes and conversions --------------------------------------------------------------------
  Module& train(bool mode = true);
  Module& eval() { return train(false); }
  bool is_training() const { return training_; }
  // Moves parameters, buffers and gradients; a dtype applies to floating tensors only.
  Module& to(Device device);
  Module& to(DType dtype);
  Module& to(Device device, DType dtype);
  // Gradients to none (the default, as PyTorch 2) or to zero.
  void zero_grad(bool set_to_none = true);
  // fn on every descendant, children first, then on this module.
  Module& apply(const std::function<void(Module&)>& fn);

  // ---- state
  // --------------------------------------------------------------------------------------
  // Parameters and persistent buffers, detached (they share storage with the module's tensors).
  NamedTensors state_dict() const;
  // Copies values into the module's tensors (converting dtype and device). A shape mismatch is
  // always an error; missing and unexpected keys are errors when strict. Messages list the keys.
  LoadResult load_state_dict(const NamedTensors& state, bool strict = true);

  // PyTorch's printed form of the module tree.
  std::string repr() const;

  // ---- weight initialisation (MMEngine's BaseModule) --------------------------------------------
  // The entries init_weights() applies (nn/init.h describes them).
  std::vector<init::InitCfg> init_cfg;
  // MMEngine's order: this module's entries except Pretrained, then each child's init_weights()
  // (so a child's own entries override its parent's), then the Pretrained entries (they win over
  // everything). Runs once: later calls only log that they were ignored. Subclasses may
  // override it (as in MMEngine); what they change is recorded as "user-defined".
  virtual void init_weights();
  bool is_init() const { return is_init_; }
  void set_is_init(bool value) { is_init_ = value; }
  // After a top-level init_weights(): its log lines, then "Name of parameter - Initialization
  // information" and, per parameter, "\n<name> - <shape>: \n<what initialised it> \n" (what
  // MMEngine writes to the log); empty before.
  const std::string& init_info() const { return init_info_; }
  // The provenance record shared by the tree during a top-level init_weights(), else null.
  init::InitRecord* init_record() const { return init_record_.get(); }

 private:
  struct Slot {
    std::string name;
    Tensor tensor;
    bool persistent = true;
  };
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const std::string& name, const char* what) const;
  template <class Fn>
  void visit_tensors(const std::string& prefix, bool recurse, bool buffers_too, Fn&& fn) const;
  void convert(const std::function<Tensor(const Tensor&)>& fn);

  void share_init_record(const std::shared_ptr<init::InitRecord>& record);

  bool training_ = true;
  bool is_init_ = false;
  std::shared_ptr<init::InitRecord> init_record_;
  std::string init_info_;
  std::vector<Slot> parameters_;
  std::vector<Slot> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace anvil::nn
