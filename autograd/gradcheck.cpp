#include "autograd/gradcheck.h"

#include <cmath>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "tensor/ops/factory.h"

namespace anvil::autograd {

namespace {

// Row-major multi-index of flat element `flat` of `shape`.
Shape unravel(int64_t flat, const Shape& shape) {
  Shape idx(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    idx[d] = shape[d] == 0 ? 0 : flat % shape[d];
    flat = shape[d] == 0 ? 0 : flat / shape[d];
  }
  return idx;
}

// The f64 element `flat` of `t`, wherever its strides put it.
double& element(const Tensor& t, int64_t flat) {
  const Shape idx = unravel(flat, t.shape());
  int64_t off = t.offset();
  for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * t.strides()[d];
  return static_cast<double*>(t.storage()->data())[off];
}

// The floating outputs of fn, flattened to f64 values (without recording).
std::vector<std::vector<double>> evaluate(const GradcheckFn& fn,
                                          const std::vector<Tensor>& inputs) {
  NoGradGuard no_grad;
  std::vector<std::vector<double>> values;
  for (const Tensor& out : fn(inputs)) {
    if (out.defined() && out.is_floating_point()) values.push_back(out.to_vector<double>());
  }
  return values;
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs, double eps,
                          double atol, double rtol) {
  std::vector<Tensor> diff_inputs;
  std::vector<size_t> diff_index;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    if (!x.defined() || !x.requires_grad()) continue;
    ANVIL_CHECK(x.dtype() == DType::f64 && x.is_cpu(),
                "gradcheck: input {} is {}; inputs that require grad must be f64 CPU tensors", i,
                x.describe());
    for (int64_t d = 0; d < x.dim(); ++d) {
      ANVIL_CHECK(x.stride(d) != 0 || x.size(d) <= 1,
                  "gradcheck: input {} {} overlaps itself in memory (stride 0 in dim {}); pass a "
                  "copy (contiguous()) of it",
                  i, x.describe(), d);
    }
    diff_inputs.push_back(x);
    diff_index.push_back(i);
  }
  ANVIL_CHECK(!diff_inputs.empty(), "gradcheck: no input requires grad");

  // Analytic Jacobian, one output element at a time: J[k][o][e][j] = d out_o[e] / d in_k[j].
  std::vector<Tensor> outputs;
  for (const Tensor& out : fn(inputs)) {
    if (out.defined() && out.is_floating_point()) outputs.push_back(out);
  }
  const size_t nk = diff_inputs.size(), no = outputs.size();
  std::vector<std::vector<std::vector<std::vector<double>>>> analytic(nk);
  for (size_t k = 0; k < nk; ++k) {
    analytic[k].resize(no);
    for (size_t o = 0; o < no; ++o) {
      analytic[k][o].assign(outputs[o].numel(), std::vector<double>(diff_inputs[k].numel(), 0.0));
    }
  }
  std::vector<Tensor> roots;
  std::vector<size_t> root_of;
  for (size_t o = 0; o < no; ++o) {
    if (outputs[o].requires_grad()) {
      roots.push_back(outputs[o]);
      root_of.push_back(o);
    }
  }
  for (size_t r = 0; r < roots.size(); ++r) {
    const size_t o = root_of[r];
    for (int64_t e = 0; e < outputs[o].numel(); ++e) {
      std::vector<Tensor> seeds;
      for (const Tensor& root : roots) seeds.push_back(zeros(root.shape(), DType::f64));
      Tensor seed = seeds[r].view({-1});
      seed.data_ptr<double>()[e] = 1.0;
      const std::vector<Tensor> g = grad(roots, diff_inputs, seeds, /*retain_graph=*/true,
                                         /*allow_unused=*/true);
      for (size_t k = 0; k < nk; ++k) {
        if (!g[k].defined()) continue;
        const std::vector<double> row = g[k].to_vector<double>();
        for (size_t j = 0; j < row.size(); ++j) analytic[k][o][e][j] = row[j];
      }
    }
  }

  // Numeric Jacobian by central differences, compared as it is made.
  GradcheckResult result;
  int64_t mismatches = 0;
  constexpr int64_t kMaxReported = 20;
  for (size_t k = 0; k < nk; ++k) {
    const Tensor& x = diff_inputs[k];
    for (int64_t j = 0; j < x.numel(); ++j) {
      double& v = element(x, j);
      const double saved = v;
      v = saved + eps;
      const auto plus = evaluate(fn, inputs);
      v = saved - eps;
      const auto minus = evaluate(fn, inputs);
      v = saved;
      for (size_t o = 0; o < no; ++o) {
        for (size_t e = 0; e < plus[o].size(); ++e) {
          const double numeric = (plus[o][e] - minus[o][e]) / (2 * eps);
          const double a = analytic[k][o][e][j];
          if (std::abs(a - numeric) <= atol + rtol * std::abs(numeric)) continue;
          result.ok = false;
          if (mismatches++ < kMaxReported) {
            result.report += fmt::format(
                "input {} {} element {} (flat {}), output {} element {}: numeric {:.8g}, "
                "analytic {:.8g}\n",
                diff_index[k], x.describe(), shape_str(unravel(j, x.shape())), j, o, e, numeric, a);
          }
        }
      }
    }
  }
  if (mismatches > kMaxReported) {
    result.report += fmt::format("... and {} more mismatches\n", mismatches - kMaxReported);
  }
  if (!result.ok) {
    result.report = fmt::format("gradcheck failed (eps {}, atol {}, rtol {}):\n", eps, atol, rtol) +
                    result.report;
  }
  return result;
}

}  // namespace anvil::autograd
