// The printed form of a tensor, like PyTorch's: nested brackets, aligned values, and large
// tensors summarised with "..." after the first and before the last three entries of a dim.
#include <cmath>
#include <ostream>
#include <sstream>

#include "tensor/ops/factory.h"
#include "tensor/tensor.h"

namespace anvil {

namespace {

constexpr int64_t kSummaryThreshold = 1000;
constexpr int64_t kEdgeItems = 3;

struct Formatter {
  enum class Style { whole, integer, fixed, scientific, boolean } style = Style::fixed;
  int width = 1;

  std::string format(double v) const {
    switch (style) {
      case Style::whole: return fmt::format("{:.0f}", v);
      case Style::boolean: return v != 0 ? "True" : "False";
      case Style::integer: return std::isfinite(v) ? fmt::format("{:.0f}.", v) : fmt::format("{}", v);
      case Style::fixed: return fmt::format("{:.4f}", v);
      case Style::scientific: return fmt::format("{:.4e}", v);
    }
    return "";
  }
};

void print_rec(std::ostringstream& os, const Tensor& t, const std::vector<double>& values,
               const Formatter& f, bool summarize, int64_t dim, int64_t base, int indent) {
  const Shape& shape = t.shape();
  const int64_t ndim = t.dim();
  auto index_list = [&](int64_t size) {
    std::vector<int64_t> idx;
    if (summarize && size > 2 * kEdgeItems) {
      for (int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
      idx.push_back(-1);
      for (int64_t i = size - kEdgeItems; i < size; ++i) idx.push_back(i);
    } else {
      for (int64_t i = 0; i < size; ++i) idx.push_back(i);
    }
    return idx;
  };
  int64_t stride = 1;
  for (int64_t d = dim + 1; d < ndim; ++d) stride *= shape[d];
  os << '[';
  const auto idx = index_list(shape[dim]);
  for (size_t k = 0; k < idx.size(); ++k) {
    if (k > 0) {
      os << ',';
      if (dim == ndim - 1) {
        os << ' ';
      } else {
        os << std::string(static_cast<size_t>(ndim - dim - 1), '\n') << std::string(indent + 1, ' ');
      }
    }
    if (idx[k] < 0) {
      os << "...";
      continue;
    }
    if (dim == ndim - 1) {
      const std::string s = f.format(values[static_cast<size_t>(base + idx[k])]);
      os << std::string(static_cast<size_t>(std::max<int>(0, f.width - int(s.size()))), ' ') << s;
    } else {
      print_rec(os, t, values, f, summarize, dim + 1, base + idx[k] * stride, indent + 1);
    }
  }
  os << ']';
}

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  const std::vector<double> values = to_vector<double>();
  Formatter f;
  if (dtype() == DType::boolean) {
    f.style = Formatter::Style::boolean;
  } else if (is_integral(dtype())) {
    f.style = Formatter::Style::whole;
  } else {
    bool all_int = true;
    double max_abs = 0, min_abs = INFINITY;
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      all_int = all_int && v == std::round(v);
      max_abs = std::max(max_abs, std::abs(v));
      if (v != 0) min_abs = std::min(min_abs, std::abs(v));
    }
    f.style = all_int ? Formatter::Style::integer
              : (max_abs >= 1e8 || min_abs < 1e-4 || max_abs / min_abs > 1e3)
                  ? Formatter::Style::scientific
                  : Formatter::Style::fixed;
  }
  for (double v : values) f.width = std::max<int>(f.width, int(f.format(v).size()));

  std::ostringstream os;
  os << "tensor(";
  if (dim() == 0) {
    os << f.format(values[0]);
  } else if (numel() == 0) {
    os << "[]";
  } else {
    print_rec(os, *this, values, f, numel() > kSummaryThreshold, 0, 0, 7);
  }
  if (numel() == 0) os << ", size=" << shape_str(shape());
  os << ", dtype=" << dtype_name(dtype());
  if (!is_cpu()) os << ", device=" << device().str();
  os << ')';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace anvil
