// Tensors on a real GPU: fills, copies across devices, layouts and dtypes, the caching allocator,
// streams and pinned memory. Every test skips itself when no CUDA device is present.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

#include "common/op_test.h"
#include "tensor/config.h"

#if ANVIL_WITH_CUDA

#include "tensor/cuda/caching_allocator.h"
#include "tensor/cuda/cuda_runtime.h"
#include "tensor/cuda/pinned_memory.h"
#include "tensor/cuda/stream.h"

namespace anvil {
namespace {

using testing::all_close;
using testing::expect_error;
using testing::random_tensor;

constexpr testing::Tolerance kExact{0, 0};
constexpr DType kAllDTypes[] = {DType::f32, DType::f64, DType::f16, DType::bf16,
                                DType::i64, DType::i32, DType::u8,  DType::boolean};
const Device kGpu = Device::cuda(0);

#define REQUIRE_GPU()                                                                              \
  do {                                                                                             \
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: " << cuda_unavailable_reason(); \
  } while (0)

// Values that every dtype holds exactly and converts the same way on both sides (no negative
// values into u8, whose out-of-range conversion is undefined).
Tensor sample(const Shape& shape, DType from, DType to = DType::f32, uint64_t seed = 7) {
  const bool unsigned_involved = from == DType::u8 || to == DType::u8;
  return random_tensor(shape, from, unsigned_involved ? 0 : -100, 100, seed);
}

std::string name(DType t) {
  return std::string(dtype_name(t));
}

TEST(CudaTensor, DeviceProperties) {
  REQUIRE_GPU();
  const cuda::DeviceProperties& p = cuda::device_properties(0);
  EXPECT_FALSE(p.name.empty());
  EXPECT_GT(p.total_memory, size_t(1) << 30);
  EXPECT_GT(p.multiprocessor_count, 0);
  EXPECT_GE(p.major, 7);
  EXPECT_EQ(p.warp_size, 32);
  const cuda::MemoryInfo m = cuda::memory_info(0);
  EXPECT_GT(m.free, 0u);
  EXPECT_LE(m.free, m.total);
  EXPECT_EQ(m.total, p.total_memory);
}

TEST(CudaTensor, DeviceGuardAndBadIndex) {
  REQUIRE_GPU();
  const int n = cuda::device_count();
  {
    cuda::DeviceGuard guard(n - 1);
    EXPECT_EQ(cuda::current_device(), n - 1);
  }
  EXPECT_EQ(cuda::current_device(), 0);
  expect_error([&] { cuda::set_device(n); },
               {"set_device", fmt::format("cuda:{}", n), "does not exist"});
  expect_error([&] { zeros({2}, Device::cuda(n)); }, {"allocating", "does not exist"});
}

TEST(CudaTensor, FillEveryDTypeAndLayout) {
  REQUIRE_GPU();
  for (DType t : kAllDTypes) {
    const Scalar value = t == DType::boolean ? Scalar(true)
                         : is_floating(t)    ? Scalar(2.5)
                                             : Scalar(7);
    // Sizes around the 16-byte vector width, and offsets that misalign the start.
    for (int64_t n : {1, 3, 7, 8, 9, 16, 17, 33, 1000, 100003}) {
      for (int64_t start : {0, 1, 3}) {
        Tensor base = zeros({n + start}, TensorOptions(t, kGpu));
        Tensor view = base.narrow(0, start, n);
        view.fill_(value);
        Tensor expected = zeros({n + start}, t);
        expected.narrow(0, start, n).fill_(value);
        ASSERT_TRUE(all_close(base.cpu(), expected, kExact))
            << name(t) << " n=" << n << " start=" << start;
      }
    }
    // Strided destinations: a transpose and a step-2 slice.
    Tensor m = zeros({37, 19}, TensorOptions(t, kGpu));
    m.t().slice(0, 0, 19, 2).fill_(value);
    Tensor expected = zeros({37, 19}, t);
    expected.t().slice(0, 0, 19, 2).fill_(value);
    ASSERT_TRUE(all_close(m.cpu(), expected, kExact)) << name(t);
  }
}

TEST(CudaTensor, FillLargeValues) {
  REQUIRE_GPU();
  Tensor a = empty({1000}, TensorOptions(DType::i64, kGpu));
  a.fill_(int64_t(1) << 53 | 1);  // exact, not rounded through double
  EXPECT_EQ(a.cpu().to_vector<int64_t>()[999], (int64_t(1) << 53) | 1);
  Tensor h = empty({10}, TensorOptions(DType::f16, kGpu));
  h.fill_(65504.0);
  EXPECT_EQ(h.cpu().to_vector<float>()[3], 65504.0f);
  h.fill_(1e-7);  // subnormal in f16
  EXPECT_EQ(h.cpu().to_vector<float>()[3], float(Half(1e-7f)));
}

TEST(CudaTensor, RoundTripEveryDType) {
  REQUIRE_GPU();
  for (DType t : kAllDTypes) {
    for (const Shape& shape : {Shape{}, Shape{0}, Shape{1}, Shape{5, 0, 3}, Shape{3, 4},
                               Shape{2, 3, 4, 5}, Shape{1 << 20}}) {
      const Tensor x = sample(shape, t);
      const Tensor d = x.to(kGpu);
      ASSERT_TRUE(d.is_cuda());
      EXPECT_EQ(d.shape(), x.shape());
      EXPECT_EQ(d.dtype(), t);
      ASSERT_TRUE(all_close(d.to(Device::cpu()), x, kExact)) << name(t) << shape_str(shape);
      // Non-contiguous host sources are laid out before moving.
      if (shape.size() >= 2) {
        const Tensor xt = x.transpose(0, 1);
        ASSERT_TRUE(all_close(xt.cuda().cpu(), xt, kExact)) << name(t) << " transposed";
      }
    }
  }
}

TEST(CudaTensor, CopyIntoNonContiguousDestinations) {
  REQUIRE_GPU();
  const Tensor src = sample({6, 10}, DType::f32);
  // Host -> device into a transposed view, device -> device into a strided one.
  Tensor d = zeros({10, 6}, kGpu);
  d.t().copy_(src);
  ASSERT_TRUE(all_close(d.cpu(), src.t(), kExact));
  Tensor wide = zeros({6, 20}, kGpu);
  wide.slice(1, 0, 20, 2).copy_(src.cuda());
  Tensor expected = zeros({6, 20});
  expected.slice(1, 0, 20, 2).copy_(src);
  ASSERT_TRUE(all_close(wide.cpu(), expected, kExact));
  // Device -> host into a non-contiguous host view.
  Tensor host = zeros({10, 6});
  host.t().copy_(src.cuda());
  ASSERT_TRUE(all_close(host, src.t(), kExact));
}

TEST(CudaTensor, NonContiguousCopiesOnDevice) {
  REQUIRE_GPU();
  for (DType t : kAllDTypes) {
    const Tensor x = sample({4, 6, 5}, t);
    const Tensor d = x.cuda();
    const std::vector<std::pair<Tensor, Tensor>> views = {
        {d.permute({2, 0, 1}), x.permute({2, 0, 1})},
        {d.transpose(0, 2), x.transpose(0, 2)},
        {d.slice(1, 1, 6, 2).slice(2, 0, 5, 3), x.slice(1, 1, 6, 2).slice(2, 0, 5, 3)},
        {d.select(1, 3), x.select(1, 3)},
        {d.narrow(2, 1, 3).unsqueeze(1).expand({4, 7, 6, 3}),
         x.narrow(2, 1, 3).unsqueeze(1).expand({4, 7, 6, 3})},
        {d.diagonal(0, 1, 2), x.diagonal(0, 1, 2)},
    };
    for (size_t i = 0; i < views.size(); ++i) {
      const Tensor c = views[i].first.contiguous();  // the copy kernel on the device
      ASSERT_TRUE(c.is_cuda());
      ASSERT_TRUE(c.is_contiguous());
      ASSERT_TRUE(all_close(c.cpu(), views[i].second.contiguous(), kExact))
          << name(t) << " view " << i;
    }
    // Overlapping copy within one storage (copy_ reads from a clone).
    Tensor sq = x.select(2, 0).narrow(1, 0, 4).contiguous().cuda();
    sq.copy_(sq.t());
    ASSERT_TRUE(all_close(sq.cpu(), x.select(2, 0).narrow(1, 0, 4).t(), kExact)) << name(t);
  }
}

TEST(CudaTensor, CrossDTypeCopiesOnDevice) {
  REQUIRE_GPU();
  for (DType from : kAllDTypes) {
    for (DType to : kAllDTypes) {
      const Tensor x = sample({33, 17}, from, to);
      const Tensor expected = x.to(to);
      const Tensor converted = x.cuda().to(to);
      ASSERT_EQ(converted.dtype(), to);
      ASSERT_TRUE(all_close(converted.cpu(), expected, kExact)) << name(from) << " -> " << name(to);
      // Strided source and destination in one kernel.
      Tensor dst = zeros({17, 33}, TensorOptions(to, kGpu));
      dst.copy_(x.cuda().t());
      ASSERT_TRUE(all_close(dst.cpu(), expected.t(), kExact))
          << name(from) << " -> " << name(to) << " transposed";
      // Converting while crossing devices, both ways.
      ASSERT_TRUE(all_close(x.to(kGpu, to).cpu(), expected, kExact));
      ASSERT_TRUE(all_close(x.cuda().to(Device::cpu(), to), expected, kExact));
    }
  }
}

TEST(CudaTensor, SpecialFloatConversions) {
  REQUIRE_GPU();
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor x = tensor(std::vector<float>{0.0f, -0.0f, inf, -inf, 65520.0f, 1e-8f, 3.0e38f,
                                             1.0f + 1.0f / 1024.0f, 0.1f, -2.7f},
                          {10});
  for (DType to : {DType::f16, DType::bf16, DType::f64, DType::boolean}) {
    ASSERT_TRUE(all_close(x.cuda().to(to).cpu(), x.to(to), kExact)) << name(to);
  }
  // NaN stays NaN through every floating type.
  const Tensor nan = full({4}, std::nan(""));
  for (DType to : {DType::f16, DType::bf16, DType::f32}) {
    const std::vector<float> v = nan.cuda().to(to).cpu().to_vector<float>();
    EXPECT_TRUE(std::isnan(v[2])) << name(to);
  }
}

TEST(CudaTensor, LargeStridedCopy) {
  REQUIRE_GPU();
  // Enough elements that each thread of the capped grid loops several times.
  const Tensor x = arange(0, 1 << 22, 1, DType::i32).reshape({1 << 11, 1 << 11});
  const Tensor d = x.cuda().t().contiguous();
  ASSERT_TRUE(all_close(d.cpu(), x.t().contiguous(), kExact));
}

TEST(CudaTensor, PrintAndItem) {
  REQUIRE_GPU();
  const Tensor d = tensor(std::vector<float>{1.5f, -2.0f}, {2}).cuda();
  EXPECT_EQ(d[1].item<float>(), -2.0f);
  EXPECT_NE(d.str().find("device=cuda:0"), std::string::npos);
}

TEST(CudaTensor, AllocatorStats) {
  REQUIRE_GPU();
  cuda::DeviceGuard guard(0);
  cuda::empty_cache();
  const MemoryStats before = memory_stats(kGpu);
  int64_t live = 0;
  {
    const Tensor a = empty({1000}, kGpu);  // 4000 bytes, rounded to 4096
    const MemoryStats s = memory_stats(kGpu);
    live = s.allocated - before.allocated;
    EXPECT_EQ(live, 4096);
    EXPECT_GE(s.reserved, s.allocated);
    EXPECT_EQ(s.num_allocs, before.num_allocs + 1);
    EXPECT_GE(s.peak_allocated, s.allocated);
    const Tensor b = empty({(int64_t(12) << 20) / 4}, kGpu);  // 12 MiB: its own segment
    EXPECT_EQ(memory_stats(kGpu).allocated - before.allocated, 4096 + (int64_t(12) << 20));
  }
  const MemoryStats after = memory_stats(kGpu);
  EXPECT_EQ(after.allocated, before.allocated);
  EXPECT_GE(after.peak_allocated, before.allocated + 4096 + (int64_t(12) << 20));
  EXPECT_GT(after.reserved, before.reserved);  // cached
  // A freed block is reused by the next request of the same size on the same stream.
  void* first = nullptr;
  {
    const Tensor a = empty({1000}, kGpu);
    first = a.raw_data();
  }
  {
    const Tensor a = empty({1000}, kGpu);
    EXPECT_EQ(a.raw_data(), first);
  }
  cuda::empty_cache();
  EXPECT_EQ(memory_stats(kGpu).reserved, before.reserved);
  reset_peak_memory_stats(kGpu);
  EXPECT_EQ(memory_stats(kGpu).peak_allocated, memory_stats(kGpu).allocated);
}

TEST(CudaTensor, OutOfMemoryIsAnError) {
  REQUIRE_GPU();
  const int64_t before = memory_stats(kGpu).allocated;
  expect_error([] { empty({int64_t(1) << 48}, kGpu); },
               {"cuda:0 out of memory", "tried to allocate", "allocated", "reserved", "free of"});
  EXPECT_THROW(empty({int64_t(1) << 48}, kGpu), OutOfMemoryError);
  EXPECT_EQ(memory_stats(kGpu).allocated, before);
  // The device is still usable.
  EXPECT_EQ(ones({4}, kGpu).cpu().to_vector<float>()[3], 1.0f);
}

TEST(CudaTensor, StreamsAndGuards) {
  REQUIRE_GPU();
  const cuda::Stream def = cuda::default_stream(0);
  EXPECT_TRUE(def.is_default());
  EXPECT_EQ(cuda::current_stream(0), def);
  const cuda::Stream side = cuda::stream_from_pool(0);
  EXPECT_FALSE(side.is_default());
  EXPECT_EQ(side.device(), kGpu);
  {
    cuda::StreamGuard guard(side);
    EXPECT_EQ(cuda::current_stream(0), side);
    Tensor x = full({1 << 20}, 3.0f, kGpu);  // allocated and filled on `side`
    side.synchronize();
    EXPECT_TRUE(side.query());
    EXPECT_EQ(x.cpu().to_vector<float>()[12345], 3.0f);
  }
  EXPECT_EQ(cuda::current_stream(0), def);
  // Pool streams are handed out round-robin over 32.
  std::set<CUstream_st*> handles;
  for (int i = 0; i < 40; ++i) handles.insert(cuda::stream_from_pool(0).handle());
  EXPECT_EQ(handles.size(), 32u);
}

TEST(CudaTensor, BlocksBelongToTheirStream) {
  REQUIRE_GPU();
  const cuda::Stream side = cuda::stream_from_pool(0);
  void* on_side = nullptr;
  {
    cuda::StreamGuard guard(side);
    const Tensor a = empty({256}, kGpu);
    on_side = a.raw_data();
  }
  side.synchronize();
  // Freed on `side`: the default stream does not get that block.
  const Tensor b = empty({256}, kGpu);
  EXPECT_NE(b.raw_data(), on_side);
  {
    cuda::StreamGuard guard(side);
    const Tensor c = empty({256}, kGpu);
    EXPECT_EQ(c.raw_data(), on_side);
  }
}

TEST(CudaTensor, EventsOrderStreams) {
  REQUIRE_GPU();
  const cuda::Stream side = cuda::stream_from_pool(0);
  Tensor x = zeros({1 << 24}, kGpu);  // on the default stream
  cuda::Event ready;
  ready.record(cuda::default_stream(0));
  cuda::Event start(true), stop(true);
  {
    cuda::StreamGuard guard(side);
    ready.wait(side);  // side waits for the zeros
    start.record();
    x.fill_(5.0f);
    stop.record();
    cuda::record_stream(x, side);
  }
  stop.wait(cuda::default_stream(0));  // the default stream waits for the fill
  const Tensor host = x.cpu();
  EXPECT_EQ(host.to_vector<float>()[(1 << 24) - 1], 5.0f);
  stop.synchronize();
  EXPECT_TRUE(stop.query());
  EXPECT_GE(start.elapsed_ms(stop), 0.0f);
  expect_error([&] { ready.elapsed_ms(stop); }, {"elapsed_ms", "enable_timing"});
  cuda::Event never;
  EXPECT_TRUE(never.query());
  EXPECT_FALSE(never.is_recorded());
}

TEST(CudaTensor, RecordStreamDefersReuse) {
  REQUIRE_GPU();
  const cuda::Stream side = cuda::stream_from_pool(0);
  const int64_t before = memory_stats(kGpu).allocated;
  {
    Tensor x = ones({1 << 20}, kGpu);
    cuda::StreamGuard guard(side);
    cuda::record_stream(x, side);
    expect_error([&] { cuda::record_stream(ones({2}), side); }, {"record_stream", "CUDA tensor"});
  }
  EXPECT_EQ(memory_stats(kGpu).allocated, before);
  side.synchronize();
  const Tensor y = ones({1 << 20}, kGpu);
  EXPECT_EQ(y.cpu().to_vector<float>()[7], 1.0f);
}

TEST(CudaTensor, PinnedMemory) {
  REQUIRE_GPU();
  const Tensor x = sample({256, 33}, DType::f32);
  EXPECT_FALSE(cuda::is_pinned(x));
  const cuda::PinnedMemoryStats before = cuda::pinned_memory_stats();
  const Tensor p = cuda::pin_memory(x);
  EXPECT_TRUE(cuda::is_pinned(p));
  EXPECT_TRUE(p.is_cpu());
  EXPECT_TRUE(cuda::pin_memory(p).is_same(p));
  EXPECT_GE(cuda::pinned_memory_stats().allocated, before.allocated + size_t(x.nbytes()));
  ASSERT_TRUE(all_close(p, x, kExact));
  // Asynchronous copies from and to pinned memory.
  const Tensor d = p.to(kGpu, true);
  const Tensor back = d.to(Device::cpu(), true);
  cuda::current_stream(0).synchronize();
  ASSERT_TRUE(all_close(back, x, kExact));
  // Non-contiguous sources are pinned as contiguous copies.
  const Tensor pt = cuda::pin_memory(x.t());
  EXPECT_TRUE(pt.is_contiguous());
  ASSERT_TRUE(all_close(pt, x.t(), kExact));
  expect_error([&] { cuda::pin_memory(d); }, {"pin_memory", "CPU tensor"});
}

TEST(CudaTensor, PinnedBlocksAreReused) {
  REQUIRE_GPU();
  void* first = nullptr;
  {
    const Tensor p = cuda::pin_memory(zeros({1000}));
    first = p.raw_data();
  }
  const Tensor q = cuda::pin_memory(ones({900}));  // same power-of-two class
  EXPECT_EQ(q.raw_data(), first);
  cuda::empty_pinned_cache();
  EXPECT_EQ(cuda::pinned_memory_stats().reserved, cuda::pinned_memory_stats().allocated);
}

TEST(CudaTensor, PeerCopies) {
  REQUIRE_GPU();
  if (cuda::device_count() < 2) GTEST_SKIP() << "needs two CUDA devices";
  const Tensor x = sample({64, 31}, DType::f32);
  const Tensor on1 = x.to(Device::cuda(0)).to(Device::cuda(1));
  EXPECT_EQ(on1.device(), Device::cuda(1));
  ASSERT_TRUE(all_close(on1.cpu(), x, kExact));
  ASSERT_TRUE(all_close(on1.to(Device::cuda(0), DType::f16).cpu(), x.to(DType::f16), kExact));
}

}  // namespace
}  // namespace anvil

#endif  // ANVIL_WITH_CUDA
