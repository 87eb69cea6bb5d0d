// Readers for the standard binary datasets, as MMPretrain's CIFAR10 / CIFAR100 / MNIST /
// FashionMNIST: options.data_root is the directory holding the files and options.split is
// "train" or "test". Samples have `inputs` u8 [C, H, W] (as the files store them) and `label`;
// CIFAR-100 adds meta `coarse_label`. Files ending in .gz are inflated with zlib.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace anvil::engine {

// Images of one size, read once into a single [N, C, H, W] tensor whose rows samples view.
class ImageArrayDataset : public BaseDataset {
 public:
  using BaseDataset::BaseDataset;
  const Tensor& images() const { return images_; }  // after full_init()
  const std::vector<int64_t>& labels() const { return labels_; }

 protected:
  Sample raw_sample(int64_t i) const override;

  Tensor images_;
  std::vector<int64_t> labels_;
  std::vector<int64_t> coarse_labels_;  // CIFAR-100 only
};

// CIFAR-10 binary version: data_batch_1.bin ... data_batch_5.bin (train), test_batch.bin (test),
// records of 1 label byte and 3072 image bytes, in data_root or data_root/cifar-10-batches-bin.
class Cifar10Dataset : public ImageArrayDataset {
 public:
  explicit Cifar10Dataset(DatasetOptions options);

 protected:
  int64_t load_data_list() override;
  Metainfo class_metainfo() const override;
  std::shared_ptr<BaseDataset> clone() const override;
};

// CIFAR-100 binary version: train.bin and test.bin, records of a coarse label byte, a fine label
// byte (the sample's label) and 3072 image bytes, in data_root or data_root/cifar-100-binary.
class Cifar100Dataset : public ImageArrayDataset {
 public:
  explicit Cifar100Dataset(DatasetOptions options);

 protected:
  int64_t load_data_list() override;
  Sample raw_sample(int64_t i) const override;
  Metainfo class_metainfo() const override;
  std::shared_ptr<BaseDataset> clone() const override;
};

// What tells MNIST and Fashion-MNIST apart: their names, classes and where to get them.
struct IdxFlavor {
  std::string name;
  std::vector<std::string> classes;
  std::string download_hint;
};

// MNIST idx files: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
// t10k-labels-idx1-ubyte, each plain or .gz; images [1, 28, 28].
class MnistDataset : public ImageArrayDataset {
 public:
  explicit MnistDataset(DatasetOptions options);

 protected:
  MnistDataset(DatasetOptions options, IdxFlavor flavor);
  int64_t load_data_list() override;
  Metainfo class_metainfo() const override;
  std::shared_ptr<BaseDataset> clone() const override;

 private:
  IdxFlavor flavor_;
};

// Fashion-MNIST: MNIST's file names and format with Zalando's ten classes.
class FashionMnistDataset : public MnistDataset {
 public:
  explicit FashionMnistDataset(DatasetOptions options);

 protected:
  std::shared_ptr<BaseDataset> clone() const override;
};

// Where Debian's dataset-fashion-mnist package puts the files.
inline constexpr const char* kDebianFashionMnistDir = "/usr/share/datasets/fashion-mnist";
// The default Fashion-MNIST directory: $ANVIL_FASHION_MNIST when set, else the Debian package's;
// an error saying how to get the data when neither holds the files.
std::filesystem::path find_fashion_mnist();

// A whole file, inflated when it is gzip'd (by content, whatever its name).
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path);

}  // namespace anvil::engine
