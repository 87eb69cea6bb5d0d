// MMEngine's BaseModel and data preprocessors (mmengine/model/base_model): a model is an
// nn::Module with one forward for three modes — "loss" (named losses, and values to log),
// "predict" (what the metrics read, e.g. {scores, labels}) and "tensor" (raw outputs) — and the
// train/val/test steps the loops call. The preprocessor moves a batch to the model's device,
// casts it to float and normalizes it, so the data pipeline can stay in u8 on the CPU.
//
//   struct Net : engine::BaseModel {
//     std::shared_ptr<nn::ResNet> resnet = register_module("resnet", nn::resnet50());
//     engine::ModelOutput forward(const engine::Batch& b, engine::Mode mode) override {
//       Tensor x = resnet->forward(b.inputs);
//       if (mode == engine::Mode::loss) return engine::Losses{{"loss", cross_entropy(x,
//       b.labels)}}; return engine::Outputs{x, b.labels};
//     }
//   };
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "engine/data/sample.h"
#include "engine/optim/optim_wrapper.h"
#include "engine/scalars.h"
#include "nn/module.h"

namespace anvil::engine {

enum class Mode { loss, predict, tensor };

// Named loss terms (and other values to log, e.g. "acc"): MMEngine's dict of losses.
using Losses = std::vector<std::pair<std::string, Tensor>>;
// What predict and tensor modes return.
using Outputs = std::vector<Tensor>;
using ModelOutput = std::variant<Losses, Outputs>;

// MMEngine's parse_losses: every term is averaged; the total is the sum of the terms whose name
// contains "loss" (others are only logged). Returns the total and the log variables ("loss"
// first, then every term).
std::pair<Tensor, Scalars> parse_losses(const Losses& losses);

// Moves a batch to the model's device and casts floating inputs to float32 (MMEngine's
// BaseDataPreprocessor): integer images stay integers here.
class BaseDataPreprocessor : public nn::Module {
 public:
  BaseDataPreprocessor();
  std::string type_name() const override { return "BaseDataPreprocessor"; }
  virtual Batch process(Batch batch, bool training);
  // The device the model's buffers live on (follows Module::to).
  Device device() const;

 protected:
  Tensor device_marker_;  // a non-persistent buffer that Module::to moves
};

struct ImgDataPreprocessorOptions {
  std::vector<double> mean{};  // one or three values (both or neither of mean and std)
  std::vector<double> std{};
  int64_t pad_size_divisor = 1;
  double pad_value = 0;
  bool bgr_to_rgb = false;
  bool rgb_to_bgr = false;
};

// MMEngine's ImgDataPreprocessor for batched [N, C, H, W] inputs: channel flip when asked, cast to
// float32, (x - mean) / std per channel, then padding right and bottom to a multiple of
// pad_size_divisor with pad_value (after normalisation, as MMEngine).
class ImgDataPreprocessor : public BaseDataPreprocessor {
 public:
  explicit ImgDataPreprocessor(ImgDataPreprocessorOptions options = {});
  std::string type_name() const override { return "ImgDataPreprocessor"; }
  Batch process(Batch batch, bool training) override;

  ImgDataPreprocessorOptions options;
  Tensor mean, std;  // [C, 1, 1] non-persistent buffers, undefined without normalisation
};

class BaseModel : public nn::Module {
 public:
  // Without a preprocessor the model gets a BaseDataPreprocessor, as MMEngine's.
  explicit BaseModel(std::shared_ptr<BaseDataPreprocessor> data_preprocessor = nullptr);
  std::string type_name() const override { return "BaseModel"; }

  virtual ModelOutput forward(const Batch& batch, Mode mode) = 0;

  // preprocess (training) → forward(loss) inside optim_context → parse_losses →
  // update_params(total); returns the log variables.
  virtual Scalars train_step(Batch batch, OptimWrapper& optim_wrapper);
  // Models with several optimizers (GANs) override this and update each wrapper themselves, as
  // MMEngine's; the default is an error.
  virtual Scalars train_step(Batch batch, OptimWrapperDict& optim_wrappers);
  // preprocess → forward(predict).
  Outputs val_step(Batch batch);
  Outputs test_step(Batch batch);

  std::shared_ptr<BaseDataPreprocessor> data_preprocessor;

 private:
  Outputs predict(Batch batch);
};

}  // namespace anvil::engine
