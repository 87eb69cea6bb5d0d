// Iteration over several same-shaped strided tensors, for CPU kernels. Dims are coalesced where
// the layout allows, the innermost dim becomes a "row", and rows are split across threads.
// Kernels must not throw from inside these loops (they run in OpenMP regions): front-ends
// validate everything before a kernel runs.
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "kernels/cpu/parallel.h"
#include "tensor/tensor.h"

namespace anvil::cpu {

inline constexpr int kMaxDims = 25;

// N operands of one shape, dims coalesced; strides in bytes.
template <int N>
struct StridedLayout {
  int ndim = 0;  // >= 1 after construction (a 0-d tensor is one row of one element)
  int64_t numel = 1;
  int64_t sizes[kMaxDims];
  int64_t strides[N][kMaxDims];
  char* base[N];

  explicit StridedLayout(const std::array<const Tensor*, N>& ts) {
    const Tensor& t0 = *ts[0];
    const int nd = static_cast<int>(t0.dim());
    ANVIL_INTERNAL_ASSERT(nd <= kMaxDims);
    for (int k = 0; k < N; ++k) base[k] = static_cast<char*>(ts[k]->raw_data());
    // Collect non-trivial dims, merging dim d into the previous kept one when every operand's
    // strides make them one run: stride[prev] == stride[d] * size[d].
    for (int d = 0; d < nd; ++d) {
      const int64_t size = t0.shape()[d];
      numel *= size;
      if (size == 1) continue;
      bool merge = ndim > 0;
      for (int k = 0; k < N && merge; ++k) {
        const int64_t s = ts[k]->strides()[d] * ts[k]->element_size();
        merge = strides[k][ndim - 1] == s * size;
      }
      if (merge) {
        sizes[ndim - 1] *= size;
        for (int k = 0; k < N; ++k) strides[k][ndim - 1] = ts[k]->strides()[d] * ts[k]->element_size();
      } else {
        sizes[ndim] = size;
        for (int k = 0; k < N; ++k) strides[k][ndim] = ts[k]->strides()[d] * ts[k]->element_size();
        ++ndim;
      }
    }
    if (ndim == 0) {
      ndim = 1;
      sizes[0] = 1;
      for (int k = 0; k < N; ++k) strides[k][0] = 0;
    }
  }
};

// Calls row(ptrs, inner_strides, n) for runs of the innermost dim covering every element once.
// ptrs[k] points at operand k's first element of the run; inner_strides[k] is in bytes.
template <int N, class RowFn>
void for_each_row(const std::array<const Tensor*, N>& ts, const RowFn& row,
                  int64_t grain = kGrainSize) {
  const StridedLayout<N> L(ts);
  if (L.numel == 0) return;
  const int inner = L.ndim - 1;
  const int64_t inner_size = L.sizes[inner];
  int64_t inner_strides[N];
  for (int k = 0; k < N; ++k) inner_strides[k] = L.strides[k][inner];

  parallel_for(0, L.numel, grain, [&](int64_t begin, int64_t end) {
    // Position of `begin` as a multi-index over the outer dims plus an offset in the row.
    int64_t idx[kMaxDims];
    int64_t rest = begin / inner_size;
    int64_t col = begin % inner_size;
    for (int d = inner - 1; d >= 0; --d) {
      idx[d] = rest % L.sizes[d];
      rest /= L.sizes[d];
    }
    int64_t pos = begin;
    while (pos < end) {
      char* ptrs[N];
      for (int k = 0; k < N; ++k) {
        int64_t off = col * inner_strides[k];
        for (int d = 0; d < inner; ++d) off += idx[d] * L.strides[k][d];
        ptrs[k] = L.base[k] + off;
      }
      const int64_t n = std::min(inner_size - col, end - pos);
      row(ptrs, inner_strides, n);
      pos += n;
      col = 0;
      for (int d = inner - 1; d >= 0; --d) {
        if (++idx[d] < L.sizes[d]) break;
        idx[d] = 0;
      }
    }
  });
}

namespace detail {
template <class TOut, class... TIn, class F, size_t... I>
void map_rows(const std::array<const Tensor*, 1 + sizeof...(TIn)>& ts, const F& f,
              std::index_sequence<I...>) {
  constexpr int N = 1 + sizeof...(TIn);
  for_each_row<N>(ts, [&](char** ptrs, const int64_t* strides, int64_t n) {
    TOut* o = reinterpret_cast<TOut*>(ptrs[0]);
    const bool contiguous =
        strides[0] == int64_t(sizeof(TOut)) && ((strides[I + 1] == int64_t(sizeof(TIn))) && ...);
    if (contiguous) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(reinterpret_cast<const TIn*>(ptrs[I + 1])[i]...);
    } else {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<TOut*>(ptrs[0] + i * strides[0]) =
            f(*reinterpret_cast<const TIn*>(ptrs[I + 1] + i * strides[I + 1])...);
    }
  });
}
}  // namespace detail

// out[i] = f(in[i]...) elementwise over same-shaped operands (inputs already broadcast, e.g.
// as stride-0 expanded views). Contiguous rows run a plain pointer loop that the compiler
// vectorizes. Usage: map_elementwise<float, float, float>(out, f, a, b).
template <class TOut, class... TIn, class F>
void map_elementwise(const Tensor& out, const F& f,
                     const std::conditional_t<true, Tensor, TIn>&... in) {
  detail::map_rows<TOut, TIn...>({&out, &in...}, f, std::index_sequence_for<TIn...>{});
}

}  // namespace anvil::cpu
