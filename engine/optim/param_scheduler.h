// Parameter schedulers, as MMEngine's (mmengine/optim/scheduler/param_scheduler.py,
// lr_scheduler.py, momentum_scheduler.py): they change one option of every parameter group
// ("lr", "momentum", "weight_decay", ...) step by step.
//
// MMEngine's semantics, kept exactly:
// - A scheduler acts in the window begin <= global step < end; k = last_step counts the steps
//   inside it. Milestones and step sizes are relative to begin.
// - The formulas are chained: each step computes the new value from the group's current one, so
//   several schedulers on the same option compose in construction order (warm-up then decay).
// - Construction records initial_<option> in each group (if absent) and applies the step-0 value
//   at once (a warm-up starts before the first iteration).
// - by_epoch schedulers are stepped after every epoch, the others after every iteration (the
//   runner's ParamSchedulerHook does it); build_iter_from_epoch(options, epoch_length) is
//   MMEngine's convert_to_iter_based.
// - On an OptimWrapper with several groups the pseudo group "base_param_settings" is scheduled
//   too. A momentum scheduler on Adam/AdamW schedules beta1 (MMEngine's betas[0]).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/optim/optim_wrapper.h"

namespace anvil::engine {

// MMEngine's INF: the default end of a window.
constexpr int64_t kInf = 1000000000;

// The groups a scheduler changes: an OptimWrapper's (with its pseudo group) or a bare optimizer's.
// Holds a reference: the wrapper or optimizer outlives the scheduler.
class ScheduledGroups {
 public:
  ScheduledGroups(OptimWrapper& wrapper) : wrapper_(&wrapper) {}
  ScheduledGroups(optim::Optimizer& optimizer) : optimizer_(&optimizer) {}
  std::vector<optim::Options*> get() const;
  // The optimizer's own groups (without the pseudo group).
  size_t num_optimizer_groups() const;

 private:
  OptimWrapper* wrapper_ = nullptr;
  optim::Optimizer* optimizer_ = nullptr;
};

// A scheduler's resumable state: the counters and values (MMEngine saves every attribute; the
// hyper-parameters come from the config again).
using SchedulerState = std::map<std::string, std::vector<double>>;

class ParamScheduler {
 public:
  virtual ~ParamScheduler() = default;
  ParamScheduler(const ParamScheduler&) = delete;
  ParamScheduler& operator=(const ParamScheduler&) = delete;

  virtual void step();
  // Only ReduceOnPlateau takes validation metrics (need_val_args); the others throw.
  virtual bool need_val_args() const { return false; }
  virtual void step(const std::map<std::string, double>& metrics);

  // The option's value in each group after the last step.
  const std::vector<double>& get_last_value() const { return last_value_; }
  const std::string& param_name() const { return param_name_; }
  int64_t begin() const { return begin_; }
  int64_t end() const { return end_; }
  bool by_epoch() const { return by_epoch_; }
  int64_t last_step() const { return last_step_; }
  const std::vector<double>& base_values() const { return base_values_; }

  virtual SchedulerState state_dict() const;
  virtual void load_state_dict(const SchedulerState& state);

  // The window and resume point every options struct carries.
  struct Window {
    int64_t begin, end, last_step;
    bool by_epoch;
  };

 protected:
  ParamScheduler(ScheduledGroups groups, std::string param_name, const Window& window);
  // The end of every constructor of a concrete scheduler: MMEngine's first step().
  void start() { step(); }
  // The values of the step just entered (last_step is k), one per group.
  virtual std::vector<double> get_value() = 0;

  std::vector<double> current_values() const;
  void set_values(const std::vector<double>& values);
  std::vector<optim::Options*> groups() const { return groups_.get(); }
  const ScheduledGroups& scheduled_groups() const { return groups_; }
  // The option's name in the groups ("beta1" for a momentum scheduler on Adam).
  const std::string& key() const { return key_; }

  int64_t global_step_ = -1;
  int64_t last_step_;
  std::vector<double> last_value_;

 private:
  ScheduledGroups groups_;
  std::string param_name_, key_;
  int64_t begin_, end_;
  bool by_epoch_;
  std::vector<double> base_values_;
};

// ---- options (MMEngine's argument names and defaults)
// --------------------------------------------

struct ConstantOptions {
  double factor = 1.0 / 3;
  int64_t begin = 0, end = kInf, last_step = -1;
  bool by_epoch = true;
};

struct LinearOptions {
  double start_factor = 1.0 / 3, end_factor = 1.0;
  int64_t begin = 0, end = kInf, last_step = -1;
  bool by_epoch = true;
};

struct StepOptions {
  int64_t step_size = 0;  // required
  double gamma = 0.1;
  int64_t begin = 0, end = kInf, last_step = -1;
  bool by_epoch = true;
};

struct MultiStepOptions {
  std::vector<int64_t> milestones = {};  // relative to begin; a repeated milestone decays twice
  double gamma = 0.1;
  int64_t begin = 0, end = kInf, last_step = -1;
  bool by_epoch = true;
};

struct ExponentialOptions {
  std::optional<double> gamma = std::nullopt;  // required
  int64_t begin = 0, end = kInf, last_step = -1;
  bool by_epoch = true;
};

struct CosineAnnealingOptions {
  std::optional<int64_t> T_max = std::nullopt;   // end - begin when unset
  std::optional<double> eta_min = std::nullopt;  // 0 when neither eta_min nor eta_min_ratio is set
  std::optional<double> eta_min_ratio = std::nullopt;
  int64_t begin = 0, end = kInf, last_step = -1;
  bool by_epoch = true;
};

struct PolyOptions {
  double eta_min = 0, power = 1.0;
  int64_t begin = 0, end = kInf, last_step = -1;
  bool by_epoch = true;
};

struct OneCycleOptions {
  std::vector<double> eta_max = {0};                  // one value for every group, or one per group
  std::optional<int64_t> total_steps = std::nullopt;  // end - begin when unset
  double pct_start = 0.3;
  std::string anneal_strategy = "cos";  // or "linear"
  double div_factor = 25, final_div_factor = 1e4;
  bool three_phase = false;
  int64_t begin = 0, end = kInf, last_step = -1;
  bool by_epoch = true;
};

struct CosineRestartOptions {
  std::vector<int64_t> periods = {};
  std::vector<double> restart_weights = {1};
  std::optional<double> eta_min = std::nullopt, eta_min_ratio = std::nullopt;  // exactly one
  int64_t begin = 0, end = kInf, last_step = -1;
  bool by_epoch = true;
};

struct ReduceOnPlateauOptions {
  std::string monitor = "loss";
  std::string rule = "less";  // or "greater"
  double factor = 0.1;
  int64_t patience = 10;
  double threshold = 1e-4;
  std::string threshold_rule = "rel";  // or "abs"
  int64_t cooldown = 0;
  std::vector<double> min_value = {0};  // one value for every group, or one per group
  double eps = 1e-8;
  int64_t begin = 0, end = kInf, last_step = -1;
  bool by_epoch = true;
};

// convert_to_iter_based: begin, end (when finite) and the step counts (step_size, milestones,
// T_max, total_steps, periods) times epoch_length; by_epoch must be true and becomes false.
ConstantOptions build_iter_from_epoch(ConstantOptions o, int64_t epoch_length);
LinearOptions build_iter_from_epoch(LinearOptions o, int64_t epoch_length);
StepOptions build_iter_from_epoch(StepOptions o, int64_t epoch_length);
MultiStepOptions build_iter_from_epoch(MultiStepOptions o, int64_t epoch_length);
ExponentialOptions build_iter_from_epoch(ExponentialOptions o, int64_t epoch_length);
CosineAnnealingOptions build_iter_from_epoch(CosineAnnealingOptions o, int64_t epoch_length);
PolyOptions build_iter_from_epoch(PolyOptions o, int64_t epoch_length);
OneCycleOptions build_iter_from_epoch(OneCycleOptions o, int64_t epoch_length);
CosineRestartOptions build_iter_from_epoch(CosineRestartOptions o, int64_t epoch_length);

class Config;
// PARAM_SCHEDULERS.build(table, wrapper) with the table's convert_to_iter_based applied
// (epoch_length: the train loader's length); defined with the registrations
// (engine/optim/registrations.cpp).
std::shared_ptr<ParamScheduler> build_param_scheduler(const Config& table,
                                                      std::shared_ptr<OptimWrapper> wrapper,
                                                      int64_t epoch_length);

// ---- the generic schedulers (any option by name)
// -------------------------------------------------

// value × factor until k = end - begin - 1, then the value again.
class ConstantParamScheduler : public ParamScheduler {
 public:
  ConstantParamScheduler(ScheduledGroups groups, std::string param_name,
                         const ConstantOptions& options = {});

 protected:
  std::vector<double> get_value() override;

 private:
  double factor_;
  int64_t total_iters_;
};

// From start_factor × value to end_factor × value, linearly, at k = end - begin - 1.
class LinearParamScheduler : public ParamScheduler {
 public:
  LinearParamScheduler(ScheduledGroups groups, std::string param_name,
                       const LinearOptions& options = {});

 protected:
  std::vector<double> get_value() override;

 private:
  double start_factor_, end_factor_;
  int64_t total_iters_;
};

class StepParamScheduler : public ParamScheduler {
 public:
  StepParamScheduler(ScheduledGroups groups, std::string param_name, const StepOptions& options);

 protected:
  std::vector<double> get_value() override;

 private:
  int64_t step_size_;
  double gamma_;
};

class MultiStepParamScheduler : public ParamScheduler {
 public:
  MultiStepParamScheduler(ScheduledGroups groups, std::string param_name,
                          const MultiStepOptions& options);

 protected:
  std::vector<double> get_value() override;

 private:
  std::map<int64_t, int> milestones_;  // milestone -> how often it was given
  double gamma_;
};

class ExponentialParamScheduler : public ParamScheduler {
 public:
  ExponentialParamScheduler(ScheduledGroups groups, std::string param_name,
                            const ExponentialOptions& options);

 protected:
  std::vector<double> get_value() override;

 private:
  double gamma_;
};

class CosineAnnealingParamScheduler : public ParamScheduler {
 public:
  CosineAnnealingParamScheduler(ScheduledGroups groups, std::string param_name,
                                const CosineAnnealingOptions& options = {});

 protected:
  std::vector<double> get_value() override;

 private:
  double eta_min(double base_value) const;
  int64_t T_max_;
  std::optional<double> eta_min_, eta_min_ratio_;
};

class PolyParamScheduler : public ParamScheduler {
 public:
  PolyParamScheduler(ScheduledGroups groups, std::string param_name,
                     const PolyOptions& options = {});

 protected:
  std::vector<double> get_value() override;

 private:
  double eta_min_, power_;
  int64_t total_iters_;
};

// Learning rate only (param_name must be "lr"); not chained: it sets the value from the
// initial_lr (eta_max / div_factor), max_lr and min_lr it stores in the groups.
class OneCycleParamScheduler : public ParamScheduler {
 public:
  OneCycleParamScheduler(ScheduledGroups groups, std::string param_name,
                         const OneCycleOptions& options);

 protected:
  std::vector<double> get_value() override;

 private:
  struct Phase {
    double end_step;
    std::string start_key, end_key;
  };
  int64_t total_steps_;
  bool cos_;
  std::vector<Phase> phases_;
};

class CosineRestartParamScheduler : public ParamScheduler {
 public:
  CosineRestartParamScheduler(ScheduledGroups groups, std::string param_name,
                              const CosineRestartOptions& options);

 protected:
  std::vector<double> get_value() override;

 private:
  std::vector<int64_t> periods_, cumulative_periods_;
  std::vector<double> restart_weights_;
  std::optional<double> eta_min_, eta_min_ratio_;
};

// Reduces the value by `factor` when the monitored metric stopped improving for `patience`
// validations. step() only counts epochs; step(metrics) (after validation) decides.
class ReduceOnPlateauParamScheduler : public ParamScheduler {
 public:
  ReduceOnPlateauParamScheduler(ScheduledGroups groups, std::string param_name,
                                const ReduceOnPlateauOptions& options = {});
  bool need_val_args() const override { return true; }
  void step() override;
  void step(const std::map<std::string, double>& metrics) override;

  SchedulerState state_dict() const override;
  void load_state_dict(const SchedulerState& state) override;

 protected:
  std::vector<double> get_value() override;

 private:
  bool is_better(double a, double best) const;
  ReduceOnPlateauOptions options_;
  std::vector<double> min_values_;
  double best_;
  int64_t num_bad_epochs_ = 0, cooldown_counter_ = 0;
};

// ---- LR and momentum twins (MMEngine's XxxLR / XxxMomentum)
// ---------------------------------------

#define ANVIL_SCHEDULER_TWIN(Name, Base, Options, param)               \
  class Name : public Base {                                           \
   public:                                                             \
    explicit Name(ScheduledGroups groups, const Options& options = {}) \
        : Base(groups, param, options) {}                              \
  };
#define ANVIL_SCHEDULER_TWINS(Stem)                                         \
  ANVIL_SCHEDULER_TWIN(Stem##LR, Stem##ParamScheduler, Stem##Options, "lr") \
  ANVIL_SCHEDULER_TWIN(Stem##Momentum, Stem##ParamScheduler, Stem##Options, "momentum")

ANVIL_SCHEDULER_TWINS(Constant)
ANVIL_SCHEDULER_TWINS(Linear)
ANVIL_SCHEDULER_TWINS(Step)
ANVIL_SCHEDULER_TWINS(MultiStep)
ANVIL_SCHEDULER_TWINS(Exponential)
ANVIL_SCHEDULER_TWINS(CosineAnnealing)
ANVIL_SCHEDULER_TWINS(Poly)
ANVIL_SCHEDULER_TWINS(CosineRestart)
ANVIL_SCHEDULER_TWINS(ReduceOnPlateau)
ANVIL_SCHEDULER_TWIN(OneCycleLR, OneCycleParamScheduler, OneCycleOptions, "lr")

#undef ANVIL_SCHEDULER_TWINS
#undef ANVIL_SCHEDULER_TWIN

}  // namespace anvil::engine
