// Reference GEMM: the textbook triple loop, every product and sum in double.
#include "kernels/ref/ref_loops.h"
#include "tensor/dispatch.h"

namespace anvil::ref {

namespace {

void gemm_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar& alpha,
                 const Scalar& beta) {
  const int64_t nd = out.dim();
  const int64_t k = a.size(-1);
  const double al = alpha.to_double(), be = beta.to_double();
  for_each_index(out.shape(), [&](const std::vector<int64_t>& idx) {
    // idx = [batch..., i, j]; a is read at [batch..., i, p], b at [batch..., p, j].
    std::vector<int64_t> ia = idx, ib = idx;
    double sum = 0;
    for (int64_t p = 0; p < k; ++p) {
      ia[nd - 1] = p;
      ib[nd - 2] = p;
      sum += load(a, ia) * load(b, ib);
    }
    store(out, idx, al * sum + (be == 0 ? 0.0 : be * load(out, idx)));
  });
}

}  // namespace

ANVIL_REGISTER_KERNEL(gemm, ref, kAllTypes, gemm_kernel);

}  // namespace anvil::ref
