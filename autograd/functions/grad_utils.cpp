#include "autograd/functions/grad_utils.h"

#include "autograd/functions/reduce.h"

namespace anvil::autograd {

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const int64_t lead = grad.dim() - static_cast<int64_t>(shape.size());
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < grad.dim(); ++d) {
    if (d < lead || (shape[d - lead] == 1 && grad.size(d) != 1)) dims.push_back(d);
  }
  Tensor out = dims.empty() ? grad : sum(grad, dims, /*keepdim=*/true);
  return out.reshape(shape);
}

Tensor unsqueeze_reduced(const Tensor& grad, const Shape& input_shape,
                         const std::vector<int64_t>& dims, bool keepdim) {
  if (keepdim) return grad;
  const auto n = static_cast<int64_t>(input_shape.size());
  const uint64_t mask = dims.empty() ? ~uint64_t{0} : dim_mask(dims, n, "backward");
  Shape shape = input_shape;
  for (int64_t d = 0; d < n; ++d) {
    if (mask >> d & 1) shape[d] = 1;
  }
  return grad.reshape(shape);
}

}  // namespace anvil::autograd
