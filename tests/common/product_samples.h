// Samples for ops that sum products (matmul family, convolutions): operand values scaled with
// the depth of the sums so results stay O(1) in every dtype.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/op_test.h"

namespace anvil::testing {

// One operand of a sum of depth k. Floating values shrink with k so that results stay O(1) and
// f32 rounding stays well inside the default tolerance at any depth; u8 and bool stay in {0, 1}
// so that sums do not wrap (the reference cannot wrap), other integers in [-3, 3].
Tensor operand(const Shape& shape, DType dtype, int64_t k, uint64_t seed,
               Layout layout = Layout::contiguous);

// Operand shapes and layouts of one sample; `k` is the depth of the sums.
struct Spec {
  std::vector<Shape> shapes;
  int64_t k;
  std::string desc;
  std::vector<Layout> layouts = {};
};

// The samples of `specs`, seeded from `first_seed` on.
std::function<std::vector<Sample>(DType)> samples_of(std::vector<Spec> specs,
                                                     uint64_t first_seed = 7);

}  // namespace anvil::testing
