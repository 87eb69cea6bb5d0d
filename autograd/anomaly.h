// Anomaly mode: while on, every node records where it was created, and the engine checks each
// gradient a node produces for NaN or Inf, raising an error that names the node and that place.
// A global switch (backward may run on another thread than the forward).
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "tensor/tensor.h"

namespace anvil::autograd {

class Node;

class AnomalyMode {
 public:
  static bool is_enabled() { return enabled_.load(std::memory_order_relaxed); }
  static void set_enabled(bool enabled) { enabled_.store(enabled, std::memory_order_relaxed); }

 private:
  static inline std::atomic<bool> enabled_{false};
};

// Turns anomaly mode on (or off) for its lifetime.
class DetectAnomalyGuard {
 public:
  explicit DetectAnomalyGuard(bool enabled = true) : previous_(AnomalyMode::is_enabled()) {
    AnomalyMode::set_enabled(enabled);
  }
  ~DetectAnomalyGuard() { AnomalyMode::set_enabled(previous_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

// Names a region of the forward pass ("encoder.layer3"); nodes created inside record the names of
// the enclosing regions, outermost first. Thread-local; costs nothing while anomaly mode is off.
class AnomalyRegion {
 public:
  explicit AnomalyRegion(std::string name);
  ~AnomalyRegion();
  AnomalyRegion(const AnomalyRegion&) = delete;
  AnomalyRegion& operator=(const AnomalyRegion&) = delete;
};

// "MulBackward (node #12, output [2,3] (f32, cpu)) created in encoder/layer3": what a node records.
std::string describe_creation(const Node& node);

// Throws when `grad`, produced by `node` for its input `index`, holds NaN or Inf.
void check_gradient_finite(const Node& node, size_t index, const Tensor& grad);

}  // namespace anvil::autograd
