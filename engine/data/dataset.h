// Datasets, as MMEngine's: BaseDataset (lazy full_init, metainfo, indices, get_subset, a pipeline
// of transforms run by get), ConcatDataset and RepeatDataset.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "engine/data/random.h"
#include "engine/data/sample.h"

namespace anvil::engine {

// A transform changes a sample in place, drawing random numbers only from `rng`.
class Transform {
 public:
  virtual ~Transform() = default;
  virtual void apply(Sample& sample, Rng& rng) const = 0;
  virtual std::string name() const = 0;
};
using Pipeline = std::vector<std::shared_ptr<const Transform>>;

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual Metainfo metainfo() const = 0;
  // Loads the data now rather than on first access.
  virtual void full_init() const = 0;
  // Sample `idx` (negative counts from the end) through the pipeline; random transforms draw
  // from the stream `key` names (get(idx) uses seed 0, epoch 0, position idx).
  Sample get(int64_t idx) const { return get(idx, RandomKey{.position = idx}); }
  Sample get(int64_t idx, const RandomKey& key) const;

 protected:
  // idx is in [0, size()).
  virtual Sample fetch(int64_t idx, const RandomKey& key) const = 0;
};

// MMEngine's `indices`: unset, the first n (negative: the last -n), or a list.
using Indices = std::variant<std::monostate, int64_t, std::vector<int64_t>>;

// MMEngine's BaseDataset arguments (ann_file, data_prefix, filter_cfg, serialize_data and
// max_refetch have no use for the binary readers here).
struct DatasetOptions {
  std::string data_root = {};
  std::string split = "train";  // the readers' split: "train" or "test" (MMPretrain's key)
  Metainfo metainfo = {};       // overrides the dataset's own metainfo key by key
  Pipeline pipeline = {};
  Indices indices = {};
  bool test_mode = false;
  bool lazy_init = false;  // false: full_init() in the constructor
};

class BaseDataset : public Dataset {
 public:
  explicit BaseDataset(DatasetOptions options);
  BaseDataset(const BaseDataset& other);  // shares the loaded data
  BaseDataset& operator=(const BaseDataset&) = delete;

  int64_t size() const override;
  Metainfo metainfo() const override;
  void full_init() const override;
  bool fully_initialized() const { return initialized_.load(); }
  const DatasetOptions& options() const { return options_; }
  // The sample before the pipeline, with `index` set.
  Sample get_data_info(int64_t idx) const;
  // A dataset of these samples (indices into this one; negative count from the end) or of the
  // first n (negative: the last -n). It shares this one's data.
  std::shared_ptr<BaseDataset> get_subset(const std::vector<int64_t>& indices) const;
  std::shared_ptr<BaseDataset> get_subset(int64_t n) const;

 protected:
  // Subclasses read their data here (once, from full_init) and say how many raw samples exist.
  virtual int64_t load_data_list() = 0;
  // Raw sample i in [0, load_data_list()), without index and pipeline.
  virtual Sample raw_sample(int64_t i) const = 0;
  virtual Metainfo class_metainfo() const { return {}; }
  virtual std::shared_ptr<BaseDataset> clone() const = 0;
  Sample fetch(int64_t idx, const RandomKey& key) const override;
  // Subclasses that read in their constructor call this last (MMEngine's lazy_init=False).
  void init_unless_lazy() const;

 private:
  std::vector<int64_t> resolve(const Indices& indices, int64_t n) const;
  std::shared_ptr<BaseDataset> subset_at(const std::vector<int64_t>& positions) const;

  DatasetOptions options_;
  mutable std::mutex init_mutex_;
  mutable std::atomic<bool> initialized_{false};
  mutable std::vector<int64_t> indices_;  // raw sample of each dataset index
};

// Datasets one after another; metainfo is the first's, and all must agree on it except for
// `ignore_keys`.
class ConcatDataset : public Dataset {
 public:
  explicit ConcatDataset(std::vector<std::shared_ptr<Dataset>> datasets,
                         std::vector<std::string> ignore_keys = {});
  int64_t size() const override;
  Metainfo metainfo() const override { return datasets_.front()->metainfo(); }
  void full_init() const override;
  const std::vector<std::shared_ptr<Dataset>>& datasets() const { return datasets_; }

 protected:
  Sample fetch(int64_t idx, const RandomKey& key) const override;

 private:
  std::vector<std::shared_ptr<Dataset>> datasets_;
  mutable std::vector<int64_t> ends_;  // cumulative sizes
  mutable std::once_flag init_;
};

// `times` passes over a dataset (idx % size); each repeat draws its own augmentation.
class RepeatDataset : public Dataset {
 public:
  RepeatDataset(std::shared_ptr<Dataset> dataset, int64_t times);
  int64_t size() const override { return times_ * dataset_->size(); }
  Metainfo metainfo() const override { return dataset_->metainfo(); }
  void full_init() const override { dataset_->full_init(); }

 protected:
  Sample fetch(int64_t idx, const RandomKey& key) const override;

 private:
  std::shared_ptr<Dataset> dataset_;
  int64_t times_;
};

}  // namespace anvil::engine
