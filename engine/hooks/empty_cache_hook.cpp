#include "engine/hooks/empty_cache_hook.h"

#include "engine/runner/runner.h"
#include "tensor/allocator.h"

namespace anvil::engine {

void EmptyCacheHook::empty_if(bool enabled, Runner& runner) const {
  if (enabled) empty_cache(runner.model().data_preprocessor->device());
}

}  // namespace anvil::engine
