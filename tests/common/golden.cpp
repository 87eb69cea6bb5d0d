#include "common/golden.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <vector>

#include "anvil.h"

namespace anvil::testing {

Golden load_golden(const std::string& file) {
  const std::string path = std::string(ANVIL_TEST_DATA_DIR) + "/" + file;
  std::ifstream in(path);
  if (!in) throw ValueError("cannot open golden file " + path);
  Golden out;
  std::string name;
  int64_t ndim = 0;
  while (in >> name >> ndim) {
    Shape shape(ndim);
    for (int64_t& s : shape) in >> s;
    std::vector<double> values(numel_of(shape));
    for (double& v : values) in >> v;
    if (!in) throw ValueError("truncated golden file " + path + " at " + name);
    out[name] = tensor<double>(values, shape);
  }
  return out;
}

std::vector<std::string> golden_lines(const std::string& file) {
  const std::string path = std::string(ANVIL_TEST_DATA_DIR) + "/" + file;
  std::ifstream in(path);
  if (!in) throw ValueError("cannot open golden file " + path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> state_dict_entries(const nn::Module& model) {
  std::vector<std::string> lines;
  for (const auto& [name, t] : model.state_dict()) {
    std::string line = name;
    for (int64_t s : t.shape()) line += " " + std::to_string(s);
    lines.push_back(line);
  }
  return lines;
}

void expect_close(const Tensor& actual, const Tensor& expected, double rtol, double atol,
                  const std::string& what) {
  ASSERT_TRUE(actual.defined()) << what << " is undefined";
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  const std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_LE(std::abs(a[i] - e[i]), atol + rtol * std::abs(e[i]))
        << what << " element " << i << ": " << a[i] << " vs PyTorch " << e[i];
  }
}

}  // namespace anvil::testing
