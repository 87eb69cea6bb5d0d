// The engine's registries, MMEngine's root registries by name. Config tables with a `type` key
// build through them; libanvil registers its own types when it loads (optimizers, ResNets) and
// users register theirs from their programs (ANVIL_REGISTER in any .cpp).
//
// The extra factory arguments are what the builder has besides the table: a sampler gets its
// dataset, an optimizer the parameter groups, a scheduler the optimizer wrapper it drives.
// The engine types are only declared here: engine/data defines Dataset, Transform and
// Sampler (BaseDataset and the Concat/Repeat wrappers all register as Dataset).
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "engine/registry/registry.h"
#include "nn/module.h"
#include "nn/optim/optimizer.h"

namespace anvil::engine {

class Dataset;
class Transform;
class Sampler;
class OptimWrapper;
class ParamScheduler;
class Hook;
class BaseMetric;
class VisBackend;

// A model entry returns the nn::Module (the Runner's models derive from it).
extern Registry<nn::Module> MODELS;
extern Registry<Dataset> DATASETS;
extern Registry<Transform> TRANSFORMS;
extern Registry<Sampler, const Dataset&> DATA_SAMPLERS;
// `type = "SGD", lr = 0.1, momentum = 0.9` over the given parameter groups.
extern Registry<optim::Optimizer, std::vector<optim::ParamGroup>> OPTIMIZERS;
// The wrapper takes the optimizer over.
extern Registry<OptimWrapper, std::unique_ptr<optim::Optimizer>> OPTIM_WRAPPERS;
extern Registry<ParamScheduler, std::shared_ptr<OptimWrapper>> PARAM_SCHEDULERS;
extern Registry<Hook> HOOKS;
extern Registry<BaseMetric> METRICS;
// The backend's save directory (work_dir/<timestamp>/vis_data).
extern Registry<VisBackend, std::filesystem::path> VISBACKENDS;

}  // namespace anvil::engine
