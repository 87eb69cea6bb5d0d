// Samplers, as MMEngine's DefaultSampler and InfiniteSampler: which dataset indices a rank reads,
// in which order. Both give random access to their stream (index_at), so a resumed run skips to
// its position without loading the samples before it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/data/dataset.h"

namespace anvil::engine {

class Sampler {
 public:
  virtual ~Sampler() = default;
  // Indices per epoch on this rank (len(sampler)).
  virtual int64_t size() const = 0;
  // The dataset index at `position` of this epoch's stream on this rank; nullopt past its end
  // (endless samplers never end).
  virtual std::optional<int64_t> index_at(int64_t position) const = 0;
  virtual bool endless() const { return false; }
  virtual void set_epoch(int64_t epoch) {}
  virtual int64_t epoch() const { return 0; }
  virtual uint64_t seed() const = 0;
  virtual int64_t rank() const = 0;
};

// The seed a sampler uses when none is given: a fresh random one (MMEngine's sync_random_seed;
// in a distributed run rank 0's must be broadcast, so pass it explicitly there).
uint64_t random_seed();

struct DefaultSamplerOptions {
  bool shuffle = true;
  std::optional<uint64_t> seed = {};  // unset: random_seed()
  bool round_up = true;               // repeat indices so every rank gets ceil(N / world_size)
  int64_t rank = 0;
  int64_t world_size = 1;
};

// MMEngine's DefaultSampler: each epoch a permutation from a generator seeded with seed + epoch
// (or 0..N-1 without shuffle), padded by repetition to a multiple of world_size when round_up,
// then indices[rank::world_size].
class DefaultSampler : public Sampler {
 public:
  DefaultSampler(const Dataset& dataset, DefaultSamplerOptions options = {});
  DefaultSampler(int64_t dataset_size, DefaultSamplerOptions options = {});
  int64_t size() const override { return int64_t(indices_.size()); }
  std::optional<int64_t> index_at(int64_t position) const override;
  void set_epoch(int64_t epoch) override;
  int64_t epoch() const override { return epoch_; }
  uint64_t seed() const override { return seed_; }
  int64_t rank() const override { return options_.rank; }
  // This epoch's indices on this rank.
  const std::vector<int64_t>& indices() const { return indices_; }

 private:
  int64_t dataset_size_;
  DefaultSamplerOptions options_;
  uint64_t seed_;
  int64_t epoch_ = 0;
  std::vector<int64_t> indices_;
};

struct InfiniteSamplerOptions {
  bool shuffle = true;
  std::optional<uint64_t> seed = {};  // unset: random_seed()
  int64_t rank = 0;
  int64_t world_size = 1;
};

// MMEngine's InfiniteSampler: an endless stream of permutations (the p-th drawn from the seed and
// p, not reseeded per epoch) from which rank r takes every world_size-th index starting at r.
// set_epoch does nothing; size() is the dataset size.
class InfiniteSampler : public Sampler {
 public:
  InfiniteSampler(const Dataset& dataset, InfiniteSamplerOptions options = {});
  InfiniteSampler(int64_t dataset_size, InfiniteSamplerOptions options = {});
  int64_t size() const override { return dataset_size_; }
  std::optional<int64_t> index_at(int64_t position) const override;
  bool endless() const override { return true; }
  uint64_t seed() const override { return seed_; }
  int64_t rank() const override { return options_.rank; }

 private:
  int64_t dataset_size_;
  InfiniteSamplerOptions options_;
  uint64_t seed_;
  mutable int64_t cached_pass_ = -1;  // the permutation in `cached_`
  mutable std::vector<int64_t> cached_;
};

}  // namespace anvil::engine
