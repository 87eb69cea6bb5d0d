// Named numbers in the order they were produced: a model's log variables, an evaluation's
// metrics, the tags the visualizer records. One type, so that each flows into the next unchanged.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace anvil::engine {

using Scalars = std::vector<std::pair<std::string, double>>;

}  // namespace anvil::engine
