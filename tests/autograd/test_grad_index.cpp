// Derivatives of the shape and indexing ops: gradcheck of every op and overload, plus what a
// table cannot show (integer outputs, in-place errors, saved-index versions, broadcast and
// mixed-dtype gradients, views). The tests use only ops of this family on the tensors that
// require grad, so they check these derivatives alone.
#include "autograd/autograd.h"
#include "common/op_test.h"
#include "grad_test.h"

namespace anvil::testing {
namespace {

Tensor i64(const std::vector<int64_t>& values, const Shape& shape) {
  return tensor<int64_t>(values, shape);
}
Tensor i64(const std::vector<int64_t>& values) {
  return tensor<int64_t>(values);
}
Tensor mask_of(const std::vector<int64_t>& values, const Shape& shape) {
  return tensor<int64_t>(values, shape).to(DType::boolean);
}
// A non-leaf copy of x (for the in-place forms), made by an op of this family.
Tensor nonleaf(const Tensor& x) {
  return cat({x});
}

using V = std::vector<Tensor>;

const std::vector<GradCase>& index_table() {
  // Fixed indices: gather and scatter_add may repeat an index (the gradient accumulates);
  // scatter does not (which duplicate wins is unspecified).
  static const Tensor gather_idx = i64({0, 3, 3, 1, 2, 2, 1, 0, 0, 3, 1, 2, 3, 0, 1}, {3, 5});
  static const Tensor gather_idx0 = i64({2, 0, 1, 2, 1, 1, 0, 0}, {2, 4});
  static const Tensor scatter_idx = i64({0, 4, 3, 1, 2, 0}, {3, 2});         // distinct per row
  static const Tensor scatter_idx0 = i64({2, 0, 1, 1, 0, 2, 0, 2}, {2, 4});  // distinct per col
  static const Tensor scatter_add_idx = i64({1, 1, 0, 3, 2, 3, 0, 0, 0}, {3, 3});
  static const Tensor select_idx = i64({0, 2, 2, 3, 1});
  static const Tensor select_idx32 = tensor<int32_t>({2, 0, 2});
  static const Tensor add_idx = i64({4, 0, 4});
  static const Tensor mask_row = mask_of({1, 0, 0, 1}, {4});
  static const Tensor mask_full = mask_of({1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0}, {3, 4});
  static const Tensor mask_col = mask_of({0, 1, 1}, {3, 1});
  static const std::vector<GradCase> table = {
      // cat / stack
      {"cat3_dim0",
       [](const V& in) {
         return V{cat({in[0], in[1], in[2]}, 0)};
       },
       {{2, 3}, {1, 3}, {4, 3}}},
      {"cat3_negdim",
       [](const V& in) {
         return V{cat({in[0], in[1], in[2]}, -1)};
       },
       {{3, 2}, {3, 1}, {3, 4}}},
      {"cat_some_require_grad",
       [](const V& in) {
         return V{cat({in[0], in[1], in[0]}, 1)};
       },
       {{2, 2}, {2, 3}},
       -2,
       2,
       {false, true}},
      {"stack_dim0",
       [](const V& in) {
         return V{stack({in[0], in[1], in[2]}, 0)};
       },
       {{2, 3}, {2, 3}, {2, 3}}},
      {"stack_negdim",
       [](const V& in) {
         return V{stack({in[0], in[1]}, -1)};
       },
       {{3, 2}, {3, 2}}},
      // split / chunk / unbind (views; every output used, or one only)
      {"split_size", [](const V& in) { return split(in[0], 2, 0); }, {{5, 3}}},
      {"split_sizes_negdim",
       [](const V& in) {
         return split(in[0], {1, 3, 2}, -1);
       },
       {{3, 6}}},
      {"split_one_output_used", [](const V& in) { return V{split(in[0], 2, 1)[1]}; }, {{2, 5}}},
      {"chunk", [](const V& in) { return chunk(in[0], 3, 1); }, {{4, 5}}},
      {"unbind", [](const V& in) { return unbind(in[0], 1); }, {{3, 4}}},
      {"unbind_one_output_used", [](const V& in) { return V{unbind(in[0], -1)[2]}; }, {{2, 3}}},
      // pad, every mode
      {"pad_constant",
       [](const V& in) {
         return V{pad(in[0], {1, 2}, PadMode::constant, 0.5)};
       },
       {{2, 3, 4}}},
      {"pad_constant_2d",
       [](const V& in) {
         return V{pad(in[0], {1, 0, 2, 1})};
       },
       {{2, 3, 4}}},
      {"pad_constant_negative",
       [](const V& in) {
         return V{pad(in[0], {-1, 2, 1, -2})};
       },
       {{2, 4, 5}}},
      {"pad_reflect",
       [](const V& in) {
         return V{pad(in[0], {2, 1}, PadMode::reflect)};
       },
       {{2, 3, 5}}},
      {"pad_reflect_2d",
       [](const V& in) {
         return V{pad(in[0], {1, 2, 3, 1}, PadMode::reflect)};
       },
       {{1, 2, 4, 5}}},
      {"pad_reflect_negative",
       [](const V& in) {
         return V{pad(in[0], {-1, 2}, PadMode::reflect)};
       },
       {{2, 5}}},
      {"pad_replicate",
       [](const V& in) {
         return V{pad(in[0], {2, 3}, PadMode::replicate)};
       },
       {{2, 4}}},
      {"pad_replicate_3d",
       [](const V& in) {
         return V{pad(in[0], {1, 1, 2, 0, 1, 2}, PadMode::replicate)};
       },
       {{1, 2, 3, 4}}},
      {"pad_replicate_negative",
       [](const V& in) {
         return V{pad(in[0], {-1, 2, 1, -1}, PadMode::replicate)};
       },
       {{1, 3, 4}}},
      {"pad_circular",
       [](const V& in) {
         return V{pad(in[0], {2, 1}, PadMode::circular)};
       },
       {{2, 3, 4}}},
      {"pad_circular_2d_negative",
       [](const V& in) {
         return V{pad(in[0], {1, 2, 3, -1}, PadMode::circular)};
       },
       {{1, 2, 4, 3}}},
      // flip / roll / repeat / tile
      {"flip_both",
       [](const V& in) {
         return V{flip(in[0], {0, 1})};
       },
       {{3, 4}}},
      {"flip_negdim", [](const V& in) { return V{flip(in[0], {-1})}; }, {{2, 3, 4}}},
      {"roll_dims",
       [](const V& in) {
         return V{roll(in[0], {1, -2}, {0, 1})};
       },
       {{3, 4}}},
      {"roll_flat", [](const V& in) { return V{roll(in[0], {5})}; }, {{3, 4}}},
      {"repeat_more_reps",
       [](const V& in) {
         return V{repeat(in[0], {2, 1, 3})};
       },
       {{2, 3}}},
      {"repeat_0d",
       [](const V& in) {
         return V{repeat(in[0], {3, 2})};
       },
       {Shape{}}},
      {"tile_fewer_reps", [](const V& in) { return V{tile(in[0], {2})}; }, {{2, 3}}},
      {"tile_more_reps",
       [](const V& in) {
         return V{tile(in[0], {2, 1, 2})};
       },
       {{2, 3}}},
      // gather / scatter / scatter_add
      {"gather_dim1", [](const V& in) { return V{gather(in[0], 1, gather_idx)}; }, {{3, 4}}},
      {"gather_negdim", [](const V& in) { return V{gather(in[0], -2, gather_idx0)}; }, {{3, 5}}},
      {"scatter_src",
       [](const V& in) { return V{scatter(in[0], 1, scatter_idx, in[1])}; },
       {{3, 5}, {3, 3}}},
      {"scatter_src_dim0",
       [](const V& in) { return V{scatter(in[0], 0, scatter_idx0, in[1])}; },
       {{3, 4}, {2, 4}}},
      {"scatter_value",
       [](const V& in) { return V{scatter(in[0], 1, scatter_idx, 1.5)}; },
       {{3, 5}}},
      {"scatter_add",
       [](const V& in) { return V{scatter_add(in[0], 1, scatter_add_idx, in[1])}; },
       {{3, 4}, {4, 3}}},
      {"scatter_add_only_src",
       [](const V& in) { return V{scatter_add(in[0], 1, scatter_add_idx, in[1])}; },
       {{3, 4}, {3, 3}},
       -2,
       2,
       {false, true}},
      // index_select / index_add
      {"index_select", [](const V& in) { return V{index_select(in[0], 0, select_idx)}; }, {{4, 3}}},
      {"index_select_i32_negdim",
       [](const V& in) { return V{index_select(in[0], -1, select_idx32)}; },
       {{2, 3}}},
      {"index_add_alpha",
       [](const V& in) { return V{index_add(in[0], 0, add_idx, in[1], 2.5)}; },
       {{5, 3}, {3, 3}}},
      {"index_add_dim1",
       [](const V& in) { return V{index_add(in[0], 1, add_idx, in[1])}; },
       {{2, 5}, {2, 3}}},
      // masks
      {"masked_fill_broadcast_mask",
       [](const V& in) { return V{masked_fill(in[0], mask_row, -1.0)}; },
       {{3, 4}}},
      {"masked_fill_mask_broadcasts_x",
       [](const V& in) { return V{masked_fill(in[0], mask_full, 3.0)}; },
       {{3, 1}}},
      {"masked_fill_tensor_value",
       [](const V& in) { return V{masked_fill(in[0], mask_col, in[1])}; },
       {{3, 4}, {}}},
      {"masked_fill_tensor_value_broadcasts_x",
       [](const V& in) { return V{masked_fill(in[0], mask_full, in[1])}; },
       {{4}, {}}},
      {"masked_select_broadcast_mask",
       [](const V& in) { return V{masked_select(in[0], mask_row)}; },
       {{3, 4}}},
      {"masked_select_mask_broadcasts_x",
       [](const V& in) { return V{masked_select(in[0], mask_full)}; },
       {{3, 1}}},
      // triangles
      {"tril", [](const V& in) { return V{tril(in[0])}; }, {{4, 5}}},
      {"tril_batched_neg", [](const V& in) { return V{tril(in[0], -1)}; }, {{2, 3, 3}}},
      {"triu", [](const V& in) { return V{triu(in[0], 1)}; }, {{4, 3}}},
      // sort / topk (distinct random values)
      {"sort_last",
       [](const V& in) {
         auto [v, i] = sort(in[0]);
         return V{v, i};
       },
       {{3, 5}}},
      {"sort_dim0_descending",
       [](const V& in) { return V{sort(in[0], 0, /*descending=*/true).first}; },
       {{4, 3}}},
      {"topk_largest",
       [](const V& in) {
         auto [v, i] = topk(in[0], 2, 1);
         return V{v, i};
       },
       {{3, 5}}},
      {"topk_smallest_dim0",
       [](const V& in) { return V{topk(in[0], 2, 0, /*largest=*/false).first}; },
       {{4, 3}}},
      // in place, on a non-leaf
      {"scatter_inplace_src",
       [](const V& in) {
         Tensor y = nonleaf(in[0]);
         y.scatter_(1, scatter_idx, in[1]);
         return V{y};
       },
       {{3, 5}, {3, 3}}},
      {"scatter_inplace_value",
       [](const V& in) {
         Tensor y = nonleaf(in[0]);
         y.scatter_(1, scatter_idx, -0.5);
         return V{y};
       },
       {{3, 5}}},
      {"scatter_add_inplace",
       [](const V& in) {
         Tensor y = nonleaf(in[0]);
         y.scatter_add_(1, scatter_add_idx, in[1]);
         return V{y};
       },
       {{3, 4}, {3, 3}}},
      {"index_add_inplace",
       [](const V& in) {
         Tensor y = nonleaf(in[0]);
         y.index_add_(0, add_idx, in[1], -2);
         return V{y};
       },
       {{5, 2}, {3, 2}}},
      {"masked_fill_inplace",
       [](const V& in) {
         Tensor y = nonleaf(in[0]);
         y.masked_fill_(mask_row, 0.25);
         return V{y};
       },
       {{3, 4}}},
  };
  return table;
}

INSTANTIATE_TEST_SUITE_P(Index, GradTest, ::testing::ValuesIn(grad_cases(index_table())),
                         grad_case_name);

// ---- what the table cannot show -----------------------------------------------------------------

Tensor leaf(const std::vector<double>& values, const Shape& shape, DType dtype = DType::f64) {
  return tensor<double>(values, shape).to(dtype).requires_grad_();
}
std::vector<double> values(const Tensor& t) {
  return t.to_vector<double>();
}

TEST(GradIndex, IntegerOutputsDoNotRequireGrad) {
  Tensor x = leaf({3, 1, 2, 5, 4, 0}, {2, 3});
  auto [sv, si] = sort(x, 1);
  EXPECT_TRUE(sv.requires_grad());
  EXPECT_FALSE(si.requires_grad());
  EXPECT_EQ(sv.grad_fn_name(), "SortBackward");
  auto [tv, ti] = topk(x, 2, 1);
  EXPECT_TRUE(tv.requires_grad());
  EXPECT_FALSE(ti.requires_grad());
  EXPECT_EQ(tv.grad_fn_name(), "TopkBackward");
  // Gathering an integer tensor records nothing; argsort and nonzero are not differentiable.
  EXPECT_FALSE(gather(si, 1, si).requires_grad());
  EXPECT_FALSE(argsort(x).requires_grad());
  EXPECT_FALSE(nonzero(x).requires_grad());
}

TEST(GradIndex, SortGradientGoesBackThroughTheIndices) {
  Tensor x = leaf({3, 1, 2}, {3});
  auto [v, i] = sort(x);
  v.backward(tensor<double>({10, 20, 30}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{30, 10, 20}));
}

TEST(GradIndex, InPlaceOnALeafThatRequiresGradIsAnError) {
  Tensor x = leaf({1, 2, 3, 4}, {2, 2});
  const Tensor idx = i64({1, 0}, {2, 1});
  expect_error([&] { x.scatter_(1, idx, 0.0); }, {"scatter_", "leaf"});
  expect_error([&] { x.scatter_add_(1, idx, x.detach()); }, {"scatter_add_", "leaf"});
  expect_error(
      [&] {
        x.index_add_(0, i64({0}), tensor<double>({1, 1}, {1, 2}));
      },
      {"index_add_", "leaf"});
  expect_error([&] { x.masked_fill_(mask_of({1, 0}, {2}), 0.0); }, {"masked_fill_", "leaf"});
  // Under no-grad the leaf may be written (as optimizers do).
  NoGradGuard no_grad;
  x.masked_fill_(mask_of({1, 0}, {2}), 0.0);
  EXPECT_EQ(values(x), (std::vector<double>{0, 2, 0, 4}));
}

TEST(GradIndex, SplitOutputsAreViewsThatCannotBeModifiedInPlace) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {3, 2});
  std::vector<Tensor> parts = split(x, 2, 0);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].grad_fn_name(), "SplitBackward");
  EXPECT_EQ(parts[0].grad_fn(), parts[1].grad_fn());  // one node for all outputs
  expect_error([&] { parts[0].masked_fill_(mask_of({1, 0}, {2}), 0.0); }, {"masked_fill_", "view"});
  std::vector<Tensor> rows = unbind(x, 0);
  EXPECT_EQ(rows[1].grad_fn_name(), "UnbindBackward");
  expect_error([&] { rows[0].scatter_(0, i64({0}), 1.0); }, {"scatter_", "view"});
  // Only the second piece is used: the first gets zeros.
  parts[1].backward(tensor<double>({7, 8}, {1, 2}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 0, 0, 0, 7, 8}));
}

TEST(GradIndex, ModifiedSavedIndexIsAnErrorAtBackward) {
  Tensor x = leaf({1, 2, 3, 4}, {2, 2});
  Tensor idx = i64({1, 0, 0, 0}, {2, 2});
  Tensor y = gather(x, 1, idx);
  idx.zero_();
  expect_error([&] { y.backward(ones_like(y)); },
               {"modified by an inplace operation", "GatherBackward"});

  Tensor sel = i64({1});
  Tensor z = index_select(x, 0, sel);
  sel.zero_();
  expect_error([&] { z.backward(ones_like(z)); }, {"IndexSelectBackward"});

  // sort saves its own indices output.
  auto [v, i] = sort(x, 1);
  i.zero_();
  expect_error([&] { v.backward(ones_like(v)); }, {"SortBackward"});
}

TEST(GradIndex, GradientsReduceToBroadcastInputShapes) {
  // x [3,1] broadcast against the mask [3,4]: x's gradient sums over the unmasked positions.
  Tensor x = leaf({1, 2, 3}, {3, 1});
  const Tensor mask = mask_of({1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0}, {3, 4});
  Tensor y = masked_fill(x, mask, 9.0);
  EXPECT_EQ(y.shape(), (Shape{3, 4}));
  y.backward(ones_like(y));
  EXPECT_EQ(x.grad().shape(), (Shape{3, 1}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1, 3, 2}));

  Tensor w = leaf({1, 2, 3}, {3, 1});
  Tensor s = masked_select(w, mask);
  ASSERT_EQ(s.numel(), 6);
  s.backward(tensor<double>({1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(w.grad().shape(), (Shape{3, 1}));
  EXPECT_EQ(values(w.grad()), (std::vector<double>{1 + 2 + 3, 4, 5 + 6}));

  // A 0-d value gets the sum of the gradient where the mask is true.
  Tensor v = leaf({0.5}, {});
  Tensor u = masked_fill(x.detach(), mask, v);
  u.backward(full({3, 4}, 2.0, DType::f64));
  EXPECT_EQ(v.grad().shape(), (Shape{}));
  EXPECT_DOUBLE_EQ(v.grad().item<double>(), 12.0);
}

TEST(GradIndex, MixedDtypesGiveGradientsInEachInputsDtype) {
  Tensor a = leaf({1, 2}, {1, 2}, DType::f32);
  Tensor b = leaf({3, 4, 5, 6}, {2, 2});
  Tensor y = cat({a, b}, 0);
  EXPECT_EQ(y.dtype(), DType::f64);
  y.backward(tensor<double>({1, 2, 3, 4, 5, 6}, {3, 2}));
  EXPECT_EQ(a.grad().dtype(), DType::f32);
  EXPECT_EQ(b.grad().dtype(), DType::f64);
  EXPECT_EQ(values(a.grad()), (std::vector<double>{1, 2}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{3, 4, 5, 6}));

  Tensor c = leaf({1, 2, 3}, {3}, DType::f32);
  Tensor d = leaf({4, 5, 6}, {3});
  Tensor s = stack({c, d}, 1);
  s.backward(tensor<double>({1, 2, 3, 4, 5, 6}, {3, 2}));
  EXPECT_EQ(c.grad().dtype(), DType::f32);
  EXPECT_EQ(values(c.grad()), (std::vector<double>{1, 3, 5}));
  EXPECT_EQ(values(d.grad()), (std::vector<double>{2, 4, 6}));

  // An f32 0-d fill value into an f64 tensor.
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor v = leaf({7}, {}, DType::f32);
  Tensor m = masked_fill(x, mask_of({1, 0, 1}, {3}), v);
  m.backward(tensor<double>({1, 2, 3}));
  EXPECT_EQ(v.grad().dtype(), DType::f32);
  EXPECT_FLOAT_EQ(v.grad().item<float>(), 4.0f);
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 2, 0}));
}

TEST(GradIndex, CatSkipsLegacyEmptyInputsButGivesThemGradients) {
  Tensor a = leaf({1, 2, 3, 4}, {2, 2});
  Tensor e = tensor<double>(std::vector<double>{}, Shape{0}).requires_grad_();
  Tensor b = leaf({5, 6}, {2, 1});
  Tensor y = cat({a, e, b}, -1);  // dim -1 wraps on the 2-D inputs
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  y.backward(tensor<double>({1, 2, 3, 4, 5, 6}, {2, 3}));
  ASSERT_TRUE(e.grad().defined());
  EXPECT_EQ(e.grad().shape(), (Shape{0}));
  EXPECT_EQ(values(a.grad()), (std::vector<double>{1, 2, 4, 5}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{3, 6}));
}

TEST(GradIndex, ScatterSrcLargerThanIndexGetsZerosOutsideIt) {
  Tensor x = leaf({0, 0, 0, 0}, {1, 4});
  Tensor src = leaf({1, 2, 3}, {1, 3});
  Tensor y = scatter(x, 1, i64({3, 0}, {1, 2}), src);
  EXPECT_EQ(values(y), (std::vector<double>{2, 0, 0, 1}));
  y.backward(tensor<double>({10, 20, 30, 40}, {1, 4}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 20, 30, 0}));
  EXPECT_EQ(values(src.grad()), (std::vector<double>{40, 10, 0}));
}

TEST(GradIndex, InPlaceIntoATensorWithoutHistoryRecordsTheSource) {
  Tensor y = zeros({3, 2}, DType::f64);
  Tensor source = leaf({1, 2, 3, 4}, {2, 2});
  y.index_add_(0, i64({2, 2}), source, 3);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(y.grad_fn_name(), "IndexAddBackward");
  y.backward(tensor<double>({1, 2, 3, 4, 5, 6}, {3, 2}));
  EXPECT_EQ(values(source.grad()), (std::vector<double>{15, 18, 15, 18}));
}

TEST(GradIndex, NoGradRecordsNothing) {
  Tensor x = leaf({1, 2, 3, 4}, {2, 2});
  NoGradGuard no_grad;
  EXPECT_FALSE(cat({x, x}).requires_grad());
  EXPECT_FALSE(split(x, 1)[0].requires_grad());
  EXPECT_FALSE(pad(x, {1, 1}).requires_grad());
  EXPECT_FALSE(sort(x).first.requires_grad());
}

}  // namespace
}  // namespace anvil::testing
