#include "nn/module.h"

#include <cxxabi.h>

#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include "autograd/grad_mode.h"
#include "tensor/error.h"

namespace anvil::nn {

std::string Module::type_name() const {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(
      abi::__cxa_demangle(typeid(*this).name(), nullptr, nullptr, &status), std::free);
  const std::string name = status == 0 ? demangled.get() : typeid(*this).name();
  const size_t colon = name.rfind("::");
  return colon == std::string::npos ? name : name.substr(colon + 2);
}

Tensor Module::forward(const Tensor&) {
  throw NotSupportedError(fmt::format(
      "{}: this module has no single-tensor forward(); call its own forward method", type_name()));
}

// ---- registration -------------------------------------------------------------------------------

void Module::check_new_name(const std::string& name, const char* what) const {
  ANVIL_CHECK(!name.empty() && name.find('.') == std::string::npos,
              "{}: {} name \"{}\" must be non-empty and contain no '.'", type_name(), what, name);
  bool taken = false;
  for (const Slot& s : parameters_) taken |= s.name == name;
  for (const Slot& s : buffers_) taken |= s.name == name;
  for (const auto& child : children_) taken |= child.first == name;
  ANVIL_CHECK(!taken, "{}: cannot register {} \"{}\": the name is already taken", type_name(), what,
              name);
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_new_name(name, "parameter");
  if (tensor.defined() && requires_grad) tensor.requires_grad_();
  parameters_.push_back({name, tensor, true});
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor, bool persistent) {
  check_new_name(name, "buffer");
  buffers_.push_back({name, tensor, persistent});
  return tensor;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name, "submodule");
  ANVIL_CHECK(module != nullptr, "{}: submodule \"{}\" is null", type_name(), name);
  children_.emplace_back(name, std::move(module));
}

void Module::replace_module(const std::string& name, std::shared_ptr<Module> module) {
  for (auto& [n, m] : children_) {
    if (n == name) {
      m = std::move(module);
      return;
    }
  }
  throw ValueError(fmt::format("{}: has no submodule \"{}\" to replace", type_name(), name));
}

// ---- access -------------------------------------------------------------------------------------

template <class Fn>
void Module::visit_tensors(const std::string& prefix, bool recurse, bool buffers_too,
                           Fn&& fn) const {
  for (const Slot& s : buffers_too ? buffers_ : parameters_) {
    if (s.tensor.defined()) fn(prefix + s.name, s);
  }
  if (!recurse) return;
  for (const auto& [name, child] : children_) {
    child->visit_tensors(prefix + name + ".", true, buffers_too, fn);
  }
}

namespace {

// Keeps the first name of each distinct tensor.
NamedTensors unique(const std::vector<std::pair<std::string, Tensor>>& all) {
  NamedTensors out;
  std::set<const TensorImpl*> seen;
  for (const auto& [name, t] : all) {
    if (seen.insert(&t.impl()).second) out.emplace_back(name, t);
  }
  return out;
}

std::vector<Tensor> values_of(const NamedTensors& named) {
  std::vector<Tensor> out;
  out.reserve(named.size());
  for (const auto& entry : named) out.push_back(entry.second);
  return out;
}

}  // namespace

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors all;
  visit_tensors("", recurse, false,
                [&](const std::string& n, const Slot& s) { all.emplace_back(n, s.tensor); });
  return unique(all);
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  return values_of(named_parameters(recurse));
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors all;
  visit_tensors("", recurse, true,
                [&](const std::string& n, const Slot& s) { all.emplace_back(n, s.tensor); });
  return unique(all);
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  return values_of(named_buffers(recurse));
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules() {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out{{"", shared_from_this()}};
  for (const auto& [name, child] : children_) {
    for (auto& [sub, m] : child->named_modules()) {
      out.emplace_back(sub.empty() ? name : name + "." + sub, std::move(m));
    }
  }
  return out;
}

std::shared_ptr<Module> Module::get_submodule(const std::string& path) {
  std::shared_ptr<Module> current = shared_from_this();
  std::stringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '.')) {
    std::shared_ptr<Module> next;
    for (const auto& [name, child] : current->children_) {
      if (name == part) next = child;
    }
    ANVIL_CHECK(next != nullptr, "get_submodule: {} has no submodule \"{}\" (in path \"{}\")",
                current->type_name(), part, path);
    current = std::move(next);
  }
  return current;
}

// ---- modes and conversions ----------------------------------------------------------------------

Module& Module::train(bool mode) {
  training_ = mode;
  for (auto& child : children_) child.second->train(mode);
  return *this;
}

void Module::convert(const std::function<Tensor(const Tensor&)>& fn) {
  NoGradGuard no_grad;
  for (Slot& s : parameters_) {
    if (!s.tensor.defined()) continue;
    s.tensor.set_data(fn(s.tensor));
    if (s.tensor.grad().defined()) s.tensor.mutable_grad() = fn(s.tensor.grad());
  }
  for (Slot& s : buffers_) {
    if (s.tensor.defined()) s.tensor.set_data(fn(s.tensor));
  }
  for (auto& child : children_) child.second->convert(fn);
}

Module& Module::to(Device device) {
  convert([&](const Tensor& t) { return t.detach().to(device); });
  return *this;
}

Module& Module::to(DType dtype) {
  convert(
      [&](const Tensor& t) { return t.is_floating_point() ? t.detach().to(dtype) : t.detach(); });
  return *this;
}

Module& Module::to(Device device, DType dtype) {
  convert([&](const Tensor& t) {
    return t.is_floating_point() ? t.detach().to(device, dtype) : t.detach().to(device);
  });
  return *this;
}

void Module::zero_grad(bool set_to_none) {
  for (Tensor& p : parameters()) {
    if (!p.grad().defined()) continue;
    if (set_to_none) {
      p.set_grad({});
    } else {
      p.mutable_grad().zero_();
    }
  }
}

Module& Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& child : children_) child.second->apply(fn);
  fn(*this);
  return *this;
}

// ---- state --------------------------------------------------------------------------------------

NamedTensors Module::state_dict() const {
  NamedTensors out;
  const auto add = [&](const std::string& name, const Slot& s) {
    if (s.persistent) out.emplace_back(name, s.tensor.detach());
  };
  // Per module: its parameters, then its buffers, then its children (PyTorch's order).
  std::function<void(const Module&, const std::string&)> walk = [&](const Module& m,
                                                                    const std::string& prefix) {
    m.visit_tensors(prefix, false, false, add);
    m.visit_tensors(prefix, false, true, add);
    for (const auto& [name, child] : m.children_) walk(*child, prefix + name + ".");
  };
  walk(*this, "");
  return out;
}

LoadResult Module::load_state_dict(const NamedTensors& state, bool strict) {
  std::map<std::string, Tensor> given;
  for (const auto& [name, t] : state) given.emplace(name, t);
  LoadResult result;
  std::vector<std::string> mismatches;
  const NamedTensors own = state_dict();
  for (const auto& [name, target] : own) {
    auto it = given.find(name);
    if (it == given.end()) {
      result.missing_keys.push_back(name);
    } else if (it->second.shape() != target.shape()) {
      mismatches.push_back(fmt::format("{}: checkpoint {} vs model {}", name,
                                       shape_str(it->second.shape()), shape_str(target.shape())));
    }
  }
  std::set<std::string> own_names;
  for (const auto& entry : own) own_names.insert(entry.first);
  for (const auto& entry : state) {
    if (!own_names.count(entry.first)) result.unexpected_keys.push_back(entry.first);
  }
  ANVIL_CHECK(mismatches.empty(), "load_state_dict ({}): size mismatch for {}", type_name(),
              fmt::join(mismatches, "; "));
  ANVIL_CHECK(!strict || (result.missing_keys.empty() && result.unexpected_keys.empty()),
              "load_state_dict ({}): missing keys [{}], unexpected keys [{}]", type_name(),
              fmt::join(result.missing_keys, ", "), fmt::join(result.unexpected_keys, ", "));
  NoGradGuard no_grad;
  for (auto [name, target] : own) {
    auto it = given.find(name);
    if (it != given.end()) target.copy_(it->second);
  }
  return result;
}

// ---- weight initialisation ----------------------------------------------------------------------

void Module::share_init_record(const std::shared_ptr<init::InitRecord>& record) {
  init_record_ = record;
  for (auto& child : children_) child.second->share_init_record(record);
}

void Module::init_weights() {
  const bool top_level = init_record_ == nullptr;
  // Clears the shared record when the top-level call ends, also by an exception.
  struct RecordScope {
    Module* top;
    ~RecordScope() {
      if (top) top->share_init_record(nullptr);
    }
  } scope{top_level ? this : nullptr};
  if (top_level) {
    auto record = std::make_shared<init::InitRecord>();
    NoGradGuard no_grad;
    for (const auto& [name, p] : named_parameters()) {
      record->params[&p.impl()] = {
          fmt::format("The value is the same before and after calling `init_weights` of {} ",
                      type_name()),
          p.detach().mean().item<double>()};
    }
    share_init_record(record);
  }
  if (is_init_) {
    init_record_->log.push_back(
        fmt::format("init_weights of {} has been called more than once.", type_name()));
  } else {
    std::vector<init::InitCfg> others, pretrained;
    for (const init::InitCfg& cfg : init_cfg) {
      (cfg.type == "Pretrained" ? pretrained : others).push_back(cfg);
    }
    init::initialize(*this, others);
    for (const auto& [name, child] : children_) {
      if (child->is_init_) continue;
      child->init_weights();
      init::update_init_info(
          *child,
          fmt::format("Initialized by user-defined `init_weights` in {} ", child->type_name()));
    }
    init::initialize(*this, pretrained);
    is_init_ = true;
  }
  if (!top_level) return;
  std::string info;
  for (const std::string& line : init_record_->log) info += line + "\n";
  info += "Name of parameter - Initialization information\n";
  for (const auto& [name, p] : named_parameters()) {
    info += fmt::format("\n{} - {}: \n{} \n", name, shape_str(p.shape()),
                        init_record_->params.at(&p.impl()).info);
  }
  init_info_ = std::move(info);
}

// ---- printing -----------------------------------------------------------------------------------

std::string Module::repr() const {
  std::string out = type_name() + "(";
  const std::string extra = extra_repr();
  if (children_.empty()) return out + extra + ")";
  out += "\n";
  if (!extra.empty()) out += "  " + extra + "\n";
  for (const auto& [name, child] : children_) {
    std::string sub = child->repr();
    size_t pos = 0;
    while ((pos = sub.find('\n', pos)) != std::string::npos) {
      sub.insert(pos + 1, "  ");
      pos += 3;
    }
    out += "  (" + name + "): " + sub + "\n";
  }
  return out + ")";
}

}  // namespace anvil::nn
