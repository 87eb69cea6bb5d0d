// mmpretrain's ImageClassifier reduced to a backbone and a loss: the backbone is any module whose
// single-tensor forward turns the preprocessed images into logits [N, num_classes] (a Sequential
// of layers, a ResNet), and the loss is cross-entropy against the batch's labels.
//
//   auto model = std::make_shared<engine::ImageClassifier>(
//       std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{...}),
//       engine::ImageClassifierOptions{.loss = {.label_smoothing = 0.1}},
//       std::make_shared<engine::ImgDataPreprocessor>(
//           engine::ImgDataPreprocessorOptions{.mean = {72.94}, .std = {90.02}}));
//
// Modes: loss → {{"loss", loss_weight * cross_entropy}}; predict → {softmax scores [N, C],
// labels} (what the Accuracy metric reads); tensor → {logits}. From a config it is MODELS'
// "ImageClassifier" with keys backbone, loss, data_preprocessor and init_cfg.
#pragma once

#include <memory>
#include <string>

#include "engine/model/base_model.h"

namespace anvil::engine {

// mmpretrain's CrossEntropyLoss (loss_weight) with torch's label_smoothing.
struct CrossEntropyLossOptions {
  double label_smoothing = 0.0;  // in [0, 1]
  double loss_weight = 1.0;      // the loss is multiplied by it
};

struct ImageClassifierOptions {
  CrossEntropyLossOptions loss{};
};

class ImageClassifier : public BaseModel {
 public:
  // The backbone is registered as the child "backbone" (state-dict keys "backbone.…"). Without a
  // preprocessor the model gets ImgDataPreprocessor() (images cast to float32, not normalised),
  // as mmpretrain's default ClsDataPreprocessor.
  explicit ImageClassifier(std::shared_ptr<nn::Module> backbone,
                           ImageClassifierOptions options = {},
                           std::shared_ptr<BaseDataPreprocessor> data_preprocessor = nullptr);
  std::string type_name() const override { return "ImageClassifier"; }

  ModelOutput forward(const Batch& batch, Mode mode) override;
  // The backbone's logits [N, C] for preprocessed inputs.
  Tensor logits(const Tensor& inputs);

  std::shared_ptr<nn::Module> backbone;
  ImageClassifierOptions options;
};

}  // namespace anvil::engine
