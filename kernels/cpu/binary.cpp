// CPU kernels of the elementwise binary and ternary ops. Each op is a small functor on the
// compute type (float for f16/bf16). Contiguous rows, and rows where one operand is broadcast
// (stride 0, e.g. a Scalar), run plain pointer loops that vectorize.
#include <atomic>
#include <cmath>
#include <type_traits>

#include "kernels/cpu/loops.h"
#include "tensor/dispatch.h"

namespace anvil::cpu {

namespace {

// Calls fn.template operator()<T>() for the dtype t, instantiating only the dtypes of kTypes
// (the ones the kernel is registered for).
template <DTypeSet kTypes, class Fn>
void visit(DType t, const Fn& fn) {
  visit_dtype(t, [&]<class T>() {
    if constexpr (kTypes.contains(dtype_of_v<T>)) fn.template operator()<T>();
  });
}

// out[i] = f(a[i], b[i]), the inputs of type T seen as acc_t<T>.
template <class TOut, class T, class F>
void binary_loop(const Tensor& out, const Tensor& a, const Tensor& b, const F& f) {
  using A = acc_t<T>;
  for_each_row<3>({&out, &a, &b}, [&](char** p, const int64_t* s, int64_t n) {
    auto* o = reinterpret_cast<TOut*>(p[0]);
    const auto* x = reinterpret_cast<const T*>(p[1]);
    const auto* y = reinterpret_cast<const T*>(p[2]);
    constexpr int64_t so = sizeof(TOut), si = sizeof(T);
    if (s[0] == so && s[1] == si && s[2] == si) {
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<TOut>(f(A(x[i]), A(y[i])));
    } else if (s[0] == so && s[1] == si && s[2] == 0) {
      const A yv = A(*y);
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<TOut>(f(A(x[i]), yv));
    } else if (s[0] == so && s[1] == 0 && s[2] == si) {
      const A xv = A(*x);
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<TOut>(f(xv, A(y[i])));
    } else {
      for (int64_t i = 0; i < n; ++i) {
        *reinterpret_cast<TOut*>(p[0] + i * s[0]) =
            static_cast<TOut>(f(A(*reinterpret_cast<const T*>(p[1] + i * s[1])),
                                A(*reinterpret_cast<const T*>(p[2] + i * s[2]))));
      }
    }
  });
}

// out[i] = f(a[i], b[i], c[i]) for inputs of types T0, T1, T2 seen as their acc_t.
template <class TOut, class T0, class T1, class T2, class F>
void ternary_loop(const Tensor& out, const Tensor& a, const Tensor& b, const Tensor& c,
                  const F& f) {
  using A0 = acc_t<T0>;
  using A1 = acc_t<T1>;
  using A2 = acc_t<T2>;
  for_each_row<4>({&out, &a, &b, &c}, [&](char** p, const int64_t* s, int64_t n) {
    auto* o = reinterpret_cast<TOut*>(p[0]);
    const auto* x = reinterpret_cast<const T0*>(p[1]);
    const auto* y = reinterpret_cast<const T1*>(p[2]);
    const auto* z = reinterpret_cast<const T2*>(p[3]);
    const bool leading_contiguous =
        s[0] == int64_t(sizeof(TOut)) && s[1] == int64_t(sizeof(T0)) && s[2] == int64_t(sizeof(T1));
    if (leading_contiguous && s[3] == int64_t(sizeof(T2))) {
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<TOut>(f(A0(x[i]), A1(y[i]), A2(z[i])));
    } else if (leading_contiguous && s[3] == 0) {
      const A2 zv = A2(*z);
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<TOut>(f(A0(x[i]), A1(y[i]), zv));
    } else {
      for (int64_t i = 0; i < n; ++i) {
        *reinterpret_cast<TOut*>(p[0] + i * s[0]) =
            static_cast<TOut>(f(A0(*reinterpret_cast<const T0*>(p[1] + i * s[1])),
                                A1(*reinterpret_cast<const T1*>(p[2] + i * s[2])),
                                A2(*reinterpret_cast<const T2*>(p[3] + i * s[3]))));
      }
    }
  });
}

template <class T>
inline constexpr bool is_int_v = std::is_integral_v<T> && !std::is_same_v<T, bool>;

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::isnan(v);
  } else {
    return false;
  }
}

// Integer +, -, * wrap around as in PyTorch; computing them unsigned keeps that defined.
template <class T>
T wrap_add(T a, T b) {
  if constexpr (is_int_v<T>) {
    return T(std::make_unsigned_t<T>(a) + std::make_unsigned_t<T>(b));
  } else {
    return T(a + b);
  }
}
template <class T>
T wrap_sub(T a, T b) {
  if constexpr (is_int_v<T>) {
    return T(std::make_unsigned_t<T>(a) - std::make_unsigned_t<T>(b));
  } else {
    return T(a - b);
  }
}
template <class T>
T wrap_mul(T a, T b) {
  if constexpr (is_int_v<T>) {
    return T(std::make_unsigned_t<T>(a) * std::make_unsigned_t<T>(b));
  } else {
    return T(a * b);
  }
}

// Integer division rounding toward zero. b == -1 is negation (the lowest value / -1 traps on
// x86); b != 0 is checked by the kernel beforehand.
template <class T>
T int_div_trunc(T a, T b) {
  if constexpr (std::is_signed_v<T>) {
    if (b == -1) return wrap_sub(T(0), a);
  }
  return T(a / b);
}

template <class T>
T int_div_floor(T a, T b) {
  const T q = int_div_trunc(a, b);
  // Round toward -inf when the signs differ and the division was inexact.
  if constexpr (std::is_signed_v<T>) {
    if ((a < 0) != (b < 0) && wrap_mul(q, b) != a) return T(q - 1);
  }
  return q;
}

template <class T>
T int_remainder(T a, T b) {
  if constexpr (std::is_signed_v<T>) {
    if (b == -1) return 0;
    const T r = T(a % b);
    return r != 0 && (r < 0) != (b < 0) ? T(r + b) : r;
  } else {
    return T(a % b);
  }
}

// Python's floor division for floats: floor of the exact quotient, which floor(a / b) misses
// when a / b rounds up to an integer (1.0 // 0.1 is 9).
template <class A>
A float_floor_divide(A a, A b) {
  if (b == 0) return a / b;
  const A mod = std::fmod(a, b);
  A div = (a - mod) / b;
  if (mod != 0 && (b < 0) != (mod < 0)) div -= 1;
  if (div == 0) return std::copysign(A(0), a / b);
  A floor_div = std::floor(div);
  if (div - floor_div > A(0.5)) floor_div += 1;
  return floor_div;
}

template <class A>
A float_remainder(A a, A b) {
  const A r = std::fmod(a, b);
  return r != 0 && (r < 0) != (b < 0) ? r + b : r;
}

// Integer power by squaring; negative exponents give 0 except for bases 1 and -1 (PyTorch).
template <class T>
T int_pow(T base, T exp) {
  if constexpr (std::is_signed_v<T>) {
    if (exp < 0) {
      if (base == 1) return 1;
      if (base == -1) return exp % 2 == 0 ? 1 : -1;
      return 0;
    }
  }
  T result = 1;
  while (exp != 0) {
    if (exp & 1) result = wrap_mul(result, base);
    base = wrap_mul(base, base);
    exp = T(exp >> 1);
  }
  return result;
}

// Integer division by zero is an error (PyTorch's ZeroDivisionError), found before any write.
template <class T>
void check_divisor(const char* op, const Tensor& b) {
  std::atomic<bool> zero{false};
  for_each_row<1>({&b}, [&](char** p, const int64_t* s, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      if (*reinterpret_cast<const T*>(p[0] + i * s[0]) == 0) {
        zero.store(true, std::memory_order_relaxed);
        return;
      }
    }
  });
  if (zero.load()) {
    throw ValueError(fmt::format("{}: ZeroDivisionError: integer division by zero (divisor {})", op,
                                 b.describe()));
  }
}

// ---- kernels ------------------------------------------------------------------------------

void add_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar& alpha) {
  visit<kAllTypes>(out.dtype(), [&]<class T>() {
    using A = acc_t<T>;
    const A al = alpha.to<A>();
    binary_loop<T, T>(out, a, b, [al](A x, A y) { return wrap_add(x, wrap_mul(al, y)); });
  });
}

void sub_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar& alpha) {
  visit<kNumericTypes>(out.dtype(), [&]<class T>() {
    using A = acc_t<T>;
    const A al = alpha.to<A>();
    binary_loop<T, T>(out, a, b, [al](A x, A y) { return wrap_sub(x, wrap_mul(al, y)); });
  });
}

void mul_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  visit<kAllTypes>(out.dtype(), [&]<class T>() {
    binary_loop<T, T>(out, a, b, [](acc_t<T> x, acc_t<T> y) { return wrap_mul(x, y); });
  });
}

void div_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  visit<kFloatingTypes>(out.dtype(), [&]<class T>() {
    binary_loop<T, T>(out, a, b, [](acc_t<T> x, acc_t<T> y) { return x / y; });
  });
}

void div_trunc_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  visit<kNumericTypes>(out.dtype(), [&]<class T>() {
    using A = acc_t<T>;
    if constexpr (is_int_v<T>) {
      check_divisor<T>("div_trunc", b);
      binary_loop<T, T>(out, a, b, [](A x, A y) { return int_div_trunc(x, y); });
    } else {
      binary_loop<T, T>(out, a, b, [](A x, A y) { return std::trunc(x / y); });
    }
  });
}

void floor_divide_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  visit<kNumericTypes>(out.dtype(), [&]<class T>() {
    using A = acc_t<T>;
    if constexpr (is_int_v<T>) {
      check_divisor<T>("floor_divide", b);
      binary_loop<T, T>(out, a, b, [](A x, A y) { return int_div_floor(x, y); });
    } else {
      binary_loop<T, T>(out, a, b, [](A x, A y) { return float_floor_divide(x, y); });
    }
  });
}

void remainder_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  visit<kNumericTypes>(out.dtype(), [&]<class T>() {
    using A = acc_t<T>;
    if constexpr (is_int_v<T>) {
      check_divisor<T>("remainder", b);
      binary_loop<T, T>(out, a, b, [](A x, A y) { return int_remainder(x, y); });
    } else {
      binary_loop<T, T>(out, a, b, [](A x, A y) { return float_remainder(x, y); });
    }
  });
}

void pow_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  visit<kNumericTypes>(out.dtype(), [&]<class T>() {
    using A = acc_t<T>;
    if constexpr (is_int_v<T>) {
      binary_loop<T, T>(out, a, b, [](A x, A y) { return int_pow(x, y); });
    } else {
      binary_loop<T, T>(out, a, b, [](A x, A y) { return std::pow(x, y); });
    }
  });
}

void maximum_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  visit<kAllTypes>(out.dtype(), [&]<class T>() {
    binary_loop<T, T>(out, a, b, [](acc_t<T> x, acc_t<T> y) {
      return is_nan(x) ? x : is_nan(y) ? y : x < y ? y : x;  // NaN propagates
    });
  });
}

void minimum_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  visit<kAllTypes>(out.dtype(), [&]<class T>() {
    binary_loop<T, T>(out, a, b, [](acc_t<T> x, acc_t<T> y) {
      return is_nan(x) ? x : is_nan(y) ? y : y < x ? y : x;
    });
  });
}

void threshold_backward_kernel(const Tensor& out, const Tensor& grad, const Tensor& self,
                               const Scalar& threshold) {
  visit<kNumericTypes>(out.dtype(), [&]<class T>() {
    using A = acc_t<T>;
    const A t = threshold.to<A>();
    binary_loop<T, T>(out, grad, self, [t](A g, A x) { return x <= t ? A(0) : g; });
  });
}

void atan2_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) {
  visit<kFloatingTypes>(out.dtype(), [&]<class T>() {
    binary_loop<T, T>(out, a, b, [](acc_t<T> x, acc_t<T> y) { return std::atan2(x, y); });
  });
}

// Comparisons and logical ops: inputs of the compute dtype, bool out.
template <class Pred>
void predicate_kernel(const Tensor& out, const Tensor& a, const Tensor& b) {
  visit<kAllTypes>(a.dtype(), [&]<class T>() { binary_loop<bool, T>(out, a, b, Pred{}); });
}

#define ANVIL_PREDICATE_KERNEL(name, expr)                                                 \
  struct name##_pred {                                                                     \
    template <class A>                                                                     \
    bool operator()(A x, A y) const {                                                      \
      return expr;                                                                         \
    }                                                                                      \
  };                                                                                       \
  void name##_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar&) { \
    predicate_kernel<name##_pred>(out, a, b);                                              \
  }
ANVIL_PREDICATE_KERNEL(eq, x == y)
ANVIL_PREDICATE_KERNEL(ne, x != y)
ANVIL_PREDICATE_KERNEL(lt, x < y)
ANVIL_PREDICATE_KERNEL(le, x <= y)
ANVIL_PREDICATE_KERNEL(gt, x > y)
ANVIL_PREDICATE_KERNEL(ge, x >= y)
ANVIL_PREDICATE_KERNEL(logical_and, x != A(0) && y != A(0))
ANVIL_PREDICATE_KERNEL(logical_or, x != A(0) || y != A(0))
ANVIL_PREDICATE_KERNEL(logical_xor, (x != A(0)) != (y != A(0)))
#undef ANVIL_PREDICATE_KERNEL

void where_kernel(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b,
                  const Scalar&) {
  // Values are moved, not computed: loop on the storage type (same size for every dtype).
  visit_dtype(out.dtype(), [&]<class T>() {
    using U = std::conditional_t<
        sizeof(T) == 1, uint8_t,
        std::conditional_t<sizeof(T) == 2, uint16_t,
                           std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;
    ternary_loop<U, bool, U, U>(out, cond, a, b, [](bool c, U x, U y) { return c ? x : y; });
  });
}

void lerp_kernel(const Tensor& out, const Tensor& start, const Tensor& end, const Tensor& weight,
                 const Scalar&) {
  visit<kFloatingTypes>(out.dtype(), [&]<class T>() {
    using A = acc_t<T>;
    ternary_loop<T, T, T, T>(out, start, end, weight, [](A s, A e, A w) {
      // Exact at both ends: from start for small weights, from end for large ones.
      return std::abs(w) < A(0.5) ? s + w * (e - s) : e - (e - s) * (A(1) - w);
    });
  });
}

void addcmul_kernel(const Tensor& out, const Tensor& self, const Tensor& t1, const Tensor& t2,
                    const Scalar& value) {
  visit<kNumericTypes>(out.dtype(), [&]<class T>() {
    using A = acc_t<T>;
    const A v = value.to<A>();
    ternary_loop<T, T, T, T>(
        out, self, t1, t2, [v](A s, A x, A y) { return wrap_add(s, wrap_mul(wrap_mul(v, x), y)); });
  });
}

void addcdiv_kernel(const Tensor& out, const Tensor& self, const Tensor& t1, const Tensor& t2,
                    const Scalar& value) {
  visit<kFloatingTypes>(out.dtype(), [&]<class T>() {
    using A = acc_t<T>;
    const A v = value.to<A>();
    // (v * x) / y, PyTorch's order of operations.
    ternary_loop<T, T, T, T>(out, self, t1, t2, [v](A s, A x, A y) { return s + v * x / y; });
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(add, cpu, kAllTypes, add_kernel);
ANVIL_REGISTER_KERNEL(sub, cpu, kNumericTypes, sub_kernel);
ANVIL_REGISTER_KERNEL(mul, cpu, kAllTypes, mul_kernel);
ANVIL_REGISTER_KERNEL(div, cpu, kFloatingTypes, div_kernel);
ANVIL_REGISTER_KERNEL(div_trunc, cpu, kNumericTypes, div_trunc_kernel);
ANVIL_REGISTER_KERNEL(floor_divide, cpu, kNumericTypes, floor_divide_kernel);
ANVIL_REGISTER_KERNEL(remainder, cpu, kNumericTypes, remainder_kernel);
ANVIL_REGISTER_KERNEL(pow_tensor, cpu, kNumericTypes, pow_kernel);
ANVIL_REGISTER_KERNEL(maximum, cpu, kAllTypes, maximum_kernel);
ANVIL_REGISTER_KERNEL(minimum, cpu, kAllTypes, minimum_kernel);
ANVIL_REGISTER_KERNEL(atan2, cpu, kFloatingTypes, atan2_kernel);
ANVIL_REGISTER_KERNEL(threshold_backward, cpu, kNumericTypes, threshold_backward_kernel);
ANVIL_REGISTER_KERNEL(eq, cpu, kAllTypes, eq_kernel);
ANVIL_REGISTER_KERNEL(ne, cpu, kAllTypes, ne_kernel);
ANVIL_REGISTER_KERNEL(lt, cpu, kAllTypes, lt_kernel);
ANVIL_REGISTER_KERNEL(le, cpu, kAllTypes, le_kernel);
ANVIL_REGISTER_KERNEL(gt, cpu, kAllTypes, gt_kernel);
ANVIL_REGISTER_KERNEL(ge, cpu, kAllTypes, ge_kernel);
ANVIL_REGISTER_KERNEL(logical_and, cpu, kAllTypes, logical_and_kernel);
ANVIL_REGISTER_KERNEL(logical_or, cpu, kAllTypes, logical_or_kernel);
ANVIL_REGISTER_KERNEL(logical_xor, cpu, kAllTypes, logical_xor_kernel);
ANVIL_REGISTER_KERNEL(where, cpu, kAllTypes, where_kernel);
ANVIL_REGISTER_KERNEL(lerp, cpu, kFloatingTypes, lerp_kernel);
ANVIL_REGISTER_KERNEL(addcmul, cpu, kNumericTypes, addcmul_kernel);
ANVIL_REGISTER_KERNEL(addcdiv, cpu, kFloatingTypes, addcdiv_kernel);

}  // namespace anvil::cpu
