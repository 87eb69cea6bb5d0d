// CPU kernels for ranges and random numbers. Element i of a random tensor is drawn from words
// 2i and 2i+1 of the Philox stream, so the values do not depend on threads or devices.
#include <cmath>
#include <numbers>

#include "kernels/cpu/loops.h"
#include "tensor/dispatch.h"

namespace anvil::cpu {

namespace {

// Calls f(i) -> value for each element i of a contiguous output.
template <class T, class F>
void generate(const Tensor& out, const F& f) {
  T* o = out.data_ptr<T>();
  parallel_for(0, out.numel(), kGrainSize, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] = f(i);
  });
}

void arange_kernel(const Tensor& out, const Scalar& start, const Scalar& step) {
  visit_dtype(out.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      const double s = start.to_double(), st = step.to_double();
      generate<T>(out, [&](int64_t i) { return T(acc_t<T>(s + double(i) * st)); });
    } else {
      const int64_t s = start.to_int(), st = step.to_int();
      generate<T>(out, [&](int64_t i) { return cast_value<T>(s + i * st); });
    }
  });
}

void linspace_kernel(const Tensor& out, const Scalar& start, const Scalar& end) {
  const int64_t n = out.numel();
  const double s = start.to_double(), e = end.to_double();
  const double step = n > 1 ? (e - s) / double(n - 1) : 0.0;
  const int64_t half = n / 2;
  visit_dtype(out.dtype(), [&]<class T>() {
    generate<T>(out, [&](int64_t i) {
      const double v = i < half ? s + step * double(i) : e - step * double(n - 1 - i);
      return cast_value<T>(v);
    });
  });
}

template <class T>
acc_t<T> unit_uniform(PhiloxState st, int64_t i) {
  if constexpr (std::is_same_v<T, double>) {
    return uint_to_unit_double(philox_word(st, 2 * i), philox_word(st, 2 * i + 1));
  } else {
    return uint_to_unit_float(philox_word(st, 2 * i));
  }
}

void uniform_kernel(const Tensor& out, PhiloxState st, const Scalar& low, const Scalar& high) {
  visit_dtype(out.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const A lo = A(low.to_double()), range = A(high.to_double() - low.to_double());
      generate<T>(out, [&](int64_t i) { return T(lo + range * unit_uniform<T>(st, i)); });
    }
  });
}

void normal_kernel(const Tensor& out, PhiloxState st, const Scalar& mean, const Scalar& std) {
  visit_dtype(out.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      const double m = mean.to_double(), sd = std.to_double();
      generate<T>(out, [&](int64_t i) {
        // Box-Muller on the element's own two words; u1 in (0, 1] keeps the log finite.
        const double u1 = 1.0 - double(philox_word(st, 2 * i)) * (1.0 / 4294967296.0);
        const double u2 = double(philox_word(st, 2 * i + 1)) * (1.0 / 4294967296.0);
        const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
        return T(acc_t<T>(m + sd * z));
      });
    }
  });
}

void randint_kernel(const Tensor& out, PhiloxState st, const Scalar& low, const Scalar& high) {
  const int64_t lo = low.to_int();
  const uint64_t range = static_cast<uint64_t>(high.to_int() - lo);
  visit_dtype(out.dtype(), [&]<class T>() {
    generate<T>(out, [&](int64_t i) {
      const uint64_t r = (uint64_t(philox_word(st, 2 * i)) << 32) | philox_word(st, 2 * i + 1);
      return cast_value<T>(lo + static_cast<int64_t>(r % range));
    });
  });
}

void bernoulli_kernel(const Tensor& out, const Tensor& p, PhiloxState st) {
  visit_dtype(out.dtype(), [&]<class T>() {
    if constexpr (is_floating_v<T>) {
      const Tensor pc = p.contiguous();
      const T* pp = pc.data_ptr<T>();
      generate<T>(out, [&](int64_t i) {
        return T(unit_uniform<T>(st, i) < acc_t<T>(pp[i]) ? acc_t<T>(1) : acc_t<T>(0));
      });
    }
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(arange, cpu, kNumericTypes, arange_kernel);
ANVIL_REGISTER_KERNEL(linspace, cpu, kNumericTypes, linspace_kernel);
ANVIL_REGISTER_KERNEL(uniform, cpu, kFloatingTypes, uniform_kernel);
ANVIL_REGISTER_KERNEL(normal, cpu, kFloatingTypes, normal_kernel);
ANVIL_REGISTER_KERNEL(randint, cpu, kNumericTypes, randint_kernel);
ANVIL_REGISTER_KERNEL(bernoulli, cpu, kFloatingTypes, bernoulli_kernel);

}  // namespace anvil::cpu
