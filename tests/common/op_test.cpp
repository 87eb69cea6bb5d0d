#include "common/op_test.h"

#include <cmath>
#include <deque>

namespace anvil::testing {

Tolerance default_tolerance(DType t) {
  switch (t) {
    case DType::f32: return {1e-5, 1e-5};
    case DType::f64: return {1e-10, 1e-10};
    case DType::f16: return {1e-3, 1e-3};
    case DType::bf16: return {1e-2, 1e-2};
    default: return {0, 0};
  }
}

Tensor random_tensor(const Shape& shape, DType dtype, double lo, double hi, uint64_t seed) {
  Generator gen(seed);
  Tensor u = rand(shape, DType::f64, &gen);
  const std::vector<double> v = u.to_vector<double>();
  std::vector<double> scaled(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    double x = lo + (hi - lo) * v[i];
    if (dtype == DType::boolean) x = v[i] < 0.5 ? 0 : 1;
    else if (is_integral(dtype)) x = std::round(x);
    scaled[i] = x;
  }
  return tensor(scaled, shape).to(dtype);
}

Tensor with_layout(const Tensor& t, Layout layout) {
  switch (layout) {
    case Layout::contiguous: return t.contiguous();
    case Layout::transposed: {
      if (t.dim() < 2) return t.contiguous();
      return t.transpose(0, t.dim() - 1).contiguous().transpose(0, t.dim() - 1);
    }
    case Layout::strided: {
      if (t.dim() < 1) return t.contiguous();
      Shape wide = t.shape();
      wide.back() *= 2;
      Tensor base = zeros(wide, TensorOptions(t.dtype()));
      Tensor view = base.slice(-1, 0, std::nullopt, 2);
      view.copy_(t);
      return view;
    }
  }
  return t;
}

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, Tolerance tol) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "shape " << shape_str(actual.shape()) << " != expected "
                                         << shape_str(expected.shape());
  }
  const std::vector<double> a = actual.to_vector<double>();
  const std::vector<double> e = expected.to_vector<double>();
  double worst = 0;
  int64_t worst_i = -1;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(e[i])) continue;
    if (std::isinf(e[i]) || std::isinf(a[i])) {
      if (a[i] != e[i]) {
        return ::testing::AssertionFailure()
               << "element " << i << ": got " << a[i] << ", expected " << e[i];
      }
      continue;
    }
    const double err = std::abs(a[i] - e[i]);
    const double allowed = tol.atol + tol.rtol * std::abs(e[i]);
    if (!(err <= allowed)) {
      const double excess = std::isnan(err) ? INFINITY : err / std::max(allowed, 1e-300);
      if (excess > worst || worst_i < 0) {
        worst = excess;
        worst_i = static_cast<int64_t>(i);
      }
    }
  }
  if (worst_i >= 0) {
    return ::testing::AssertionFailure()
           << "element " << worst_i << " (flat) of " << a.size() << ": got " << a[worst_i]
           << ", expected " << e[worst_i] << " (rtol " << tol.rtol << ", atol " << tol.atol << ")";
  }
  return ::testing::AssertionSuccess();
}

std::vector<Sample> default_samples(DType dtype, int arity, double lo, double hi) {
  std::vector<Sample> out;
  uint64_t seed = 100;
  auto rnd = [&](const Shape& s) { return random_tensor(s, dtype, lo, hi, seed++); };
  auto same_shape = [&](const Shape& s, Layout layout, const std::string& desc) {
    Sample smp;
    for (int i = 0; i < arity; ++i) smp.inputs.push_back(with_layout(rnd(s), i == 0 ? layout : Layout::contiguous));
    smp.desc = desc;
    out.push_back(smp);
  };
  same_shape({}, Layout::contiguous, "0-d");
  same_shape({0}, Layout::contiguous, "zero-size [0]");
  same_shape({3, 0}, Layout::contiguous, "zero-size [3,0]");
  same_shape({7}, Layout::contiguous, "1-d [7]");
  same_shape({5, 6}, Layout::contiguous, "2-d [5,6]");
  same_shape({5, 6}, Layout::transposed, "transposed [5,6]");
  same_shape({4, 5}, Layout::strided, "strided (step 2) [4,5]");
  same_shape({2, 3, 4}, Layout::transposed, "transposed [2,3,4]");
  same_shape({300, 257}, Layout::contiguous, "large [300,257] (threaded)");
  same_shape({257, 300}, Layout::transposed, "large transposed [257,300]");
  {
    Sample s;
    s.inputs.push_back(rnd({3, 1}).expand({3, 4}));
    for (int i = 1; i < arity; ++i) s.inputs.push_back(rnd({3, 4}));
    s.desc = "expanded (stride 0) [3,1]->[3,4]";
    out.push_back(s);
  }
  if (arity >= 2) {
    auto bcast = [&](std::vector<Shape> shapes, const std::string& desc) {
      Sample s;
      for (int i = 0; i < arity; ++i) s.inputs.push_back(rnd(shapes[std::min<size_t>(i, shapes.size() - 1)]));
      s.desc = desc;
      out.push_back(s);
    };
    bcast({{3, 4}, {4}}, "broadcast [3,4] with [4]");
    bcast({{3, 1}, {1, 4}}, "broadcast [3,1] with [1,4]");
    bcast({{2, 1, 4}, {3, 1}}, "broadcast [2,1,4] with [3,1]");
    bcast({{5}, {}}, "broadcast [5] with 0-d");
    bcast({{}, {2, 3}}, "broadcast 0-d with [2,3]");
    bcast({{64, 1, 300}, {1, 40, 300}}, "large broadcast [64,1,300] with [1,40,300]");
  }
  return out;
}

::testing::AssertionResult matches_reference(const OpInfo& op, const Sample& sample, DType dtype) {
  for (OpId id : op.ref_ops) {
    if (!has_kernel(id, Backend::ref, DType::f64) && !has_kernel(id, Backend::ref, dtype)) {
      return ::testing::AssertionFailure() << op.name << ": no reference kernel for " << op_name(id);
    }
  }
  Tensor actual;
  try {
    actual = op.fn(sample.inputs);
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << op.name << " [" << sample.desc << "] threw: " << e.what();
  }
  std::vector<Tensor> ref_inputs;
  for (const Tensor& t : sample.inputs) ref_inputs.push_back(t.is_floating_point() ? t.to(DType::f64) : t);
  Tensor expected;
  try {
    ReferenceModeGuard guard;
    expected = op.fn(ref_inputs);
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << op.name << " [" << sample.desc
                                         << "] reference threw: " << e.what();
  }
  const Tolerance tol = op.tol.value_or(default_tolerance(actual.dtype()));
  auto r = all_close(actual, expected, tol);
  if (!r) {
    return ::testing::AssertionFailure() << op.name << " (" << dtype_name(dtype) << ") ["
                                         << sample.desc << "]: " << r.message();
  }
  return ::testing::AssertionSuccess();
}

std::vector<OpCase> op_cases(const std::vector<OpInfo>& table) {
  // The table must outlive the cases: keep a copy for the whole test run (a deque never moves
  // its elements, so earlier tables stay where their cases point).
  static std::deque<std::vector<OpInfo>> tables;
  const std::vector<OpInfo>* kept = &tables.emplace_back(table);
  std::vector<OpCase> cases;
  for (const OpInfo& op : *kept) {
    for (int t = 0; t < kNumDTypes; ++t) {
      const DType dt = static_cast<DType>(t);
      if (op.dtypes.contains(dt)) cases.push_back({&op, dt});
    }
  }
  return cases;
}

void PrintTo(const OpCase& c, std::ostream* os) { *os << c.op->name << " (" << dtype_name(c.dtype) << ")"; }

std::string op_case_name(const ::testing::TestParamInfo<OpCase>& info) {
  return info.param.op->name + "_" + std::string(dtype_name(info.param.dtype));
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(OpInfoTest);

TEST_P(OpInfoTest, MatchesReference) {
  const OpCase& c = GetParam();
  for (const Sample& s : c.op->samples(c.dtype)) EXPECT_TRUE(matches_reference(*c.op, s, c.dtype));
}

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const std::string& p : parts) {
      EXPECT_NE(msg.find(p), std::string::npos) << "message \"" << msg << "\" lacks \"" << p << "\"";
    }
    return;
  }
  ADD_FAILURE() << "expected an anvil::Error mentioning " << ::testing::PrintToString(parts);
}

}  // namespace anvil::testing
