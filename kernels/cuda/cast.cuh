// Element conversions in device code, matching cast_value (tensor/dtype.h): the 16-bit floats go
// through float, anything nonzero becomes true. Half and BFloat16 convert on the host with
// std::bit_cast; on the device the CUDA intrinsics do the same round-to-nearest-even.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <type_traits>

#include "tensor/half.h"

namespace anvil::cuda {

template <class T>
inline constexpr bool is_16bit_float_v = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

__device__ inline float to_float(Half h) {
  return __half2float(__ushort_as_half(h.bits));
}
__device__ inline float to_float(BFloat16 b) {
  return __bfloat162float(__ushort_as_bfloat16(b.bits));
}

template <class T>
__device__ inline T from_float(float f) {
  T r;
  if constexpr (std::is_same_v<T, Half>) {
    r.bits = __half_as_ushort(__float2half_rn(f));
  } else {
    r.bits = __bfloat16_as_ushort(__float2bfloat16_rn(f));
  }
  return r;
}

template <class To, class From>
__device__ inline To device_cast(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (is_16bit_float_v<From>) {
    return device_cast<To>(to_float(v));
  } else if constexpr (is_16bit_float_v<To>) {
    return from_float<To>(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace anvil::cuda
