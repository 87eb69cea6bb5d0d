#include "tensor/dtype.h"

namespace anvil {

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  const int ca = dtype_category(a), cb = dtype_category(b);
  if (ca != cb) return ca > cb ? a : b;
  if (ca == 2) {
    const bool a16 = dtype_size(a) == 2, b16 = dtype_size(b) == 2;
    if (a16 && b16) return DType::f32;  // f16 with bf16 (as torch.promote_types)
  }
  return dtype_size(a) >= dtype_size(b) ? a : b;
}

}  // namespace anvil
