// A number passed to an op (fill value, alpha, clamp bound): an integer, a float or a bool,
// kept exact so that int64 fills do not round through double.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "tensor/dtype.h"

namespace anvil {

class Scalar {
 public:
  enum class Kind : uint8_t { integral, floating, boolean };

  Scalar() : Scalar(int64_t{0}) {}
  template <class T>
    requires std::is_arithmetic_v<T>
  Scalar(T v) {  // NOLINT: implicit, as with Python numbers
    if constexpr (std::is_same_v<T, bool>) {
      kind_ = Kind::boolean;
      i_ = v;
      d_ = v;
    } else if constexpr (std::is_integral_v<T>) {
      kind_ = Kind::integral;
      i_ = static_cast<int64_t>(v);
      d_ = static_cast<double>(v);
    } else {
      kind_ = Kind::floating;
      d_ = static_cast<double>(v);
      i_ = static_cast<int64_t>(v);
    }
  }
  Scalar(Half v) : Scalar(float(v)) {}      // NOLINT
  Scalar(BFloat16 v) : Scalar(float(v)) {}  // NOLINT

  Kind kind() const { return kind_; }
  bool is_floating() const { return kind_ == Kind::floating; }
  bool is_integral() const { return kind_ == Kind::integral; }
  bool is_bool() const { return kind_ == Kind::boolean; }

  // The value as T (exact for integers kept as integers).
  template <class T>
  T to() const {
    if constexpr (std::is_same_v<T, bool>) {
      return kind_ == Kind::floating ? d_ != 0.0 : i_ != 0;
    } else if constexpr (std::is_integral_v<T>) {
      return kind_ == Kind::floating ? static_cast<T>(d_) : static_cast<T>(i_);
    } else {
      return kind_ == Kind::floating ? T(d_) : T(static_cast<double>(i_));
    }
  }
  double to_double() const { return d_; }
  int64_t to_int() const { return i_; }

  // The dtype PyTorch gives a tensor made from this number alone (torch.tensor(3.0) is f32).
  DType default_dtype() const {
    return kind_ == Kind::floating ? kDefaultFloat
           : kind_ == Kind::integral ? DType::i64
                                     : DType::boolean;
  }
  std::string str() const;

 private:
  Kind kind_;
  int64_t i_ = 0;
  double d_ = 0;
};

}  // namespace anvil
