// Index arithmetic of CUDA kernels over strided tensors: the dims of N same-shaped operands are
// coalesced on the host, and each thread turns its linear element index into byte offsets.
// Plain __host__ __device__ code, so that CPU tests exercise it without a GPU.
#pragma once

#include <cstdint>

#include "tensor/half.h"  // ANVIL_HOST_DEVICE

namespace anvil::cuda {

inline constexpr int kMaxDims = 25;

// Byte offsets of element i of N operands. Dims are stored innermost first and merged where
// every operand's layout allows. Trivially copyable: it is passed to kernels by value.
template <int N>
struct OffsetCalculator {
  int ndim = 0;
  // Indices and sizes fit in 32 bits: the divisions run in 32-bit arithmetic, several times
  // faster on a GPU than 64-bit ones.
  bool use_32bit = true;
  int64_t sizes[kMaxDims];
  int64_t strides[kMaxDims][N];  // bytes

  ANVIL_HOST_DEVICE void offsets(int64_t linear, int64_t (&out)[N]) const {
    for (int k = 0; k < N; ++k) out[k] = 0;
    if (use_32bit) {
      uint32_t rest = static_cast<uint32_t>(linear);
      for (int d = 0; d < ndim; ++d) {
        const uint32_t size = static_cast<uint32_t>(sizes[d]);
        const uint32_t q = rest / size;
        const uint32_t r = rest - q * size;
        for (int k = 0; k < N; ++k) out[k] += int64_t(r) * strides[d][k];
        rest = q;
      }
    } else {
      int64_t rest = linear;
      for (int d = 0; d < ndim; ++d) {
        const int64_t q = rest / sizes[d];
        const int64_t r = rest - q * sizes[d];
        for (int k = 0; k < N; ++k) out[k] += r * strides[d][k];
        rest = q;
      }
    }
  }
};

// Builds the calculator for operands of shape sizes[0..ndim) (outermost first, as tensors store
// it) with strides[k][0..ndim) in bytes for operand k. Dims of size 1 are dropped, and a dim
// merges into the next inner one when, for every operand, stride[outer] == stride[inner] *
// size[inner]. A 0-d or all-ones shape becomes zero dims (element 0 at offset 0).
template <int N>
OffsetCalculator<N> make_offset_calculator(int ndim, const int64_t* sizes,
                                           const int64_t* const (&strides)[N]) {
  OffsetCalculator<N> c;
  int64_t numel = 1;
  for (int d = ndim - 1; d >= 0; --d) {
    const int64_t size = sizes[d];
    numel *= size;
    if (size == 1) continue;
    bool merge = c.ndim > 0;
    for (int k = 0; k < N && merge; ++k)
      merge = strides[k][d] == c.strides[c.ndim - 1][k] * c.sizes[c.ndim - 1];
    if (merge) {
      c.sizes[c.ndim - 1] *= size;
    } else {
      c.sizes[c.ndim] = size;
      for (int k = 0; k < N; ++k) c.strides[c.ndim][k] = strides[k][d];
      ++c.ndim;
    }
  }
  c.use_32bit = numel <= INT32_MAX;
  return c;
}

// Elements before the first 16-byte aligned one of an array of T at `address` (T-aligned):
// a vectorized loop handles [head, head + 16-byte chunks), scalar code the rest.
ANVIL_HOST_DEVICE inline int64_t elements_before_alignment(uintptr_t address, int64_t elem_size,
                                                           int64_t numel) {
  const int64_t misalign = static_cast<int64_t>(address % 16);
  const int64_t head = misalign == 0 ? 0 : (16 - misalign) / elem_size;
  return head < numel ? head : numel;
}

// Threads per block and blocks for a grid-stride loop over n elements (each thread handles at
// least `per_thread` elements before striding), capped so that huge tensors do not launch more
// blocks than the device can keep resident many times over.
struct LaunchConfig {
  int threads = 0;
  int64_t blocks = 0;
};
ANVIL_HOST_DEVICE inline LaunchConfig launch_config(int64_t n, int per_thread, int sm_count) {
  constexpr int kThreads = 256;
  const int64_t work = (n + per_thread - 1) / per_thread;
  int64_t blocks = (work + kThreads - 1) / kThreads;
  const int64_t cap = int64_t(sm_count) * 32;  // 8 resident blocks of 256 per SM, 4 waves
  if (blocks > cap) blocks = cap;
  if (blocks < 1) blocks = 1;
  return {kThreads, blocks};
}

}  // namespace anvil::cuda
