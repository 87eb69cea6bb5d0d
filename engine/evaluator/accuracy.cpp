#include "engine/evaluator/accuracy.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "engine/registry/registries.h"
#include "tensor/error.h"

namespace anvil::engine {

std::vector<int64_t> torch_topk_indices(const double* scores, int64_t n, int64_t k) {
  using Elem = std::pair<double, int64_t>;
  std::vector<Elem> queue(n);
  for (int64_t j = 0; j < n; ++j) queue[j] = {scores[j], j};
  // NaN compares as the largest value, as in ATen's TopKImpl.h.
  auto greater = [](const Elem& x, const Elem& y) {
    return (std::isnan(x.first) && !std::isnan(y.first)) || x.first > y.first;
  };
  if (k > 0) {
    if (k * 64 <= n) {
      std::partial_sort(queue.begin(), queue.begin() + k, queue.end(), greater);
    } else {
      std::nth_element(queue.begin(), queue.begin() + k - 1, queue.end(), greater);
      std::sort(queue.begin(), queue.begin() + k - 1, greater);
    }
  }
  std::vector<int64_t> out(k);
  for (int64_t i = 0; i < k; ++i) out[i] = queue[i].second;
  return out;
}

Accuracy::Accuracy(AccuracyOptions options)
    : BaseMetric("accuracy", options.prefix), options_(std::move(options)) {
  ANVIL_CHECK(!options_.topk.empty(), "Accuracy: topk must not be empty");
  ANVIL_CHECK(!options_.thrs.empty(), "Accuracy: thrs must not be empty");
  for (int64_t k : options_.topk) ANVIL_CHECK(k >= 1, "Accuracy: topk must be >= 1, got {}", k);
  const bool multi_thrs = options_.thrs.size() > 1;
  for (int64_t k : options_.topk) {
    for (const auto& thr : options_.thrs) {
      std::string name = fmt::format("top{}", k);
      if (multi_thrs) name += thr ? fmt::format("_thr-{:.2f}", *thr) : "_no-thr";
      names_.push_back(std::move(name));
    }
  }
}

void Accuracy::process(const Batch& data_batch, const std::vector<Tensor>& outputs) {
  ANVIL_CHECK(!outputs.empty() && outputs[0].defined(),
              "Accuracy.process: expected the model's outputs {{scores [N, C] or labels [N], "
              "labels [N]}}, got none");
  const Tensor& pred = outputs[0];
  const Tensor target_in = outputs.size() > 1 ? outputs[1] : data_batch.labels;
  ANVIL_CHECK(target_in.defined(), "Accuracy.process: no target labels (outputs[1] or the batch)");
  ANVIL_CHECK(pred.dim() == 1 || pred.dim() == 2,
              "Accuracy.process: expected scores [N, C] or labels [N], got {}", pred.describe());
  ANVIL_CHECK(target_in.dim() == 1 && target_in.size(0) == pred.size(0),
              "Accuracy.process: expected target labels [{}], got {}", pred.size(0),
              target_in.describe());
  const Tensor target = target_in.to(Device::cpu(), DType::i64).contiguous();
  const int64_t* labels = target.data_ptr<int64_t>();
  const int64_t n = pred.size(0);

  if (pred.dim() == 1) {
    // Predicted labels only (MMPretrain's pred_label path): top-1, no threshold.
    ANVIL_CHECK(options_.topk.size() == 1 && options_.topk[0] == 1 && options_.thrs.size() == 1,
                "Accuracy.process: predicted labels {} only give top-1 accuracy; topk must be [1]",
                pred.describe());
    const Tensor p = pred.to(Device::cpu(), DType::i64).contiguous();
    for (int64_t i = 0; i < n; ++i) {
      results().push_back({{names_[0], p.data_ptr<int64_t>()[i] == labels[i] ? 1.0 : 0.0}});
    }
    return;
  }

  const int64_t classes = pred.size(1);
  const int64_t maxk = *std::max_element(options_.topk.begin(), options_.topk.end());
  ANVIL_CHECK(maxk <= classes,
              "Accuracy: top-{} accuracy is unavailable since the number of categories is {}", maxk,
              classes);
  // Exact for every float dtype: PyTorch also ranks in the accumulation type (double).
  const Tensor scores = pred.to(Device::cpu(), DType::f64).contiguous();
  const double* s = scores.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) {
    const double* row = s + i * classes;
    const std::vector<int64_t> top = torch_topk_indices(row, classes, maxk);
    // The hit's rank, maxk when the label is not among the top maxk.
    const int64_t rank = std::find(top.begin(), top.end(), labels[i]) - top.begin();
    MetricRecord record;
    size_t name = 0;
    for (int64_t k : options_.topk) {
      for (const auto& thr : options_.thrs) {
        const bool hit = rank < k && (!thr || row[top[rank]] > *thr);
        record.emplace(names_[name++], hit ? 1.0 : 0.0);
      }
    }
    results().push_back(std::move(record));
  }
}

Scalars Accuracy::compute_metrics(const std::vector<MetricRecord>& results) const {
  Scalars values;
  for (const std::string& name : names_) {
    double hits = 0;
    for (const MetricRecord& record : results) {
      auto it = record.find(name);
      ANVIL_CHECK(it != record.end(), "Accuracy: a result has no '{}'", name);
      hits += it->second;
    }
    values.emplace_back(name, results.empty() ? 0.0 : hits * 100.0 / results.size());
  }
  return values;
}

namespace {

// `thrs = 0.5` or `thrs = [0.0, 0.5]`, as MMPretrain takes a float or a tuple.
std::vector<std::optional<double>> thresholds(const Config& value) {
  std::vector<std::optional<double>> out;
  if (value.is_array()) {
    for (const Config& thr : value.elements()) out.emplace_back(thr.as_double());
  } else {
    out.emplace_back(value.as_double());
  }
  return out;
}

ANVIL_REGISTER(METRICS, "Accuracy", [](const Config& cfg) -> std::shared_ptr<BaseMetric> {
  cfg.check_keys({"topk", "thrs", "prefix"});
  AccuracyOptions o;
  if (const Config* topk = cfg.find("topk"); topk != nullptr && !topk->is_null()) {
    o.topk =
        topk->is_array() ? topk->as<std::vector<int64_t>>() : std::vector<int64_t>{topk->as_int()};
  }
  if (const Config* thrs = cfg.find("thrs"); thrs != nullptr && !thrs->is_null()) {
    o.thrs = thresholds(*thrs);
  }
  if (const Config* prefix = cfg.find("prefix"); prefix != nullptr && !prefix->is_null()) {
    o.prefix = prefix->as_string();
  }
  return std::make_shared<Accuracy>(std::move(o));
});

}  // namespace
}  // namespace anvil::engine
