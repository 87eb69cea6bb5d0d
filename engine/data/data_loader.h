// DataLoader: batches of a dataset in the sampler's order, loaded by worker threads ahead of the
// training step. Batch b of an epoch is always samples [b*batch_size, (b+1)*batch_size) of the
// sampler's stream and is yielded in that order whichever worker finished first; a sample's
// random transforms draw from (sampler seed, rank, epoch, position), so any num_workers gives the
// same batches as 0.
//
//   DataLoader loader(dataset, std::make_shared<DefaultSampler>(*dataset), {.batch_size = 32,
//                                                                         .num_workers = 2});
//   for (int64_t epoch = 0; epoch < 5; ++epoch) {
//     loader.set_epoch(epoch);
//     for (Batch& batch : loader) model.train_step(batch.inputs, batch.labels);
//   }
#pragma once

#include <atomic>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>

#include "engine/data/dataset.h"
#include "engine/data/sample.h"
#include "engine/data/sampler.h"

namespace anvil::engine {

struct DataLoaderOptions {
  int64_t batch_size = 1;
  int64_t num_workers = 0;      // threads; 0 loads in the calling thread
  int64_t prefetch_factor = 2;  // batches in flight per worker
  bool drop_last = false;
  bool pin_memory = false;          // batches in page-locked memory (when a CUDA device exists)
  bool persistent_workers = false;  // keep the threads between epochs
  CollateFn collate_fn = {};        // unset: default_collate
};

// Where a run stands, for checkpoints: the sampler's epoch and the batches of it already yielded.
struct DataLoaderState {
  int64_t epoch = 0;
  int64_t iteration = 0;
};

class DataLoader {
  class Run;

 public:
  class Iterator {
   public:
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    Batch& operator*() { return *current_; }
    Batch* operator->() { return &*current_; }
    Iterator& operator++();
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return !current_.has_value(); }

   private:
    friend class DataLoader;
    explicit Iterator(std::shared_ptr<Run> run);
    std::shared_ptr<Run> run_;
    std::optional<Batch> current_;
  };

  // sampler: unset, the dataset in order (DefaultSampler without shuffle, seed 0).
  DataLoader(std::shared_ptr<Dataset> dataset, std::shared_ptr<Sampler> sampler = nullptr,
             DataLoaderOptions options = {});
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Starts a pass over the epoch (from the resumed position after load_state). Abandoning it
  // (dropping the iterator, `break`) stops its loading. An iterator must not outlive its loader.
  Iterator begin();
  std::default_sentinel_t end() const { return {}; }
  // Batches per epoch (len(dataloader)).
  int64_t size() const;
  void set_epoch(int64_t epoch) { sampler_->set_epoch(epoch); }

  DataLoaderState state() const { return {sampler_->epoch(), iteration_.load()}; }
  // The next begin() continues epoch `state.epoch` at batch `state.iteration`, without loading
  // the batches before it.
  void load_state(const DataLoaderState& state);

  Dataset& dataset() const { return *dataset_; }
  Sampler& sampler() const { return *sampler_; }
  const DataLoaderOptions& options() const { return options_; }

 private:
  class WorkerPool;

  std::shared_ptr<Dataset> dataset_;
  std::shared_ptr<Sampler> sampler_;
  DataLoaderOptions options_;
  std::shared_ptr<WorkerPool> persistent_pool_;
  int64_t resume_batch_ = 0;
  std::atomic<int64_t> iteration_{0};
};

class Config;
// A DataLoader from MMEngine's `train_dataloader` table: dataset and sampler tables (the sampler
// defaults to DefaultSampler and its seed to `seed`), batch_size, num_workers,
// persistent_workers, drop_last, pin_memory, prefetch_factor, collate_fn = {type =
// "default_collate"}. Defined with the data registrations.
std::shared_ptr<DataLoader> build_dataloader(const Config& table, uint64_t seed);

}  // namespace anvil::engine
