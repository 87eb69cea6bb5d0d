// Building an optimizer wrapper for a model, as MMEngine's build_optim_wrapper with its
// DefaultOptimWrapperConstructor (mmengine/optim/optimizer/default_constructor.py): the optimizer
// by name over the model's parameters, per-parameter groups from paramwise_cfg, the wrapper by
// type. The config layer maps an `optim_wrapper` table onto OptimWrapperConfig.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/optim/amp_optim_wrapper.h"
#include "nn/module.h"

namespace anvil::engine {

// `optimizer = {type = "SGD", lr = 0.1, momentum = 0.9}`: the options by the names of nn/optim
// (lr, momentum, dampening, weight_decay, nesterov, beta1, beta2, eps, amsgrad, maximize; flags
// as 0/1), missing ones at the optimizer's defaults.
struct OptimizerConfig {
  std::string type = "SGD";  // "SGD", "Adam" or "AdamW"
  optim::Options options = {};
};

// Builds the optimizer over parameter groups (each group's options override the config's).
// Group options the optimizer does not know (custom_keys entries such as lr_mult) are kept in the
// built groups, as MMEngine copies them into its param groups.
std::unique_ptr<optim::Optimizer> build_optimizer(const OptimizerConfig& config,
                                                  std::vector<optim::ParamGroup> groups);

// MMEngine's paramwise_cfg. With it every parameter becomes its own group.
struct ParamwiseCfg {
  std::optional<double> bias_lr_mult = std::nullopt;
  std::optional<double> bias_decay_mult = std::nullopt;
  std::optional<double> norm_decay_mult = std::nullopt;
  std::optional<double> dwconv_decay_mult = std::nullopt;
  std::optional<double> flat_decay_mult = std::nullopt;
  bool bypass_duplicate = false;
  // Substring of the full parameter name -> {lr_mult, decay_mult, other options}; the longest key
  // is tried first (ties: alphabetical) and the first match wins over every other rule.
  std::map<std::string, std::map<std::string, double>> custom_keys = {};
};

// `optim_wrapper = {type = "OptimWrapper", optimizer = {...}, clip_grad = ..., ...}`.
struct OptimWrapperConfig {
  std::string type = "OptimWrapper";  // or "AmpOptimWrapper"
  OptimizerConfig optimizer = {};
  int64_t accumulative_counts = 1;
  std::optional<ClipGradConfig> clip_grad = std::nullopt;
  LossScale loss_scale = std::string("dynamic");  // AmpOptimWrapper only
  std::string dtype = "float16";                  // AmpOptimWrapper only
  std::optional<ParamwiseCfg> paramwise_cfg = std::nullopt;
};

// The parameter groups of DefaultOptimWrapperConstructor.add_params: one per parameter, in
// module order, with "lr" / "weight_decay" set where a rule applies (base_lr and base_wd are the
// optimizer config's lr and weight_decay). Parameters that do not require grad are skipped.
std::vector<optim::ParamGroup> paramwise_groups(nn::Module& model, const ParamwiseCfg& cfg,
                                                double base_lr, std::optional<double> base_wd);

std::unique_ptr<OptimWrapper> build_optim_wrapper(nn::Module& model,
                                                  const OptimWrapperConfig& config);

// The config layer's mappings (defined with the registrations, engine/optim/registrations.cpp):
// an `optimizer` table without its type (torch.optim's keys: lr, momentum, betas = [b1, b2], ...)
// and an `optim_wrapper` table (type, optimizer, accumulative_counts, clip_grad, loss_scale,
// dtype, paramwise_cfg). Unknown keys are errors listing the valid ones.
class Config;
OptimizerConfig optimizer_config(const std::string& type, const Config& table);
OptimWrapperConfig optim_wrapper_config(const Config& table);

// MMEngine's auto_scale_lr: when enabled, every group's lr (the pseudo group's too) is
// multiplied by real_batch_size / base_batch_size, where real_batch_size is world size × the
// train loader's batch size. Returns the ratio, or nothing when disabled.
struct AutoScaleLrCfg {
  bool enable = false;
  int64_t base_batch_size = 0;
};
std::optional<double> auto_scale_lr(OptimWrapper& wrapper, const AutoScaleLrCfg& cfg,
                                    int64_t real_batch_size);
std::optional<double> auto_scale_lr(OptimWrapperDict& wrappers, const AutoScaleLrCfg& cfg,
                                    int64_t real_batch_size);

}  // namespace anvil::engine
