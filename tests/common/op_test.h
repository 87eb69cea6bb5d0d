// OpInfo-style op testing: each op family lists its ops in a table of OpInfo entries (how to
// call the op, which dtypes, which sample inputs); one parameterized test runs every entry on
// every dtype and compares the CPU kernels with the float64 reference kernels.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "anvil.h"

namespace anvil::testing {

struct Tolerance {
  double rtol = 0;
  double atol = 0;
};
// Default per dtype: f32 1e-5, f64 1e-10, f16 1e-3, bf16 1e-2 (relative and absolute), ints exact.
Tolerance default_tolerance(DType t);

// A tensor of `shape` with values uniform in [lo, hi] (rounded for integral dtypes; bool is a coin
// flip), from a fixed seed, so failures reproduce.
Tensor random_tensor(const Shape& shape, DType dtype, double lo = -2, double hi = 2,
                     uint64_t seed = 1234);

// The same values as `t` laid out differently: a transposed-memory copy (non-contiguous), a
// copy read with step 2 along the last dim, or `t` itself.
enum class Layout { contiguous, transposed, strided };
Tensor with_layout(const Tensor& t, Layout layout);

// Expected vs actual, elementwise, with NaN == NaN and equal infinities; reports the worst entry.
::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, Tolerance tol);

// One call of an op: its inputs and a description for failure messages.
struct Sample {
  std::vector<Tensor> inputs;
  std::string desc;
};

using OpFn = std::function<Tensor(const std::vector<Tensor>&)>;

struct OpInfo {
  std::string name;
  OpFn fn;
  DTypeSet dtypes = kFloatingTypes;
  // Samples for one dtype; default_samples(...) covers the usual layouts.
  std::function<std::vector<Sample>(DType)> samples;
  // Kernels that must have a reference implementation (checked for each dtype tested).
  std::vector<OpId> ref_ops;
  std::optional<Tolerance> tol;  // unset: default_tolerance(dtype of the output)
};

// Samples for an op of `arity` same-dtype inputs with values in [lo, hi]: 0-d, zero-size, 1-d,
// 2-d contiguous, transposed and strided views, broadcasting pairs (arity >= 2), an expanded
// (stride-0) operand, and a tensor large enough to run on several threads.
std::vector<Sample> default_samples(DType dtype, int arity, double lo = -2, double hi = 2);

// Runs `fn` on the sample with the CPU kernels, then on float64 copies of the floating inputs
// under ReferenceModeGuard, and compares the two.
::testing::AssertionResult matches_reference(const OpInfo& op, const Sample& sample, DType dtype);

struct OpCase {
  const OpInfo* op;
  DType dtype;
};
// How gtest shows a case (instead of its bytes).
void PrintTo(const OpCase& c, std::ostream* os);

// Every (op, supported dtype) pair of a table, for INSTANTIATE_TEST_SUITE_P.
std::vector<OpCase> op_cases(const std::vector<OpInfo>& table);
// Test names are "<OpInfo name>_<dtype>": OpInfo names must be valid identifiers ([A-Za-z0-9_]).
std::string op_case_name(const ::testing::TestParamInfo<OpCase>& info);

// The parameterized suite: INSTANTIATE_TEST_SUITE_P(Unary, OpInfoTest,
//     ::testing::ValuesIn(op_cases(unary_op_table())), op_case_name);
class OpInfoTest : public ::testing::TestWithParam<OpCase> {};

// Expects `f` to throw an anvil error whose message contains every string of `parts`.
void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts);

}  // namespace anvil::testing
