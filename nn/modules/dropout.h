// Dropout and Embedding layers.
#pragma once

#include <optional>

#include "nn/module.h"

namespace anvil::nn {

// Zeroes each element with probability p in training (scaling the rest by 1 / (1 - p)); the
// identity in eval mode.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  double p;
};

struct EmbeddingLayerOptions {
  std::optional<int64_t> padding_idx = std::nullopt;  // that row starts at zero, gets no gradient
  DType dtype = DType::f32;
  Device device = Device::cpu();
};

// A table of num_embeddings rows of embedding_dim values, initialised N(0, 1) as torch.nn.
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim,
            const EmbeddingLayerOptions& options = {});
  Tensor forward(const Tensor& indices) override;
  std::string extra_repr() const override;

  int64_t num_embeddings, embedding_dim;
  std::optional<int64_t> padding_idx;
  Tensor weight;
};

}  // namespace anvil::nn
