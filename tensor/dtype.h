// Element types, their properties, PyTorch's type promotion, and the one switch from a runtime
// dtype into a template (visit_dtype).
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "tensor/error.h"
#include "tensor/half.h"

namespace anvil {

enum class DType : uint8_t { f32, f64, f16, bf16, i64, i32, u8, boolean };
inline constexpr int kNumDTypes = 8;

constexpr std::string_view dtype_name(DType t) {
  constexpr std::string_view names[] = {"f32", "f64", "f16", "bf16", "i64", "i32", "u8", "bool"};
  return names[static_cast<int>(t)];
}

constexpr int64_t dtype_size(DType t) {
  constexpr int64_t sizes[] = {4, 8, 2, 2, 8, 4, 1, 1};
  return sizes[static_cast<int>(t)];
}

constexpr bool is_floating(DType t) {
  return t == DType::f32 || t == DType::f64 || t == DType::f16 || t == DType::bf16;
}
constexpr bool is_integral(DType t, bool include_bool = false) {
  return t == DType::i64 || t == DType::i32 || t == DType::u8 ||
         (include_bool && t == DType::boolean);
}

// PyTorch's promotion categories: bool (0) < integer (1) < floating (2).
constexpr int dtype_category(DType t) {
  return t == DType::boolean ? 0 : is_integral(t) ? 1 : 2;
}

// The C++ type stored for each dtype, and back.
template <class T>
struct dtype_of;
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::f32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::f64;
};
template <>
struct dtype_of<Half> {
  static constexpr DType value = DType::f16;
};
template <>
struct dtype_of<BFloat16> {
  static constexpr DType value = DType::bf16;
};
template <>
struct dtype_of<int64_t> {
  static constexpr DType value = DType::i64;
};
template <>
struct dtype_of<int32_t> {
  static constexpr DType value = DType::i32;
};
template <>
struct dtype_of<uint8_t> {
  static constexpr DType value = DType::u8;
};
template <>
struct dtype_of<bool> {
  static constexpr DType value = DType::boolean;
};
template <class T>
inline constexpr DType dtype_of_v = dtype_of<T>::value;

template <class T>
inline constexpr bool is_floating_v =
    std::is_floating_point_v<T> || std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

// The type arithmetic on T is carried out in: float for the 16-bit floats, T otherwise.
template <class T>
using acc_t = std::conditional_t<std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>, float, T>;

// Converts one value between element types, as a dtype conversion does (16-bit floats go
// through float; anything nonzero becomes true).
template <class To, class From>
ANVIL_HOST_DEVICE inline To cast_value(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<To, bool>) {
    return static_cast<acc_t<From>>(v) != acc_t<From>(0);
  } else {
    return static_cast<To>(static_cast<acc_t<From>>(v));
  }
}

// Calls f.template operator()<T>() with T the C++ type of `t`: the single runtime-to-template
// switch of a kernel. Example: visit_dtype(t, [&]<class T>() { ... });
template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::f32:
      return f.template operator()<float>();
    case DType::f64:
      return f.template operator()<double>();
    case DType::f16:
      return f.template operator()<Half>();
    case DType::bf16:
      return f.template operator()<BFloat16>();
    case DType::i64:
      return f.template operator()<int64_t>();
    case DType::i32:
      return f.template operator()<int32_t>();
    case DType::u8:
      return f.template operator()<uint8_t>();
    case DType::boolean:
      return f.template operator()<bool>();
  }
  throw InternalError("visit_dtype: invalid dtype");
}

// A set of dtypes, as a bit mask (which dtypes a kernel supports).
struct DTypeSet {
  uint32_t bits = 0;
  constexpr DTypeSet() = default;
  constexpr DTypeSet(std::initializer_list<DType> ts) {
    for (DType t : ts) bits |= 1u << static_cast<int>(t);
  }
  constexpr bool contains(DType t) const { return bits & (1u << static_cast<int>(t)); }
  constexpr DTypeSet operator|(DTypeSet o) const {
    DTypeSet r;
    r.bits = bits | o.bits;
    return r;
  }
};
inline constexpr DTypeSet kFloatingTypes{DType::f32, DType::f64, DType::f16, DType::bf16};
inline constexpr DTypeSet kIntegralTypes{DType::i64, DType::i32, DType::u8};
inline constexpr DTypeSet kNumericTypes = kFloatingTypes | kIntegralTypes;
inline constexpr DTypeSet kAllTypes = kNumericTypes | DTypeSet{DType::boolean};

// PyTorch's promotion lattice for two dtypes (torch.promote_types).
DType promote_types(DType a, DType b);

// The default floating dtype (torch.get_default_dtype): f32.
inline constexpr DType kDefaultFloat = DType::f32;

}  // namespace anvil
