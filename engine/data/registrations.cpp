// The registrations of engine/data's types: transforms with torchvision's argument names (MMCV's
// for RandomFlip), MMPretrain's dataset names with BaseDataset's keys (and each dataset's own),
// MMEngine's wrappers and samplers.
#include <fmt/format.h>

#include <array>

#include "engine/data/data_loader.h"
#include "engine/data/image_folder.h"
#include "engine/data/readers.h"
#include "engine/data/sampler.h"
#include "engine/data/transforms.h"
#include "engine/registry/registries.h"

namespace anvil::engine {
namespace {

// torchvision's "int or sequence" arguments (size = 32 or size = [32, 28]).
std::vector<int64_t> int_list(const Config& value) {
  if (value.is_array()) return value.as<std::vector<int64_t>>();
  return {value.as_int()};
}

std::vector<int64_t> int_list_or(const Config& cfg, std::string_view key,
                                 std::vector<int64_t> fallback) {
  const Config* value = cfg.find(key);
  return value == nullptr || value->is_null() ? fallback : int_list(*value);
}

std::array<double, 2> pair_or(const Config& cfg, std::string_view key,
                              std::array<double, 2> fallback) {
  const Config* value = cfg.find(key);
  if (value == nullptr || value->is_null()) return fallback;
  if (value->size() != 2) {
    throw ConfigError(
        fmt::format("{}: expected two numbers, got {}", value->where(), value->describe()));
  }
  return {(*value)[0].as_double(), (*value)[1].as_double()};
}

ANVIL_REGISTER(TRANSFORMS, "RandomCrop", [](const Config& cfg) {
  // crop_size is MMPretrain's name for torchvision's size.
  cfg.check_keys({"size", "crop_size", "padding", "pad_if_needed", "fill", "padding_mode"});
  if (cfg.has("size") == cfg.has("crop_size")) {
    throw ConfigError(
        fmt::format("{}: RandomCrop needs exactly one of 'size' and 'crop_size'", cfg.where()));
  }
  RandomCropOptions o;
  o.size = int_list(cfg.has("size") ? cfg["size"] : cfg["crop_size"]);
  o.padding = int_list_or(cfg, "padding", o.padding);
  o.pad_if_needed = cfg.get_or("pad_if_needed", o.pad_if_needed);
  o.fill = cfg.get_or("fill", o.fill);
  o.padding_mode = cfg.get_or("padding_mode", o.padding_mode);
  return std::make_shared<RandomCrop>(std::move(o));
});

ANVIL_REGISTER(TRANSFORMS, "RandomFlip", [](const Config& cfg) {
  cfg.check_keys({"prob", "direction"});
  RandomFlipOptions o;
  o.prob = cfg.get_or("prob", o.prob);
  o.direction = cfg.get_or("direction", o.direction);
  return std::make_shared<RandomFlip>(std::move(o));
});

ANVIL_REGISTER(TRANSFORMS, "RandomResizedCrop", [](const Config& cfg) {
  cfg.check_keys({"size", "scale", "ratio"});
  RandomResizedCropOptions o;
  o.size = int_list(cfg["size"]);
  o.scale = pair_or(cfg, "scale", o.scale);
  o.ratio = pair_or(cfg, "ratio", o.ratio);
  return std::make_shared<RandomResizedCrop>(std::move(o));
});

ANVIL_REGISTER(TRANSFORMS, "Resize", [](const Config& cfg) {
  cfg.check_keys({"size"});
  return std::make_shared<Resize>(ResizeOptions{.size = int_list(cfg["size"])});
});

ANVIL_REGISTER(TRANSFORMS, "Normalize", [](const Config& cfg) {
  cfg.check_keys({"mean", "std"});
  return std::make_shared<Normalize>(NormalizeOptions{.mean = cfg.get<std::vector<double>>("mean"),
                                                      .std = cfg.get<std::vector<double>>("std")});
});

ANVIL_REGISTER(TRANSFORMS, "ToTensor", [](const Config& cfg) {
  cfg.check_keys({});
  return std::make_shared<ToTensor>();
});

// A metainfo value: a number, a string, or a list of one of them.
MetaValue meta_value(const Config& value) {
  switch (value.kind()) {
    case Config::Kind::integer:
      return value.as_int();
    case Config::Kind::floating:
      return value.as_double();
    case Config::Kind::string:
      return value.as_string();
    case Config::Kind::array:
      if (value.size() == 0 || value[0].is_string()) return value.as<std::vector<std::string>>();
      if (value[0].kind() == Config::Kind::integer) return value.as<std::vector<int64_t>>();
      return value.as<std::vector<double>>();
    default:
      throw ConfigError(fmt::format("{}: expected a number, a string or a list of them, got {}",
                                    value.where(), value.describe()));
  }
}

// BaseDataset's keys and the dataset's `own_keys`; `pipeline` is a list of TRANSFORMS tables.
DatasetOptions dataset_options(const Config& cfg, const std::vector<std::string_view>& own_keys) {
  std::vector<std::string_view> keys = {"data_root"};
  keys.insert(keys.end(), own_keys.begin(), own_keys.end());
  keys.insert(keys.end(), {"test_mode", "indices", "lazy_init", "metainfo", "pipeline"});
  cfg.check_keys(keys);
  DatasetOptions o;
  o.data_root = cfg.get_or("data_root", o.data_root);
  o.split = cfg.get_or("split", o.split);
  o.test_mode = cfg.get_or("test_mode", o.test_mode);
  o.lazy_init = cfg.get_or("lazy_init", o.lazy_init);
  if (const Config* indices = cfg.find("indices"); indices != nullptr && !indices->is_null()) {
    if (indices->is_array()) {
      o.indices = indices->as<std::vector<int64_t>>();
    } else {
      o.indices = indices->as_int();
    }
  }
  if (const Config* metainfo = cfg.find("metainfo"); metainfo != nullptr) {
    for (const auto& [key, value] : metainfo->items()) o.metainfo[key] = meta_value(value);
  }
  if (const Config* pipeline = cfg.find("pipeline"); pipeline != nullptr) {
    for (const Config& transform : pipeline->elements()) {
      o.pipeline.push_back(TRANSFORMS.build(transform));
    }
  }
  return o;
}

// The binary readers' own key is the split.
template <class D>
void register_reader(const char* type) {
  DATASETS.add(type, [](const Config& cfg) -> std::shared_ptr<Dataset> {
    return std::make_shared<D>(dataset_options(cfg, {"split"}));
  });
}

// MMPretrain's CustomDataset keys, `color` as MMCV's LoadImageFromFile color_type.
std::shared_ptr<Dataset> build_image_folder(const Config& cfg) {
  DatasetOptions options = dataset_options(cfg, {"data_prefix", "ann_file", "color"});
  ImageFolderOptions o;
  o.data_prefix = cfg.get_or("data_prefix", o.data_prefix);
  o.ann_file = cfg.get_or("ann_file", o.ann_file);
  if (const Config* color = cfg.find("color"); color != nullptr && !color->is_null()) {
    o.color = parse_color_type(color->as_string());
  }
  return std::make_shared<ImageFolderDataset>(std::move(options), std::move(o));
}

// MMPretrain's names.
const bool kDatasetsRegistered [[maybe_unused]] = [] {
  register_reader<Cifar10Dataset>("CIFAR10");
  register_reader<Cifar100Dataset>("CIFAR100");
  register_reader<MnistDataset>("MNIST");
  register_reader<FashionMnistDataset>("FashionMNIST");
  DATASETS.add("ImageFolder", build_image_folder);  // torchvision's name
  DATASETS.add("CustomDataset", build_image_folder);
  return true;
}();

ANVIL_REGISTER(DATASETS, "ConcatDataset", [](const Config& cfg) {
  cfg.check_keys({"datasets", "ignore_keys"});
  std::vector<std::shared_ptr<Dataset>> datasets;
  for (const Config& dataset : cfg["datasets"].elements()) {
    datasets.push_back(DATASETS.build(dataset));
  }
  return std::make_shared<ConcatDataset>(std::move(datasets),
                                         cfg.get_or("ignore_keys", std::vector<std::string>{}));
});

ANVIL_REGISTER(DATASETS, "RepeatDataset", [](const Config& cfg) {
  cfg.check_keys({"dataset", "times"});
  return std::make_shared<RepeatDataset>(DATASETS.build(cfg["dataset"]), cfg.get<int64_t>("times"));
});

// rank and world_size come from the distributed setup, not from the config (as MMEngine's).
ANVIL_REGISTER(DATA_SAMPLERS, "DefaultSampler", [](const Config& cfg, const Dataset& dataset) {
  cfg.check_keys({"shuffle", "seed", "round_up"});
  DefaultSamplerOptions o;
  o.shuffle = cfg.get_or("shuffle", o.shuffle);
  if (const Config* seed = cfg.find("seed"); seed != nullptr && !seed->is_null()) {
    o.seed = seed->as<uint64_t>();
  }
  o.round_up = cfg.get_or("round_up", o.round_up);
  return std::make_shared<DefaultSampler>(dataset, o);
});

ANVIL_REGISTER(DATA_SAMPLERS, "InfiniteSampler", [](const Config& cfg, const Dataset& dataset) {
  cfg.check_keys({"shuffle", "seed"});
  InfiniteSamplerOptions o;
  o.shuffle = cfg.get_or("shuffle", o.shuffle);
  if (const Config* seed = cfg.find("seed"); seed != nullptr && !seed->is_null()) {
    o.seed = seed->as<uint64_t>();
  }
  return std::make_shared<InfiniteSampler>(dataset, o);
});

}  // namespace

std::shared_ptr<DataLoader> build_dataloader(const Config& cfg, uint64_t seed) {
  cfg.check_keys({"dataset", "sampler", "batch_size", "num_workers", "persistent_workers",
                  "drop_last", "pin_memory", "prefetch_factor", "collate_fn"});
  std::shared_ptr<Dataset> dataset = DATASETS.build(cfg["dataset"]);
  Config sampler =
      cfg.find("sampler") != nullptr ? cfg["sampler"] : Config::table({{"type", "DefaultSampler"}});
  if (!sampler.has("seed")) sampler.set("seed", static_cast<int64_t>(seed));
  DataLoaderOptions o;
  o.batch_size = cfg.get_or("batch_size", o.batch_size);
  o.num_workers = cfg.get_or("num_workers", o.num_workers);
  o.persistent_workers = cfg.get_or("persistent_workers", o.persistent_workers);
  o.drop_last = cfg.get_or("drop_last", o.drop_last);
  o.pin_memory = cfg.get_or("pin_memory", o.pin_memory);
  o.prefetch_factor = cfg.get_or("prefetch_factor", o.prefetch_factor);
  if (const Config* collate = cfg.find("collate_fn")) {
    const std::string type = collate->get<std::string>("type");
    if (type != "default_collate") {
      throw ConfigError(fmt::format("{}: collate_fn type must be \"default_collate\", got \"{}\"",
                                    collate->where(), type));
    }
  }
  return std::make_shared<DataLoader>(dataset, DATA_SAMPLERS.build(sampler, *dataset), o);
}

}  // namespace anvil::engine
