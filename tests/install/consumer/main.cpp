// Uses the installed anvil: builds a tensor, runs an op, checks the result.
#include <anvil.h>

#include <iostream>

int main() {
  anvil::Tensor a = anvil::arange(6, anvil::DType::f32).reshape({2, 3});
  anvil::Tensor b = a.t().contiguous();
  const float v = b[2][1].item<float>();  // a[1][2] = 5
  std::cout << b << "\n";
  if (v != 5.0f) {
    std::cerr << "consumer: expected 5, got " << v << "\n";
    return 1;
  }
  std::cout << "consumer: ok (anvil " << ANVIL_VERSION << ")\n";
  return 0;
}
