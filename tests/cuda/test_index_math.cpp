// The index arithmetic of the CUDA kernels, run on the CPU: no GPU needed.
#include <gtest/gtest.h>

#include <vector>

#include "anvil.h"
#include "kernels/cuda/index_math.h"

namespace anvil::cuda {
namespace {

// Byte strides of a tensor view, as the kernels' launchers compute them.
std::vector<int64_t> byte_strides(const Tensor& t) {
  std::vector<int64_t> s;
  for (int64_t v : t.strides()) s.push_back(v * t.element_size());
  return s;
}

// Checks every element's offsets against a plain row-major unravel of the linear index, on both
// the 32-bit and the 64-bit path.
template <int N>
void expect_offsets_match(const std::array<Tensor, N>& ts) {
  const Shape& shape = ts[0].shape();
  const int nd = static_cast<int>(shape.size());
  std::vector<int64_t> strides_store[N];
  const int64_t* strides[N];
  for (int k = 0; k < N; ++k) {
    strides_store[k] = byte_strides(ts[k]);
    strides[k] = strides_store[k].data();
  }
  OffsetCalculator<N> calc = make_offset_calculator<N>(nd, shape.data(), strides);
  const int64_t numel = ts[0].numel();
  for (bool use_32bit : {true, false}) {
    calc.use_32bit = use_32bit;
    for (int64_t i = 0; i < numel; ++i) {
      int64_t expected[N] = {};
      int64_t rest = i;
      for (int d = nd - 1; d >= 0; --d) {
        const int64_t idx = rest % shape[d];
        rest /= shape[d];
        for (int k = 0; k < N; ++k) expected[k] += idx * strides[k][d];
      }
      int64_t got[N];
      calc.offsets(i, got);
      for (int k = 0; k < N; ++k)
        ASSERT_EQ(got[k], expected[k]) << "operand " << k << " element " << i << " of "
                                       << ts[k].describe() << (use_32bit ? " (32-bit)" : "");
    }
  }
}

int coalesced_dims(const std::vector<Tensor>& ts) {
  const int nd = static_cast<int>(ts[0].dim());
  std::vector<std::vector<int64_t>> store;
  for (const Tensor& t : ts) store.push_back(byte_strides(t));
  if (ts.size() == 1) {
    const int64_t* s[1] = {store[0].data()};
    return make_offset_calculator<1>(nd, ts[0].shape().data(), s).ndim;
  }
  const int64_t* s[2] = {store[0].data(), store[1].data()};
  return make_offset_calculator<2>(nd, ts[0].shape().data(), s).ndim;
}

TEST(CudaIndexMath, ContiguousCoalescesToOneDim) {
  const Tensor a = zeros({2, 3, 4});
  EXPECT_EQ(coalesced_dims({a}), 1);
  expect_offsets_match<1>({a});
  const Tensor b = zeros({2, 3, 4}, DType::f16);
  EXPECT_EQ(coalesced_dims({a, b}), 1);  // different dtypes, both contiguous
  expect_offsets_match<2>({a, b});
}

TEST(CudaIndexMath, ZeroDimAndSizeOneDims) {
  const Tensor s = zeros({});
  EXPECT_EQ(coalesced_dims({s}), 0);
  expect_offsets_match<1>({s});
  const Tensor ones = zeros({1, 1, 1});
  EXPECT_EQ(coalesced_dims({ones}), 0);
  expect_offsets_match<1>({ones});
  const Tensor mixed = zeros({1, 5, 1, 3});
  EXPECT_EQ(coalesced_dims({mixed}), 1);
  expect_offsets_match<1>({mixed});
}

TEST(CudaIndexMath, TransposeKeepsTwoDims) {
  const Tensor src = zeros({5, 7}).t();
  const Tensor dst = zeros({7, 5});
  EXPECT_EQ(coalesced_dims({dst, src}), 2);
  expect_offsets_match<2>({dst, src});
}

TEST(CudaIndexMath, PermutedSlicedAndExpandedViews) {
  const Tensor base = zeros({4, 6, 5, 3}, DType::f64);
  const Tensor permuted = base.permute({2, 0, 3, 1});
  expect_offsets_match<2>({zeros({5, 4, 3, 6}), permuted});
  const Tensor sliced = base.slice(1, 1, 6, 2).slice(3, 0, 3, 2);
  expect_offsets_match<2>({zeros(sliced.shape(), DType::u8), sliced});
  const Tensor expanded = zeros({3, 1}, DType::i32).expand({3, 4});
  EXPECT_EQ(coalesced_dims({zeros({3, 4}), expanded}), 2);
  expect_offsets_match<2>({zeros({3, 4}), expanded});
  const Tensor broadcast_row = zeros({1, 4}).expand({3, 4});
  expect_offsets_match<2>({zeros({3, 4}).t().contiguous().t(), broadcast_row});
}

TEST(CudaIndexMath, PartlyMergeableDims) {
  // [2,3,4] sliced along the last dim: the outer two dims still merge.
  const Tensor v = zeros({2, 3, 8}).slice(2, 0, 4);
  EXPECT_EQ(coalesced_dims({v}), 2);
  expect_offsets_match<1>({v});
  // The destination's layout splits what the source's would merge.
  const Tensor dst = zeros({3, 4, 2}).permute({2, 0, 1});
  EXPECT_EQ(coalesced_dims({dst, zeros({2, 3, 4})}), 2);
  expect_offsets_match<2>({dst, zeros({2, 3, 4})});
}

TEST(CudaIndexMath, ManyDims) {
  Shape shape(kMaxDims, 1);
  shape[0] = 2;
  shape[7] = 3;
  shape[24] = 2;
  const Tensor t = zeros(shape);
  const Tensor moved = t.movedim(0, 24);
  expect_offsets_match<2>({zeros(moved.shape()), moved});
}

TEST(CudaIndexMath, LargeTensorsUse64BitIndices) {
  const int64_t sizes[2] = {int64_t(1) << 20, int64_t(1) << 12};
  const int64_t strides0[2] = {sizes[1] * 2 * 4, 4};  // every other row
  const int64_t* strides[1] = {strides0};
  const OffsetCalculator<1> calc = make_offset_calculator<1>(2, sizes, strides);
  EXPECT_FALSE(calc.use_32bit);
  const int64_t last = sizes[0] * sizes[1] - 1;
  int64_t off[1];
  calc.offsets(last, off);
  EXPECT_EQ(off[0], (sizes[0] - 1) * strides0[0] + (sizes[1] - 1) * 4);
  const int64_t small[2] = {1 << 10, 1 << 10};
  EXPECT_TRUE(make_offset_calculator<1>(2, small, strides).use_32bit);
}

TEST(CudaIndexMath, AlignmentHead) {
  EXPECT_EQ(elements_before_alignment(0x1000, 4, 100), 0);
  EXPECT_EQ(elements_before_alignment(0x1004, 4, 100), 3);
  EXPECT_EQ(elements_before_alignment(0x100e, 2, 100), 1);
  EXPECT_EQ(elements_before_alignment(0x1001, 1, 100), 15);
  EXPECT_EQ(elements_before_alignment(0x1008, 8, 100), 1);
  EXPECT_EQ(elements_before_alignment(0x1004, 4, 2), 2);  // fewer elements than the head
}

TEST(CudaIndexMath, LaunchConfig) {
  const LaunchConfig small = launch_config(1000, 1, 132);
  EXPECT_EQ(small.threads, 256);
  EXPECT_EQ(small.blocks, 4);
  EXPECT_EQ(launch_config(1000, 4, 132).blocks, 1);
  EXPECT_EQ(launch_config(0, 1, 132).blocks, 1);
  EXPECT_EQ(launch_config(int64_t(1) << 32, 1, 132).blocks, 132 * 32);
}

}  // namespace
}  // namespace anvil::cuda
