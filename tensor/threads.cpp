#include "tensor/threads.h"

#include <omp.h>

#include <cstdlib>
#include <string>

#include "tensor/error.h"

namespace anvil {

namespace {

int initial_threads() {
  for (const char* var : {"ANVIL_NUM_THREADS", "OMP_NUM_THREADS"}) {
    if (const char* v = std::getenv(var)) {
      try {
        const int n = std::stoi(v);
        if (n > 0) return n;
      } catch (const std::exception&) {
      }
    }
  }
  return omp_get_num_procs();
}

int& thread_count() {
  static int n = [] {
    const int t = initial_threads();
    omp_set_num_threads(t);  // also governs oneDNN, which runs on the same OpenMP runtime
    return t;
  }();
  return n;
}

}  // namespace

int num_threads() { return thread_count(); }

void set_num_threads(int n) {
  ANVIL_CHECK(n > 0, "set_num_threads: expected a positive thread count, got {}", n);
  thread_count() = n;
  omp_set_num_threads(n);
}

}  // namespace anvil

namespace anvil {
namespace {
// Apply ANVIL_NUM_THREADS at load time, so that libraries on the same OpenMP runtime (oneDNN's
// GEMM) follow it even when an op that calls num_threads() has not run yet.
const int g_threads_at_load = num_threads();
}  // namespace
}  // namespace anvil
