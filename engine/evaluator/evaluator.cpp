#include "engine/evaluator/evaluator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "tensor/error.h"

namespace anvil::engine {

BaseMetric::BaseMetric(std::string default_prefix, std::optional<std::string> prefix)
    : prefix_(prefix ? std::move(*prefix) : std::move(default_prefix)) {}

std::vector<MetricRecord> BaseMetric::collect_results(std::vector<MetricRecord> results,
                                                      int64_t size) const {
  if (size >= 0 && static_cast<size_t>(size) < results.size()) results.resize(size);
  return results;
}

Scalars BaseMetric::evaluate(int64_t size) {
  if (results_.empty()) {
    fmt::print(stderr,
               "Warning: the metric '{}' got empty results; please make sure that process() "
               "adds the processed results\n",
               prefix_);
    return {};
  }
  // Cleared whatever happens, as MMEngine's evaluate, so a failed evaluation cannot leak its
  // records into the next one.
  std::vector<MetricRecord> results = std::exchange(results_, {});
  Scalars values = compute_metrics(collect_results(std::move(results), size));
  if (!prefix_.empty()) {
    for (auto& entry : values) entry.first = prefix_ + "/" + entry.first;
  }
  return values;
}

Evaluator::Evaluator(std::vector<std::shared_ptr<BaseMetric>> metrics)
    : metrics_(std::move(metrics)) {
  for (const auto& metric : metrics_) ANVIL_CHECK(metric != nullptr, "Evaluator: a metric is null");
}

void Evaluator::process(const Batch& data_batch, const std::vector<Tensor>& outputs) {
  for (const auto& metric : metrics_) metric->process(data_batch, outputs);
}

Scalars Evaluator::evaluate(int64_t size) {
  Scalars merged;
  std::set<std::string> names;
  for (const auto& metric : metrics_) {
    for (auto& [name, value] : metric->evaluate(size)) {
      ANVIL_CHECK(names.insert(name).second,
                  "Evaluator: there are multiple evaluation results with the same metric name "
                  "'{}'; please set a different `prefix` for the metrics",
                  name);
      merged.emplace_back(std::move(name), value);
    }
  }
  return merged;
}

void Evaluator::set_dataset_meta(const Metainfo& meta) {
  dataset_meta_ = meta;
  for (const auto& metric : metrics_) metric->set_dataset_meta(meta);
}

}  // namespace anvil::engine
