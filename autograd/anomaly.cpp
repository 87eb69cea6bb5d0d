#include "autograd/anomaly.h"

#include <cmath>
#include <vector>

#include "autograd/node.h"
#include "tensor/error.h"

namespace anvil::autograd {

namespace {
thread_local std::vector<std::string> t_regions;
}

AnomalyRegion::AnomalyRegion(std::string name) {
  t_regions.push_back(std::move(name));
}
AnomalyRegion::~AnomalyRegion() {
  t_regions.pop_back();
}

std::string describe_creation(const Node& node) {
  std::vector<std::string> outputs;
  for (const InputMeta& m : node.input_meta()) {
    outputs.push_back(
        fmt::format("{} ({}, {})", shape_str(m.shape), dtype_name(m.dtype), m.device.str()));
  }
  return fmt::format("{} (node #{}, output {}) created in {}", node.name(), node.sequence_nr(),
                     fmt::join(outputs, ", "),
                     t_regions.empty() ? std::string("(no AnomalyRegion)")
                                       : fmt::format("{}", fmt::join(t_regions, "/")));
}

void check_gradient_finite(const Node& node, size_t index, const Tensor& grad) {
  if (!grad.defined() || !grad.is_floating_point()) return;
  const std::vector<double> values = grad.to_vector<double>();
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isfinite(values[i])) continue;
    throw Error(fmt::format(
        "anomaly mode: {} returned {} in its gradient {} (for input {}, element {}); the node is "
        "{}",
        node.name(), std::isnan(values[i]) ? "NaN" : "Inf", grad.describe(), index, i,
        node.creation_context().empty() ? std::string("(created before anomaly mode was on)")
                                        : node.creation_context()));
  }
}

}  // namespace anvil::autograd
