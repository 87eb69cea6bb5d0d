#include "engine/data/random.h"

#include <numeric>

#include "tensor/error.h"

namespace anvil::engine {

namespace {

// splitmix64's finalizer: spreads nearby seeds and epochs over the whole key space.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

Rng::Rng(const RandomKey& key)
    : key_(mix(key.seed ^ mix(uint64_t(key.epoch) ^ mix(uint64_t(key.rank) + 0x5EED)))),
      stream_(uint64_t(key.position)) {}

uint32_t Rng::next_u32() {
  if (used_ == 4) {
    block_ = philox4x32(counter_++, stream_, key_);
    used_ = 0;
  }
  return block_.w[used_++];
}

double Rng::uniform() {
  const uint32_t hi = next_u32();
  return uint_to_unit_double(hi, next_u32());
}

double Rng::uniform(double low, double high) {
  return low + (high - low) * uniform();
}

int64_t Rng::randint(int64_t low, int64_t high) {
  ANVIL_CHECK(high > low, "randint: empty range [{}, {})", low, high);
  const auto span = uint64_t(high - low);
  // Rejection keeps every value equally likely for any span.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  uint64_t x;
  do {
    x = (uint64_t(next_u32()) << 32) | next_u32();
  } while (x >= limit);
  return low + int64_t(x % span);
}

std::vector<int64_t> random_permutation(int64_t n, Rng& rng) {
  std::vector<int64_t> perm(size_t(std::max<int64_t>(n, 0)));
  std::iota(perm.begin(), perm.end(), int64_t(0));
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(perm[size_t(i)], perm[size_t(rng.randint(0, i + 1))]);
  return perm;
}

}  // namespace anvil::engine
