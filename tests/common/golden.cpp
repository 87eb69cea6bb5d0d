#include "common/golden.h"

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

}  // namespace anvil::testing
