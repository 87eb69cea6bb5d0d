#include "engine/data/readers.h"

#include <zlib.h>

#include <cstdlib>
#include <cstring>

#include "tensor/error.h"
#include "tensor/ops/factory.h"

namespace anvil::engine {

namespace fs = std::filesystem;

std::vector<uint8_t> read_file_bytes(const fs::path& path) {
  // gzread passes files that are not gzip'd through unchanged.
  gzFile file = gzopen(path.c_str(), "rb");
  ANVIL_CHECK(file != nullptr, "cannot open {}: {}", path.string(), std::strerror(errno));
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> chunk(1 << 20);
  int n;
  while ((n = gzread(file, chunk.data(), unsigned(chunk.size()))) > 0)
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + n);
  // A truncated member is not a read error for gzread: it is only left in gzerror's code.
  int code = Z_OK;
  const std::string message = gzerror(file, &code);
  gzclose(file);
  ANVIL_CHECK(n == 0 && code == Z_OK, "{}: corrupt or truncated gzip data ({})", path.string(),
              message);
  return bytes;
}

namespace {

Metainfo classes_metainfo(std::vector<std::string> classes) {
  return {{"classes", MetaValue(std::move(classes))}};
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

void check_split(const std::string& dataset, const std::string& split) {
  ANVIL_CHECK(split == "train" || split == "test",
              "{}: split must be \"train\" or \"test\", got \"{}\"", dataset, split);
}

// The first of `dirs` that holds every file; otherwise an error naming what is missing and how to
// get it.
fs::path find_dir(const std::string& dataset, const std::vector<fs::path>& dirs,
                  const std::vector<std::string>& files, const std::string& hint) {
  for (const auto& dir : dirs) {
    bool all = true;
    for (const auto& f : files) all = all && fs::is_regular_file(dir / f);
    if (all) return dir;
  }
  std::vector<std::string> missing;
  for (const auto& f : files)
    if (!fs::is_regular_file(dirs.front() / f)) missing.push_back(f);
  std::vector<std::string> looked;
  for (const auto& d : dirs) looked.push_back(d.string());
  throw ValueError(fmt::format("{}: missing {} in {} (looked in {}); expected files: {}. {}",
                               dataset, join(missing), dirs.front().string(), join(looked),
                               join(files), hint));
}

// CIFAR records: `label_bytes` label bytes then a 3x32x32 image.
void read_cifar(const std::string& dataset, const std::vector<fs::path>& paths, int64_t label_bytes,
                int64_t num_classes, Tensor& images, std::vector<int64_t>& labels,
                std::vector<int64_t>* coarse) {
  constexpr int64_t kImage = 3 * 32 * 32;
  const int64_t record = label_bytes + kImage;
  std::vector<std::vector<uint8_t>> contents;
  int64_t total = 0;
  for (const auto& path : paths) {
    contents.push_back(read_file_bytes(path));
    const auto bytes = int64_t(contents.back().size());
    ANVIL_CHECK(bytes > 0 && bytes % record == 0,
                "{}: {} has {} bytes, not a whole number of {}-byte records ({} label byte{} and "
                "3072 image bytes): truncated or not the binary version",
                dataset, path.string(), bytes, record, label_bytes, label_bytes > 1 ? "s" : "");
    total += bytes / record;
  }
  images = empty({total, 3, 32, 32}, TensorOptions(DType::u8));
  labels.resize(size_t(total));
  if (coarse) coarse->resize(size_t(total));
  uint8_t* out = images.data_ptr<uint8_t>();
  int64_t i = 0;
  for (size_t f = 0; f < contents.size(); ++f) {
    const auto& bytes = contents[f];
    for (size_t at = 0; at < bytes.size(); at += size_t(record), ++i) {
      const int64_t label = bytes[at + size_t(label_bytes) - 1];
      ANVIL_CHECK(label < num_classes, "{}: {} record {} has label {}, expected < {}", dataset,
                  paths[f].string(), int64_t(at) / record, label, num_classes);
      labels[size_t(i)] = label;
      if (coarse) (*coarse)[size_t(i)] = bytes[at];
      std::memcpy(out + i * kImage, bytes.data() + at + size_t(label_bytes), size_t(kImage));
    }
  }
}

uint32_t big_endian(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

// An idx file of unsigned bytes with `ndims` dimensions: its dimensions and data.
std::pair<std::vector<int64_t>, std::vector<uint8_t>> read_idx(const std::string& dataset,
                                                               const fs::path& path,
                                                               int64_t ndims) {
  auto bytes = read_file_bytes(path);
  const auto header = size_t(4 + 4 * ndims);
  ANVIL_CHECK(
      bytes.size() >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x08 && bytes[3] == ndims,
      "{}: {} is not an idx file of {}-d unsigned bytes (magic {:02x} {:02x} {:02x} "
      "{:02x}, expected 00 00 08 {:02x})",
      dataset, path.string(), ndims, bytes.size() > 0 ? bytes[0] : 0,
      bytes.size() > 1 ? bytes[1] : 0, bytes.size() > 2 ? bytes[2] : 0,
      bytes.size() > 3 ? bytes[3] : 0, ndims);
  ANVIL_CHECK(bytes.size() >= header, "{}: {} is truncated inside its header", dataset,
              path.string());
  std::vector<int64_t> dims;
  int64_t count = 1;
  for (int64_t d = 0; d < ndims; ++d) {
    dims.push_back(big_endian(bytes.data() + 4 + 4 * d));
    count *= dims.back();
  }
  ANVIL_CHECK(int64_t(bytes.size() - header) == count,
              "{}: {} has {} data bytes, its header ({}) says {}: truncated or corrupt", dataset,
              path.string(), bytes.size() - header, fmt::join(dims, "x"), count);
  bytes.erase(bytes.begin(), bytes.begin() + std::ptrdiff_t(header));
  return {dims, std::move(bytes)};
}

// How to get a CIFAR archive into `root`, as a command that works as printed.
std::string cifar_hint(const std::string& archive, const std::string& folder,
                       const fs::path& root) {
  return fmt::format(
      "Download the binary version from https://www.cs.toronto.edu/~kriz/{0} and unpack it "
      "there: tar xzf {0} -C {1} (it makes {2}/, which is searched too).",
      archive, root.empty() ? "." : root.string(), folder);
}

IdxFlavor mnist_flavor() {
  return {"MNIST",
          {"0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
           "7 - seven", "8 - eight", "9 - nine"},
          "Download the four files from https://ossci-datasets.s3.amazonaws.com/mnist/ (a mirror "
          "of http://yann.lecun.com/exdb/mnist/), e.g. train-images-idx3-ubyte.gz, into that "
          "directory; the .gz files are read as they are, no need to unpack them."};
}

IdxFlavor fashion_mnist_flavor() {
  return {"Fashion-MNIST",
          {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"},
          "Install Debian's package (apt-get install dataset-fashion-mnist, files in "
          "/usr/share/datasets/fashion-mnist) or download the four files from "
          "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/ (e.g. "
          "train-images-idx3-ubyte.gz) into that directory; the .gz files are read as they "
          "are, no need to unpack them."};
}

}  // namespace

Sample ImageArrayDataset::raw_sample(int64_t i) const {
  Sample sample;
  sample.inputs = images_.select(0, i);
  sample.label = labels_[size_t(i)];
  return sample;
}

Cifar10Dataset::Cifar10Dataset(DatasetOptions options) : ImageArrayDataset(std::move(options)) {
  check_split("CIFAR-10", this->options().split);
  init_unless_lazy();
}

int64_t Cifar10Dataset::load_data_list() {
  const bool train = options().split == "train";
  std::vector<std::string> files;
  if (train) {
    for (int b = 1; b <= 5; ++b) files.push_back(fmt::format("data_batch_{}.bin", b));
  } else {
    files.push_back("test_batch.bin");
  }
  const fs::path root = options().data_root;
  const fs::path dir = find_dir("CIFAR-10", {root, root / "cifar-10-batches-bin"}, files,
                                cifar_hint("cifar-10-binary.tar.gz", "cifar-10-batches-bin", root));
  std::vector<fs::path> paths;
  for (const auto& f : files) paths.push_back(dir / f);
  read_cifar("CIFAR-10", paths, 1, 10, images_, labels_, nullptr);
  return int64_t(labels_.size());
}

Metainfo Cifar10Dataset::class_metainfo() const {
  return classes_metainfo(
      {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"});
}

std::shared_ptr<BaseDataset> Cifar10Dataset::clone() const {
  return std::make_shared<Cifar10Dataset>(*this);
}

Cifar100Dataset::Cifar100Dataset(DatasetOptions options) : ImageArrayDataset(std::move(options)) {
  check_split("CIFAR-100", this->options().split);
  init_unless_lazy();
}

int64_t Cifar100Dataset::load_data_list() {
  const std::string file = options().split + ".bin";
  const fs::path root = options().data_root;
  const fs::path dir = find_dir("CIFAR-100", {root, root / "cifar-100-binary"}, {file},
                                cifar_hint("cifar-100-binary.tar.gz", "cifar-100-binary", root));
  read_cifar("CIFAR-100", {dir / file}, 2, 100, images_, labels_, &coarse_labels_);
  return int64_t(labels_.size());
}

Sample Cifar100Dataset::raw_sample(int64_t i) const {
  Sample sample = ImageArrayDataset::raw_sample(i);
  sample.meta["coarse_label"] = coarse_labels_[size_t(i)];
  return sample;
}

Metainfo Cifar100Dataset::class_metainfo() const {
  return classes_metainfo(
      {"apple",       "aquarium_fish", "baby",      "bear",       "beaver",       "bed",
       "bee",         "beetle",        "bicycle",   "bottle",     "bowl",         "boy",
       "bridge",      "bus",           "butterfly", "camel",      "can",          "castle",
       "caterpillar", "cattle",        "chair",     "chimpanzee", "clock",        "cloud",
       "cockroach",   "couch",         "crab",      "crocodile",  "cup",          "dinosaur",
       "dolphin",     "elephant",      "flatfish",  "forest",     "fox",          "girl",
       "hamster",     "house",         "kangaroo",  "keyboard",   "lamp",         "lawn_mower",
       "leopard",     "lion",          "lizard",    "lobster",    "man",          "maple_tree",
       "motorcycle",  "mountain",      "mouse",     "mushroom",   "oak_tree",     "orange",
       "orchid",      "otter",         "palm_tree", "pear",       "pickup_truck", "pine_tree",
       "plain",       "plate",         "poppy",     "porcupine",  "possum",       "rabbit",
       "raccoon",     "ray",           "road",      "rocket",     "rose",         "sea",
       "seal",        "shark",         "shrew",     "skunk",      "skyscraper",   "snail",
       "snake",       "spider",        "squirrel",  "streetcar",  "sunflower",    "sweet_pepper",
       "table",       "tank",          "telephone", "television", "tiger",        "tractor",
       "train",       "trout",         "tulip",     "turtle",     "wardrobe",     "whale",
       "willow_tree", "wolf",          "woman",     "worm"});
}

std::shared_ptr<BaseDataset> Cifar100Dataset::clone() const {
  return std::make_shared<Cifar100Dataset>(*this);
}

MnistDataset::MnistDataset(DatasetOptions options)
    : MnistDataset(std::move(options), mnist_flavor()) {}

MnistDataset::MnistDataset(DatasetOptions options, IdxFlavor flavor)
    : ImageArrayDataset(std::move(options)), flavor_(std::move(flavor)) {
  check_split(flavor_.name, this->options().split);
  init_unless_lazy();
}

int64_t MnistDataset::load_data_list() {
  const std::string prefix = options().split == "train" ? "train" : "t10k";
  const fs::path dir = options().data_root;
  // Each file may be plain or gzip'd; the plain one wins when both exist.
  auto locate = [&](const std::string& base) {
    if (fs::is_regular_file(dir / base)) return base;
    return base + ".gz";
  };
  const std::string image_file = locate(prefix + "-images-idx3-ubyte");
  const std::string label_file = locate(prefix + "-labels-idx1-ubyte");
  find_dir(flavor_.name, {dir}, {image_file, label_file}, flavor_.download_hint);
  auto [image_dims, pixels] = read_idx(flavor_.name, dir / image_file, 3);
  auto [label_dims, label_bytes] = read_idx(flavor_.name, dir / label_file, 1);
  ANVIL_CHECK(image_dims[0] == label_dims[0], "{}: {} has {} images but {} has {} labels",
              flavor_.name, image_file, image_dims[0], label_file, label_dims[0]);
  const auto num_classes = int64_t(flavor_.classes.size());
  labels_.assign(label_bytes.begin(), label_bytes.end());
  for (size_t i = 0; i < labels_.size(); ++i)
    ANVIL_CHECK(labels_[i] < num_classes, "{}: {} label {} is {}, expected < {}", flavor_.name,
                label_file, i, labels_[i], num_classes);
  images_ = from_data(pixels.data(), {image_dims[0], 1, image_dims[1], image_dims[2]}, DType::u8);
  return image_dims[0];
}

Metainfo MnistDataset::class_metainfo() const {
  return classes_metainfo(flavor_.classes);
}

std::shared_ptr<BaseDataset> MnistDataset::clone() const {
  return std::make_shared<MnistDataset>(*this);
}

FashionMnistDataset::FashionMnistDataset(DatasetOptions options)
    : MnistDataset(std::move(options), fashion_mnist_flavor()) {}

std::shared_ptr<BaseDataset> FashionMnistDataset::clone() const {
  return std::make_shared<FashionMnistDataset>(*this);
}

fs::path find_fashion_mnist() {
  const char* env = std::getenv("ANVIL_FASHION_MNIST");
  const fs::path dir = env && *env ? fs::path(env) : fs::path(kDebianFashionMnistDir);
  const std::vector<std::string> files = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  std::vector<std::string> missing;
  for (const auto& f : files)
    if (!fs::is_regular_file(dir / f) && !fs::is_regular_file(dir / (f + ".gz")))
      missing.push_back(f + "[.gz]");
  if (!missing.empty())
    throw ValueError(fmt::format("Fashion-MNIST: missing {} in {}{}. {}", join(missing),
                                 dir.string(), env && *env ? " (from $ANVIL_FASHION_MNIST)" : "",
                                 fashion_mnist_flavor().download_hint));
  return dir;
}

}  // namespace anvil::engine
