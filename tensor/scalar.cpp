#include "tensor/scalar.h"

namespace anvil {

std::string Scalar::str() const {
  switch (kind_) {
    case Kind::boolean: return i_ ? "true" : "false";
    case Kind::integral: return std::to_string(i_);
    case Kind::floating: return fmt::format("{}", d_);
  }
  return "?";
}

}  // namespace anvil
