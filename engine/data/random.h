// Random numbers for data loading. A sample's random transforms draw from a Philox stream picked
// by (seed, rank, epoch, position in the epoch), never from a shared generator, so a sample is
// augmented the same way whichever worker thread loads it, 0 workers or 8 give the same batches,
// and a resumed run draws what the uninterrupted run drew.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/generator.h"

namespace anvil::engine {

// Names one random stream.
struct RandomKey {
  uint64_t seed = 0;
  int64_t epoch = 0;
  int64_t position = 0;  // the sample's position in the epoch (or in an endless stream)
  int64_t rank = 0;
};

class Rng {
 public:
  explicit Rng(const RandomKey& key);
  uint32_t next_u32();
  double uniform();                            // [0, 1), 53 bits
  double uniform(double low, double high);     // [low, high)
  int64_t randint(int64_t low, int64_t high);  // [low, high), as torch.randint

 private:
  uint64_t key_;
  uint64_t stream_;
  uint64_t counter_ = 0;
  PhiloxBlock block_{};
  int used_ = 4;
};

// A uniformly random permutation of 0..n-1 (Fisher-Yates) drawn from `rng`.
std::vector<int64_t> random_permutation(int64_t n, Rng& rng);

}  // namespace anvil::engine
