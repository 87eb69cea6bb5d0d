// Two small networks written with basic ops give PyTorch's loss and parameter gradients: the
// values come from tests/golden/make_autograd_golden.py (float64, inputs and weights included).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "anvil.h"
#include "common/golden.h"

namespace anvil {
namespace {

using testing::expect_close;
using testing::Golden;
using testing::load_golden;

// Softmax cross-entropy from basic ops: mean(logsumexp(z) - z[target]).
Tensor basic_cross_entropy(const Tensor& logits, const Tensor& target) {
  const Tensor picked = gather(logits, 1, target.unsqueeze(1)).squeeze(1);
  return (logsumexp(logits, {1}) - picked).mean();
}

// The parameters of `g` (copied, as leaves that require grad) in `dtype`.
std::map<std::string, Tensor> params(const Golden& g, const std::vector<std::string>& names,
                                     DType dtype) {
  std::map<std::string, Tensor> p;
  for (const std::string& n : names) p[n] = g.at(n).to(dtype).requires_grad_();
  return p;
}

void check(const Golden& g, const Tensor& loss, const std::map<std::string, Tensor>& p, double rtol,
           double atol) {
  expect_close(loss, g.at("loss"), rtol, atol, "loss");
  loss.backward();
  for (const auto& [name, t] : p) expect_close(t.grad(), g.at("grad_" + name), rtol, atol, name);
}

class GoldenNetwork : public ::testing::TestWithParam<DType> {};

// Tolerances: float64 matches PyTorch to 1e-5 relative (in practice ~1e-12); float32 to 1e-4.
double rtol_for(DType t) {
  return t == DType::f64 ? 1e-5 : 1e-4;
}
double atol_for(DType t) {
  return t == DType::f64 ? 1e-12 : 1e-6;
}

TEST_P(GoldenNetwork, Mlp) {
  const DType dtype = GetParam();
  const Golden g = load_golden("autograd_mlp.txt");
  auto p = params(g, {"w1", "b1", "w2", "b2"}, dtype);
  const Tensor x = g.at("x").to(dtype);
  const Tensor target = g.at("target").to(DType::i64);
  const Tensor h = gelu(matmul(x, p["w1"].t()) + p["b1"]);
  const Tensor logits = linear(h, p["w2"], p["b2"]);
  check(g, basic_cross_entropy(logits, target), p, rtol_for(dtype), atol_for(dtype));
}

TEST_P(GoldenNetwork, TokenNetWithCompositeLayerNorm) {
  const DType dtype = GetParam();
  const Golden g = load_golden("autograd_token_net.txt");
  auto p = params(g, {"gamma", "beta", "w1", "w2", "head"}, dtype);
  const Tensor x = g.at("x").to(dtype);
  const Tensor target = g.at("target").to(DType::i64);
  const Tensor mean = x.mean({-1}, true);
  const Tensor var = pow(x - mean, 2).mean({-1}, true);
  const Tensor normed = (x - mean) / sqrt(var + 1e-5) * p["gamma"] + p["beta"];
  const Tensor hidden = gelu(matmul(normed, p["w1"]), GeluApprox::tanh);
  const Tensor y = x + matmul(hidden, p["w2"]);
  const Tensor logits = matmul(y.mean({1}), p["head"]);
  check(g, basic_cross_entropy(logits, target), p, rtol_for(dtype), atol_for(dtype));
}

INSTANTIATE_TEST_SUITE_P(Autograd, GoldenNetwork, ::testing::Values(DType::f64, DType::f32),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(dtype_name(info.param));
                         });

}  // namespace
}  // namespace anvil
