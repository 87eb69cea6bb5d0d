// Losses: every option combination against the float64 reference (forward and the raw backward
// ops), on contiguous, transposed, strided, unbatched, K-dimensional, empty and threaded inputs;
// values printed by PyTorch for fixed small cases; edge cases (all targets ignored, empty
// batches); result dtypes and error messages.
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

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

const char* reduction_name(Reduction r) {
  constexpr const char* names[] = {"none", "mean", "sum"};
  return names[static_cast<int>(r)];
}

constexpr Reduction kReductions[] = {Reduction::none, Reduction::mean, Reduction::sum};

// ---- class-dim losses: cross_entropy and nll_loss -------------------------------------------

// Which class-index targets of a sample equal ignore_index (an ignore_index inside [0, C) also
// occurs among the random classes).
enum class Ignored { some, none, all };

// Class indices in [0, C) for `shape`, every third one replaced by `ignored` for Ignored::some,
// all of them for Ignored::all.
Tensor class_targets(const Shape& shape, int64_t classes, int64_t ignored, Ignored which,
                     uint64_t seed) {
  std::vector<int64_t> v =
      random_tensor(shape, DType::i64, 0, double(classes - 1), seed).to_vector<int64_t>();
  for (size_t i = 0; i < v.size(); ++i) {
    if (which == Ignored::all || (which == Ignored::some && i % 3 == 0)) v[i] = ignored;
  }
  return tensor(v, shape);
}

// Inputs of a class-dim sample: logits, target, weight [C], the gradient of the loss with
// reduction none (the loss's shape) and of a reduced loss (0-d).
struct ClassSampleSpec {
  Shape shape;
  Layout layout;
  std::string desc;
  Ignored ignored = Ignored::some;
};

std::vector<ClassSampleSpec> class_specs(bool large) {
  std::vector<ClassSampleSpec> s = {
      {{5, 7}, Layout::contiguous, "[5,7] (none ignored)", Ignored::none},
      {{5, 7}, Layout::transposed, "transposed [5,7]"},
      {{4, 6}, Layout::strided, "strided (step 2) [4,6]"},
      {{6}, Layout::contiguous, "unbatched [6]"},
      {{0, 4}, Layout::contiguous, "empty batch [0,4]"},
      {{2, 4, 3, 5}, Layout::contiguous, "K-dim [2,4,3,5]"},
      {{2, 3, 4}, Layout::transposed, "transposed K-dim [2,3,4]"},
      {{4, 5}, Layout::contiguous, "all ignored [4,5]", Ignored::all},
  };
  if (large) {
    s.push_back({{3, 2100}, Layout::contiguous, "wide rows [3,2100]"});
    s.push_back({{4000, 10}, Layout::contiguous, "many narrow rows [4000,10] (threaded)"});
    s.push_back({{150, 257}, Layout::transposed, "large transposed [150,257] (threaded)"});
  }
  return s;
}

std::vector<Sample> class_samples(DType dtype, bool probs, int64_t ignore_index, bool large) {
  std::vector<Sample> out;
  uint64_t seed = 40;
  for (const ClassSampleSpec& spec : class_specs(large)) {
    if (probs && spec.ignored == Ignored::all) continue;
    const Shape& s = spec.shape;
    const int64_t class_dim = s.size() == 1 ? 0 : 1, C = s[class_dim];
    Shape loss_shape = s;
    loss_shape.erase(loss_shape.begin() + class_dim);
    Tensor logits = with_layout(random_tensor(s, dtype, -3, 3, seed++), spec.layout);
    Tensor target = probs ? random_tensor(s, dtype, 0, 1, seed++)
                          : class_targets(loss_shape, C, ignore_index, spec.ignored, seed++);
    out.push_back({{logits, target, random_tensor({C}, dtype, 0.5, 2, seed++),
                    random_tensor(loss_shape, dtype, -1, 1, seed++),
                    random_tensor({}, dtype, 0.5, 1.5, seed++)},
                   spec.desc});
  }
  return out;
}

struct ClassCase {
  Reduction reduction = Reduction::mean;
  bool weight = false;
  double label_smoothing = 0;
  bool probs = false;
  int64_t ignore_index = -100;
  bool large = false;  // add the large samples (kept to a few cases: the reference is slow)

  std::string name() const {
    std::string n = std::string(probs ? "probs" : "indices") + "_" + reduction_name(reduction);
    if (weight) n += "_weight";
    if (label_smoothing > 0) n += "_smoothing";
    if (ignore_index != -100) n += "_ignore_class";
    return n;
  }
  CrossEntropyOptions ce(const std::vector<Tensor>& in) const {
    return {.weight = weight ? std::optional<Tensor>(in[2]) : std::nullopt,
            .ignore_index = ignore_index,
            .reduction = reduction,
            .label_smoothing = label_smoothing};
  }
  NllLossOptions nll(const std::vector<Tensor>& in) const {
    return {.weight = weight ? std::optional<Tensor>(in[2]) : std::nullopt,
            .ignore_index = ignore_index,
            .reduction = reduction};
  }
  const Tensor& grad(const std::vector<Tensor>& in) const {
    return reduction == Reduction::none ? in[3] : in[4];
  }
  std::function<std::vector<Sample>(DType)> samples() const {
    const bool p = probs, l = large;
    const int64_t ig = ignore_index;
    return [p, l, ig](DType t) { return class_samples(t, p, ig, l); };
  }
};

std::vector<ClassCase> ce_cases() {
  std::vector<ClassCase> cases;
  for (Reduction r : kReductions) {
    for (bool probs : {false, true}) {
      cases.push_back({.reduction = r, .probs = probs, .large = r == Reduction::mean});
      cases.push_back({.reduction = r, .weight = true, .probs = probs});
      cases.push_back({.reduction = r, .label_smoothing = 0.2, .probs = probs});
      cases.push_back({.reduction = r,
                       .weight = true,
                       .label_smoothing = 0.3,
                       .probs = probs,
                       .large = r == Reduction::none});
    }
  }
  cases.push_back({.weight = true, .label_smoothing = 0.1, .ignore_index = 1});
  cases.push_back({.reduction = Reduction::sum, .ignore_index = 0});
  return cases;
}

std::vector<ClassCase> nll_cases() {
  std::vector<ClassCase> cases;
  for (Reduction r : kReductions) {
    cases.push_back({.reduction = r, .large = r == Reduction::mean});
    cases.push_back({.reduction = r, .weight = true});
  }
  cases.push_back({.weight = true, .ignore_index = 2});
  return cases;
}

std::vector<OpInfo> class_loss_table() {
  std::vector<OpInfo> table;
  for (const ClassCase& c : ce_cases()) {
    table.push_back(
        {"cross_entropy_" + c.name(),
         [c](const std::vector<Tensor>& in) { return cross_entropy(in[0], in[1], c.ce(in)); },
         kFloatingTypes,
         c.samples(),
         {OpId::cross_entropy}});
    // Backward: the logits' gradient, followed by the target's for probabilities.
    table.push_back({"cross_entropy_backward_" + c.name(),
                     [c](const std::vector<Tensor>& in) {
                       const CrossEntropyOptions o = c.ce(in);
                       const auto f = ops::cross_entropy_forward(in[0], in[1], o);
                       auto [gx, gy] = ops::cross_entropy_backward(
                           c.grad(in), in[0], in[1], f.lse, f.total_weight, o, true, c.probs);
                       return c.probs ? cat({gx.flatten(), gy.flatten()}) : gx;
                     },
                     kFloatingTypes,
                     c.samples(),
                     {OpId::cross_entropy, OpId::cross_entropy_backward}});
  }
  // The target's gradient alone (probabilities).
  const ClassCase probs{.weight = true, .label_smoothing = 0.2, .probs = true};
  table.push_back({"cross_entropy_backward_target_only",
                   [probs](const std::vector<Tensor>& in) {
                     const CrossEntropyOptions o = probs.ce(in);
                     const auto f = ops::cross_entropy_forward(in[0], in[1], o);
                     return ops::cross_entropy_backward(in[4], in[0], in[1], f.lse, f.total_weight,
                                                        o, false, true)
                         .second;
                   },
                   kFloatingTypes,
                   probs.samples(),
                   {OpId::cross_entropy_backward}});
  for (const ClassCase& c : nll_cases()) {
    table.push_back(
        {"nll_loss_" + c.name(),
         [c](const std::vector<Tensor>& in) { return nll_loss(in[0], in[1], c.nll(in)); },
         kFloatingTypes,
         c.samples(),
         {OpId::nll_loss}});
    table.push_back({"nll_loss_backward_" + c.name(),
                     [c](const std::vector<Tensor>& in) {
                       const NllLossOptions o = c.nll(in);
                       const auto [loss, total_weight] = ops::nll_loss_forward(in[0], in[1], o);
                       return ops::nll_loss_backward(c.grad(in), in[0], in[1], total_weight, o);
                     },
                     kFloatingTypes,
                     c.samples(),
                     {OpId::nll_loss, OpId::nll_loss_backward}});
  }
  return table;
}

INSTANTIATE_TEST_SUITE_P(LossClass, OpInfoTest,
                         ::testing::ValuesIn(testing::op_cases(class_loss_table())),
                         testing::op_case_name);

// ---- elementwise losses ----------------------------------------------------------------------

using ops::PointwiseLoss;

struct PointwiseCase {
  std::string name;
  PointwiseLoss kind;
  double param = 0;
  bool weight = false, pos_weight = false;
};

const std::vector<PointwiseCase>& pointwise_cases() {
  static const std::vector<PointwiseCase> cases = {
      {"mse", PointwiseLoss::mse},
      {"l1", PointwiseLoss::l1},
      {"smooth_l1", PointwiseLoss::smooth_l1, 1.0},
      {"smooth_l1_beta_half", PointwiseLoss::smooth_l1, 0.5},
      {"smooth_l1_beta_0", PointwiseLoss::smooth_l1, 0.0},
      {"huber", PointwiseLoss::huber, 1.0},
      {"huber_delta_0_7", PointwiseLoss::huber, 0.7},
      {"bce", PointwiseLoss::bce},
      {"bce_weight", PointwiseLoss::bce, 0, true},
      {"bce_with_logits", PointwiseLoss::bce_with_logits},
      {"bce_with_logits_weight", PointwiseLoss::bce_with_logits, 0, true},
      {"bce_with_logits_pos_weight", PointwiseLoss::bce_with_logits, 0, false, true},
      {"bce_with_logits_both_weights", PointwiseLoss::bce_with_logits, 0, true, true},
  };
  return cases;
}

bool is_binary(PointwiseLoss k) {
  return k == PointwiseLoss::bce || k == PointwiseLoss::bce_with_logits;
}

// The loss through its public function.
Tensor call_pointwise(const PointwiseCase& c, Reduction r, const std::vector<Tensor>& in) {
  const std::optional<Tensor> w = c.weight ? std::optional<Tensor>(in[2]) : std::nullopt;
  const std::optional<Tensor> pw = c.pos_weight ? std::optional<Tensor>(in[3]) : std::nullopt;
  switch (c.kind) {
    case PointwiseLoss::mse:
      return mse_loss(in[0], in[1], r);
    case PointwiseLoss::l1:
      return l1_loss(in[0], in[1], r);
    case PointwiseLoss::smooth_l1:
      return smooth_l1_loss(in[0], in[1], r, c.param);
    case PointwiseLoss::huber:
      return huber_loss(in[0], in[1], r, c.param);
    case PointwiseLoss::bce:
      return binary_cross_entropy(in[0], in[1], {.weight = w, .reduction = r});
    case PointwiseLoss::bce_with_logits:
      return binary_cross_entropy_with_logits(in[0], in[1],
                                              {.weight = w, .reduction = r, .pos_weight = pw});
  }
  return {};
}

// Samples: 0-d, zero-size, contiguous, transposed, strided and expanded operands, and (the
// difference losses) broadcasting pairs; the binary losses get same-shaped input and target
// (probabilities for bce, away from 0 and 1), a weight of the input's shape or of its last dim,
// and a pos_weight of the last dim. The kinds and dtypes share their loops: the large (threaded)
// samples run for two kinds in f32 only (the reference is slow).
std::vector<Sample> pointwise_samples(const PointwiseCase& c, DType dtype) {
  const bool bce = c.kind == PointwiseLoss::bce, binary = is_binary(c.kind);
  const bool large =
      (c.name == "mse" || c.name == "bce_with_logits_both_weights") && dtype == DType::f32;
  const double lo = bce ? 0.02 : -2, hi = bce ? 0.98 : 2;
  std::vector<Sample> out;
  uint64_t seed = 70;
  auto add = [&](const Shape& a, const Shape& b, Layout layout, const std::string& desc,
                 bool expand = false) {
    if (binary && a != b) return;
    Tensor x = with_layout(random_tensor(a, dtype, lo, hi, seed++), layout);
    if (expand) x = random_tensor({a[0], 1}, dtype, lo, hi, seed++).expand(a);
    Sample smp{{x, random_tensor(b, dtype, binary ? 0 : lo, binary ? 1 : hi, seed++)}, desc};
    if (binary) {
      const Shape last = a.empty() ? Shape{} : Shape{a.back()};
      smp.inputs.push_back(random_tensor(seed % 2 ? a : last, dtype, 0.5, 2, seed));
      ++seed;
      smp.inputs.push_back(random_tensor(last, dtype, 0.5, 3, seed++));
    }
    out.push_back(smp);
  };
  add({}, {}, Layout::contiguous, "0-d");
  add({0}, {0}, Layout::contiguous, "zero-size [0]");
  add({3, 0}, {3, 0}, Layout::contiguous, "zero-size [3,0]");
  add({7}, {7}, Layout::contiguous, "[7]");
  add({5, 6}, {5, 6}, Layout::contiguous, "[5,6]");
  add({5, 6}, {5, 6}, Layout::transposed, "transposed [5,6]");
  add({4, 5}, {4, 5}, Layout::strided, "strided (step 2) [4,5]");
  add({2, 3, 4}, {2, 3, 4}, Layout::transposed, "transposed [2,3,4]");
  add({3, 4}, {3, 4}, Layout::contiguous, "expanded (stride 0) [3,1]->[3,4]", true);
  add({3, 4}, {4}, Layout::contiguous, "broadcast [3,4] with [4]");
  add({3, 1}, {1, 4}, Layout::contiguous, "broadcast [3,1] with [1,4]");
  add({2, 1, 4}, {3, 1}, Layout::contiguous, "broadcast [2,1,4] with [3,1]");
  add({5}, {}, Layout::contiguous, "broadcast [5] with 0-d");
  if (large) {
    add({300, 257}, {300, 257}, Layout::contiguous, "large [300,257] (threaded)");
    add({257, 300}, {257, 300}, Layout::transposed, "large transposed [257,300]");
    add({16, 1, 300}, {1, 16, 300}, Layout::contiguous, "large broadcast [16,1,300], [1,16,300]");
  }
  return out;
}

std::vector<OpInfo> pointwise_table() {
  std::vector<OpInfo> table;
  for (const PointwiseCase& c : pointwise_cases()) {
    for (Reduction r : kReductions) {
      const auto samples = [c](DType t) { return pointwise_samples(c, t); };
      const std::string suffix = c.name + "_" + reduction_name(r);
      table.push_back({"loss_" + suffix,
                       [c, r](const std::vector<Tensor>& in) { return call_pointwise(c, r, in); },
                       kFloatingTypes,
                       samples,
                       {OpId::pointwise_loss}});
      // Both gradients, for a gradient of the loss's shape.
      table.push_back(
          {"loss_backward_" + suffix,
           [c, r](const std::vector<Tensor>& in) {
             const auto args = ops::pointwise_loss_inputs(
                 c.kind, r, c.param, c.weight ? std::optional<Tensor>(in[2]) : std::nullopt,
                 c.pos_weight ? std::optional<Tensor>(in[3]) : std::nullopt);
             const Tensor out = ops::pointwise_loss(in[0], in[1], args);
             // Exact in every dtype: 0.5, 0.75, 1, 1.25, 0.5, ...
             std::vector<double> v(out.numel());
             for (size_t i = 0; i < v.size(); ++i) v[i] = 0.5 + 0.25 * double(i % 4);
             const Tensor g = tensor(v, out.shape()).to(out.dtype());
             auto [gx, gy] = ops::pointwise_loss_backward(g, in[0], in[1], args, true, true);
             return cat({gx.flatten(), gy.flatten()});
           },
           kFloatingTypes,
           samples,
           {OpId::pointwise_loss_backward}});
    }
  }
  return table;
}

INSTANTIATE_TEST_SUITE_P(LossPointwise, OpInfoTest,
                         ::testing::ValuesIn(testing::op_cases(pointwise_table())),
                         testing::op_case_name);

// ---- values printed by PyTorch 1.13 ------------------------------------------------------------

Tensor logits3x4() {
  return tensor<float>({1.0, 2.0, 0.5, -1.0, 0.1, -0.3, 2.2, 0.7, -1.5, 0.0, 0.3, 1.1}, {3, 4});
}
Tensor targets3() {
  return tensor<int64_t>({1, -100, 3});
}
Tensor weights4() {
  return tensor<float>({0.5, 2.0, 1.0, 1.5});
}

void expect_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-6) {
  const std::vector<double> v = t.to_vector<double>();
  ASSERT_EQ(v.size(), expected.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], expected[i], tol) << "element " << i;
}

TEST(Loss, CrossEntropyMatchesPyTorch) {
  // F.cross_entropy(x, t)
  expect_values(cross_entropy(logits3x4(), targets3()), {0.5569303631782532});
  // F.cross_entropy(x, t, weight=w, label_smoothing=0.2)
  expect_values(
      cross_entropy(logits3x4(), targets3(), {.weight = weights4(), .label_smoothing = 0.2}),
      {0.6723344922065735});
  // F.cross_entropy(x, t, label_smoothing=0.1, reduction='none')
  expect_values(cross_entropy(logits3x4(), targets3(),
                              {.reduction = Reduction::none, .label_smoothing = 0.1}),
                {0.6326818466, 0.0, 0.7311788201});
  // F.cross_entropy(x, y, weight=w, reduction='sum') with y the probabilities below
  const Tensor y = tensor<float>({0.1, 0.2, 0.3, 0.4, 0.25, 0.25, 0.25, 0.25, 1, 0, 0, 0}, {3, 4});
  expect_values(cross_entropy(logits3x4(), y, {.weight = weights4(), .reduction = Reduction::sum}),
                {7.097891330718994}, 1e-5);
  // x.requires_grad_(); F.cross_entropy(x, t, weight=w, label_smoothing=0.2).backward(); x.grad
  const Tensor x = logits3x4().requires_grad_();
  cross_entropy(x, targets3(), {.weight = weights4(), .label_smoothing = 0.2}).backward();
  expect_values(x.grad(), {0.1113670021, -0.1635710746, 0.0575941429, -0.0053900052, 0, 0, 0, 0,
                           0.0094318399, 0.0457111970, 0.0859853476, -0.1411283761});
  // F.nll_loss(F.log_softmax(x, 1), t, weight=w)
  expect_values(nll_loss(log_softmax(logits3x4(), 1), targets3(), {.weight = weights4()}),
                {0.5481091141700745});
}

TEST(Loss, ElementwiseMatchPyTorch) {
  const Tensor a = tensor<float>({0.5, -1.0, 2.0, 3.5}), b = tensor<float>({1.0, 1.0, 0.0, 3.0});
  expect_values(mse_loss(a, b), {2.125});               // F.mse_loss(a, b)
  expect_values(l1_loss(a, b, Reduction::sum), {5.0});  // reduction='sum'
  expect_values(smooth_l1_loss(a, b, Reduction::mean, 0.8), {0.878125011920929});  // beta=0.8
  // F.huber_loss(a, b, delta=1.5, reduction='none')
  expect_values(huber_loss(a, b, Reduction::none, 1.5), {0.125, 1.875, 1.875, 0.125});
  const Tensor p = tensor<float>({0.2, 0.9, 0.0, 1.0}), q = tensor<float>({0.0, 1.0, 0.5, 1.0});
  // F.binary_cross_entropy(p, q, reduction='none'): the logs clamp at -100
  expect_values(binary_cross_entropy(p, q, {.reduction = Reduction::none}),
                {0.2231435329, 0.1053605452, 50.0, 0.0}, 1e-5);
  // F.binary_cross_entropy_with_logits(z, q, reduction='none'): no overflow at +-100
  const Tensor z = tensor<float>({-100.0, -3.0, 0.5, 100.0});
  expect_values(binary_cross_entropy_with_logits(z, q, {.reduction = Reduction::none}),
                {0.0, 3.0485873222, 0.7240769863, 0.0}, 1e-5);
  // ... pos_weight=[2, 0.5, 1, 3], weight=[1, 2, 0.5, 1]
  expect_values(binary_cross_entropy_with_logits(z, q,
                                                 {.weight = tensor<float>({1, 2, 0.5, 1}),
                                                  .reduction = Reduction::none,
                                                  .pos_weight = tensor<float>({2, 0.5, 1, 3})}),
                {0.0, 3.0485873222, 0.3620384932, 0.0}, 1e-5);
}

// ---- edge cases, dtypes, threads ---------------------------------------------------------------

TEST(Loss, AllIgnoredAndEmptyBatches) {
  const Tensor x = randn({4, 5});
  const Tensor ignored = full({4}, -100, DType::i64);
  // Mean of nothing: NaN, as PyTorch; sum: 0; none: zeros.
  EXPECT_TRUE(std::isnan(cross_entropy(x, ignored).item<double>()));
  EXPECT_TRUE(std::isnan(cross_entropy(x, ignored, {.label_smoothing = 0.2}).item<double>()));
  EXPECT_TRUE(std::isnan(nll_loss(x, ignored).item<double>()));
  EXPECT_EQ(cross_entropy(x, ignored, {.reduction = Reduction::sum}).item<double>(), 0.0);
  expect_values(cross_entropy(x, ignored, {.reduction = Reduction::none}), {0, 0, 0, 0});
  // Their gradients are zero.
  const Tensor xg = x.detach().requires_grad_();
  cross_entropy(xg, ignored).backward();
  EXPECT_EQ(xg.grad().abs().max().item<double>(), 0.0);
  const Tensor empty_x = zeros({0, 4});
  EXPECT_TRUE(std::isnan(cross_entropy(empty_x, zeros({0}, DType::i64)).item<double>()));
  EXPECT_TRUE(std::isnan(cross_entropy(empty_x, zeros({0, 4})).item<double>()));
  EXPECT_EQ(
      cross_entropy(empty_x, zeros({0}, DType::i64), {.reduction = Reduction::sum}).item<double>(),
      0.0);
  EXPECT_EQ(cross_entropy(empty_x, zeros({0}, DType::i64), {.reduction = Reduction::none}).shape(),
            Shape{0});
  EXPECT_TRUE(std::isnan(mse_loss(zeros({0}), zeros({0})).item<double>()));
  EXPECT_EQ(l1_loss(zeros({0}), zeros({0}), Reduction::sum).item<double>(), 0.0);
}

TEST(Loss, ShapesAndDtypes) {
  // Unbatched logits give a 0-d loss, K-dim logits the target's shape.
  EXPECT_EQ(cross_entropy(randn({5}), scalar_tensor(2, DType::i64), {.reduction = Reduction::none})
                .shape(),
            Shape{});
  EXPECT_EQ(cross_entropy(randn({2, 4, 3, 5}), zeros({2, 3, 5}, DType::i64),
                          {.reduction = Reduction::none})
                .shape(),
            (Shape{2, 3, 5}));
  EXPECT_EQ(
      cross_entropy(randn({2, 4, 3}), rand({2, 4, 3}), {.reduction = Reduction::none}).shape(),
      (Shape{2, 3}));
  // Probability targets promote; 16-bit floats keep their dtype.
  EXPECT_EQ(cross_entropy(randn({3, 4}), rand({3, 4}, DType::f64)).dtype(), DType::f64);
  EXPECT_EQ(cross_entropy(randn({3, 4}).to(DType::bf16), zeros({3}, DType::i64)).dtype(),
            DType::bf16);
  EXPECT_EQ(nll_loss(randn({3, 4}).to(DType::f16), zeros({3}, DType::i64)).dtype(), DType::f16);
  // Elementwise losses broadcast and promote.
  EXPECT_EQ(mse_loss(rand({3, 1}), rand({4}, DType::f64), Reduction::none).shape(), (Shape{3, 4}));
  EXPECT_EQ(mse_loss(rand({3}), rand({3}, DType::f64)).dtype(), DType::f64);
  EXPECT_EQ(binary_cross_entropy_with_logits(rand({3}), rand({3}, DType::f64)).dtype(), DType::f64);
  // smooth_l1 with beta = 0 is l1.
  const Tensor a = randn({7}), b = randn({7});
  EXPECT_EQ(smooth_l1_loss(a, b, Reduction::sum, 0.0).item<double>(),
            l1_loss(a, b, Reduction::sum).item<double>());
}

TEST(Loss, ReducedLossDoesNotDependOnThreads) {
  const Tensor x = randn({5000, 10}), t = randint(0, 10, {5000});
  const Tensor a = randn({300000}), b = randn({300000});
  const int before = num_threads();
  set_num_threads(1);
  const double ce1 = cross_entropy(x, t).item<double>();
  set_num_threads(2);
  const double ce2 = cross_entropy(x, t).item<double>();
  set_num_threads(before);
  EXPECT_EQ(ce1, ce2);
  // The elementwise sums are per thread: equal to rounding.
  set_num_threads(1);
  const double m1 = mse_loss(a, b).item<double>();
  set_num_threads(2);
  const double m2 = mse_loss(a, b).item<double>();
  set_num_threads(before);
  EXPECT_NEAR(m1, m2, 1e-6 * std::abs(m1));
}

// ---- errors ------------------------------------------------------------------------------------

TEST(Loss, Errors) {
  const Tensor x = randn({3, 4});
  // Out-of-range targets name the value and the number of classes.
  try {
    cross_entropy(x, tensor<int64_t>({0, 4, 1}));
    ADD_FAILURE() << "expected an IndexError";
  } catch (const IndexError& e) {
    EXPECT_NE(std::string(e.what()).find("target 4 is out of bounds for 4 classes"),
              std::string::npos)
        << e.what();
  }
  expect_error(
      [&] {
        cross_entropy(x, tensor<int64_t>({0, -1, 1}));
      },
      {"cross_entropy", "target -1", "4 classes"});
  expect_error([&] { nll_loss(x, tensor<int64_t>({0, 1, 7})); }, {"nll_loss", "target 7", "4"});
  expect_error(
      [&] {
        cross_entropy(x, tensor<int64_t>({0, -100, 1}), {.ignore_index = -1});
      },
      {"target -100"});
  // Wrong target dtype or shape.
  expect_error([&] { cross_entropy(x, zeros({3}, DType::i32)); },
               {"cross_entropy", "i64", "[3] (i32, cpu)"});
  expect_error([&] { nll_loss(x, zeros({3})); }, {"nll_loss", "i64", "[3] (f32, cpu)"});
  expect_error([&] { cross_entropy(x, zeros({2}, DType::i64)); },
               {"cross_entropy", "shape [3]", "[2] (i64, cpu)"});
  expect_error(
      [&] {
        cross_entropy(x, zeros({3, 5}));
      },
      {"cross_entropy", "input's shape [3,4]", "[3,5] (f32, cpu)"});
  expect_error(
      [&] {
        cross_entropy(randn({2, 4, 5}), zeros({2, 6}, DType::i64));
      },
      {"shape [2,5]", "[2,6]"});
  expect_error(
      [&] {
        cross_entropy(zeros({3, 4}, DType::i64), zeros({3}, DType::i64));
      },
      {"cross_entropy", "floating point input"});
  expect_error([&] { cross_entropy(scalar_tensor(1.0), scalar_tensor(0, DType::i64)); },
               {"[C], [N, C]"});
  // Options.
  expect_error([&] { cross_entropy(x, zeros({3}, DType::i64), {.weight = ones({3})}); },
               {"cross_entropy", "weight of shape [4]", "[3] (f32, cpu)"});
  expect_error([&] { cross_entropy(x, zeros({3}, DType::i64), {.label_smoothing = 1.5}); },
               {"label_smoothing", "[0, 1]", "1.5"});
  expect_error([&] { smooth_l1_loss(x, x, Reduction::mean, -1); },
               {"smooth_l1_loss", "beta", "-1"});
  expect_error([&] { huber_loss(x, x, Reduction::mean, 0); }, {"huber_loss", "delta", "0"});
  // Elementwise operands.
  expect_error([&] { mse_loss(x, randn({5})); }, {"mse_loss"});
  expect_error([&] { l1_loss(zeros({3}, DType::i64), zeros({3}, DType::i64)); },
               {"l1_loss", "floating point"});
  expect_error(
      [&] {
        binary_cross_entropy(rand({3, 4}), rand({4}));
      },
      {"binary_cross_entropy", "input's shape [3,4]", "[4] (f32, cpu)"});
  expect_error([&] { binary_cross_entropy(rand({3}), rand({3}, DType::f64)); },
               {"binary_cross_entropy", "dtype f32", "(f64, cpu)"});
  expect_error(
      [&] {
        binary_cross_entropy(tensor<float>({0.5, 1.5}), tensor<float>({0, 1}));
      },
      {"binary_cross_entropy", "between 0 and 1"});
  expect_error(
      [&] {
        binary_cross_entropy(tensor<float>({0.5, 1.5}), tensor<float>({0, 1}));
      },
      {"between 0 and 1"});
  {
    ReferenceModeGuard guard;
    expect_error(
        [&] {
          binary_cross_entropy(tensor<double>({0.5, -0.5}), tensor<double>({0, 1}));
        },
        {"between 0 and 1"});
    expect_error(
        [&] {
          cross_entropy(x.to(DType::f64), tensor<int64_t>({0, 9, 1}));
        },
        {"target 9", "4 classes"});
  }
  expect_error([&] { binary_cross_entropy_with_logits(x, x, {.pos_weight = ones({5})}); },
               {"binary_cross_entropy_with_logits", "pos_weight", "[5] (f32, cpu)"});
}

}  // namespace
}  // namespace anvil
