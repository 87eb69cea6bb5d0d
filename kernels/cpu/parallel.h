// parallel_for over an index range with OpenMP; small ranges stay on the calling thread.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "tensor/threads.h"

namespace anvil::cpu {

// Below this many elements of work a loop is not worth a parallel region (as PyTorch's grain).
inline constexpr int64_t kGrainSize = 32768;

// Calls f(chunk_begin, chunk_end) over [begin, end) split into at most num_threads() chunks of
// at least `grain` elements each.
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  const int64_t max_chunks = std::max<int64_t>(1, n / std::max<int64_t>(grain, 1));
  const int threads = static_cast<int>(std::min<int64_t>(num_threads(), max_chunks));
  if (threads <= 1 || omp_in_parallel()) {
    f(begin, end);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num();
    const int64_t nt = omp_get_num_threads();
    const int64_t chunk = (n + nt - 1) / nt;
    const int64_t b = begin + t * chunk;
    const int64_t e = std::min(end, b + chunk);
    if (b < e) f(b, e);
  }
}

}  // namespace anvil::cpu
