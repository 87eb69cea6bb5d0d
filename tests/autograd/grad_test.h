// Gradcheck tables: each differentiable op family lists GradCase entries (how to compute the
// op's outputs from f64 inputs, and the input shapes); one parameterized test runs every entry
// through autograd::gradcheck (float64 central differences against backward) with contiguous
// inputs, and again with transposed-memory and step-2 copies of the same values.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "anvil.h"
#include "common/op_test.h"

namespace anvil::testing {

struct GradCase {
  std::string name;           // a valid identifier: it becomes part of the test name
  autograd::GradcheckFn fn;   // outputs from inputs; index tensors and masks are captured
  std::vector<Shape> shapes;  // one per input (broadcasting cases give different shapes)
  double lo = -2, hi = 2;     // input values, uniform (keep away from kinks and poles)
  // Which inputs require grad (empty: all).
  std::vector<bool> requires_grad = {};
};

struct GradVariant {
  const GradCase* c;
  Layout layout;
};
void PrintTo(const GradVariant& v, std::ostream* os);

// Every case of a table in each layout, for INSTANTIATE_TEST_SUITE_P.
std::vector<GradVariant> grad_cases(const std::vector<GradCase>& table);
std::string grad_case_name(const ::testing::TestParamInfo<GradVariant>& info);

// The f64 inputs of a case in a layout (seeded: failures reproduce).
std::vector<Tensor> grad_inputs(const GradCase& c, Layout layout);

// INSTANTIATE_TEST_SUITE_P(Unary, GradTest, ::testing::ValuesIn(grad_cases(table)),
//                          grad_case_name);
class GradTest : public ::testing::TestWithParam<GradVariant> {};

}  // namespace anvil::testing
