// CPU kernels of the elementwise unary ops. Each op is a small functor over the compute type A
// (float for f16/bf16, the element type otherwise): operator() is the math for one element and
// serves every dtype; ops with transcendental math also have vec(), the same formula on an Eigen
// array of f32/f64 (16-bit floats are computed in f32), so that it vectorizes (std::exp and
// friends do not).

// GCC 12 reports false "(may be) used uninitialized" warnings inside Eigen's AVX-512 packet code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <unsupported/Eigen/SpecialFunctions>

#include "kernels/cpu/loops.h"
#include "tensor/dispatch.h"

namespace anvil::cpu {

namespace {

template <class T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

template <class Op, class T>
concept Vectorized = requires(const Op& op, ArrayMap<T> o, const ConstArrayMap<T>& x) {
  op.vec(o, x);
};

// Elements per chunk of a run that is not a contiguous f32/f64 run (16-bit floats, strides): it
// is gathered into a buffer of the compute type, transformed there by vec(), and scattered back.
constexpr int64_t kChunk = 256;

template <class T, class Op>
void run_scalar(const Tensor& out, const Tensor& in, const Op& op) {
  map_elementwise<T, T>(
      out, [&op](T x) { return static_cast<T>(op(static_cast<acc_t<T>>(x))); }, in);
}

template <class T, class Op>
void run(const Tensor& out, const Tensor& in, const Op& op) {
  using A = acc_t<T>;
  if constexpr (std::is_floating_point_v<A> && Vectorized<Op, A>) {
    for_each_row<2>({&out, &in}, [&](char** p, const int64_t* s, int64_t n) {
      if (std::is_same_v<T, A> && s[0] == int64_t(sizeof(T)) && s[1] == int64_t(sizeof(T))) {
        ArrayMap<A> o(reinterpret_cast<A*>(p[0]), n);
        op.vec(o, ConstArrayMap<A>(reinterpret_cast<const A*>(p[1]), n));
        return;
      }
      A buf[kChunk];
      for (int64_t begin = 0; begin < n; begin += kChunk) {
        const int64_t m = std::min(kChunk, n - begin);
        const char* x = p[1] + begin * s[1];
        char* o = p[0] + begin * s[0];
        for (int64_t i = 0; i < m; ++i)
          buf[i] = static_cast<A>(*reinterpret_cast<const T*>(x + i * s[1]));
        ArrayMap<A> b(buf, m);
        op.vec(b, ConstArrayMap<A>(buf, m));
        for (int64_t i = 0; i < m; ++i)
          *reinterpret_cast<T*>(o + i * s[0]) = static_cast<T>(buf[i]);
      }
    });
  } else {
    run_scalar<T>(out, in, op);
  }
}

// The kernel of op Op for the dtypes kTypes (the set it is registered with).
template <template <class> class Op, DTypeSet kTypes>
void unary_kernel(const Tensor& out, const Tensor& in, const UnaryArgs& args) {
  visit_dtype(out.dtype(), [&]<class T>() {
    if constexpr (kTypes.contains(dtype_of_v<T>)) run<T>(out, in, Op<acc_t<T>>(args));
  });
}

// Ops without parameters.
template <class A>
struct NoArgs {
  explicit NoArgs(const UnaryArgs&) {}
};

template <class A>
struct Neg : NoArgs<A> {
  using NoArgs<A>::NoArgs;
  A operator()(A x) const { return static_cast<A>(-x); }
};

template <class A>
struct Abs : NoArgs<A> {
  using NoArgs<A>::NoArgs;
  A operator()(A x) const {
    if constexpr (std::is_unsigned_v<A>) {
      return x;
    } else if constexpr (std::is_floating_point_v<A>) {
      return std::abs(x);  // abs(-0.0) is +0.0
    } else {
      return x < 0 ? static_cast<A>(-x) : x;
    }
  }
};

template <class A>
struct Sign : NoArgs<A> {
  using NoArgs<A>::NoArgs;
  // NaN and -0.0 give 0, as PyTorch.
  A operator()(A x) const {
    if constexpr (std::is_same_v<A, bool>) {
      return x;
    } else {
      return static_cast<A>((A(0) < x) - (x < A(0)));
    }
  }
};

// A float function without parameters: its math for one element and for an Eigen array.
#define ANVIL_FLOAT_FN(Name, scalar_expr, vec_expr) \
  template <class A>                                \
  struct Name : NoArgs<A> {                         \
    using NoArgs<A>::NoArgs;                        \
    A operator()(A x) const { return scalar_expr; } \
    template <class O, class X>                     \
    void vec(O& o, const X& x) const {              \
      o = vec_expr;                                 \
    }                                               \
  };
ANVIL_FLOAT_FN(Exp, std::exp(x), x.exp())
ANVIL_FLOAT_FN(Expm1, std::expm1(x), x.expm1())
ANVIL_FLOAT_FN(Log, std::log(x), x.log())
ANVIL_FLOAT_FN(Log1p, std::log1p(x), x.log1p())
ANVIL_FLOAT_FN(Log2, std::log2(x), x.log2())
ANVIL_FLOAT_FN(Sin, std::sin(x), x.sin())
ANVIL_FLOAT_FN(Cos, std::cos(x), x.cos())
ANVIL_FLOAT_FN(Tanh, std::tanh(x), x.tanh())
ANVIL_FLOAT_FN(Erf, std::erf(x), x.erf())
// 1 / (1 + e^-x) rather than Eigen's logistic(), which clamps its input and loses the relative
// accuracy of small results.
ANVIL_FLOAT_FN(Sigmoid, A(1) / (A(1) + std::exp(-x)), A(1) / (A(1) + (-x).exp()))
ANVIL_FLOAT_FN(Silu, x / (A(1) + std::exp(-x)), x / (A(1) + (-x).exp()))
#undef ANVIL_FLOAT_FN

// Eigen's vectorized sqrt and rsqrt are approximations (sqrt(inf) is NaN, denormals flush to 0);
// std::sqrt is exact, and vectorizes (vsqrtps) where math functions may skip errno
// (-fno-math-errno).
template <class A>
struct Sqrt : NoArgs<A> {
  using NoArgs<A>::NoArgs;
  A operator()(A x) const { return std::sqrt(x); }
};

template <class A>
struct Rsqrt : NoArgs<A> {
  using NoArgs<A>::NoArgs;
  A operator()(A x) const { return A(1) / std::sqrt(x); }
};

template <class A>
struct Reciprocal : NoArgs<A> {
  using NoArgs<A>::NoArgs;
  A operator()(A x) const { return A(1) / x; }
};

template <class A>
struct Square : NoArgs<A> {
  using NoArgs<A>::NoArgs;
  A operator()(A x) const { return static_cast<A>(x * x); }
};

// relu and relu6 keep NaN (a comparison with NaN is false) and -0.0, as PyTorch's clamp.
template <class A>
struct Relu : NoArgs<A> {
  using NoArgs<A>::NoArgs;
  A operator()(A x) const { return x < A(0) ? A(0) : x; }
};

template <class A>
struct Relu6 : NoArgs<A> {
  using NoArgs<A>::NoArgs;
  A operator()(A x) const { return x < A(0) ? A(0) : (x > A(6) ? A(6) : x); }
};

template <class A>
struct Hardswish : NoArgs<A> {
  using NoArgs<A>::NoArgs;
  A operator()(A x) const { return x * std::min(std::max(x + A(3), A(0)), A(6)) / A(6); }
};

// floor, ceil and round leave integers as they are.
template <class A>
struct Floor : NoArgs<A> {
  using NoArgs<A>::NoArgs;
  A operator()(A x) const {
    if constexpr (std::is_floating_point_v<A>)
      return std::floor(x);
    else
      return x;
  }
};

template <class A>
struct Ceil : NoArgs<A> {
  using NoArgs<A>::NoArgs;
  A operator()(A x) const {
    if constexpr (std::is_floating_point_v<A>)
      return std::ceil(x);
    else
      return x;
  }
};

template <class A>
struct Round {
  // nearbyint rounds half to even in the default rounding mode. Scaling by 10^|decimals| with
  // a multiply or a divide keeps 10^decimals exact for negative decimals.
  explicit Round(const UnaryArgs& args)
      : decimals(args.a.to_int()), scale(static_cast<A>(std::pow(10.0, std::abs(decimals)))) {}
  A operator()(A x) const {
    if constexpr (std::is_floating_point_v<A>) {
      if (decimals == 0) return std::nearbyint(x);
      if (decimals > 0) return std::nearbyint(x * scale) / scale;
      return std::nearbyint(x / scale) * scale;
    } else {
      return x;
    }
  }
  int64_t decimals;
  A scale;
};

template <class A>
struct LeakyRelu {
  explicit LeakyRelu(const UnaryArgs& args) : slope(args.a.to<A>()) {}
  A operator()(A x) const { return x > A(0) ? x : x * slope; }
  A slope;
};

template <class A>
struct Elu {
  explicit Elu(const UnaryArgs& args)
      : neg_coef(args.a.to<A>() * args.b.to<A>()),
        pos_coef(args.b.to<A>()),
        input_scale(args.c.to<A>()) {}
  A operator()(A x) const {
    return x > A(0) ? x * pos_coef : std::expm1(x * input_scale) * neg_coef;
  }
  template <class O, class X>
  void vec(O& o, const X& x) const {
    o = (x > A(0)).select(x * pos_coef, (x * input_scale).expm1() * neg_coef);
  }
  A neg_coef, pos_coef, input_scale;
};

template <class A>
struct Gelu {
  explicit Gelu(const UnaryArgs& args) : tanh_form(args.a.to_int() != 0) {}
  static constexpr A kSqrtHalf = A(0.70710678118654752440);
  static constexpr A kSqrt2OverPi = A(0.79788456080286535588);
  static constexpr A kCubic = A(0.044715);
  A operator()(A x) const {
    if (tanh_form) return A(0.5) * x * (A(1) + std::tanh(kSqrt2OverPi * (x + kCubic * x * x * x)));
    return A(0.5) * x * (A(1) + std::erf(x * kSqrtHalf));
  }
  template <class O, class X>
  void vec(O& o, const X& x) const {
    if (tanh_form) {
      o = A(0.5) * x * (A(1) + (kSqrt2OverPi * (x + kCubic * x.cube())).tanh());
    } else {
      o = A(0.5) * x * (A(1) + (x * kSqrtHalf).erf());
    }
  }
  bool tanh_form;
};

template <class A>
struct Softplus {
  explicit Softplus(const UnaryArgs& args) : beta(args.a.to<A>()), threshold(args.b.to<A>()) {}
  // Above the threshold softplus is x to within rounding, and exp would overflow.
  A operator()(A x) const {
    return x * beta > threshold ? x : std::log1p(std::exp(x * beta)) / beta;
  }
  template <class O, class X>
  void vec(O& o, const X& x) const {
    o = (x * beta > threshold).select(x, (x * beta).exp().log1p() / beta);
  }
  A beta, threshold;
};

// min(max(x, lo), hi): NaN stays NaN, and lo > hi gives hi everywhere, as PyTorch.
template <class A>
struct Clamp {
  explicit Clamp(const UnaryArgs& args) : lo(args.a.to<A>()), hi(args.b.to<A>()) {}
  A operator()(A x) const {
    const A y = x < lo ? lo : x;
    return hi < y ? hi : y;
  }
  A lo, hi;
};

// Integer base^exponent by squaring, wrapping around as integer multiplication does; negative
// exponents give 1/base^|e| truncated: 0 except for base 1 and -1.
template <class A>
A integer_pow(A base, A e) {
  if constexpr (std::is_signed_v<A>) {
    if (e < 0) {
      if (base == 1) return 1;
      if (base == -1) return (e & 1) ? A(-1) : A(1);
      return 0;
    }
  }
  uint64_t result = 1, b = static_cast<uint64_t>(base);
  for (auto k = static_cast<uint64_t>(e); k; k >>= 1) {
    if (k & 1) result *= b;
    b *= b;
  }
  return static_cast<A>(result);
}

template <class A>
struct PowTensorScalar {
  explicit PowTensorScalar(const UnaryArgs& args) : e(args.a.to<A>()) {}
  A operator()(A x) const {
    if constexpr (std::is_floating_point_v<A>) {
      return std::pow(x, e);
    } else {
      return integer_pow(x, e);
    }
  }
  template <class O, class X>
  void vec(O& o, const X& x) const {
    o = x.pow(e);
  }
  A e;
};

template <class A>
struct PowScalarTensor {
  explicit PowScalarTensor(const UnaryArgs& args) : base(args.a.to<A>()) {}
  A operator()(A e) const {
    if constexpr (std::is_floating_point_v<A>) {
      return std::pow(base, e);
    } else {
      return integer_pow(base, e);
    }
  }
  template <class O, class X>
  void vec(O& o, const X& e) const {
    o = Eigen::pow(base, e);
  }
  A base;
};

template <class A>
struct NanToNum {
  explicit NanToNum(const UnaryArgs& args)
      : nan(args.a.to<A>()), posinf(args.b.to<A>()), neginf(args.c.to<A>()) {}
  A operator()(A x) const {
    if constexpr (std::is_floating_point_v<A>) {
      return std::isnan(x) ? nan : x == INFINITY ? posinf : x == -INFINITY ? neginf : x;
    } else {
      return x;
    }
  }
  A nan, posinf, neginf;
};

// Powers with a few common exponents run as multiplications or a square root, as PyTorch's.
// Eigen's vectorized pow drops the sign of odd integer powers of -0, -inf and of negative bases
// whose power underflows: those run std::pow.
template <class T>
void pow_tensor_scalar(const Tensor& out, const Tensor& in, const UnaryArgs& args) {
  using A = acc_t<T>;
  if constexpr (std::is_floating_point_v<A>) {
    const double e = args.a.to_double();
    if (e == 2) return run<T>(out, in, Square<A>(args));
    if (e == 3)
      return map_elementwise<T, T>(
          out, [](T x) { return T(A(x) * A(x) * A(x)); }, in);
    if (e == 0.5) return run<T>(out, in, Sqrt<A>(args));
    if (e == -0.5) return run<T>(out, in, Rsqrt<A>(args));
    if (e == -1) return run<T>(out, in, Reciprocal<A>(args));
    if (std::abs(std::fmod(e, 2.0)) == 1) return run_scalar<T>(out, in, PowTensorScalar<A>(args));
  }
  run<T>(out, in, PowTensorScalar<A>(args));
}

void pow_tensor_scalar_kernel(const Tensor& out, const Tensor& in, const UnaryArgs& args) {
  visit_dtype(out.dtype(), [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) pow_tensor_scalar<T>(out, in, args);
  });
}

void pow_scalar_tensor_kernel(const Tensor& out, const Tensor& in, const UnaryArgs& args) {
  visit_dtype(out.dtype(), [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) {
      const PowScalarTensor<acc_t<T>> op(args);
      if (std::signbit(args.a.to_double())) {
        run_scalar<T>(out, in, op);
      } else {
        run<T>(out, in, op);
      }
    }
  });
}

void logical_not_kernel(const Tensor& out, const Tensor& in, const UnaryArgs&) {
  visit_dtype(in.dtype(), [&]<class T>() {
    map_elementwise<bool, T>(
        out, [](T x) { return !cast_value<bool>(x); }, in);
  });
}

}  // namespace

#define ANVIL_UNARY_KERNEL(name, Op, types) \
  ANVIL_REGISTER_KERNEL(name, cpu, types, (unary_kernel<Op, types>))

ANVIL_UNARY_KERNEL(neg, Neg, kNumericTypes);
ANVIL_UNARY_KERNEL(abs, Abs, kNumericTypes);
ANVIL_UNARY_KERNEL(sign, Sign, kAllTypes);
ANVIL_UNARY_KERNEL(exp, Exp, kFloatingTypes);
ANVIL_UNARY_KERNEL(expm1, Expm1, kFloatingTypes);
ANVIL_UNARY_KERNEL(log, Log, kFloatingTypes);
ANVIL_UNARY_KERNEL(log1p, Log1p, kFloatingTypes);
ANVIL_UNARY_KERNEL(log2, Log2, kFloatingTypes);
ANVIL_UNARY_KERNEL(sqrt, Sqrt, kFloatingTypes);
ANVIL_UNARY_KERNEL(rsqrt, Rsqrt, kFloatingTypes);
ANVIL_UNARY_KERNEL(reciprocal, Reciprocal, kFloatingTypes);
ANVIL_UNARY_KERNEL(square, Square, kNumericTypes);
ANVIL_UNARY_KERNEL(sin, Sin, kFloatingTypes);
ANVIL_UNARY_KERNEL(cos, Cos, kFloatingTypes);
ANVIL_UNARY_KERNEL(tanh, Tanh, kFloatingTypes);
ANVIL_UNARY_KERNEL(sigmoid, Sigmoid, kFloatingTypes);
ANVIL_UNARY_KERNEL(relu, Relu, kNumericTypes);
ANVIL_UNARY_KERNEL(relu6, Relu6, kNumericTypes);
ANVIL_UNARY_KERNEL(leaky_relu, LeakyRelu, kFloatingTypes);
ANVIL_UNARY_KERNEL(elu, Elu, kFloatingTypes);
ANVIL_UNARY_KERNEL(gelu, Gelu, kFloatingTypes);
ANVIL_UNARY_KERNEL(silu, Silu, kFloatingTypes);
ANVIL_UNARY_KERNEL(softplus, Softplus, kFloatingTypes);
ANVIL_UNARY_KERNEL(hardswish, Hardswish, kFloatingTypes);
ANVIL_UNARY_KERNEL(erf, Erf, kFloatingTypes);
ANVIL_UNARY_KERNEL(floor, Floor, kNumericTypes);
ANVIL_UNARY_KERNEL(ceil, Ceil, kNumericTypes);
ANVIL_UNARY_KERNEL(round, Round, kNumericTypes);
ANVIL_UNARY_KERNEL(clamp, Clamp, kNumericTypes);
ANVIL_UNARY_KERNEL(nan_to_num, NanToNum, kAllTypes);
ANVIL_REGISTER_KERNEL(pow_tensor_scalar, cpu, kNumericTypes, pow_tensor_scalar_kernel);
ANVIL_REGISTER_KERNEL(pow_scalar_tensor, cpu, kNumericTypes, pow_scalar_tensor_kernel);
ANVIL_REGISTER_KERNEL(logical_not, cpu, kAllTypes, logical_not_kernel);

}  // namespace anvil::cpu
