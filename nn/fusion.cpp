#include "nn/fusion.h"

#include <cstring>
#include <tuple>

#include "anvil.h"
#include "autograd/grad_mode.h"

namespace anvil::nn {

ConvBnFusion::ConvBnFusion(const std::shared_ptr<Conv2d>& conv,
                           const std::shared_ptr<BatchNorm>& bn, std::string conv_path,
                           std::string bn_path)
    : conv_(conv), bn_(bn), conv_path_(std::move(conv_path)), bn_path_(std::move(bn_path)) {}

Tensor ConvBnFusion::conv_forward(const Tensor& input) {
  const std::shared_ptr<Conv2d> conv = conv_.lock();
  const std::shared_ptr<BatchNorm> bn = bn_.lock();
  // MMEngine's condition: fold exactly while the BN is not training. (A BN replaced since leaves
  // the conv on its own.)
  if (!bn || bn->is_training()) {
    return conv->conv_forward(input, conv->weight, optional(conv->bias));
  }
  ANVIL_CHECK(pending_.expired(),
              "efficient_conv_bn_eval: Conv2d '{}' ran again while its previous output, already "
              "normalised by the folded BatchNorm2d '{}', is still alive and never reached that "
              "BN; the conv's output must feed only the BN (turn the fusion off for this module)",
              conv_path_, bn_path_);
  const bool records =
      GradMode::is_enabled() &&
      (conv->weight.requires_grad() || (conv->bias.defined() && conv->bias.requires_grad()) ||
       (bn->weight.defined() && bn->weight.requires_grad()) ||
       (bn->bias.defined() && bn->bias.requires_grad()));
  Tensor weight, bias;
  if (records) {
    std::tie(weight, bias) = fold(*conv, *bn);
  } else {
    std::vector<Stamp> now = stamps(*conv, *bn);
    if (!kept_weight_.defined() || !same(now, kept_stamps_)) {
      std::tie(kept_weight_, kept_bias_) = fold(*conv, *bn);
      kept_stamps_ = std::move(now);
    }
    weight = kept_weight_;
    bias = kept_bias_;
  }
  Tensor out = conv->conv_forward(input, weight, bias);
  pending_ = out.impl_ptr();
  return out;
}

std::pair<Tensor, Tensor> ConvBnFusion::fold(const Conv2d& conv, const BatchNorm& bn) const {
  // Per output channel gamma / sqrt(running_var + eps), with MMEngine's defaults for a BN without
  // affine parameters (gamma 1, beta 0) and a conv without bias (0).
  Tensor coeff = rsqrt(bn.running_var + bn.options.eps);
  if (bn.weight.defined()) coeff = coeff * bn.weight;
  Tensor weight = conv.weight * coeff.reshape({-1, 1, 1, 1});
  Tensor bias = (conv.bias.defined() ? conv.bias - bn.running_mean : -bn.running_mean) * coeff;
  if (bn.bias.defined()) bias = bias + bn.bias;
  return {weight, bias};
}

std::vector<ConvBnFusion::Stamp> ConvBnFusion::stamps(const Conv2d& conv,
                                                      const BatchNorm& bn) const {
  std::vector<Stamp> out;
  for (const Tensor* t :
       {&conv.weight, &conv.bias, &bn.weight, &bn.bias, &bn.running_mean, &bn.running_var}) {
    out.push_back(t->defined() ? Stamp{t->storage(), t->offset(), t->version()} : Stamp{});
  }
  // eps, which a user may change, as a stamp of its bits.
  uint64_t eps_bits;
  std::memcpy(&eps_bits, &bn.options.eps, sizeof eps_bits);
  out.push_back({{}, 0, eps_bits});
  return out;
}

bool ConvBnFusion::same(const std::vector<Stamp>& a, const std::vector<Stamp>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    // A storage that died since (a replaced tensor) locks to null, unlike the live one now.
    if (a[i].storage.lock() != b[i].storage.lock() || a[i].offset != b[i].offset ||
        a[i].version != b[i].version) {
      return false;
    }
  }
  return true;
}

std::optional<Tensor> ConvBnFusion::bn_forward(const Tensor& input) {
  const std::shared_ptr<BatchNorm> bn = bn_.lock();
  if (conv_.expired() || bn->is_training()) return std::nullopt;
  const std::shared_ptr<TensorImpl> expected = pending_.lock();
  ANVIL_CHECK(expected && expected == input.impl_ptr(),
              "efficient_conv_bn_eval: BatchNorm2d '{}' is folded into Conv2d '{}' and must "
              "receive exactly that conv's output, but got {} ({}); the conv's output must feed "
              "only the BN, directly (turn the fusion off for this module)",
              bn_path_, conv_path_, input.describe(),
              expected ? "another tensor than the conv's output"
                       : "the conv has not produced an output for it");
  pending_.reset();
  return input;
}

void ConvBnFusion::unlink() {
  if (const auto conv = conv_.lock()) conv->fusion.reset();
  if (const auto bn = bn_.lock()) bn->fusion.reset();
}

namespace {

std::string join_path(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : name.empty() ? prefix : prefix + "." + name;
}

std::shared_ptr<Module> subtree(Module& root, const std::string& path) {
  return path.empty() ? root.shared_from_this() : root.get_submodule(path);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> turn_on_efficient_conv_bn_eval(
    Module& root, const std::vector<std::string>& paths) {
  std::vector<std::pair<std::string, std::string>> fused;
  for (const std::string& path : paths) {
    for (const auto& [name, m] : subtree(root, path)->named_modules()) {
      const std::string prefix = join_path(path, name);
      const auto& children = m->named_children();
      for (size_t i = 0; i + 1 < children.size(); ++i) {
        const auto conv = std::dynamic_pointer_cast<Conv2d>(children[i].second);
        const auto bn = std::dynamic_pointer_cast<BatchNorm2d>(children[i + 1].second);
        if (!conv || !bn || conv->fusion || bn->fusion || !bn->running_var.defined() ||
            bn->num_features != conv->out_channels) {
          continue;
        }
        const auto link =
            std::make_shared<ConvBnFusion>(conv, bn, join_path(prefix, children[i].first),
                                           join_path(prefix, children[i + 1].first));
        conv->fusion = link;
        bn->fusion = link;
        fused.emplace_back(link->conv_path(), link->bn_path());
      }
    }
  }
  return fused;
}

void turn_off_efficient_conv_bn_eval(Module& root, const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    for (const auto& entry : subtree(root, path)->named_modules()) {
      std::shared_ptr<ConvBnFusion> link;
      if (const auto* conv = dynamic_cast<const Conv2d*>(entry.second.get())) link = conv->fusion;
      if (const auto* bn = dynamic_cast<const BatchNorm*>(entry.second.get())) link = bn->fusion;
      if (link) link->unlink();
    }
  }
}

}  // namespace anvil::nn
