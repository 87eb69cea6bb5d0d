// MMPretrain's Accuracy (mmpretrain/evaluation/metrics/single_label.py): top-k accuracy in
// percent, optionally counting a hit only when its score is above a threshold. Registered in
// METRICS as `type = "Accuracy", topk = [1, 5]` (keys topk, thrs, prefix).
//
// Differences from MMPretrain: `thrs` defaults to no threshold, because anvil's models return
// raw scores (logits may be negative; MMPretrain's default 0.0 assumes softmax scores). With
// one threshold the keys are "top1", "top5"; with several, "top1_thr-0.50", "top1_no-thr", ... as
// MMPretrain names them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/evaluator/evaluator.h"

namespace anvil::engine {

struct AccuracyOptions {
  std::vector<int64_t> topk = {1};
  // A hit at rank < k counts when its score is > thr; nullopt: no threshold.
  std::vector<std::optional<double>> thrs = {std::nullopt};
  std::optional<std::string> prefix = std::nullopt;  // default "accuracy"
};

class Accuracy : public BaseMetric {
 public:
  explicit Accuracy(AccuracyOptions options = {});

  // outputs[0]: scores [N, C] (any float dtype, any device) or predicted labels [N] (then only
  // top-1 can be computed); targets: outputs[1] when given, else data_batch.labels. One record
  // per sample: a 0/1 hit for every (k, thr).
  void process(const Batch& data_batch, const std::vector<Tensor>& outputs) override;
  Scalars compute_metrics(const std::vector<MetricRecord>& results) const override;

  const AccuracyOptions& options() const { return options_; }

 private:
  std::vector<std::string> names_;  // one per (k, thr), k major
  AccuracyOptions options_;
};

// The indices of the k largest of `scores` (n values), in the order torch.topk(k, largest=True,
// sorted=True) returns them on the CPU, ties and NaN (largest) included: PyTorch partially sorts
// (value, index) pairs with std::partial_sort when k * 64 <= n and std::nth_element plus
// std::sort of the first k - 1 otherwise, and tie order is whatever those algorithms leave.
std::vector<int64_t> torch_topk_indices(const double* scores, int64_t n, int64_t k);

}  // namespace anvil::engine
