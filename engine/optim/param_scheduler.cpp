#include "engine/optim/param_scheduler.h"

#include <cmath>
#include <numbers>
#include <numeric>

#include "tensor/error.h"

namespace anvil::engine {

std::vector<optim::Options*> ScheduledGroups::get() const {
  if (wrapper_ != nullptr) return wrapper_->scheduled_groups();
  std::vector<optim::Options*> out;
  for (optim::ParamGroup& g : optimizer_->param_groups()) out.push_back(&g.options);
  return out;
}

size_t ScheduledGroups::num_optimizer_groups() const {
  return (wrapper_ != nullptr ? wrapper_->optimizer() : *optimizer_).param_groups().size();
}

// ---- ParamScheduler
// ------------------------------------------------------------------------------

namespace {

// A momentum scheduler on an optimizer without "momentum" schedules Adam's beta1.
std::string option_key(const std::vector<optim::Options*>& groups, const std::string& name) {
  const optim::Options& first = *groups.front();
  if (name == "momentum" && !first.count("momentum") && first.count("beta1")) return "beta1";
  return name;
}

}  // namespace

ParamScheduler::ParamScheduler(ScheduledGroups groups, std::string param_name, const Window& window)
    : last_step_(window.last_step),
      groups_(groups),
      param_name_(std::move(param_name)),
      begin_(window.begin),
      end_(window.end),
      by_epoch_(window.by_epoch) {
  ANVIL_CHECK(end_ > begin_,
              "{} scheduler: end should be larger than begin, but got begin={}, end={}",
              param_name_, begin_, end_);
  ANVIL_CHECK(last_step_ >= -1, "{} scheduler: last_step must be >= -1, got {}", param_name_,
              last_step_);
  const std::vector<optim::Options*> gs = this->groups();
  key_ = option_key(gs, param_name_);
  const std::string initial = "initial_" + key_;
  for (size_t i = 0; i < gs.size(); ++i) {
    optim::Options& g = *gs[i];
    ANVIL_CHECK(g.count(key_), "{} scheduler: parameter group {} has no option \"{}\"", param_name_,
                i, key_);
    if (last_step_ == -1) {
      g.try_emplace(initial, g.at(key_));
    } else {
      ANVIL_CHECK(g.count(initial),
                  "{} scheduler: \"{}\" is not in parameter group {} when resuming (last_step={})",
                  param_name_, initial, i, last_step_);
    }
    base_values_.push_back(g.at(initial));
  }
}

std::vector<double> ParamScheduler::current_values() const {
  std::vector<double> out;
  for (const optim::Options* g : groups()) out.push_back(g->at(key_));
  return out;
}

void ParamScheduler::set_values(const std::vector<double>& values) {
  const std::vector<optim::Options*> gs = groups();
  for (size_t i = 0; i < gs.size(); ++i) (*gs[i])[key_] = values[i];
}

void ParamScheduler::step() {
  ++global_step_;
  if (begin_ <= global_step_ && global_step_ < end_) {
    ++last_step_;
    set_values(get_value());
  }
  last_value_ = current_values();
}

void ParamScheduler::step(const std::map<std::string, double>&) {
  throw ValueError(
      fmt::format("{} scheduler: step(metrics) is only for schedulers that need validation metrics "
                  "(ReduceOnPlateau)",
                  param_name_));
}

SchedulerState ParamScheduler::state_dict() const {
  return {{"last_step", {static_cast<double>(last_step_)}},
          {"_global_step", {static_cast<double>(global_step_)}},
          {"base_values", base_values_},
          {"_last_value", last_value_}};
}

void ParamScheduler::load_state_dict(const SchedulerState& state) {
  for (const char* key : {"last_step", "_global_step", "base_values", "_last_value"}) {
    ANVIL_CHECK(state.count(key), "{} scheduler.load_state_dict: the state has no \"{}\"",
                param_name_, key);
  }
  last_step_ = static_cast<int64_t>(state.at("last_step").at(0));
  global_step_ = static_cast<int64_t>(state.at("_global_step").at(0));
  base_values_ = state.at("base_values");
  last_value_ = state.at("_last_value");
}

// ---- build_iter_from_epoch
// -----------------------------------------------------------------------

namespace {

template <class O>
O iter_window(O o, int64_t epoch_length) {
  ANVIL_CHECK(
      o.by_epoch,
      "convert_to_iter_based: only epoch-based schedulers (by_epoch=true) can be converted");
  ANVIL_CHECK(epoch_length > 0, "convert_to_iter_based: epoch_length must be > 0, got {}",
              epoch_length);
  o.by_epoch = false;
  o.begin *= epoch_length;
  if (o.end != kInf) o.end *= epoch_length;
  return o;
}

}  // namespace

ConstantOptions build_iter_from_epoch(ConstantOptions o, int64_t epoch_length) {
  return iter_window(o, epoch_length);
}

LinearOptions build_iter_from_epoch(LinearOptions o, int64_t epoch_length) {
  return iter_window(o, epoch_length);
}

StepOptions build_iter_from_epoch(StepOptions o, int64_t epoch_length) {
  o = iter_window(o, epoch_length);
  o.step_size *= epoch_length;
  return o;
}

MultiStepOptions build_iter_from_epoch(MultiStepOptions o, int64_t epoch_length) {
  o = iter_window(o, epoch_length);
  for (int64_t& m : o.milestones) m *= epoch_length;
  return o;
}

ExponentialOptions build_iter_from_epoch(ExponentialOptions o, int64_t epoch_length) {
  return iter_window(o, epoch_length);
}

CosineAnnealingOptions build_iter_from_epoch(CosineAnnealingOptions o, int64_t epoch_length) {
  o = iter_window(o, epoch_length);
  if (o.T_max) *o.T_max *= epoch_length;
  return o;
}

PolyOptions build_iter_from_epoch(PolyOptions o, int64_t epoch_length) {
  return iter_window(o, epoch_length);
}

OneCycleOptions build_iter_from_epoch(OneCycleOptions o, int64_t epoch_length) {
  o = iter_window(o, epoch_length);
  if (o.total_steps) *o.total_steps *= epoch_length;
  return o;
}

CosineRestartOptions build_iter_from_epoch(CosineRestartOptions o, int64_t epoch_length) {
  o = iter_window(o, epoch_length);
  for (int64_t& p : o.periods) p *= epoch_length;
  return o;
}

// ---- the schedulers
// ------------------------------------------------------------------------------

namespace {

template <class O>
ParamScheduler::Window window_of(const O& o) {
  return {o.begin, o.end, o.last_step, o.by_epoch};
}

}  // namespace

ConstantParamScheduler::ConstantParamScheduler(ScheduledGroups groups, std::string param_name,
                                               const ConstantOptions& o)
    : ParamScheduler(groups, std::move(param_name), window_of(o)),
      factor_(o.factor),
      total_iters_(o.end - o.begin - 1) {
  ANVIL_CHECK(o.factor >= 0 && o.factor <= 1,
              "ConstantParamScheduler: factor should be between 0 and 1, got {}", o.factor);
  start();
}

std::vector<double> ConstantParamScheduler::get_value() {
  std::vector<double> v = current_values();
  if (last_step_ == 0) {
    for (double& x : v) x *= factor_;
  } else if (last_step_ == total_iters_) {
    for (double& x : v) x *= 1.0 / factor_;
  }
  return v;
}

LinearParamScheduler::LinearParamScheduler(ScheduledGroups groups, std::string param_name,
                                           const LinearOptions& o)
    : ParamScheduler(groups, std::move(param_name), window_of(o)),
      start_factor_(o.start_factor),
      end_factor_(o.end_factor),
      total_iters_(o.end - o.begin - 1) {
  ANVIL_CHECK(o.start_factor > 0 && o.start_factor <= 1,
              "LinearParamScheduler: start_factor should be in (0, 1], got {}", o.start_factor);
  ANVIL_CHECK(o.end_factor >= 0 && o.end_factor <= 1,
              "LinearParamScheduler: end_factor should be between 0 and 1, got {}", o.end_factor);
  start();
}

std::vector<double> LinearParamScheduler::get_value() {
  std::vector<double> v = current_values();
  const double delta = end_factor_ - start_factor_;
  for (double& x : v) {
    x *= last_step_ == 0 ? start_factor_
                         : 1. + delta / (static_cast<double>(total_iters_) * start_factor_ +
                                         static_cast<double>(last_step_ - 1) * delta);
  }
  return v;
}

StepParamScheduler::StepParamScheduler(ScheduledGroups groups, std::string param_name,
                                       const StepOptions& o)
    : ParamScheduler(groups, std::move(param_name), window_of(o)),
      step_size_(o.step_size),
      gamma_(o.gamma) {
  ANVIL_CHECK(o.step_size > 0, "StepParamScheduler: step_size must be > 0, got {}", o.step_size);
  start();
}

std::vector<double> StepParamScheduler::get_value() {
  std::vector<double> v = current_values();
  if (last_step_ != 0 && last_step_ % step_size_ == 0) {
    for (double& x : v) x *= gamma_;
  }
  return v;
}

MultiStepParamScheduler::MultiStepParamScheduler(ScheduledGroups groups, std::string param_name,
                                                 const MultiStepOptions& o)
    : ParamScheduler(groups, std::move(param_name), window_of(o)), gamma_(o.gamma) {
  for (int64_t m : o.milestones) ++milestones_[m];
  start();
}

std::vector<double> MultiStepParamScheduler::get_value() {
  std::vector<double> v = current_values();
  auto it = milestones_.find(last_step_);
  if (it != milestones_.end()) {
    for (double& x : v) x *= std::pow(gamma_, it->second);
  }
  return v;
}

ExponentialParamScheduler::ExponentialParamScheduler(ScheduledGroups groups, std::string param_name,
                                                     const ExponentialOptions& o)
    : ParamScheduler(groups, std::move(param_name), window_of(o)), gamma_(o.gamma.value_or(0)) {
  ANVIL_CHECK(o.gamma.has_value(), "ExponentialParamScheduler: gamma is required");
  start();
}

std::vector<double> ExponentialParamScheduler::get_value() {
  std::vector<double> v = current_values();
  if (last_step_ != 0) {
    for (double& x : v) x *= gamma_;
  }
  return v;
}

CosineAnnealingParamScheduler::CosineAnnealingParamScheduler(ScheduledGroups groups,
                                                             std::string param_name,
                                                             const CosineAnnealingOptions& o)
    : ParamScheduler(groups, std::move(param_name), window_of(o)),
      T_max_(o.T_max.value_or(0) != 0 ? *o.T_max : o.end - o.begin),
      eta_min_(o.eta_min),
      eta_min_ratio_(o.eta_min_ratio) {
  if (!eta_min_ && !eta_min_ratio_) eta_min_ = 0.0;
  ANVIL_CHECK(eta_min_.has_value() != eta_min_ratio_.has_value(),
              "CosineAnnealingParamScheduler: either eta_min or eta_min_ratio should be "
              "specified, not both");
  start();
}

double CosineAnnealingParamScheduler::eta_min(double base_value) const {
  return eta_min_ratio_ ? base_value * *eta_min_ratio_ : *eta_min_;
}

std::vector<double> CosineAnnealingParamScheduler::get_value() {
  std::vector<double> v = current_values();
  if (last_step_ == 0) return v;
  const double pi = std::numbers::pi, t = static_cast<double>(T_max_);
  const double k = static_cast<double>(last_step_);
  for (size_t i = 0; i < v.size(); ++i) {
    const double base = base_values()[i], lo = eta_min(base);
    // After a minimum the chained ratio would divide by zero: step up from the minimum instead.
    if ((last_step_ - 1 - T_max_) % (2 * T_max_) == 0) {
      v[i] = v[i] + (base - lo) * (1 - std::cos(pi / t)) / 2;
    } else {
      v[i] = (1 + std::cos(pi * k / t)) / (1 + std::cos(pi * (k - 1) / t)) * (v[i] - lo) + lo;
    }
  }
  return v;
}

PolyParamScheduler::PolyParamScheduler(ScheduledGroups groups, std::string param_name,
                                       const PolyOptions& o)
    : ParamScheduler(groups, std::move(param_name), window_of(o)),
      eta_min_(o.eta_min),
      power_(o.power),
      total_iters_(o.end - o.begin - 1) {
  start();
}

std::vector<double> PolyParamScheduler::get_value() {
  std::vector<double> v = current_values();
  if (last_step_ == 0) return v;
  const double decay = std::pow(1 - 1 / static_cast<double>(total_iters_ - last_step_ + 1), power_);
  for (double& x : v) x = (x - eta_min_) * decay + eta_min_;
  return v;
}

namespace {

// OneCycle writes its bounds into the groups before the base constructor reads initial_lr.
ScheduledGroups with_one_cycle_bounds(ScheduledGroups groups, const std::string& name,
                                      const OneCycleOptions& o) {
  ANVIL_CHECK(name == "lr", "OneCycleParamScheduler: only works for the learning rate, got \"{}\"",
              name);
  const std::vector<optim::Options*> gs = groups.get();
  ANVIL_CHECK(o.eta_max.size() == 1 || o.eta_max.size() == gs.size(),
              "OneCycleParamScheduler: expected {} values for eta_max, got {}", gs.size(),
              o.eta_max.size());
  if (o.last_step == -1) {
    for (size_t i = 0; i < gs.size(); ++i) {
      const double max = o.eta_max.size() == 1 ? o.eta_max[0] : o.eta_max[i];
      optim::Options& g = *gs[i];
      g["initial_" + name] = max / o.div_factor;
      g["max_" + name] = max;
      g["min_" + name] = max / o.div_factor / o.final_div_factor;
    }
  }
  return groups;
}

}  // namespace

OneCycleParamScheduler::OneCycleParamScheduler(ScheduledGroups groups, std::string param_name,
                                               const OneCycleOptions& o)
    : ParamScheduler(with_one_cycle_bounds(groups, param_name, o), param_name, window_of(o)),
      total_steps_(o.total_steps.value_or(o.end - o.begin)),
      cos_(o.anneal_strategy == "cos") {
  ANVIL_CHECK(total_steps_ > 0, "OneCycleParamScheduler: expected positive total_steps, got {}",
              total_steps_);
  ANVIL_CHECK(o.pct_start >= 0 && o.pct_start <= 1,
              "OneCycleParamScheduler: expected pct_start between 0 and 1, got {}", o.pct_start);
  ANVIL_CHECK(o.anneal_strategy == "cos" || o.anneal_strategy == "linear",
              "OneCycleParamScheduler: anneal_strategy must be \"cos\" or \"linear\", got \"{}\"",
              o.anneal_strategy);
  const std::string init = "initial_" + key(), max = "max_" + key(), min = "min_" + key();
  const double total = static_cast<double>(total_steps_);
  const double phase1 = o.pct_start * total - 1;
  if (o.three_phase) {
    phases_ = {
        {phase1, init, max}, {2 * o.pct_start * total - 2, max, init}, {total - 1, init, min}};
  } else {
    phases_ = {{phase1, init, max}, {total - 1, max, min}};
  }
  start();
}

std::vector<double> OneCycleParamScheduler::get_value() {
  ANVIL_CHECK(last_step_ <= total_steps_,
              "OneCycleParamScheduler: tried to step {} times; the number of total steps is {}",
              last_step_ + 1, total_steps_);
  const double k = static_cast<double>(last_step_);
  std::vector<double> v;
  for (const optim::Options* g : groups()) {
    double start_step = 0;
    for (size_t i = 0; i < phases_.size(); ++i) {
      const Phase& p = phases_[i];
      if (k <= p.end_step || i + 1 == phases_.size()) {
        const double pct = (k - start_step) / (p.end_step - start_step);
        const double from = g->at(p.start_key), to = g->at(p.end_key);
        v.push_back(cos_ ? to + (from - to) / 2.0 * (std::cos(std::numbers::pi * pct) + 1)
                         : (to - from) * pct + from);
        break;
      }
      start_step = p.end_step;
    }
  }
  return v;
}

CosineRestartParamScheduler::CosineRestartParamScheduler(ScheduledGroups groups,
                                                         std::string param_name,
                                                         const CosineRestartOptions& o)
    : ParamScheduler(groups, std::move(param_name), window_of(o)),
      periods_(o.periods),
      restart_weights_(o.restart_weights),
      eta_min_(o.eta_min),
      eta_min_ratio_(o.eta_min_ratio) {
  ANVIL_CHECK(
      eta_min_.has_value() != eta_min_ratio_.has_value(),
      "CosineRestartParamScheduler: exactly one of eta_min and eta_min_ratio should be set");
  ANVIL_CHECK(periods_.size() == restart_weights_.size(),
              "CosineRestartParamScheduler: periods ({}) and restart_weights ({}) should have the "
              "same length",
              periods_.size(), restart_weights_.size());
  std::partial_sum(periods_.begin(), periods_.end(), std::back_inserter(cumulative_periods_));
  start();
}

std::vector<double> CosineRestartParamScheduler::get_value() {
  std::vector<double> v = current_values();
  size_t idx = 0;
  while (idx < cumulative_periods_.size() && last_step_ >= cumulative_periods_[idx]) ++idx;
  if (idx == cumulative_periods_.size()) return v;  // after the last period: unchanged
  const int64_t step = last_step_ - (idx == 0 ? 0 : cumulative_periods_[idx - 1]);
  const double period = static_cast<double>(periods_[idx]), s = static_cast<double>(step);
  for (size_t i = 0; i < v.size(); ++i) {
    const double base = base_values()[i];
    const double lo = eta_min_ratio_ ? base * *eta_min_ratio_ : *eta_min_;
    if (step == 0) {
      v[i] = base * restart_weights_[idx];
    } else {
      v[i] = (1 + std::cos(std::numbers::pi * s / period)) /
                 (1 + std::cos(std::numbers::pi * (s - 1) / period)) * (v[i] - lo) +
             lo;
    }
  }
  return v;
}

ReduceOnPlateauParamScheduler::ReduceOnPlateauParamScheduler(ScheduledGroups groups,
                                                             std::string param_name,
                                                             const ReduceOnPlateauOptions& o)
    : ParamScheduler(groups, std::move(param_name), window_of(o)), options_(o) {
  ANVIL_CHECK(o.by_epoch, "ReduceOnPlateauParamScheduler: only by_epoch=true is supported");
  ANVIL_CHECK(o.factor < 1.0, "ReduceOnPlateauParamScheduler: factor should be < 1.0, got {}",
              o.factor);
  ANVIL_CHECK(o.threshold >= 0, "ReduceOnPlateauParamScheduler: threshold {} should be >= 0",
              o.threshold);
  ANVIL_CHECK(o.rule == "less" || o.rule == "greater",
              "ReduceOnPlateauParamScheduler: rule should be \"less\" or \"greater\", got \"{}\"",
              o.rule);
  ANVIL_CHECK(o.threshold_rule == "rel" || o.threshold_rule == "abs",
              "ReduceOnPlateauParamScheduler: threshold_rule should be \"rel\" or \"abs\", got "
              "\"{}\"",
              o.threshold_rule);
  const size_t n = this->groups().size();
  if (o.min_value.size() == 1) {
    min_values_.assign(n, o.min_value[0]);
  } else {
    const size_t real = scheduled_groups().num_optimizer_groups();
    ANVIL_CHECK(o.min_value.size() == real,
                "ReduceOnPlateauParamScheduler: expected {} min_value entries, got {}", real,
                o.min_value.size());
    min_values_ = o.min_value;
    // The pseudo group takes the last group's minimum.
    if (n > real) min_values_.push_back(min_values_.back());
  }
  // MMEngine's INF (an integer 1e9), not infinity, is the worst value to start from.
  best_ = o.rule == "less" ? static_cast<double>(kInf) : -static_cast<double>(kInf);
  global_step_ = 0;
  last_value_ = current_values();
}

void ReduceOnPlateauParamScheduler::step() {
  ++global_step_;
}

bool ReduceOnPlateauParamScheduler::is_better(double a, double best) const {
  const bool rel = options_.threshold_rule == "rel";
  if (options_.rule == "less") {
    return rel ? a < best * (1. - options_.threshold) : a < best - options_.threshold;
  }
  return rel ? a > best * (options_.threshold + 1.) : a > best + options_.threshold;
}

void ReduceOnPlateauParamScheduler::step(const std::map<std::string, double>& metrics) {
  if (begin() <= global_step_ && global_step_ < end()) {
    ++last_step_;
    auto it = metrics.find(options_.monitor);
    if (it == metrics.end()) {
      std::vector<std::string> keys;
      for (const auto& [k, v] : metrics) keys.push_back(k);
      throw ValueError(
          fmt::format("ReduceOnPlateauParamScheduler: the monitored metric \"{}\" is not among {}",
                      options_.monitor, keys));
    }
    if (is_better(it->second, best_)) {
      best_ = it->second;
      num_bad_epochs_ = 0;
    } else {
      ++num_bad_epochs_;
    }
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      num_bad_epochs_ = 0;  // bad epochs in cooldown do not count
    }
    if (num_bad_epochs_ > options_.patience) {
      const std::vector<double> now = current_values(), next = get_value();
      std::vector<optim::Options*> gs = groups();
      for (size_t i = 0; i < gs.size(); ++i) {
        if (now[i] - next[i] > options_.eps) (*gs[i])[key()] = next[i];
      }
      cooldown_counter_ = options_.cooldown;
      num_bad_epochs_ = 0;
    }
  }
  last_value_ = current_values();
}

std::vector<double> ReduceOnPlateauParamScheduler::get_value() {
  std::vector<double> v = current_values();
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::max(v[i] * options_.factor, min_values_[i]);
  return v;
}

SchedulerState ReduceOnPlateauParamScheduler::state_dict() const {
  SchedulerState out = ParamScheduler::state_dict();
  out["best"] = {best_};
  out["num_bad_epochs"] = {static_cast<double>(num_bad_epochs_)};
  out["cooldown_counter"] = {static_cast<double>(cooldown_counter_)};
  return out;
}

void ReduceOnPlateauParamScheduler::load_state_dict(const SchedulerState& state) {
  ParamScheduler::load_state_dict(state);
  for (const char* key : {"best", "num_bad_epochs", "cooldown_counter"}) {
    ANVIL_CHECK(state.count(key),
                "ReduceOnPlateauParamScheduler.load_state_dict: the state has no \"{}\"", key);
  }
  best_ = state.at("best").at(0);
  num_bad_epochs_ = static_cast<int64_t>(state.at("num_bad_epochs").at(0));
  cooldown_counter_ = static_cast<int64_t>(state.at("cooldown_counter").at(0));
}

}  // namespace anvil::engine
