// The autograd methods of Tensor (declared in tensor/tensor.h, which cannot see autograd/).
#include "autograd/engine.h"
#include "autograd/meta.h"

namespace anvil {

using autograd::AutogradMeta;
using autograd::ensure_meta;
using autograd::meta_of;

bool Tensor::requires_grad() const {
  return autograd::requires_grad(*this);
}

Tensor& Tensor::requires_grad_(bool requires_grad) {
  AutogradMeta* meta = meta_of(*this);
  if (meta && meta->grad_fn) {
    ANVIL_CHECK(requires_grad,
                "requires_grad_: you can only change requires_grad flags of leaf tensors; {} was "
                "computed by {}. To use it without gradients, use detach()",
                describe(), meta->grad_fn->name());
    return *this;
  }
  ANVIL_CHECK(!requires_grad || is_floating_point(),
              "requires_grad_: only tensors of floating point dtype can require gradients, got {}",
              describe());
  if (meta || requires_grad) ensure_meta(*this).requires_grad = requires_grad;
  return *this;
}

const Tensor& Tensor::grad() const {
  static const Tensor undefined;
  const AutogradMeta* meta = meta_of(*this);
  return meta ? meta->grad : undefined;
}

Tensor& Tensor::mutable_grad() {
  return ensure_meta(*this).grad;
}

void Tensor::set_grad(const Tensor& grad) {
  if (grad.defined()) {
    ANVIL_CHECK(grad.shape() == shape() && grad.dtype() == dtype() && grad.device() == device(),
                "set_grad: the gradient {} must have the shape, dtype and device of the tensor {}",
                grad.describe(), describe());
  }
  ensure_meta(*this).grad = grad;
}

bool Tensor::is_leaf() const {
  const AutogradMeta* meta = meta_of(*this);
  return !meta || !meta->grad_fn;
}

Tensor Tensor::detach() const {
  const TensorImpl& src = impl();
  auto alias = std::make_shared<TensorImpl>();
  alias->shape = src.shape;
  alias->strides = src.strides;
  alias->offset = src.offset;
  alias->dtype = src.dtype;
  alias->storage = src.storage;
  return Tensor(std::move(alias));
}

void Tensor::retain_grad() const {
  ANVIL_CHECK(requires_grad(), "retain_grad: {} does not require grad", describe());
  AutogradMeta& meta = ensure_meta(*this);
  if (!meta.grad_fn || meta.retains_grad) return;  // leaves keep their gradient anyway
  meta.grad_fn->set_retains_grad(meta.output_nr,
                                 std::static_pointer_cast<AutogradMeta>(impl().autograd_meta));
  meta.retains_grad = true;
}

bool Tensor::retains_grad() const {
  const AutogradMeta* meta = meta_of(*this);
  return meta && meta->retains_grad;
}

std::shared_ptr<autograd::Node> Tensor::grad_fn() const {
  const AutogradMeta* meta = meta_of(*this);
  return meta ? meta->grad_fn : nullptr;
}

std::string Tensor::grad_fn_name() const {
  const AutogradMeta* meta = meta_of(*this);
  return meta && meta->grad_fn ? meta->grad_fn->name() : std::string();
}

void Tensor::backward(const Tensor& grad_output, bool retain_graph) const {
  autograd::backward({*this}, {grad_output}, retain_graph);
}

HookHandle Tensor::register_hook(std::function<Tensor(const Tensor&)> hook) const {
  ANVIL_CHECK(requires_grad(),
              "register_hook: cannot register a hook on {}, which does not require grad",
              describe());
  AutogradMeta& meta = ensure_meta(*this);
  if (meta.grad_fn) {
    const uint64_t id = meta.grad_fn->add_tensor_hook(meta.output_nr, std::move(hook));
    return HookHandle([node = std::weak_ptr<autograd::Node>(meta.grad_fn), id] {
      if (auto n = node.lock()) n->remove_tensor_hook(id);
    });
  }
  const uint64_t id = autograd::next_hook_id();
  meta.hooks.push_back({0, id, std::move(hook)});
  return HookHandle([weak = std::weak_ptr<AutogradMetaBase>(impl().autograd_meta), id] {
    if (auto m = weak.lock()) {
      std::erase_if(static_cast<AutogradMeta&>(*m).hooks,
                    [id](const autograd::TensorHookEntry& h) { return h.id == id; });
    }
  });
}

HookHandle Tensor::register_post_accumulate_grad_hook(std::function<void(Tensor&)> hook) const {
  ANVIL_CHECK(is_leaf() && requires_grad(),
              "register_post_accumulate_grad_hook: {} must be a leaf that requires grad",
              describe());
  AutogradMeta& meta = ensure_meta(*this);
  const uint64_t id = autograd::next_hook_id();
  meta.post_accumulate_hooks.emplace_back(id, std::move(hook));
  return HookHandle([weak = std::weak_ptr<AutogradMetaBase>(impl().autograd_meta), id] {
    if (auto m = weak.lock()) {
      std::erase_if(static_cast<AutogradMeta&>(*m).post_accumulate_hooks,
                    [id](const auto& h) { return h.first == id; });
    }
  });
}

}  // namespace anvil
