// OptimWrapper and OptimWrapperDict, as MMEngine's (mmengine/optim/optimizer/optimizer_wrapper.py,
// optimizer_wrapper_dict.py): one interface for the training loop over an optimizer of nn/optim,
// with gradient accumulation (MMEngine's last-group rule) and gradient clipping.
//
//   OptimWrapper wrapper(std::make_unique<optim::SGD>(model.parameters(), optim::SGDOptions{.lr =
//   0.1}),
//                        {.accumulative_counts = 4, .clip_grad = ClipGradConfig{.max_norm = 1}});
//   wrapper.initialize_count_status(model, 0, max_iters);
//   for (...) wrapper.update_params(loss);
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/optim/clip_grad.h"
#include "nn/module.h"
#include "nn/optim/optimizer.h"

namespace anvil::engine {

// MMEngine's clip_grad dict: type "norm" (clip_grad_norm_ with max_norm, norm_type,
// error_if_nonfinite) or "value" (clip_grad_value_ with clip_value).
struct ClipGradConfig {
  std::string type = "norm";
  double max_norm = 0;
  double norm_type = 2;
  bool error_if_nonfinite = false;
  double clip_value = 0;
};

struct OptimWrapperOptions {
  int64_t accumulative_counts = 1;
  std::optional<ClipGradConfig> clip_grad = std::nullopt;
};

// Where the wrapper reports scalars for logging ("train/grad_norm"); the MessageHub plugs in here.
using ScalarSink = std::function<void(const std::string& name, double value)>;

// "lr" -> per group, "base_lr" -> the pseudo group's (MMEngine's get_lr() dict).
using GroupValues = std::map<std::string, std::vector<double>>;

// A wrapper's serializable state: the optimizer's, the pseudo group's settings when there are
// several groups, and the loss scaler's under AMP (scale, growth_factor, backoff_factor,
// growth_interval, _growth_tracker, as torch's GradScaler.state_dict()).
struct OptimWrapperState {
  optim::OptimizerState optimizer;
  std::optional<optim::Options> base_param_settings = std::nullopt;
  std::optional<std::map<std::string, double>> loss_scaler = std::nullopt;
};

// What optim_context() enters for the forward pass; leaving the scope leaves it. Nothing on one
// process without autocast; DDP's no_sync (on non-update micro-steps) and autocast hook in here.
class OptimContext {
 public:
  OptimContext() = default;
  explicit OptimContext(std::function<void()> on_exit) : on_exit_(std::move(on_exit)) {}
  OptimContext(OptimContext&& other) noexcept : on_exit_(std::exchange(other.on_exit_, {})) {}
  OptimContext& operator=(OptimContext&&) = delete;
  ~OptimContext() {
    if (on_exit_) on_exit_();
  }

 private:
  std::function<void()> on_exit_;
};

class OptimWrapper {
 public:
  OptimWrapper(std::unique_ptr<optim::Optimizer> optimizer,
               const OptimWrapperOptions& options = {});
  virtual ~OptimWrapper() = default;
  OptimWrapper(const OptimWrapper&) = delete;
  OptimWrapper& operator=(const OptimWrapper&) = delete;

  // scale_loss, backward, then step and zero_grad when should_update().
  void update_params(const Tensor& loss);
  virtual void backward(const Tensor& loss);
  // Clips (on update steps only, as it runs here), then steps the optimizer.
  virtual void step();
  void zero_grad(bool set_to_none = true);
  virtual OptimContext optim_context(nn::Module& model);

  // The runner passes (current iteration, max iterations): accumulation groups then span epochs
  // and only the run's last group is shortened. Warns (stderr) as MMEngine does.
  void initialize_count_status(nn::Module& model, int64_t init_counts, int64_t max_counts);
  bool should_update() const;
  bool should_sync() const;
  // loss / accumulative_counts, or / the remainder in the last, incomplete group.
  Tensor scale_loss(const Tensor& loss) const;
  int64_t inner_count() const { return inner_count_; }
  int64_t accumulative_counts() const { return accumulative_counts_; }

  GroupValues get_lr() const;
  GroupValues get_momentum() const;  // "momentum", or Adam's beta1, or 0 per group

  optim::Optimizer& optimizer() { return *optimizer_; }
  const optim::Optimizer& optimizer() const { return *optimizer_; }
  std::vector<optim::ParamGroup>& param_groups() { return optimizer_->param_groups(); }
  // The groups' options as parameter schedulers see them: every group, then the pseudo group
  // "base_param_settings" (the optimizer's defaults) when there are several groups, so the base
  // lr is scheduled and logged too.
  std::vector<optim::Options*> scheduled_groups();
  const std::optional<optim::Options>& base_param_settings() const { return base_param_settings_; }

  virtual OptimWrapperState state_dict() const;
  virtual void load_state_dict(const OptimWrapperState& state);

  // The total gradient norm of the last clipped step (clip_grad "norm"), for logging.
  std::optional<double> last_grad_norm() const { return last_grad_norm_; }
  // Receives "train/grad_norm" (or "train/grad_value") after every clipped step.
  void set_scalar_sink(ScalarSink sink) { scalar_sink_ = std::move(sink); }

 protected:
  void clip_grad();
  const std::optional<ClipGradConfig>& clip_grad_config() const { return clip_grad_; }

  int64_t inner_count_ = 0;

 private:
  std::unique_ptr<optim::Optimizer> optimizer_;
  int64_t accumulative_counts_;
  std::optional<ClipGradConfig> clip_grad_;
  int64_t max_counts_ = -1;
  int64_t remainder_counts_ = -1;
  std::optional<optim::Options> base_param_settings_;
  std::optional<double> last_grad_norm_;
  ScalarSink scalar_sink_;
};

// Several wrappers by name (GANs: generator and discriminator). The model calls each wrapper
// itself: update_params, backward, step and optim_context are errors here, as in MMEngine.
class OptimWrapperDict {
 public:
  OptimWrapperDict() = default;
  explicit OptimWrapperDict(std::map<std::string, std::unique_ptr<OptimWrapper>> wrappers);

  void update_params(const Tensor& loss);
  void backward(const Tensor& loss);
  void step();
  OptimContext optim_context(nn::Module& model);
  void zero_grad(bool set_to_none = true);
  // A no-op: each wrapper's count status is the model's business.
  void initialize_count_status(nn::Module&, int64_t, int64_t) {}

  // "<name>.lr" (and "<name>.base_lr"), "<name>.momentum".
  GroupValues get_lr() const;
  GroupValues get_momentum() const;

  std::map<std::string, OptimWrapperState> state_dict() const;
  void load_state_dict(const std::map<std::string, OptimWrapperState>& state);

  OptimWrapper& operator[](const std::string& name);
  const OptimWrapper& at(const std::string& name) const;
  bool contains(const std::string& name) const { return wrappers_.count(name) != 0; }
  size_t size() const { return wrappers_.size(); }
  std::vector<std::string> keys() const;
  const std::map<std::string, std::unique_ptr<OptimWrapper>>& items() const { return wrappers_; }

 private:
  std::map<std::string, std::unique_ptr<OptimWrapper>> wrappers_;
};

}  // namespace anvil::engine
