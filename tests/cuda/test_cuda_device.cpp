// CUDA device discovery. Tests that need a GPU skip themselves with the driver's reason.
#include <gtest/gtest.h>

#include "tensor/device.h"

TEST(CudaDevice, CountIsConsistentWithReason) {
  const int n = anvil::cuda_device_count();
  if (n == 0) {
    EXPECT_FALSE(anvil::cuda_unavailable_reason().empty());
    GTEST_SKIP() << "no CUDA device: " << anvil::cuda_unavailable_reason();
  }
  EXPECT_TRUE(anvil::cuda_unavailable_reason().empty());
}

#include "tensor/config.h"
#if ANVIL_WITH_CUDA
#include "common/op_test.h"
#include "tensor/cuda/caching_allocator.h"
#include "tensor/cuda/cuda_runtime.h"
#include "tensor/cuda/pinned_memory.h"
#include "tensor/cuda/stream.h"

namespace anvil {
namespace {

using testing::expect_error;

// Runtime error codes, without the CUDA headers: cudaErrorInvalidValue and
// cudaErrorMemoryAllocation.
constexpr int kInvalidValue = 1;
constexpr int kMemoryAllocation = 2;

TEST(CudaRuntime, CheckThrowsWithNameExpressionAndPlace) {
  ANVIL_CUDA_CHECK(0);
  expect_error([] { ANVIL_CUDA_CHECK(kInvalidValue); },
               {"CUDA error cudaErrorInvalidValue", "from kInvalidValue", "test_cuda_device.cpp:"});
  EXPECT_THROW(ANVIL_CUDA_CHECK(kInvalidValue), CudaError);
  EXPECT_THROW(ANVIL_CUDA_CHECK(kMemoryAllocation), OutOfMemoryError);
}

// Without a device every CUDA entry point fails with the driver's reason; nothing aborts.
TEST(CudaRuntime, WithoutDeviceEverythingIsAnError) {
  if (cuda::device_count() > 0) GTEST_SKIP() << "a CUDA device is present";
  const std::string reason = cuda::unavailable_reason();
  expect_error([] { cuda::current_device(); }, {"current_device", "no CUDA device", reason});
  expect_error([] { cuda::DeviceGuard guard(0); }, {"no CUDA device"});
  expect_error([] { cuda::current_stream(); }, {"no CUDA device"});
  expect_error(
      [] {
        zeros({2, 3}, Device::cuda());
      },
      {"allocating 24 bytes on cuda:0", "no CUDA device", reason});
  expect_error([] { ones({4}).cuda(); }, {"no CUDA device"});
  expect_error([] { memory_stats(Device::cuda()); }, {"memory_stats", "no CUDA device"});
  expect_error([] { cuda::empty_cache(0); }, {"no CUDA device"});
  expect_error([] { cuda::pin_memory(ones({4})); }, {"pin_memory", "no CUDA device"});
  EXPECT_FALSE(cuda::is_pinned(ones({4})));
  cuda::empty_cache();  // nothing to release: no error
}

}  // namespace
}  // namespace anvil
#endif  // ANVIL_WITH_CUDA
