#include "engine/registry/registries.h"

namespace anvil::engine {

// constinit: ready before any static registration in any library or program runs.
constinit Registry<nn::Module> MODELS{"MODELS"};
constinit Registry<Dataset> DATASETS{"DATASETS"};
constinit Registry<Transform> TRANSFORMS{"TRANSFORMS"};
constinit Registry<Sampler, const Dataset&> DATA_SAMPLERS{"DATA_SAMPLERS"};
constinit Registry<optim::Optimizer, std::vector<optim::ParamGroup>> OPTIMIZERS{"OPTIMIZERS"};
constinit Registry<OptimWrapper, std::unique_ptr<optim::Optimizer>> OPTIM_WRAPPERS{
    "OPTIM_WRAPPERS"};
constinit Registry<ParamScheduler, std::shared_ptr<OptimWrapper>> PARAM_SCHEDULERS{
    "PARAM_SCHEDULERS"};
constinit Registry<Hook> HOOKS{"HOOKS"};
constinit Registry<BaseMetric> METRICS{"METRICS"};
constinit Registry<VisBackend, std::filesystem::path> VISBACKENDS{"VISBACKENDS"};

}  // namespace anvil::engine
