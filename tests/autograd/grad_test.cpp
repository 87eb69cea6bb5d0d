#include "grad_test.h"

namespace anvil::testing {

void PrintTo(const GradVariant& v, std::ostream* os) {
  *os << v.c->name << " (layout " << static_cast<int>(v.layout) << ")";
}

std::vector<GradVariant> grad_cases(const std::vector<GradCase>& table) {
  std::vector<GradVariant> out;
  for (const GradCase& c : table) {
    for (Layout layout : {Layout::contiguous, Layout::transposed, Layout::strided}) {
      out.push_back({&c, layout});
    }
  }
  return out;
}

std::string grad_case_name(const ::testing::TestParamInfo<GradVariant>& info) {
  static const char* const kLayouts[] = {"contiguous", "transposed", "strided"};
  return info.param.c->name + "_" + kLayouts[static_cast<int>(info.param.layout)];
}

std::vector<Tensor> grad_inputs(const GradCase& c, Layout layout) {
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < c.shapes.size(); ++i) {
    Tensor x = with_layout(random_tensor(c.shapes[i], DType::f64, c.lo, c.hi, 1000 + i), layout);
    if (c.requires_grad.empty() || c.requires_grad[i]) x.requires_grad_();
    inputs.push_back(x);
  }
  return inputs;
}

TEST_P(GradTest, MatchesFiniteDifferences) {
  const GradVariant& v = GetParam();
  const std::vector<Tensor> inputs = grad_inputs(*v.c, v.layout);
  const autograd::GradcheckResult result = autograd::gradcheck(v.c->fn, inputs);
  EXPECT_TRUE(result.ok) << result.report;
}

}  // namespace anvil::testing
