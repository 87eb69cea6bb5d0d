#include "engine/model/image_classifier.h"

#include <fmt/format.h>

#include <optional>
#include <utility>
#include <vector>

#include "anvil.h"
#include "engine/registry/registries.h"

namespace anvil::engine {

ImageClassifier::ImageClassifier(std::shared_ptr<nn::Module> backbone_module,
                                 ImageClassifierOptions o,
                                 std::shared_ptr<BaseDataPreprocessor> preprocessor)
    : BaseModel(preprocessor ? std::move(preprocessor) : std::make_shared<ImgDataPreprocessor>()),
      options(o) {
  ANVIL_CHECK(backbone_module != nullptr, "ImageClassifier: the backbone is null");
  ANVIL_CHECK(options.loss.label_smoothing >= 0 && options.loss.label_smoothing <= 1,
              "ImageClassifier: label_smoothing must be in [0, 1], got {}",
              options.loss.label_smoothing);
  backbone = register_module("backbone", std::move(backbone_module));
}

Tensor ImageClassifier::logits(const Tensor& inputs) {
  Tensor out = backbone->forward(inputs);
  ANVIL_CHECK(out.dim() == 2 && out.size(0) == inputs.size(0),
              "ImageClassifier: the backbone ({}) must give logits [N, num_classes] for inputs {}, "
              "got {}",
              backbone->type_name(), inputs.describe(), out.describe());
  return out;
}

ModelOutput ImageClassifier::forward(const Batch& batch, Mode mode) {
  ANVIL_CHECK(batch.inputs.defined(), "ImageClassifier: the batch has no inputs");
  const Tensor x = logits(batch.inputs);
  if (mode == Mode::tensor) return Outputs{x};
  if (mode == Mode::predict) return Outputs{x.softmax(1), batch.labels};
  ANVIL_CHECK(batch.labels.defined(), "ImageClassifier: loss mode needs the batch's labels");
  CrossEntropyOptions ce;
  ce.label_smoothing = options.loss.label_smoothing;
  return Losses{{"loss", cross_entropy(x, batch.labels, ce) * options.loss.loss_weight}};
}

// ---- config -------------------------------------------------------------------------------------

namespace {

std::vector<std::string> string_or_list(const Config& value) {
  if (value.is_array()) return value.as<std::vector<std::string>>();
  return {value.as_string()};
}

std::vector<nn::init::InitCfg> init_cfg_list(const Config& value);

// One init_cfg entry, MMEngine's keys onto InitCfg's fields; which keys a type takes is checked
// when init_weights() applies it.
nn::init::InitCfg init_cfg_entry(const Config& cfg) {
  cfg.check_keys({"type", "layer", "override", "name", "bias", "bias_prob", "val", "mean", "std",
                  "a", "b", "gain", "mode", "nonlinearity", "distribution", "checkpoint",
                  "prefix"});
  nn::init::InitCfg out;
  out.type = cfg.get_or<std::string>("type", "");
  out.name = cfg.get_or<std::string>("name", "");
  if (const Config* layer = cfg.find("layer"); layer && !layer->is_null()) {
    out.layer = string_or_list(*layer);
  }
  if (const Config* entries = cfg.find("override"); entries && !entries->is_null()) {
    out.override = init_cfg_list(*entries);
  }
  auto number = [&](std::string_view key) -> std::optional<double> {
    const Config* value = cfg.find(key);
    return value == nullptr || value->is_null() ? std::nullopt : std::optional(value->as_double());
  };
  auto text = [&](std::string_view key) -> std::optional<std::string> {
    const Config* value = cfg.find(key);
    return value == nullptr || value->is_null() ? std::nullopt : std::optional(value->as_string());
  };
  out.bias = number("bias");
  out.bias_prob = number("bias_prob");
  out.val = number("val");
  out.mean = number("mean");
  out.std = number("std");
  out.a = number("a");
  out.b = number("b");
  out.gain = number("gain");
  out.mode = text("mode");
  out.nonlinearity = text("nonlinearity");
  out.distribution = text("distribution");
  out.checkpoint = text("checkpoint");
  out.prefix = text("prefix");
  return out;
}

// A table or a list of tables, as MMEngine's init_cfg and override.
std::vector<nn::init::InitCfg> init_cfg_list(const Config& value) {
  if (!value.is_array()) return {init_cfg_entry(value)};
  std::vector<nn::init::InitCfg> out;
  for (const Config& entry : value.elements()) out.push_back(init_cfg_entry(entry));
  return out;
}

CrossEntropyLossOptions loss_options(const Config& cfg) {
  cfg.check_keys({"type", "label_smoothing", "loss_weight"});
  const Config& type = cfg["type"];
  if (type.as_string() != "CrossEntropyLoss") {
    throw ConfigError(fmt::format("{}: ImageClassifier's loss must be 'CrossEntropyLoss', got '{}'",
                                  type.where(), type.as_string()));
  }
  CrossEntropyLossOptions o;
  o.label_smoothing = cfg.get_or("label_smoothing", o.label_smoothing);
  o.loss_weight = cfg.get_or("loss_weight", o.loss_weight);
  return o;
}

// A data_preprocessor table without a type is an ImgDataPreprocessor (mmpretrain's
// ClsDataPreprocessor default).
std::shared_ptr<BaseDataPreprocessor> build_preprocessor(const Config& cfg) {
  Config table = cfg;
  if (table.is_table() && !table.has("type")) table.set("type", "ImgDataPreprocessor");
  const std::shared_ptr<nn::Module> module = MODELS.build(table);
  auto preprocessor = std::dynamic_pointer_cast<BaseDataPreprocessor>(module);
  if (!preprocessor) {
    throw ConfigError(fmt::format(
        "{}: a {} is not a data preprocessor (ImgDataPreprocessor, BaseDataPreprocessor)",
        cfg.where(), module->type_name()));
  }
  return preprocessor;
}

ANVIL_REGISTER(MODELS, "ImageClassifier", [](const Config& cfg) -> std::shared_ptr<nn::Module> {
  cfg.check_keys({"backbone", "loss", "data_preprocessor", "init_cfg"});
  std::shared_ptr<nn::Module> backbone = MODELS.build(cfg["backbone"]);
  ImageClassifierOptions o;
  if (const Config* loss = cfg.find("loss"); loss && !loss->is_null()) o.loss = loss_options(*loss);
  std::shared_ptr<BaseDataPreprocessor> preprocessor;
  if (const Config* p = cfg.find("data_preprocessor"); p && !p->is_null()) {
    preprocessor = build_preprocessor(*p);
  }
  auto model = std::make_shared<ImageClassifier>(std::move(backbone), o, std::move(preprocessor));
  if (const Config* init = cfg.find("init_cfg"); init && !init->is_null()) {
    model->init_cfg = init_cfg_list(*init);
  }
  return model;
});

}  // namespace
}  // namespace anvil::engine
