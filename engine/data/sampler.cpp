#include "engine/data/sampler.h"

#include <numeric>
#include <random>

#include "tensor/error.h"

namespace anvil::engine {

namespace {

void check_ranks(const char* sampler, int64_t size, int64_t rank, int64_t world_size) {
  ANVIL_CHECK(world_size >= 1 && rank >= 0 && rank < world_size,
              "{}: rank {} is not in [0, world_size={})", sampler, rank, world_size);
  ANVIL_CHECK(size > 0, "{}: the dataset is empty", sampler);
}

}  // namespace

uint64_t random_seed() {
  std::random_device device;
  return (uint64_t(device()) << 32 | device()) & 0x7FFFFFFF;  // randint(2**31), as MMEngine
}

DefaultSampler::DefaultSampler(const Dataset& dataset, DefaultSamplerOptions options)
    : DefaultSampler(dataset.size(), options) {}

DefaultSampler::DefaultSampler(int64_t dataset_size, DefaultSamplerOptions options)
    : dataset_size_(dataset_size), options_(options), seed_(options.seed.value_or(random_seed())) {
  check_ranks("DefaultSampler", dataset_size_, options_.rank, options_.world_size);
  set_epoch(0);
}

void DefaultSampler::set_epoch(int64_t epoch) {
  epoch_ = epoch;
  std::vector<int64_t> order;
  if (options_.shuffle) {
    Rng rng(RandomKey{.seed = seed_ + uint64_t(epoch)});
    order = random_permutation(dataset_size_, rng);
  } else {
    order.resize(size_t(dataset_size_));
    std::iota(order.begin(), order.end(), int64_t(0));
  }
  const int64_t world = options_.world_size;
  const int64_t total =
      options_.round_up ? (dataset_size_ + world - 1) / world * world : dataset_size_;
  indices_.clear();
  for (int64_t i = options_.rank; i < total; i += world)
    indices_.push_back(order[size_t(i % dataset_size_)]);
}

std::optional<int64_t> DefaultSampler::index_at(int64_t position) const {
  if (position < 0 || position >= size()) return std::nullopt;
  return indices_[size_t(position)];
}

InfiniteSampler::InfiniteSampler(const Dataset& dataset, InfiniteSamplerOptions options)
    : InfiniteSampler(dataset.size(), options) {}

InfiniteSampler::InfiniteSampler(int64_t dataset_size, InfiniteSamplerOptions options)
    : dataset_size_(dataset_size), options_(options), seed_(options.seed.value_or(random_seed())) {
  check_ranks("InfiniteSampler", dataset_size_, options_.rank, options_.world_size);
}

std::optional<int64_t> InfiniteSampler::index_at(int64_t position) const {
  if (position < 0) return std::nullopt;
  const int64_t global = options_.rank + position * options_.world_size;
  const int64_t pass = global / dataset_size_, offset = global % dataset_size_;
  if (!options_.shuffle) return offset;
  if (pass != cached_pass_) {
    Rng rng(RandomKey{.seed = seed_, .position = pass});
    cached_ = random_permutation(dataset_size_, rng);
    cached_pass_ = pass;
  }
  return cached_[size_t(offset)];
}

}  // namespace anvil::engine
