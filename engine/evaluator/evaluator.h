// MMEngine's evaluation (mmengine/evaluator): a metric accumulates plain records while the
// validation or test loop feeds it batches (`process`), then turns them into named values once
// the dataset is done (`evaluate`), each named "<prefix>/<key>" ("accuracy/top1"). An Evaluator
// runs several metrics over the same batches and merges their values.
//
//   Evaluator evaluator({std::make_shared<Accuracy>(AccuracyOptions{.topk = {1, 5}})});
//   for (const Batch& batch : loader) evaluator.process(batch, model.predict(batch));
//   Scalars values = evaluator.evaluate(dataset.size());  // {"accuracy/top1", 91.2}, ...
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/data/sample.h"
#include "engine/scalars.h"
#include "tensor/tensor.h"

namespace anvil::engine {

// One record of a metric: what it keeps of a processed sample (or batch). Plain numbers, so that
// records can be gathered across processes.
using MetricRecord = std::map<std::string, double>;

class BaseMetric {
 public:
  // `prefix`: unset takes the class's `default_prefix`; empty leaves keys unprefixed.
  explicit BaseMetric(std::string default_prefix, std::optional<std::string> prefix = std::nullopt);
  virtual ~BaseMetric() = default;
  BaseMetric(const BaseMetric&) = delete;
  BaseMetric& operator=(const BaseMetric&) = delete;

  // Appends the records of one batch to results(). `outputs` are what the model's predict mode
  // returns (e.g. {scores [N, C], labels [N]}).
  virtual void process(const Batch& data_batch, const std::vector<Tensor>& outputs) = 0;
  // The metric's values from all records (keys without the prefix).
  virtual Scalars compute_metrics(const std::vector<MetricRecord>& results) const = 0;

  // Collects the records of every process (truncated to `size`, the dataset's length, which drops
  // a sampler's round-up padding), computes, prefixes the keys and clears the records. With no
  // records it warns (stderr, as MMEngine) and returns nothing.
  Scalars evaluate(int64_t size);

  const std::string& prefix() const { return prefix_; }
  std::vector<MetricRecord>& results() { return results_; }
  const std::vector<MetricRecord>& results() const { return results_; }

  // The dataset's metainfo (class names, ...), set by the Evaluator before evaluation.
  const Metainfo& dataset_meta() const { return dataset_meta_; }
  void set_dataset_meta(Metainfo meta) { dataset_meta_ = std::move(meta); }

 protected:
  // The rank seam: the records of all processes in dataset order, at most `size` of them. On one
  // process that is this process's records, truncated to `size` (MMEngine's collect_results with
  // world_size 1); the distributed layer overrides the gathering here.
  virtual std::vector<MetricRecord> collect_results(std::vector<MetricRecord> results,
                                                    int64_t size) const;

 private:
  std::string prefix_;
  std::vector<MetricRecord> results_;
  Metainfo dataset_meta_;
};

class Evaluator {
 public:
  explicit Evaluator(std::vector<std::shared_ptr<BaseMetric>> metrics);

  // Every metric processes the batch.
  void process(const Batch& data_batch, const std::vector<Tensor>& outputs);
  // Every metric's values, in metric order; a name given by two metrics is an error naming it.
  Scalars evaluate(int64_t size);

  const std::vector<std::shared_ptr<BaseMetric>>& metrics() const { return metrics_; }
  const Metainfo& dataset_meta() const { return dataset_meta_; }
  // Passed on to every metric.
  void set_dataset_meta(const Metainfo& meta);

 private:
  std::vector<std::shared_ptr<BaseMetric>> metrics_;
  Metainfo dataset_meta_;
};

}  // namespace anvil::engine
