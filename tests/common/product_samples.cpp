#include "common/product_samples.h"

#include <algorithm>
#include <cmath>

namespace anvil::testing {

Tensor operand(const Shape& shape, DType dtype, int64_t k, uint64_t seed, Layout layout) {
  double lo = -3, hi = 3;
  if (is_floating(dtype)) {
    hi = std::min(2.0, 4.0 / std::sqrt(static_cast<double>(std::max<int64_t>(k, 1))));
    lo = -hi;
  } else if (dtype == DType::u8 || dtype == DType::boolean) {
    lo = 0;
    hi = 1;
  }
  return with_layout(random_tensor(shape, dtype, lo, hi, seed), layout);
}

std::function<std::vector<Sample>(DType)> samples_of(std::vector<Spec> specs, uint64_t first_seed) {
  return [specs, first_seed](DType dtype) {
    std::vector<Sample> out;
    uint64_t seed = first_seed;
    for (const Spec& s : specs) {
      Sample smp;
      for (size_t i = 0; i < s.shapes.size(); ++i) {
        const Layout l = i < s.layouts.size() ? s.layouts[i] : Layout::contiguous;
        smp.inputs.push_back(operand(s.shapes[i], dtype, s.k, seed++, l));
      }
      smp.desc = s.desc;
      out.push_back(smp);
    }
    return out;
  };
}

}  // namespace anvil::testing
