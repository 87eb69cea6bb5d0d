// What datasets return and DataLoaders yield. MMEngine's datasets return dicts; here a Sample has
// the fields every image-classification pipeline uses as members (`inputs`, `label`, `index`) and
// anything else in two small maps. A Batch is the collated form: `inputs` [B, C, H, W] and
// `labels` [B] (i64), so a model reads `batch.inputs` and `batch.labels` directly.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "tensor/tensor.h"

namespace anvil::engine {

using MetaValue = std::variant<int64_t, double, std::string, std::vector<int64_t>,
                               std::vector<double>, std::vector<std::string>>;
using Metainfo = std::map<std::string, MetaValue>;

struct Sample {
  Tensor inputs;       // the image, [C, H, W], u8 as read or float after ToTensor/Normalize
  int64_t label = -1;  // class index; -1 when the sample has none
  int64_t index = -1;  // position in the dataset it came from (MMEngine's sample_idx)
  std::map<std::string, Tensor> fields;  // other tensors (stacked by the default collate)
  Metainfo meta;  // e.g. coarse_label (CIFAR-100), flip, flip_direction, img_shape
};

struct Batch {
  Tensor inputs;                         // [B, ...] the stacked sample inputs
  Tensor labels;                         // [B] i64
  Tensor indices;                        // [B] i64: each sample's dataset index
  std::map<std::string, Tensor> fields;  // stacked Sample::fields and gathered integer meta
  std::map<std::string, std::vector<MetaValue>> meta;  // the other meta, one entry per sample
  int64_t size() const { return indices.defined() ? indices.size(0) : 0; }
};

using CollateFn = std::function<Batch(std::vector<Sample>&&)>;

// torch's default_collate for Samples: stacks inputs and fields (equal shapes and dtypes
// required), gathers labels, indices and integer meta into i64 tensors, and keeps other meta as
// lists. Every sample must have the same keys.
Batch default_collate(std::vector<Sample>&& samples);

// Stacks equally shaped tensors along a new first dimension; `what` names them in errors.
Tensor stack_tensors(const std::vector<Tensor>& tensors, const std::string& what);

}  // namespace anvil::engine
