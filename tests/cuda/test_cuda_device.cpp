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
