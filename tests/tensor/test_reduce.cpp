// Reductions, cumsum, softmax: every op against the float64 reference over many dim sets and
// layouts, plus accuracy, NaN and tie rules, stability, result dtypes and error messages.
#include <gtest/gtest.h>

#include <cmath>

#include "common/op_test.h"

namespace anvil {
namespace {

using testing::expect_error;
using testing::Layout;
using testing::OpInfo;
using testing::OpInfoTest;
using testing::random_tensor;
using testing::Sample;
using testing::with_layout;

// Which dims a table entry reduces, as a function of the input's rank.
enum class Dims { all, last, first, middle, multi };

std::vector<int64_t> dims_for(Dims d, int64_t rank) {
  switch (d) {
    case Dims::all:
      return {};
    case Dims::last:
      return {-1};
    case Dims::first:
      return {0};
    case Dims::middle:
      return {rank >= 3 ? 1 : 0};
    case Dims::multi:  // non-adjacent in 3-d: the input is reordered before reducing
      return rank >= 3   ? std::vector<int64_t>{-1, 0}
             : rank == 2 ? std::vector<int64_t>{1, 0}
                         : std::vector<int64_t>{0};
  }
  return {};
}

const char* dims_name(Dims d) {
  constexpr const char* names[] = {"all", "last", "first", "middle", "multi"};
  return names[static_cast<int>(d)];
}

struct SampleOpts {
  bool empty = true;  // zero-size inputs (ops with no identity, like max, reject them)
  bool large = true;  // inputs large enough for several threads
  double lo = -2, hi = 2;
};

std::vector<Sample> reduce_samples(DType dtype, SampleOpts o) {
  std::vector<Sample> out;
  uint64_t seed = 7;
  auto add = [&](const Shape& s, Layout layout, const std::string& desc) {
    out.push_back({{with_layout(random_tensor(s, dtype, o.lo, o.hi, seed++), layout)}, desc});
  };
  add({}, Layout::contiguous, "0-d");
  if (o.empty) {
    add({0}, Layout::contiguous, "zero-size [0]");
    add({3, 0}, Layout::contiguous, "zero-size [3,0]");
    add({0, 4}, Layout::contiguous, "zero-size [0,4]");
  }
  add({7}, Layout::contiguous, "[7]");
  add({5, 6}, Layout::contiguous, "[5,6]");
  add({5, 6}, Layout::transposed, "transposed [5,6]");
  add({4, 5}, Layout::strided, "strided (step 2) [4,5]");
  add({2, 3, 4}, Layout::contiguous, "[2,3,4]");
  add({2, 3, 4}, Layout::transposed, "transposed [2,3,4]");
  add({3, 1, 5}, Layout::contiguous, "size-1 dim [3,1,5]");
  out.push_back(
      {{random_tensor({3, 1}, dtype, o.lo, o.hi, seed++).expand({3, 4})}, "expanded [3,1]->[3,4]"});
  if (o.large) {
    add({300, 257}, Layout::contiguous, "large [300,257]");
    add({257, 300}, Layout::transposed, "large transposed [257,300]");
    add({16, 3, 600}, Layout::contiguous, "large [16,3,600]");
    add({2, 70000}, Layout::contiguous, "long rows [2,70000]");
  }
  return out;
}

using ReduceFn = std::function<Tensor(const Tensor&, const std::vector<int64_t>&, bool)>;

// One entry per dim set, keepdim alternating so both are covered.
void add_reduction(std::vector<OpInfo>& table, const std::string& name, DTypeSet dtypes, ReduceFn f,
                   std::vector<OpId> ref_ops, SampleOpts opts = {}) {
  bool keepdim = false;
  for (Dims d : {Dims::all, Dims::last, Dims::first, Dims::middle, Dims::multi}) {
    OpInfo op;
    op.name = name + "_" + dims_name(d) + (keepdim ? "_keepdim" : "");
    op.fn = [f, d, keepdim](const std::vector<Tensor>& in) {
      return f(in[0], dims_for(d, in[0].dim()), keepdim);
    };
    op.dtypes = dtypes;
    op.samples = [opts](DType t) { return reduce_samples(t, opts); };
    op.ref_ops = ref_ops;
    table.push_back(op);
    keepdim = !keepdim;
  }
}

// Ops along one dim (max/min with indices, cumsum, softmax): dims -1, 0 and the middle one.
void add_along_dim(std::vector<OpInfo>& table, const std::string& name, DTypeSet dtypes,
                   std::function<Tensor(const Tensor&, int64_t)> f, std::vector<OpId> ref_ops,
                   SampleOpts opts = {}) {
  for (Dims d : {Dims::last, Dims::first, Dims::middle}) {
    OpInfo op;
    op.name = name + "_" + dims_name(d);
    op.fn = [f, d](const std::vector<Tensor>& in) { return f(in[0], dims_for(d, in[0].dim())[0]); };
    op.dtypes = dtypes;
    op.samples = [opts](DType t) { return reduce_samples(t, opts); };
    op.ref_ops = ref_ops;
    table.push_back(op);
  }
}

std::vector<OpInfo> reduce_op_table() {
  std::vector<OpInfo> t;
  const SampleOpts nonempty{.empty = false};
  add_reduction(t, "sum", kAllTypes, [](const Tensor& x, auto d, bool k) { return sum(x, d, k); },
                {OpId::sum});
  add_reduction(t, "prod", kAllTypes, [](const Tensor& x, auto d, bool k) { return prod(x, d, k); },
                {OpId::prod}, {.large = false, .lo = 0.5, .hi = 1.5});
  add_reduction(t, "mean", kFloatingTypes,
                [](const Tensor& x, auto d, bool k) { return mean(x, d, k); }, {OpId::mean});
  add_reduction(
      t, "amax", kAllTypes, [](const Tensor& x, auto d, bool k) { return amax(x, d, k); },
      {OpId::amax}, nonempty);
  add_reduction(
      t, "amin", kAllTypes, [](const Tensor& x, auto d, bool k) { return amin(x, d, k); },
      {OpId::amin}, nonempty);
  add_reduction(t, "var", kFloatingTypes,
                [](const Tensor& x, auto d, bool k) { return var(x, d, 1, k); }, {OpId::var});
  add_reduction(t, "var_correction0", kFloatingTypes,
                [](const Tensor& x, auto d, bool k) { return var(x, d, 0, k); }, {OpId::var});
  add_reduction(t, "std", kFloatingTypes,
                [](const Tensor& x, auto d, bool k) { return anvil::std(x, d, 1, k); },
                {OpId::std});
  for (double p : {2.0, 1.0, 0.0, 3.0, 0.5, double(INFINITY), -double(INFINITY)}) {
    const std::string name = std::isinf(p) ? (p > 0 ? "norm_inf" : "norm_neg_inf")
                                           : "norm_p" + std::to_string(static_cast<int>(p * 10));
    add_reduction(
        t, name, kFloatingTypes, [p](const Tensor& x, auto d, bool k) { return norm(x, p, d, k); },
        {OpId::norm},
        // Sums of |x|^p over large inputs exceed f16's range for small p: those run small.
        p < 0 ? nonempty : SampleOpts{.large = p >= 2});
  }
  add_reduction(t, "logsumexp", kNumericTypes,
                [](const Tensor& x, auto d, bool k) { return logsumexp(x, d, k); },
                {OpId::logsumexp});
  add_reduction(t, "all", kAllTypes, [](const Tensor& x, auto d, bool k) { return all(x, d, k); },
                {OpId::all});
  add_reduction(t, "any", kAllTypes, [](const Tensor& x, auto d, bool k) { return any(x, d, k); },
                {OpId::any});
  add_along_dim(
      t, "max_values", kAllTypes, [](const Tensor& x, int64_t d) { return max(x, d).first; },
      {OpId::max_dim}, nonempty);
  add_along_dim(
      t, "max_indices", kAllTypes,
      [](const Tensor& x, int64_t d) { return max(x, d, true).second; }, {OpId::max_dim}, nonempty);
  add_along_dim(
      t, "min_values", kAllTypes, [](const Tensor& x, int64_t d) { return min(x, d).first; },
      {OpId::min_dim}, nonempty);
  add_along_dim(
      t, "argmin", kNumericTypes, [](const Tensor& x, int64_t d) { return argmin(x, d); },
      {OpId::min_dim}, nonempty);
  add_along_dim(t, "cumsum", kAllTypes, [](const Tensor& x, int64_t d) { return cumsum(x, d); },
                {OpId::cumsum});
  add_along_dim(t, "softmax", kFloatingTypes,
                [](const Tensor& x, int64_t d) { return softmax(x, d); }, {OpId::softmax});
  add_along_dim(t, "log_softmax", kFloatingTypes,
                [](const Tensor& x, int64_t d) { return log_softmax(x, d); }, {OpId::log_softmax});
  OpInfo full;
  full.name = "argmax_flat";
  full.fn = [](const std::vector<Tensor>& in) { return argmax(in[0]); };
  full.dtypes = kNumericTypes;
  full.samples = [nonempty](DType t) { return reduce_samples(t, nonempty); };
  full.ref_ops = {OpId::max_dim};
  t.push_back(full);
  full.name = "max_full";
  full.fn = [](const std::vector<Tensor>& in) { return max(in[0]); };
  full.dtypes = kAllTypes;
  full.ref_ops = {OpId::amax};
  t.push_back(full);
  return t;
}

INSTANTIATE_TEST_SUITE_P(Reduce, OpInfoTest,
                         ::testing::ValuesIn(testing::op_cases(reduce_op_table())),
                         testing::op_case_name);

TEST(Reduce, SumOf16MFloatsIsAccurate) {
  const int64_t n = int64_t{1} << 24;
  EXPECT_EQ(sum(ones({n})).item<float>(), static_cast<float>(n));
  Tensor x = rand({n}, DType::f32);
  double expected = 0;
  for (float v : x.to_vector<float>()) expected += v;
  EXPECT_NEAR(sum(x).item<double>(), expected, 1e-6 * std::abs(expected));
  EXPECT_NEAR(mean(x).item<double>(), expected / n, 1e-6);
  // The same data as rows and as a column reduction.
  Tensor m = x.view({4096, 4096});
  double row0 = 0, col0 = 0;
  const std::vector<float> v = x.to_vector<float>();
  for (int64_t i = 0; i < 4096; ++i) row0 += v[i], col0 += v[i * 4096];
  EXPECT_NEAR(sum(m, {1})[0].item<double>(), row0, 1e-6 * row0);
  EXPECT_NEAR(sum(m, {0})[0].item<double>(), col0, 1e-6 * col0);
}

TEST(Reduce, MaxAndArgmaxTakeTheFirstOccurrenceAndPropagateNaN) {
  Tensor ties = tensor<float>({1, 3, 3, 2});
  EXPECT_EQ(argmax(ties).item<int64_t>(), 1);
  EXPECT_EQ(argmin(tensor<int32_t>({4, 0, 5, 0})).item<int64_t>(), 1);
  const float nan = NAN;
  Tensor x = tensor<float>({1, nan, 3, nan});
  auto [v, i] = max(x, 0);
  EXPECT_TRUE(std::isnan(v.item<float>()));
  EXPECT_EQ(i.item<int64_t>(), 1);
  EXPECT_EQ(argmin(x).item<int64_t>(), 1);
  EXPECT_TRUE(std::isnan(amax(x).item<float>()));
  EXPECT_TRUE(std::isnan(min(x).item<float>()));
  // Along a non-innermost dim: column 0 ties, column 1 has a NaN after its max.
  Tensor m = tensor<float>({2, 5, 2, nan, 1, 9}, {3, 2});
  auto [cv, ci] = max(m, 0);
  EXPECT_EQ(ci.to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(cv[0].item<float>(), 2.0f);
  EXPECT_TRUE(std::isnan(cv[1].item<float>()));
  EXPECT_EQ(argmax(m, 1, true).shape(), (Shape{3, 1}));
  EXPECT_EQ(argmax(m, std::nullopt, true).shape(), (Shape{1, 1}));
  EXPECT_EQ(argmax(m).item<int64_t>(), 3);  // the NaN
  EXPECT_EQ(max(tensor<bool>({false, true, true}), 0).second.item<int64_t>(), 1);
}

TEST(Reduce, SoftmaxRowsSumToOneAndAreStable) {
  Tensor x = random_tensor({64, 333}, DType::f32, -5, 5);
  for (int64_t dim : {1, 0}) {
    Tensor s = softmax(x, dim);
    for (float v : sum(s, {dim}).to_vector<float>()) EXPECT_NEAR(v, 1.0f, 1e-5);
  }
  // Large logits: softmax(x + 1000) == softmax(x), with no overflow, along either dim.
  const std::vector<float> v = {0, 1, 2, -1, 0.5, 3};
  std::vector<float> plus(v), minus(v);
  for (size_t i = 0; i < v.size(); ++i) plus[i] += 1000, minus[i] -= 1000;
  const Tensor small = tensor<float>(v, {2, 3});
  for (int64_t dim : {-1, 0}) {
    for (const Tensor& big : {tensor<float>(plus, {2, 3}), tensor<float>(minus, {2, 3})}) {
      EXPECT_TRUE(testing::all_close(softmax(big, dim), softmax(small, dim), {1e-5, 1e-6}));
      EXPECT_TRUE(testing::all_close(log_softmax(big, dim), log_softmax(small, dim), {1e-4, 1e-4}));
    }
  }
  EXPECT_NEAR(logsumexp(tensor<float>({1000, 1000}), {0}).item<float>(), 1000 + std::log(2.0f),
              1e-3);
}

TEST(Reduce, EdgeValues) {
  EXPECT_EQ(sum(zeros({0})).item<float>(), 0.0f);
  EXPECT_EQ(prod(zeros({2, 0}), {1}).to_vector<float>(), (std::vector<float>{1, 1}));
  EXPECT_TRUE(std::isnan(mean(zeros({0})).item<float>()));
  EXPECT_TRUE(std::isnan(var(ones({1})).item<float>()));
  EXPECT_EQ(var(zeros({0, 3}), {0}).shape(), (Shape{3}));
  EXPECT_TRUE(std::isnan(var(zeros({0, 3}), {0})[0].item<float>()));
  EXPECT_EQ(all(zeros({0})).item<bool>(), true);
  EXPECT_EQ(any(zeros({0})).item<bool>(), false);
  EXPECT_EQ(logsumexp(zeros({0}), {0}).item<float>(), -INFINITY);
  EXPECT_EQ(logsumexp(full({2}, -INFINITY), {0}).item<float>(), -INFINITY);
  EXPECT_EQ(logsumexp(tensor<float>({INFINITY, 1}), {0}).item<float>(), INFINITY);
  EXPECT_EQ(norm(zeros({0}), INFINITY).item<float>(), 0.0f);
  Tensor v = tensor<float>({1, -2, 0});
  EXPECT_FLOAT_EQ(norm(v).item<float>(), std::sqrt(5.0f));
  EXPECT_FLOAT_EQ(norm(v, 0).item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(norm(v, 1).item<float>(), 3.0f);
  EXPECT_FLOAT_EQ(norm(v, INFINITY).item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(norm(v, -INFINITY).item<float>(), 0.0f);
  EXPECT_NEAR(norm(v, 3).item<float>(), 2.0801, 1e-4);
  auto [s, m] = std_mean(tensor<float>({1, 2, 4}));
  EXPECT_NEAR(s.item<float>(), 1.5275, 1e-4);
  EXPECT_NEAR(m.item<float>(), 2.3333, 1e-4);
  auto [vr, mn] = var_mean(tensor<float>({1, 2, 4}, {1, 3}), {1}, 0, true);
  EXPECT_EQ(vr.shape(), (Shape{1, 1}));
  EXPECT_NEAR(vr.item<float>(), 14.0 / 9, 1e-5);
  EXPECT_EQ(sum(scalar_tensor(3.0), {0}).item<float>(), 3.0f);
  EXPECT_EQ(max(scalar_tensor(3.0), 0).second.item<int64_t>(), 0);
  EXPECT_EQ(cumsum(tensor<float>({1, 2, 3}), 0).to_vector<float>(), (std::vector<float>{1, 3, 6}));
}

TEST(Reduce, ResultDtypesAndShapes) {
  Tensor x = arange(6).reshape({2, 3});
  EXPECT_EQ(sum(x.to(DType::i32)).dtype(), DType::i64);
  EXPECT_EQ(sum(tensor<bool>({true, true, false})).item<int64_t>(), 2);
  EXPECT_EQ(prod(x.to(DType::u8), {1}).to_vector<int64_t>(), (std::vector<int64_t>{0, 60}));
  EXPECT_EQ(sum(x, {}, false, DType::f16).dtype(), DType::f16);
  EXPECT_EQ(sum(x, {0, 1}).item<int64_t>(), 15);
  EXPECT_EQ(sum(x, {-1}, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(mean(x, {0}, false, DType::f64).to_vector<double>(),
            (std::vector<double>{1.5, 2.5, 3.5}));
  EXPECT_EQ(mean(x.to(DType::bf16)).dtype(), DType::bf16);
  EXPECT_EQ(amax(x, {}).dtype(), DType::i64);
  EXPECT_EQ(max(x, 1).first.shape(), (Shape{2}));
  EXPECT_EQ(max(x, 1).second.dtype(), DType::i64);
  EXPECT_EQ(all(x.to(DType::u8)).dtype(), DType::u8);
  EXPECT_EQ(any(x.to(DType::i32), {1}).dtype(), DType::boolean);
  EXPECT_EQ(logsumexp(x, {1}).dtype(), DType::f32);
  EXPECT_EQ(cumsum(tensor<bool>({true, false}), 0).dtype(), DType::i64);
  EXPECT_EQ(cumsum(x.to(DType::f32), 0, DType::i32).to_vector<int32_t>(),
            (std::vector<int32_t>{0, 1, 2, 3, 5, 7}));
  EXPECT_EQ(softmax(x, 1, DType::f64).dtype(), DType::f64);
  Tensor f = x.to(DType::f32);
  EXPECT_EQ(f.sum().item<float>(), 15.0f);
  EXPECT_EQ(f.sum({0}, true).shape(), (Shape{1, 3}));
  EXPECT_EQ(f.mean({1}).to_vector<float>(), (std::vector<float>{1, 4}));
  EXPECT_EQ(f.max().item<float>(), 5.0f);
  EXPECT_EQ(f.min().item<float>(), 0.0f);
  EXPECT_EQ(f.argmax(0).to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 1}));
  EXPECT_TRUE(testing::all_close(f.softmax(1), softmax(f, 1), {0, 0}));
  EXPECT_TRUE(testing::all_close(f.log_softmax(0), log_softmax(f, 0), {0, 0}));
}

TEST(Reduce, ErrorsNameTheProblem) {
  Tensor x = zeros({2, 3});
  expect_error([&] { sum(x, {2}); }, {"sum", "dim 2", "out of range"});
  expect_error([&] { mean(x, {0, -2}); }, {"mean", "more than once"});
  expect_error([&] { max(zeros({0, 3})); }, {"max", "[0,3] (f32, cpu)", "non-empty"});
  expect_error([&] { argmax(zeros({0})); }, {"argmax", "non-empty"});
  expect_error([&] { amax(zeros({0, 3}), {0}); }, {"amax", "dim 0", "non-zero size"});
  expect_error([&] { max(zeros({0, 3}), 0); }, {"max", "dim 0", "non-zero size"});
  expect_error([&] { mean(arange(3)); }, {"mean", "floating", "[3] (i64, cpu)"});
  expect_error([&] { var(arange(3)); }, {"var", "floating"});
  expect_error([&] { norm(arange(3)); }, {"norm", "floating"});
  expect_error([&] { softmax(arange(3), 0); }, {"softmax", "floating", "(i64, cpu)"});
  expect_error([&] { log_softmax(arange(3), 0, DType::i32); }, {"log_softmax", "dtype i32"});
  expect_error([&] { argmax(tensor<bool>({true})); }, {"argmax", "bool"});
  expect_error([&] { cumsum(x, 2); }, {"cumsum", "out of range"});
}

}  // namespace
}  // namespace anvil
