// Uses the installed anvil the way the README shows: builds tensors, runs ops, checks results.
#include <anvil.h>

#include <cmath>
#include <iostream>

int main() {
  using namespace anvil;
  Tensor x = randn({64, 32});
  Tensor w = randn({10, 32});
  Tensor y = softmax(linear(x, w), -1);  // [64, 10]
  Tensor row_sums = y.sum({1});
  const float worst = (row_sums - 1.0).abs().max().item<float>();

  Tensor a = arange(6, DType::f32).reshape({2, 3});
  const float v = a.t().contiguous()[2][1].item<float>();  // a[1][2] = 5
  std::cout << a << "\n";
  if (y.shape() != Shape{64, 10} || worst > 1e-5f || v != 5.0f) {
    std::cerr << "consumer: unexpected results (" << worst << ", " << v << ")\n";
    return 1;
  }
  std::cout << "consumer: ok (anvil " << ANVIL_VERSION << ")\n";
  return 0;
}
