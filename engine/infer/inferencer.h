// MMEngine's BaseInferencer (mmengine/infer/infer.py) for classifiers: a config and a checkpoint
// in, the model built from the config's `model` table with the checkpoint's weights, in eval mode;
// then images (files, or folders of PNG/JPEG files) or a dataset go through the config's test
// pipeline in batches, and each gets its top-k classes and probabilities.
//
//   engine::Inferencer inferencer(Config::from_file("fashion_mnist.toml"),
//   "work_dir/epoch_5.ckpt"); for (const auto& p : inferencer({"shirt.png"})) fmt::print("{} {}\n",
//   p.input, p.class_name);
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/config/config.h"
#include "engine/data/dataset.h"
#include "engine/data/image_io.h"
#include "engine/model/base_model.h"

namespace anvil::engine {

struct Prediction {
  std::string input;       // the image's path, or "<dataset>[index]"
  int64_t label = -1;      // the most probable class
  double score = 0;        // its probability
  std::string class_name;  // from the dataset's metainfo `classes`, when the config has them
  std::vector<std::pair<int64_t, double>> topk;  // (class, probability), most probable first
  int64_t gt_label = -1;                         // the dataset's label (dataset inputs only)
};

struct InferencerOptions {
  int64_t batch_size = 1;
  int64_t topk = 1;
  // Channels images are read with; unset: gray or RGB as the data preprocessor's mean has 1 or 3
  // values, else as stored.
  std::optional<ImageMode> color = std::nullopt;
};

class Inferencer {
 public:
  // `weights`: a checkpoint directory or a .safetensors file (loaded strictly).
  Inferencer(const Config& cfg, const std::filesystem::path& weights,
             InferencerOptions options = {});

  // Predicts every image of `inputs` (a folder stands for its .png/.jpg/.jpeg files, sorted).
  std::vector<Prediction> operator()(const std::vector<std::filesystem::path>& inputs);
  // Predicts every sample of `dataset` (its own pipeline applies).
  std::vector<Prediction> operator()(const Dataset& dataset, const std::string& name = "dataset");

  BaseModel& model() { return *model_; }
  const std::vector<std::string>& classes() const { return classes_; }

 private:
  std::vector<Prediction> predict(std::vector<Sample> samples, std::vector<std::string> names);

  std::shared_ptr<BaseModel> model_;
  InferencerOptions options_;
  Pipeline pipeline_;
  std::vector<std::string> classes_;
};

}  // namespace anvil::engine
