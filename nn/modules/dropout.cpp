#include "nn/modules/dropout.h"

#include "anvil.h"
#include "nn/init.h"

namespace anvil::nn {

Dropout::Dropout(double p) : p(p) {
  ANVIL_CHECK(p >= 0 && p <= 1, "Dropout: p must be in [0, 1], got {}", p);
}

Tensor Dropout::forward(const Tensor& input) {
  return dropout(input, p, is_training());
}

std::string Dropout::extra_repr() const {
  return fmt::format("p={}, inplace=False", p);
}

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim,
                     const EmbeddingLayerOptions& options)
    : num_embeddings(num_embeddings), embedding_dim(embedding_dim) {
  if (options.padding_idx) {
    const int64_t idx = *options.padding_idx;
    ANVIL_CHECK(idx >= -num_embeddings && idx < num_embeddings,
                "Embedding: padding_idx {} must be within num_embeddings {}", idx, num_embeddings);
    padding_idx = idx < 0 ? idx + num_embeddings : idx;
  }
  weight = register_parameter("weight", empty({num_embeddings, embedding_dim},
                                              TensorOptions(options.dtype, options.device)));
  init::normal_(weight);
  if (padding_idx) {
    NoGradGuard no_grad;
    weight.select(0, *padding_idx).zero_();
  }
}

Tensor Embedding::forward(const Tensor& indices) {
  return embedding(indices, weight, {.padding_idx = padding_idx});
}

std::string Embedding::extra_repr() const {
  std::string s = fmt::format("{}, {}", num_embeddings, embedding_dim);
  if (padding_idx) s += fmt::format(", padding_idx={}", *padding_idx);
  return s;
}

}  // namespace anvil::nn
