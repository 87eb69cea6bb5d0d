#include "engine/runner_fixtures.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "anvil.h"
#include "engine/data/dataset.h"
#include "engine/registry/registries.h"
#include "engine/runner/runner.h"

namespace anvil::engine::fixtures {

namespace fs = std::filesystem;

namespace {

// Two classes of 1×4×4 u8 images: class 1 is brighter. Sample k is a fixed function of k.
class ToyBlobs final : public BaseDataset {
 public:
  ToyBlobs(DatasetOptions options, int64_t n) : BaseDataset(std::move(options)), n_(n) {
    init_unless_lazy();
  }
  ToyBlobs(const ToyBlobs&) = default;

 protected:
  int64_t load_data_list() override { return n_; }
  Sample raw_sample(int64_t i) const override {
    Sample s;
    s.label = i % 2;
    std::vector<uint8_t> pixels(16);
    for (int64_t p = 0; p < 16; ++p) {
      pixels[p] = static_cast<uint8_t>((i * 37 + p * 11) % 64 + (s.label ? 120 : 40));
    }
    s.inputs = tensor(pixels, {1, 4, 4});
    return s;
  }
  Metainfo class_metainfo() const override {
    return {{"classes", std::vector<std::string>{"dark", "bright"}}};
  }
  std::shared_ptr<BaseDataset> clone() const override { return std::make_shared<ToyBlobs>(*this); }

 private:
  int64_t n_;
};

ANVIL_REGISTER(DATASETS, "ToyBlobs", [](const Config& cfg) {
  DatasetOptions o;
  if (const Config* pipeline = cfg.find("pipeline")) {
    for (const Config& t : pipeline->elements()) o.pipeline.push_back(TRANSFORMS.build(t));
  }
  return std::make_shared<ToyBlobs>(o, cfg.get_or<int64_t>("n", 24));
});

}  // namespace

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("anvil_" + name);
  fs::remove_all(dir);
  return dir;
}

std::string toy_config_text(const fs::path& work_dir, const std::string& train_cfg,
                            const std::string& extra) {
  return fmt::format(R"(
work_dir = "{}"
randomness = {{seed = 3}}
train_cfg = {}
val_cfg = {{}}
val_evaluator = {{type = "Accuracy"}}
param_scheduler = [{{type = "LinearLR", start_factor = 0.5, by_epoch = false, end = 4}},
                   {{type = "MultiStepLR", milestones = [2], gamma = 0.5}}]

[model]
type = "ImageClassifier"
data_preprocessor = {{type = "ImgDataPreprocessor", mean = [100.0], std = [50.0]}}
[model.backbone]
type = "Sequential"
layers = [{{type = "Flatten"}}, {{type = "Linear", in_features = 16, out_features = 8}},
          {{type = "ReLU"}}, {{type = "Dropout", p = 0.25}},
          {{type = "Linear", in_features = 8, out_features = 2}}]

[train_dataloader]
batch_size = 4
num_workers = 1
dataset = {{type = "ToyBlobs", n = 24, pipeline = [{{type = "RandomFlip", prob = 0.5}}]}}
sampler = {{type = "DefaultSampler", shuffle = true}}

[val_dataloader]
batch_size = 8
dataset = {{type = "ToyBlobs", n = 16}}
sampler = {{type = "DefaultSampler", shuffle = false}}

[optim_wrapper]
optimizer = {{type = "SGD", lr = 0.1, momentum = 0.9}}
{}
)",
                     work_dir.string(), train_cfg, extra);
}

Config write_config(const fs::path& dir, const std::string& text) {
  fs::create_directories(dir);
  const fs::path path = dir / "toy.toml";
  std::ofstream(path) << text;
  return Config::from_file(path);
}

Config toy_config(const fs::path& work_dir, const std::string& train_cfg,
                  const std::string& extra) {
  return write_config(work_dir, toy_config_text(work_dir, train_cfg, extra));
}

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void StopHook::after_train_epoch(Runner& r) {
  if (r.epoch() + 1 == epochs_) r.train_loop()->stop_training = true;
}

void StopHook::after_train_iter(Runner& r, int64_t, const Batch&, const Scalars&) {
  if (r.iter() + 1 == iters_) r.train_loop()->stop_training = true;
}

}  // namespace anvil::engine::fixtures
