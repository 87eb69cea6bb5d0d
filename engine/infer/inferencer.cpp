#include "engine/infer/inferencer.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "autograd/grad_mode.h"
#include "engine/checkpoint/checkpoint.h"
#include "engine/data/image_folder.h"
#include "engine/registry/registries.h"

namespace anvil::engine {

namespace {

// The test pipeline's table: test_dataloader.dataset, else val_dataloader.dataset.
const Config* eval_dataset(const Config& cfg) {
  for (const char* loader : {"test_dataloader", "val_dataloader"}) {
    if (const Config* l = cfg.find(loader)) {
      if (const Config* d = l->find("dataset")) return d;
    }
  }
  return nullptr;
}

}  // namespace

Inferencer::Inferencer(const Config& cfg, const std::filesystem::path& weights,
                       InferencerOptions options)
    : options_(options) {
  ANVIL_CHECK(options_.batch_size > 0 && options_.topk > 0,
              "Inferencer: batch_size and topk must be positive, got {} and {}",
              options_.batch_size, options_.topk);
  std::shared_ptr<nn::Module> module = MODELS.build(cfg["model"]);
  model_ = std::dynamic_pointer_cast<BaseModel>(module);
  ANVIL_CHECK(model_ != nullptr, "Inferencer: model type '{}' is not a BaseModel",
              module->type_name());
  load_weights(*model_, weights, /*strict=*/true);
  model_->eval();

  if (const Config* dataset = eval_dataset(cfg)) {
    if (const Config* pipeline = dataset->find("pipeline")) {
      for (const Config& t : pipeline->elements()) pipeline_.push_back(TRANSFORMS.build(t));
    }
    // The class names without reading the data.
    Config lazy = *dataset;
    lazy.set("lazy_init", true);
    lazy.erase("pipeline");
    const Metainfo meta = DATASETS.build(lazy)->metainfo();
    if (auto it = meta.find("classes"); it != meta.end()) {
      if (const auto* names = std::get_if<std::vector<std::string>>(&it->second)) classes_ = *names;
    }
  }
  if (!options_.color) {
    options_.color = ImageMode::keep;
    if (auto* img = dynamic_cast<ImgDataPreprocessor*>(model_->data_preprocessor.get())) {
      if (img->options.mean.size() == 1) options_.color = ImageMode::gray;
      if (img->options.mean.size() == 3) options_.color = ImageMode::rgb;
    }
  }
}

std::vector<Prediction> Inferencer::operator()(const std::vector<std::filesystem::path>& inputs) {
  std::vector<std::filesystem::path> files;
  for (const auto& input : inputs) {
    if (std::filesystem::is_directory(input)) {
      std::vector<std::filesystem::path> found;
      for (const auto& entry : std::filesystem::directory_iterator(input)) {
        if (entry.is_regular_file() && is_image_name(entry.path().filename().string()))
          found.push_back(entry.path());
      }
      ANVIL_CHECK(!found.empty(), "Inferencer: no .png/.jpg/.jpeg files in {}", input.string());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(input);
    }
  }
  std::vector<Sample> samples;
  std::vector<std::string> names;
  for (size_t i = 0; i < files.size(); ++i) {
    Sample s;
    s.inputs = read_image(files[i], *options_.color);
    s.index = static_cast<int64_t>(i);
    Rng rng(RandomKey{.position = s.index});
    for (const auto& t : pipeline_) t->apply(s, rng);
    samples.push_back(std::move(s));
    names.push_back(files[i].string());
  }
  return predict(std::move(samples), std::move(names));
}

std::vector<Prediction> Inferencer::operator()(const Dataset& dataset, const std::string& name) {
  std::vector<Sample> samples;
  std::vector<std::string> names;
  for (int64_t i = 0; i < dataset.size(); ++i) {
    samples.push_back(dataset.get(i));
    names.push_back(fmt::format("{}[{}]", name, i));
  }
  return predict(std::move(samples), std::move(names));
}

std::vector<Prediction> Inferencer::predict(std::vector<Sample> samples,
                                            std::vector<std::string> names) {
  std::vector<Prediction> out;
  const NoGradGuard no_grad;
  for (size_t begin = 0; begin < samples.size(); begin += size_t(options_.batch_size)) {
    const size_t end = std::min(samples.size(), begin + size_t(options_.batch_size));
    std::vector<Sample> chunk(std::make_move_iterator(samples.begin() + begin),
                              std::make_move_iterator(samples.begin() + end));
    std::vector<int64_t> labels;
    for (const Sample& s : chunk) labels.push_back(s.label);
    const Outputs outputs = model_->test_step(default_collate(std::move(chunk)));
    ANVIL_CHECK(
        !outputs.empty() && outputs[0].dim() == 2,
        "Inferencer: the model's predict mode must return scores [N, classes] first, got {}",
        outputs.empty() ? std::string("nothing") : outputs[0].describe());
    const Tensor scores = outputs[0].to(Device::cpu()).to(DType::f64).contiguous();
    const int64_t classes = scores.size(1);
    const std::vector<double> values = scores.to_vector<double>();
    for (size_t r = 0; r < end - begin; ++r) {
      const double* row = values.data() + r * classes;
      std::vector<int64_t> order(classes);
      std::iota(order.begin(), order.end(), 0);
      const int64_t k = std::min(options_.topk, classes);
      std::partial_sort(order.begin(), order.begin() + k, order.end(),
                        [&](int64_t a, int64_t b) { return row[a] > row[b]; });
      Prediction p;
      p.input = names[begin + r];
      p.label = order[0];
      p.score = row[order[0]];
      if (p.label < int64_t(classes_.size())) p.class_name = classes_[p.label];
      for (int64_t j = 0; j < k; ++j) p.topk.emplace_back(order[j], row[order[j]]);
      p.gt_label = labels[r];
      out.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace anvil::engine
