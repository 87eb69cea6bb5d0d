// MMEngine's averaged models (mmengine/model/averaged_model.py): a copy of a model's weights that
// follows the training as an average of it, for EMAHook.
//
//   ExponentialMovingAverage  avg = (1 - momentum) * avg + momentum * x   (avg.lerp_(x, momentum))
//   MomentumAnnealingEMA      the same with momentum max(momentum, gamma / (gamma + steps))
//   StochasticWeightAverage   avg += (x - avg) / (steps / interval + 1)
//
// The copy holds every state-dict entry of the model (parameters and persistent buffers) as plain
// tensors under the model's names. update_parameters: the first update copies the model; later,
// every `interval`-th update averages the floating parameters (and floating buffers with
// update_buffers; without it the buffers follow the model at every update); `steps` counts the
// updates.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/checkpoint/checkpoint.h"
#include "nn/module.h"

namespace anvil::engine {

struct AveragedModelOptions {
  int64_t interval = 1;
  bool update_buffers = false;
  std::optional<Device> device = std::nullopt;  // unset: where the model's tensors are
};

class BaseAveragedModel {
 public:
  BaseAveragedModel(const nn::Module& model, AveragedModelOptions options);
  virtual ~BaseAveragedModel() = default;
  BaseAveragedModel(const BaseAveragedModel&) = delete;
  BaseAveragedModel& operator=(const BaseAveragedModel&) = delete;

  virtual std::string name() const = 0;

  // One update from the model (its state dict has the copy's names in the copy's order).
  void update_parameters(const nn::Module& model);
  // Trades the averaged entries (the parameters, and the buffers with update_buffers) with the
  // model's: EMAHook's swap before and after evaluation.
  void swap_parameters(nn::Module& model);

  // The averaged copy by the model's state-dict names (MMEngine's ema_model.module).
  const nn::NamedTensors& module() const { return module_; }
  int64_t steps() const { return steps_; }
  // A run that starts over from iteration 0 starts the average over (0: the next update copies).
  void set_steps(int64_t steps) { steps_ = steps; }
  const AveragedModelOptions& options() const { return options_; }

  // MMEngine's state dict: "steps" (a 0-d int64 tensor), then "module.<name>" per entry.
  nn::NamedTensors state_dict() const;
  // Copies a state_dict() in. Shapes must match; strict: a missing or unexpected key is an error
  // (a ValueError listing them), otherwise the entries present are loaded and the rest reported.
  LoadWeightsResult load_state_dict(const nn::NamedTensors& state, bool strict);
  // Copies a model's state dict (the names of module()) into the copy, `steps` unchanged.
  // strict: a missing, unexpected or mismatched key is an error; otherwise entries of another
  // shape are skipped and reported, as load_weights does.
  LoadWeightsResult load_module(const nn::NamedTensors& state, bool strict);

 protected:
  // avg_func: averages `source` into `averaged` in place at update `steps` (>= 1).
  virtual void average(Tensor& averaged, const Tensor& source, int64_t steps) = 0;

 private:
  LoadWeightsResult load(const nn::NamedTensors& state, bool strict, bool with_steps);
  // The model's state dict, checked to have the copy's names in order.
  nn::NamedTensors source(const nn::Module& model) const;

  AveragedModelOptions options_;
  nn::NamedTensors module_;
  std::vector<bool> averaged_;
  int64_t steps_ = 0;
};

class ExponentialMovingAverage : public BaseAveragedModel {
 public:
  // 0 < momentum < 1 (a small number: the weight of the new value).
  ExponentialMovingAverage(const nn::Module& model, double momentum = 0.0002,
                           AveragedModelOptions options = {});
  std::string name() const override { return "ExponentialMovingAverage"; }
  double momentum() const { return momentum_; }

 protected:
  void average(Tensor& averaged, const Tensor& source, int64_t steps) override;

 private:
  double momentum_;
};

class MomentumAnnealingEMA final : public ExponentialMovingAverage {
 public:
  // gamma > 0: early updates weigh the model by gamma / (gamma + steps) until that falls below
  // momentum.
  MomentumAnnealingEMA(const nn::Module& model, double momentum = 0.0002, double gamma = 100,
                       AveragedModelOptions options = {});
  std::string name() const override { return "MomentumAnnealingEMA"; }

 protected:
  void average(Tensor& averaged, const Tensor& source, int64_t steps) override;

 private:
  double gamma_;
};

class StochasticWeightAverage final : public BaseAveragedModel {
 public:
  using BaseAveragedModel::BaseAveragedModel;
  std::string name() const override { return "StochasticWeightAverage"; }

 protected:
  void average(Tensor& averaged, const Tensor& source, int64_t steps) override;
};

// MMEngine's `ema_type` with its keyword arguments: the averaged model of `model` of that type.
// An unknown type, or momentum / gamma given to a type that does not take them, is an error.
std::unique_ptr<BaseAveragedModel> build_averaged_model(const std::string& type,
                                                        const nn::Module& model,
                                                        std::optional<double> momentum,
                                                        std::optional<double> gamma,
                                                        const AveragedModelOptions& options);

}  // namespace anvil::engine
