// Shape and indexing ops: the kernel ops against the float64 reference for every dtype, and the
// composed ops (cat, split, pad, ...) against hand-written values.
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

using F = std::vector<float>;
using I = std::vector<int64_t>;

// ---- sample inputs ------------------------------------------------------------------------------

// Values of `dtype` small enough that sums of a few stay exact in every dtype.
Tensor values(const Shape& s, DType dt, uint64_t seed) {
  return is_floating(dt) ? random_tensor(s, dt, -3, 3, seed) : random_tensor(s, dt, 0, 9, seed);
}

Tensor indices(const Shape& s, int64_t hi, uint64_t seed) {
  Generator gen(seed);
  return randint(0, hi, s, DType::i64, &gen);
}

// Integer-valued, about a third zeros: for nonzero and masks.
Tensor sparse(const Shape& s, DType dt, uint64_t seed) {
  return random_tensor(s, DType::i64, -1, 1, seed).to(dt);
}

Tensor mask(const Shape& s, uint64_t seed) {
  return random_tensor(s, DType::boolean, 0, 1, seed);
}

// Scalar arguments (dims, flags) travel as 0-d i64 inputs, which the harness passes unchanged.
Tensor arg(int64_t v) {
  return scalar_tensor(v);
}
int64_t arg(const Tensor& t) {
  return t.item<int64_t>();
}

Sample sample(std::vector<Tensor> inputs, std::string desc) {
  return {std::move(inputs), std::move(desc)};
}

// x, index, dim for gather.
std::vector<Sample> gather_samples(DType dt) {
  return {
      sample({values({5, 6}, dt, 1), indices({5, 4}, 6, 2), arg(1)}, "[5,6] dim 1"),
      sample({values({5, 6}, dt, 3), indices({3, 6}, 5, 4), arg(-2)}, "[5,6] dim -2"),
      sample(
          {with_layout(values({5, 6}, dt, 5), Layout::transposed), indices({4, 6}, 5, 6), arg(0)},
          "transposed self"),
      sample({values({4, 5, 6}, dt, 7), with_layout(indices({2, 3, 4}, 5, 8), Layout::strided),
              arg(1)},
             "3-d, strided smaller index"),
      sample({values({5, 6}, dt, 9), indices({1, 4}, 6, 10).expand({5, 4}), arg(1)},
             "expanded index"),
      sample({values({}, dt, 11), indices({}, 1, 12), arg(0)}, "0-d"),
      sample({values({0, 4}, dt, 13), indices({0, 4}, 1, 14), arg(1)}, "zero-size"),
      sample({values({300, 257}, dt, 15), indices({300, 200}, 257, 16), arg(1)}, "large [300,257]"),
  };
}

// Accumulating ops round after every add, as PyTorch does; integer values keep 16-bit float sums
// exact so that they compare with the float64 reference.
Tensor addends(const Shape& s, DType dt, uint64_t seed) {
  if (dt == DType::f16 || dt == DType::bf16)
    return random_tensor(s, DType::i64, -4, 4, seed).to(dt);
  return values(s, dt, seed);
}

// x, index, src, dim for scatter and scatter_add (indices repeat).
std::vector<Sample> scatter_samples(DType dt) {
  const auto values = addends;
  return {
      sample({values({5, 6}, dt, 1), indices({4, 3}, 6, 2), values({4, 5}, dt, 3), arg(1)},
             "[5,6] dim 1"),
      sample({values({5, 6}, dt, 4), indices({3, 6}, 5, 5), values({4, 6}, dt, 6), arg(-2)},
             "[5,6] dim -2"),
      sample({with_layout(values({5, 6}, dt, 7), Layout::transposed), indices({8, 6}, 5, 8),
              with_layout(values({8, 6}, dt, 9), Layout::transposed), arg(0)},
             "transposed self and src, many duplicates"),
      sample({values({}, dt, 10), indices({}, 1, 11), values({}, dt, 12), arg(0)}, "0-d"),
      sample({values({5, 6}, dt, 13), indices({0, 6}, 5, 14), values({2, 6}, dt, 15), arg(0)},
             "empty index"),
      sample({values({300, 257}, dt, 16), indices({300, 100}, 257, 17), values({300, 257}, dt, 18),
              arg(1)},
             "large [300,257]"),
  };
}

// x, index, dim for index_select.
std::vector<Sample> index_select_samples(DType dt) {
  return {
      sample({values({5, 6}, dt, 1), indices({7}, 5, 2), arg(0)}, "[5,6] dim 0"),
      sample({values({5, 6}, dt, 3), indices({4}, 6, 4), arg(-1)}, "[5,6] dim -1"),
      sample({with_layout(values({5, 6}, dt, 5), Layout::transposed), indices({3}, 5, 6), arg(0)},
             "transposed self"),
      sample({values({3, 4, 5}, dt, 7), indices({6}, 4, 8).to(DType::i32), arg(1)}, "i32 index"),
      sample({values({5, 6}, dt, 9), indices({}, 6, 10), arg(1)}, "0-d index"),
      sample({values({5, 6}, dt, 11), indices({0}, 6, 12), arg(1)}, "empty index"),
      sample({values({300, 257}, dt, 13), indices({500}, 300, 14), arg(0)}, "large rows"),
  };
}

// x, index, source, dim for index_add.
std::vector<Sample> index_add_samples(DType dt) {
  const auto values = addends;
  return {
      sample({values({5, 6}, dt, 1), indices({7}, 5, 2), values({7, 6}, dt, 3), arg(0)},
             "[5,6] dim 0"),
      sample({values({5, 6}, dt, 4), indices({3}, 6, 5), values({5, 3}, dt, 6), arg(-1)},
             "[5,6] dim -1"),
      sample({with_layout(values({5, 6}, dt, 7), Layout::transposed),
              indices({4}, 6, 8).to(DType::i32),
              with_layout(values({5, 4}, dt, 9), Layout::transposed), arg(1)},
             "transposed, i32 index"),
      sample({values({6}, dt, 13), indices({20}, 6, 14), values({20}, dt, 15), arg(0)},
             "1-d, repeated entries"),
      sample({values({}, dt, 16), indices({}, 1, 17), values({}, dt, 18), arg(0)}, "0-d"),
      sample(
          {values({300, 257}, dt, 10), indices({400}, 300, 11), values({400, 257}, dt, 12), arg(0)},
          "large rows"),
  };
}

// x, mask.
std::vector<Sample> mask_samples(DType dt) {
  return {
      sample({values({5, 6}, dt, 1), mask({5, 6}, 2)}, "[5,6]"),
      sample({with_layout(values({5, 6}, dt, 3), Layout::transposed), mask({6}, 4)},
             "transposed, broadcast mask"),
      sample({values({6}, dt, 5), mask({5, 6}, 6)}, "mask broadcasts self"),
      sample({values({3, 4}, dt, 7), mask({3, 1}, 8).expand({3, 4})}, "expanded mask"),
      sample({values({}, dt, 9), mask({}, 10)}, "0-d"),
      sample({values({3, 0}, dt, 11), mask({3, 0}, 12)}, "zero-size"),
      sample({values({300, 257}, dt, 13), mask({300, 257}, 14)}, "large"),
  };
}

std::vector<Sample> nonzero_samples(DType dt) {
  return {
      sample({sparse({}, dt, 1)}, "0-d"),
      sample({sparse({7}, dt, 2)}, "[7]"),
      sample({with_layout(sparse({5, 6}, dt, 3), Layout::transposed)}, "transposed [5,6]"),
      sample({with_layout(sparse({2, 3, 4}, dt, 4), Layout::strided)}, "strided [2,3,4]"),
      sample({sparse({3, 0}, dt, 5)}, "zero-size"),
      sample({sparse({300, 257}, dt, 6)}, "large"),
  };
}

// x, diagonal.
std::vector<Sample> triangle_samples(DType dt) {
  return {
      sample({values({5, 6}, dt, 1), arg(0)}, "[5,6]"),
      sample({values({5, 6}, dt, 2), arg(-1)}, "diagonal -1"),
      sample({values({5, 6}, dt, 3), arg(2)}, "diagonal 2"),
      sample({values({5, 6}, dt, 4), arg(-9)}, "diagonal -9"),
      sample({with_layout(values({2, 3, 4}, dt, 5), Layout::transposed), arg(1)},
             "batched, transposed"),
      sample({values({3, 0}, dt, 6), arg(0)}, "zero-size"),
      sample({values({300, 257}, dt, 7), arg(3)}, "large"),
  };
}

// Rows with NaN in some places (floating dtypes only).
Tensor with_nans(const Tensor& t) {
  if (!is_floating(t.dtype()) || t.numel() < 4) return t;
  Tensor out = t.clone();
  Tensor flat = out.view({-1});
  for (int64_t i = 0; i < flat.numel(); i += 3) flat[i].fill_(NAN);
  return out;
}

// x, dim, flag (descending / largest), and k for topk.
std::vector<Sample> sort_samples(DType dt) {
  return {
      sample({values({5, 6}, dt, 1), arg(-1), arg(0), arg(3)}, "[5,6] dim -1 ascending"),
      sample({values({5, 6}, dt, 2), arg(0), arg(1), arg(2)}, "[5,6] dim 0 descending"),
      sample({with_layout(values({4, 7}, dt, 3), Layout::transposed), arg(1), arg(1), arg(7)},
             "transposed, k = size"),
      sample({with_nans(values({4, 9}, dt, 4)), arg(1), arg(0), arg(4)}, "NaN ascending"),
      sample({with_nans(values({4, 9}, dt, 5)), arg(1), arg(1), arg(4)}, "NaN descending"),
      sample({random_tensor({6, 10}, DType::i64, 0, 2, 6).to(dt), arg(1), arg(1), arg(5)},
             "many ties"),
      sample({values({}, dt, 7), arg(0), arg(0), arg(1)}, "0-d"),
      sample({values({3, 0}, dt, 8), arg(1), arg(0), arg(0)}, "zero-size"),
      sample({values({5, 6}, dt, 9), arg(1), arg(1), arg(0)}, "k = 0"),
      sample({values({300, 257}, dt, 10), arg(1), arg(0), arg(10)}, "large dim 1"),
      sample({values({300, 257}, dt, 11), arg(0), arg(1), arg(10)}, "large dim 0"),
  };
}

std::vector<Sample> one_hot_samples(DType) {
  return {
      sample({indices({5}, 4, 1), arg(-1)}, "[5] inferred"),
      sample({indices({2, 3}, 4, 2), arg(6)}, "[2,3] 6 classes"),
      sample({indices({}, 3, 3), arg(3)}, "0-d"),
      sample({indices({0}, 3, 4), arg(3)}, "empty"),
  };
}

std::vector<OpInfo> index_op_table() {
  const DTypeSet sortable = kNumericTypes | DTypeSet{DType::boolean};
  return {
      {"gather",
       [](const auto& in) { return gather(in[0], arg(in[2]), in[1]); },
       kAllTypes,
       gather_samples,
       {OpId::gather}},
      {"scatter",
       [](const auto& in) { return scatter(in[0], arg(in[3]), in[1], in[2]); },
       kAllTypes,
       scatter_samples,
       {OpId::scatter}},
      {"scatter_value",
       [](const auto& in) { return scatter(in[0], arg(in[3]), in[1], Scalar(1)); },
       kAllTypes,
       scatter_samples,
       {OpId::scatter}},
      {"scatter_add",
       [](const auto& in) { return scatter_add(in[0], arg(in[3]), in[1], in[2]); },
       kAllTypes,
       scatter_samples,
       {OpId::scatter_add}},
      {"index_select",
       [](const auto& in) { return index_select(in[0], arg(in[2]), in[1]); },
       kAllTypes,
       index_select_samples,
       {OpId::index_select}},
      {"index_add",
       [](const auto& in) { return index_add(in[0], arg(in[3]), in[1], in[2], Scalar(2)); },
       kAllTypes,
       index_add_samples,
       {OpId::index_add}},
      {"masked_fill",
       [](const auto& in) { return masked_fill(in[0], in[1], Scalar(1)); },
       kAllTypes,
       mask_samples,
       {OpId::masked_fill}},
      {"masked_select",
       [](const auto& in) { return masked_select(in[0], in[1]); },
       kAllTypes,
       mask_samples,
       {OpId::masked_select, OpId::count_nonzero}},
      {"nonzero",
       [](const auto& in) { return nonzero(in[0]); },
       kAllTypes,
       nonzero_samples,
       {OpId::nonzero, OpId::count_nonzero}},
      {"tril",
       [](const auto& in) { return tril(in[0], arg(in[1])); },
       kAllTypes,
       triangle_samples,
       {OpId::tril}},
      {"triu",
       [](const auto& in) { return triu(in[0], arg(in[1])); },
       kAllTypes,
       triangle_samples,
       {OpId::triu}},
      {"sort_values",
       [](const auto& in) { return sort(in[0], arg(in[1]), arg(in[2])).first; },
       sortable,
       sort_samples,
       {OpId::sort}},
      {"argsort",
       [](const auto& in) { return argsort(in[0], arg(in[1]), arg(in[2])); },
       sortable,
       sort_samples,
       {OpId::sort}},
      {"topk_values",
       [](const auto& in) { return topk(in[0], arg(in[3]), arg(in[1]), arg(in[2])).first; },
       kNumericTypes,
       sort_samples,
       {OpId::topk}},
      {"topk_indices",
       [](const auto& in) { return topk(in[0], arg(in[3]), arg(in[1]), arg(in[2])).second; },
       kNumericTypes,
       sort_samples,
       {OpId::topk}},
      {"one_hot",
       [](const auto& in) { return one_hot(in[0], arg(in[1])); },
       {DType::i64},
       one_hot_samples,
       {OpId::scatter, OpId::topk}},
  };
}

INSTANTIATE_TEST_SUITE_P(Index, OpInfoTest,
                         ::testing::ValuesIn(testing::op_cases(index_op_table())),
                         testing::op_case_name);

// ---- composed ops: explicit values
// ---------------------------------------------------------------

Tensor range(const Shape& s, DType dt = DType::f32) {
  return arange(numel_of(s), dt).reshape(s);
}

TEST(Index, CatConcatenatesAndPromotes) {
  Tensor a = range({2, 2}), b = range({2, 1}, DType::i64);
  Tensor c = cat({a, b}, -1);
  EXPECT_EQ(c.dtype(), DType::f32);
  EXPECT_EQ(c.to_vector<float>(), (F{0, 1, 0, 2, 3, 1}));
  EXPECT_EQ(cat({a, a.t()}).to_vector<float>(), (F{0, 1, 2, 3, 0, 2, 1, 3}));
  // Legacy empty 1-D tensors are skipped, but still promote.
  Tensor legacy = empty({0}, DType::f64);
  EXPECT_EQ(cat({legacy, a}).shape(), (Shape{2, 2}));
  EXPECT_EQ(cat({legacy, a}).dtype(), DType::f64);
  EXPECT_EQ(cat({range({3}, DType::i32), range({2}, DType::i32)}).to_vector<int32_t>(),
            (std::vector<int32_t>{0, 1, 2, 0, 1}));
  EXPECT_EQ(cat({range({2, 0}), range({2, 3})}, 1).shape(), (Shape{2, 3}));
}

TEST(Index, CatErrorsNameTheTensorAndDims) {
  expect_error(
      [] {
        cat({zeros({2, 3}), zeros({2, 4})});
      },
      {"cat", "tensor 1", "[2,4] (f32, cpu)", "size 4 in dim 1", "tensor 0", "size 3"});
  expect_error([] { cat({zeros({2, 3}), zeros({2})}); }, {"cat", "same number of dims", "[2]"});
  expect_error([] { cat({zeros({2}), zeros({})}); }, {"cat", "tensor 1", "0-d"});
  expect_error([] { cat({}); }, {"cat", "non-empty"});
  expect_error([] { cat({zeros({2})}, 1); }, {"cat"});
}

TEST(Index, StackAddsADim) {
  Tensor a = range({2, 2}), b = arange(4, 8, 1, DType::f32).reshape({2, 2});
  EXPECT_EQ(stack({a, b}).shape(), (Shape{2, 2, 2}));
  Tensor s = stack({a, b}, -1);
  EXPECT_EQ(s.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(s.to_vector<float>(), (F{0, 4, 1, 5, 2, 6, 3, 7}));
  EXPECT_EQ(stack({a[0], b[0]}, 1).to_vector<float>(), (F{0, 4, 1, 5}));
  expect_error(
      [] {
        stack({zeros({2, 3}), zeros({3, 2})});
      },
      {"stack", "tensor 0 is [2,3]", "tensor 1 is [3,2]"});
}

TEST(Index, SplitChunkUnbindAreViews) {
  Tensor x = range({5, 2});
  std::vector<Tensor> parts = split(x, 2);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[2].shape(), (Shape{1, 2}));
  EXPECT_TRUE(parts[1].shares_storage(x));
  EXPECT_EQ(parts[1].to_vector<float>(), (F{4, 5, 6, 7}));
  parts = split(x, {1, 4}, 0);
  EXPECT_EQ(parts[1].shape(), (Shape{4, 2}));
  EXPECT_EQ(split(x, 1, -1)[1].to_vector<float>(), (F{1, 3, 5, 7, 9}));
  EXPECT_EQ(split(empty({0}), 0).size(), 1u);
  // PyTorch's chunk sizes: ceil(size / chunks), so fewer chunks may come back.
  EXPECT_EQ(chunk(arange(6), 4).size(), 3u);
  EXPECT_EQ(chunk(arange(5), 3)[2].to_vector<int64_t>(), (I{4}));
  EXPECT_EQ(chunk(empty({0}), 3).size(), 3u);
  std::vector<Tensor> rows = unbind(x, 1);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].to_vector<float>(), (F{1, 3, 5, 7, 9}));
  rows[0].fill_(-1);
  EXPECT_EQ(x[4].to_vector<float>(), (F{-1, 9}));
  expect_error([&] { split(x, 0); }, {"split", "split_size", "[5,2]"});
  expect_error([&] { split(x, {1, 1}); }, {"split", "[1, 1]", "sum to 5"});
  expect_error([&] { chunk(x, 0); }, {"chunk", "positive", "0"});
}

TEST(Index, PadConstantPadsAndCrops) {
  Tensor x = range({2, 3});
  EXPECT_EQ(pad(x, {1, -2, 0, 1}).to_vector<float>(), (F{0, 0, 0, 3, 0, 0}));
  Tensor p = pad(x, {1, 1}, PadMode::constant, 7);
  EXPECT_EQ(p.shape(), (Shape{2, 5}));
  EXPECT_EQ(p.to_vector<float>(), (F{7, 0, 1, 2, 7, 7, 3, 4, 5, 7}));
  EXPECT_EQ(pad(x, {-3, 0}).shape(), (Shape{2, 0}));
  EXPECT_EQ(pad(range({2}, DType::i64), {2, 0}, PadMode::constant, 1).to_vector<int64_t>(),
            (I{1, 1, 0, 1}));
  expect_error([&] { pad(x, {1}); }, {"pad", "even"});
  expect_error([&] { pad(x, {1, 1, 1, 1, 1, 1}); }, {"pad", "[2,3] (f32, cpu)"});
  expect_error([&] { pad(x, {-4, 0}); }, {"pad", "negative size"});
}

TEST(Index, PadReflectReplicateCircular) {
  Tensor x = range({2, 3});
  EXPECT_EQ(pad(x, {2, 1}, PadMode::reflect).to_vector<float>(),
            (F{2, 1, 0, 1, 2, 1, 5, 4, 3, 4, 5, 4}));
  EXPECT_EQ(pad(x, {-1, 1}, PadMode::reflect).to_vector<float>(), (F{1, 2, 1, 4, 5, 4}));
  EXPECT_EQ(pad(x, {1, 2}, PadMode::replicate).to_vector<float>(),
            (F{0, 0, 1, 2, 2, 2, 3, 3, 4, 5, 5, 5}));
  Tensor x3 = x.view({1, 2, 3});
  EXPECT_EQ(pad(x3, {1, 2}, PadMode::circular).to_vector<float>(),
            (F{2, 0, 1, 2, 0, 1, 5, 3, 4, 5, 3, 4}));
  EXPECT_EQ(pad(x3, {-1, 2}, PadMode::circular).to_vector<float>(), (F{1, 2, 1, 2, 4, 5, 4, 5}));
  Tensor r = pad(x3, {1, 1, 1, 1}, PadMode::reflect);
  EXPECT_EQ(r.shape(), (Shape{1, 4, 5}));
  EXPECT_EQ(r.to_vector<float>(), (F{4, 3, 4, 5, 4, 1, 0, 1, 2, 1, 4, 3, 4, 5, 4, 1, 0, 1, 2, 1}));
  EXPECT_EQ(pad(x3, {1, 1, 1, 0}, PadMode::replicate).to_vector<float>(),
            (F{0, 0, 1, 2, 2, 0, 0, 1, 2, 2, 3, 3, 4, 5, 5}));
  EXPECT_EQ(pad(x.view({1, 1, 2, 3}), {1, 1, 1, 0}, PadMode::circular).to_vector<float>(),
            (F{5, 3, 4, 5, 3, 2, 0, 1, 2, 0, 5, 3, 4, 5, 3}));
  // Non-contiguous input.
  EXPECT_EQ(pad(x.t().contiguous().t(), {1, 0}, PadMode::reflect).to_vector<float>(),
            (F{1, 0, 1, 2, 4, 3, 4, 5}));
  expect_error(
      [&] {
        pad(x, {3, 0}, PadMode::reflect);
      },
      {"pad", "reflect", "(3, 0)", "size 3", "dim 1", "[2,3] (f32, cpu)"});
  expect_error([&] { pad(x3, {4, 0}, PadMode::circular); }, {"pad", "circular", "more than once"});
  expect_error(
      [&] {
        pad(range({3}), {1, 1}, PadMode::reflect);
      },
      {"pad", "reflect", "2-d or 3-d"});
  expect_error(
      [&] {
        pad(range({2, 0}), {1, 1}, PadMode::replicate);
      },
      {"pad", "replicate", "non-empty"});
}

TEST(Index, FlipRollRepeatTile) {
  Tensor x = range({2, 3}, DType::i64);
  EXPECT_EQ(flip(x, {0, 1}).to_vector<int64_t>(), (I{5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(flip(x, {-1}).to_vector<int64_t>(), (I{2, 1, 0, 5, 4, 3}));
  EXPECT_EQ(flip(x.t(), {0}).to_vector<int64_t>(), (I{2, 5, 1, 4, 0, 3}));
  Tensor same = flip(x, {});
  EXPECT_FALSE(same.shares_storage(x));
  EXPECT_EQ(same.to_vector<int64_t>(), x.to_vector<int64_t>());
  EXPECT_EQ(roll(x, {1}).to_vector<int64_t>(), (I{5, 0, 1, 2, 3, 4}));
  EXPECT_EQ(roll(x, {1, -1}, {0, 1}).to_vector<int64_t>(), (I{4, 5, 3, 1, 2, 0}));
  EXPECT_EQ(roll(x, {7}, {-1}).to_vector<int64_t>(), (I{2, 0, 1, 5, 3, 4}));
  EXPECT_EQ(roll(x.t(), {1}, {0}).to_vector<int64_t>(), (I{2, 5, 0, 3, 1, 4}));
  Tensor r = repeat(x, {2, 1, 2});
  EXPECT_EQ(r.shape(), (Shape{2, 2, 6}));
  EXPECT_EQ(r.to_vector<int64_t>(),
            (I{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5}));
  EXPECT_EQ(repeat(x, {0, 1}).shape(), (Shape{0, 3}));
  EXPECT_EQ(repeat(scalar_tensor(3), {2}).to_vector<int64_t>(), (I{3, 3}));
  EXPECT_EQ(tile(x, {2}).to_vector<int64_t>(), (I{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5}));
  EXPECT_EQ(tile(x[0], {2, 1}).to_vector<int64_t>(), (I{0, 1, 2, 0, 1, 2}));
  expect_error([&] { repeat(x, {2}); }, {"repeat", "1 repeats", "[2,3] (i64, cpu)"});
  expect_error([&] { roll(x, {1, 2}, {0}); }, {"roll", "2 shifts", "1 dims"});
  expect_error([&] { flip(x, {0, 0}); }, {"flip"});
}

// ---- indexing: semantics beyond the reference comparison
// -----------------------------------------

TEST(Index, SortIsStableAndPutsNaNLast) {
  Tensor x = tensor<float>({2, NAN, 1, 2, NAN, 0, 1});
  auto [v, i] = sort(x);
  EXPECT_EQ(i.to_vector<int64_t>(), (I{5, 2, 6, 0, 3, 1, 4}));
  auto [vd, id] = sort(x, 0, true);
  EXPECT_EQ(id.to_vector<int64_t>(), (I{1, 4, 0, 3, 2, 6, 5}));
  std::vector<float> values = vd.to_vector<float>();
  EXPECT_TRUE(std::isnan(values[0]) && std::isnan(values[1]));
  EXPECT_EQ(values[2], 2.0f);
  EXPECT_EQ(argsort(tensor<int32_t>({3, 1, 3, 1}), -1, true).to_vector<int64_t>(), (I{0, 2, 1, 3}));
  auto [v0, i0] = sort(scalar_tensor(2.5));
  EXPECT_EQ(v0.dim(), 0);
  EXPECT_EQ(i0.item<int64_t>(), 0);
  EXPECT_EQ(sort(range({2, 3}).t(), 0, true).first.to_vector<float>(), (F{2, 5, 1, 4, 0, 3}));
}

TEST(Index, TopkTiesAndErrors) {
  Tensor x = tensor<float>({1, 3, 3, 2, 3});
  auto [v, i] = topk(x, 2);
  EXPECT_EQ(v.to_vector<float>(), (F{3, 3}));
  EXPECT_EQ(i.to_vector<int64_t>(), (I{1, 2}));  // tied elements lowest index first
  auto [vs, is] = topk(x, 2, 0, false);
  EXPECT_EQ(vs.to_vector<float>(), (F{1, 2}));
  EXPECT_EQ(is.to_vector<int64_t>(), (I{0, 3}));
  EXPECT_EQ(topk(tensor<float>({NAN, 1, 5}), 2).second.to_vector<int64_t>(), (I{0, 2}));
  expect_error([&] { topk(x, 6); }, {"topk", "k=6", "size 5"});
}

TEST(Index, ScatterDuplicatesAndAccumulation) {
  Tensor idx = tensor<int64_t>({0, 2, 0, 2}, {1, 4});
  Tensor src = tensor<float>({1, 2, 3, 4}, {1, 4});
  EXPECT_EQ(scatter_add(zeros({1, 3}), 1, idx, src).to_vector<float>(), (F{4, 0, 6}));
  EXPECT_EQ(scatter(zeros({2, 3}), 1, idx, 5.0).to_vector<float>(), (F{5, 0, 5, 0, 0, 0}));
  Tensor x = zeros({3, 2});
  const uint64_t before = x.version();
  x.scatter_(0, tensor<int64_t>({2, 0}, {1, 2}), tensor<float>({7, 8}, {1, 2}));
  EXPECT_EQ(x.to_vector<float>(), (F{0, 8, 0, 0, 7, 0}));
  x.scatter_add_(0, tensor<int64_t>({2, 2}, {2, 1}), ones({2, 1}));
  EXPECT_EQ(x.to_vector<float>(), (F{0, 8, 0, 0, 9, 0}));
  EXPECT_EQ(x.version(), before + 2);
  // index_add accumulates repeated rows, scaled by alpha.
  Tensor y = zeros({2, 2}, DType::i64);
  y.index_add_(0, tensor<int32_t>({1, 1, 0}), tensor<int64_t>({1, 2, 3, 4, 5, 6}, {3, 2}), 2);
  EXPECT_EQ(y.to_vector<int64_t>(), (I{10, 12, 8, 12}));
  // A tensor scattered into itself reads the values from before the write.
  Tensor z = arange(3, DType::f32);
  z.scatter_(0, tensor<int64_t>({1, 2, 0}), z);
  EXPECT_EQ(z.to_vector<float>(), (F{2, 0, 1}));
  // ... and an index that is self is read before the writes change it.
  Tensor w = tensor<int64_t>({1, 0, 2});
  w.scatter_(0, w, 5);
  EXPECT_EQ(w.to_vector<int64_t>(), (I{5, 5, 5}));
  Tensor v = tensor<int64_t>({1, 0, 2});
  v.index_add_(0, v, tensor<int64_t>({10, 20, 30}));
  EXPECT_EQ(v.to_vector<int64_t>(), (I{21, 10, 32}));
}

TEST(Index, BadIndicesThrowBeforeWriting) {
  Tensor x = range({2, 5});
  expect_error(
      [&] {
        gather(x, 1, tensor<int64_t>({7}, {1, 1}));
      },
      {"gather: index 7 is out of bounds for dim 1 with size 5"});
  expect_error([&] { gather(x, 1, tensor<int64_t>({-1}, {1, 1})); }, {"gather: index -1"});
  expect_error(
      [&] {
        index_select(x, 0, tensor<int64_t>({0, 2}));
      },
      {"index_select: index 2 is out of bounds for dim 0 with size 2"});
  expect_error(
      [&] {
        x.index_add_(1, tensor<int64_t>({5}), ones({2, 1}));
      },
      {"index_add: index 5 is out of bounds for dim 1 with size 5"});
  expect_error(
      [&] {
        x.scatter_add_(1, tensor<int64_t>({1, 5}, {1, 2}), ones({1, 2}));
      },
      {"scatter_add: index 5 is out of bounds for dim 1 with size 5"});
  // A large index (threaded check) with one bad entry in the middle leaves x unchanged.
  Tensor big = zeros({1000, 100});
  Tensor idx = zeros({1000, 100}, DType::i64);
  idx[500][50].fill_(100);
  expect_error([&] { big.scatter_(1, idx, 1.0); },
               {"scatter: index 100 is out of bounds for dim 1 with size 100"});
  EXPECT_EQ(nonzero(big).size(0), 0);
  try {
    gather(x, 0, tensor<int64_t>({3}, {1, 1}));
    ADD_FAILURE() << "expected an IndexError";
  } catch (const IndexError&) {
  }
}

TEST(Index, ShapeAndDtypeErrors) {
  Tensor x = range({2, 5});
  expect_error(
      [&] {
        gather(x, 1, tensor<int32_t>({0}, {1, 1}));
      },
      {"gather", "i64", "(i32, cpu)"});
  expect_error(
      [&] {
        gather(x, 1, zeros({3, 1}, DType::i64));
      },
      {"gather", "[3,1] (i64, cpu)", "larger than self [2,5] (f32, cpu)", "dim 0"});
  expect_error([&] { gather(x, 1, zeros({2}, DType::i64)); }, {"gather", "as many dims"});
  expect_error([&] { gather(x, 2, zeros({2, 1}, DType::i64)); }, {"gather", "2"});
  expect_error(
      [&] {
        scatter(x, 1, zeros({1, 2}, DType::i64), zeros({1, 2}, DType::f64));
      },
      {"scatter", "dtype", "(f64, cpu)"});
  expect_error(
      [&] {
        scatter(x, 1, zeros({1, 3}, DType::i64), zeros({1, 2}));
      },
      {"scatter", "larger than src [1,2]"});
  expect_error([&] { index_select(x, 0, zeros({1, 1}, DType::i64)); }, {"index_select", "1-d"});
  expect_error(
      [&] {
        index_add(x, 0, zeros({2}, DType::i64), zeros({3, 5}));
      },
      {"index_add", "[3,5]", "size 2 in dim 0"});
  expect_error([&] { masked_fill(x, zeros({2, 5}), 1); }, {"masked_fill_", "bool", "(f32, cpu)"});
  expect_error(
      [&] {
        x.masked_fill_(ones({3, 2, 5}, DType::boolean), 1);
      },
      {"masked_fill_", "[3,2,5]"});
  expect_error(
      [&] {
        masked_fill(x, ones({2, 5}, DType::boolean), zeros({1}));
      },
      {"masked_fill", "0-d value", "[1]"});
  expect_error([&] { tril(zeros({3})); }, {"tril", "2 dims", "[3]"});
}

TEST(Index, MasksNonzeroOneHotTriangles) {
  Tensor x = range({2, 3});
  Tensor m = tensor<float>({1, 0, 1}).to(DType::boolean);
  EXPECT_EQ(masked_fill(x, m, -1).to_vector<float>(), (F{-1, 1, -1, -1, 4, -1}));
  EXPECT_EQ(masked_fill(x, m, scalar_tensor(2.5)).to_vector<float>(),
            (F{2.5, 1, 2.5, 2.5, 4, 2.5}));
  EXPECT_EQ(masked_fill(range({3}, DType::i64), m, 2.5).to_vector<int64_t>(), (I{2, 1, 2}));
  EXPECT_EQ(masked_fill(range({3}), m.expand({2, 3}), 0).shape(), (Shape{2, 3}));
  Tensor y = range({2, 3});
  const uint64_t before = y.version();
  EXPECT_EQ(y.masked_fill_(m, 9).to_vector<float>(), (F{9, 1, 9, 9, 4, 9}));
  EXPECT_EQ(y.version(), before + 1);
  EXPECT_EQ(x.masked_fill(m, 0).to_vector<float>(), (F{0, 1, 0, 0, 4, 0}));
  EXPECT_EQ(masked_select(x, m).to_vector<float>(), (F{0, 2, 3, 5}));
  EXPECT_EQ(nonzero(x).to_vector<int64_t>(), (I{0, 1, 0, 2, 1, 0, 1, 1, 1, 2}));
  EXPECT_EQ(nonzero(x).shape(), (Shape{5, 2}));
  EXPECT_EQ(nonzero(scalar_tensor(1.0)).shape(), (Shape{1, 0}));
  EXPECT_EQ(index_select(scalar_tensor(4.0), 0, tensor<int64_t>({0})).dim(), 0);
  EXPECT_EQ(gather(scalar_tensor(4.0), 0, tensor<int64_t>({0})).shape(), (Shape{1}));
  EXPECT_EQ(one_hot(tensor<int64_t>({0, 2})).to_vector<int64_t>(), (I{1, 0, 0, 0, 0, 1}));
  EXPECT_EQ(one_hot(empty({0}, DType::i64), 3).shape(), (Shape{0, 3}));
  expect_error(
      [] {
        one_hot(tensor<int64_t>({0, 2}), 2);
      },
      {"one_hot", "class value 2", "num_classes=2"});
  expect_error([] { one_hot(tensor<int64_t>({-1, 2})); }, {"one_hot", "non-negative", "-1"});
  expect_error([] { one_hot(empty({0}, DType::i64)); }, {"one_hot", "empty"});
  Tensor sq = arange(1, 10, 1, DType::f32).reshape({3, 3});
  EXPECT_EQ(tril(sq).to_vector<float>(), (F{1, 0, 0, 4, 5, 0, 7, 8, 9}));
  EXPECT_EQ(triu(sq, 1).to_vector<float>(), (F{0, 2, 3, 0, 0, 6, 0, 0, 0}));
  EXPECT_EQ(tril(sq, -1).to_vector<float>(), (F{0, 0, 0, 4, 0, 0, 7, 8, 0}));
}

}  // namespace
}  // namespace anvil
