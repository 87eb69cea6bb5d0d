// Conv-BN eval fusion, as MMEngine's efficient_conv_bn_eval (arXiv 2305.11624): while a
// BatchNorm2d that follows a Conv2d is frozen (not training), the pair runs as ONE convolution
// with the BN folded into the weight and bias on the fly,
//   W' = W * gamma / sqrt(running_var + eps)           (per output channel)
//   b' = beta + (b - running_mean) * gamma / sqrt(running_var + eps),
// computed with the differentiable ops, so gradients still reach W, b, gamma and beta (unlike a
// static fold), and the conv's own output is never materialised. Without autograd (inference),
// W' and b' are kept and reused until one of their operands changes (in place, by version, or
// replaced): that costs one copy of the conv's weight. While the BN trains, the pair runs as conv
// then BN. Parameters, buffers and state-dict names do not change.
//
//   nn::turn_on_efficient_conv_bn_eval(*model, {"layer1", "layer2"});  // cfg key's paths
//
// There is no graph tracing: pairs are found structurally, a Conv2d child registered immediately
// before a BatchNorm2d child of the same parent, with out_channels == num_features and running
// statistics (Sequential, ResNet blocks and downsample branches are written so). A forward that
// does not feed the conv's output straight into its BN cannot go silently wrong: the BN checks
// that its input is the very tensor its conv just returned, and a conv whose previous folded
// output is still alive and never reached the BN refuses to run again; both throw naming the two
// module paths. What the check cannot see is another reader of that output besides the BN (it
// would read normalised values): as MMEngine requires, the conv's output must feed only the BN.
// Turn the fusion off for a pair before replacing either of its modules (replace_module). Like
// the BN's own running statistics, a fused pair is not meant for concurrent forwards.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"
#include "nn/modules/conv.h"
#include "nn/modules/normalization.h"
#include "tensor/storage.h"

namespace anvil::nn {

// The link between one fused Conv2d and its BatchNorm2d; both hold it.
class ConvBnFusion {
 public:
  ConvBnFusion(const std::shared_ptr<Conv2d>& conv, const std::shared_ptr<BatchNorm>& bn,
               std::string conv_path, std::string bn_path);
  // Conv2d::forward of a fused conv: the folded convolution while the BN is frozen (its output
  // is already normalised), else the plain one.
  Tensor conv_forward(const Tensor& input);
  // BatchNorm::forward of a fused BN: while frozen, its input (checked to be its conv's folded
  // output) unchanged; nullopt while training (the BN then runs as usual).
  std::optional<Tensor> bn_forward(const Tensor& input);

  // Detaches both modules from this link: each runs on its own again.
  void unlink();

  const std::string& conv_path() const { return conv_path_; }
  const std::string& bn_path() const { return bn_path_; }

 private:
  // W' and b', computed with the differentiable ops (recording autograd when gradients are on).
  std::pair<Tensor, Tensor> fold(const Conv2d& conv, const BatchNorm& bn) const;
  // Where the fold's operands (W, b, gamma, beta, running_mean, running_var) and eps stood when
  // the kept W' and b' were made.
  struct Stamp {
    std::weak_ptr<StorageImpl> storage;
    int64_t offset = 0;
    uint64_t version = 0;
  };
  std::vector<Stamp> stamps(const Conv2d& conv, const BatchNorm& bn) const;
  static bool same(const std::vector<Stamp>& a, const std::vector<Stamp>& b);

  std::weak_ptr<Conv2d> conv_;
  std::weak_ptr<BatchNorm> bn_;
  std::string conv_path_, bn_path_;
  std::weak_ptr<TensorImpl> pending_;  // the folded output the BN has not received yet
  // Without autograd, W' and b' are kept while their operands are unchanged: no fold per call,
  // and the convolution's prepared copy of W' (kept per weight version) stays valid.
  std::vector<Stamp> kept_stamps_;
  Tensor kept_weight_, kept_bias_;
};

// Enables the fusion for every Conv2d-BatchNorm2d pair in the sub-trees at `paths` (dotted
// module paths from `root`, "" for root itself; root must be owned by a shared_ptr). Pairs
// already fused stay as they are. Returns the (conv path, bn path) pairs fused now.
std::vector<std::pair<std::string, std::string>> turn_on_efficient_conv_bn_eval(
    Module& root, const std::vector<std::string>& paths);
// Disables it again in those sub-trees: every conv and BN there runs on its own.
void turn_off_efficient_conv_bn_eval(Module& root, const std::vector<std::string>& paths);

}  // namespace anvil::nn
