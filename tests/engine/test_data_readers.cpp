// Readers: CIFAR-10/100 binary and MNIST/Fashion-MNIST idx files (plain and gzip'd), generated
// here in a temporary directory; values, labels, metainfo, lazy init and the errors for missing,
// truncated and corrupt files.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/op_test.h"
#include "data_fixtures.h"
#include "engine/data/readers.h"

namespace anvil::engine {
namespace {

namespace fs = std::filesystem;
using fixtures::Bytes;
using fixtures::cifar_records;
using fixtures::gzip_stored;
using fixtures::idx_file;
using fixtures::pixel;
using fixtures::write_file;

class DataReaders : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "anvil_data_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Five train batches of two records (labels 0..9) and a test batch of three.
  void write_cifar10(const fs::path& dir) {
    for (int b = 0; b < 5; ++b)
      write_file(dir / fmt::format("data_batch_{}.bin", b + 1),
                 cifar_records({{uint8_t(2 * b)}, {uint8_t(2 * b + 1)}}, 2 * b));
    write_file(dir / "test_batch.bin", cifar_records({{3}, {1}, {4}}, 100));
  }

  // 3 images of 2x3 and their labels; images plain, labels gzip'd.
  void write_mnist(const std::string& prefix, const Bytes& labels) {
    Bytes pixels;
    for (int k = 0; k < int(labels.size()) * 6; ++k) pixels.push_back(uint8_t(k * 5));
    write_file(dir_ / (prefix + "-images-idx3-ubyte"),
               idx_file(3, {uint32_t(labels.size()), 2, 3}, pixels));
    write_file(dir_ / (prefix + "-labels-idx1-ubyte.gz"),
               gzip_stored(idx_file(1, {uint32_t(labels.size())}, labels)));
  }

  fs::path dir_;
};

TEST_F(DataReaders, Cifar10ReadsTrainAndTestBatches) {
  write_cifar10(dir_ / "cifar-10-batches-bin");  // as the tarball unpacks
  Cifar10Dataset train({.data_root = dir_.string()});
  ASSERT_EQ(train.size(), 10);
  for (int64_t i = 0; i < 10; ++i) {
    const Sample s = train.get(i);
    EXPECT_EQ(s.label, i);
    EXPECT_EQ(s.index, i);
    ASSERT_EQ(s.inputs.shape(), (Shape{3, 32, 32}));
    ASSERT_EQ(s.inputs.dtype(), DType::u8);
    const auto values = s.inputs.to_vector<uint8_t>();
    for (int64_t k : {0, 1, 1024, 3071}) EXPECT_EQ(values[size_t(k)], pixel(i, k)) << i << " " << k;
  }
  Cifar10Dataset test({.data_root = (dir_ / "cifar-10-batches-bin").string(), .split = "test"});
  ASSERT_EQ(test.size(), 3);
  EXPECT_EQ(test.get(-1).label, 4);
  EXPECT_EQ(test.get(2).inputs.to_vector<uint8_t>()[5], pixel(102, 5));
  const auto classes = std::get<std::vector<std::string>>(test.metainfo().at("classes"));
  ASSERT_EQ(classes.size(), 10u);
  EXPECT_EQ(classes[0], "airplane");
  EXPECT_EQ(classes[9], "truck");
}

TEST_F(DataReaders, LazyInitReadsOnFirstAccess) {
  Cifar10Dataset lazy({.data_root = dir_.string(), .lazy_init = true});  // no files yet
  EXPECT_FALSE(lazy.fully_initialized());
  write_cifar10(dir_);
  EXPECT_EQ(lazy.size(), 10);
  EXPECT_TRUE(lazy.fully_initialized());
}

TEST_F(DataReaders, MetainfoArgumentOverridesTheClassDefault) {
  write_cifar10(dir_);
  Cifar10Dataset ds({.data_root = dir_.string(),
                     .metainfo = {{"classes", std::vector<std::string>{"a", "b"}},
                                  {"task", std::string("toy")}}});
  const Metainfo info = ds.metainfo();
  EXPECT_EQ(std::get<std::vector<std::string>>(info.at("classes")).size(), 2u);
  EXPECT_EQ(std::get<std::string>(info.at("task")), "toy");
}

TEST_F(DataReaders, Cifar10Errors) {
  testing::expect_error(
      [&] { Cifar10Dataset({.data_root = dir_.string()}); },
      {"CIFAR-10", dir_.string(), "data_batch_1.bin", "data_batch_5.bin",
       "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
       "tar xzf cifar-10-binary.tar.gz -C " + dir_.string(), "cifar-10-batches-bin/"});
  testing::expect_error([&] { Cifar10Dataset({.data_root = dir_.string(), .split = "val"}); },
                        {"split", "\"val\""});
  write_cifar10(dir_);
  Bytes truncated = cifar_records({{1}}, 0);
  truncated.resize(3000);
  write_file(dir_ / "data_batch_3.bin", truncated);
  testing::expect_error([&] { Cifar10Dataset({.data_root = dir_.string()}); },
                        {"data_batch_3.bin", "3000 bytes", "3073-byte records"});
  write_file(dir_ / "data_batch_3.bin", cifar_records({{12}}, 0));
  testing::expect_error([&] { Cifar10Dataset({.data_root = dir_.string()}); },
                        {"data_batch_3.bin", "label 12", "< 10"});
}

TEST_F(DataReaders, Cifar100HasFineLabelsAndCoarseMeta) {
  write_file(dir_ / "cifar-100-binary" / "train.bin", cifar_records({{4, 99}, {19, 7}}, 0));
  Cifar100Dataset ds({.data_root = dir_.string()});
  ASSERT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.get(0).label, 99);
  EXPECT_EQ(std::get<int64_t>(ds.get(0).meta.at("coarse_label")), 4);
  EXPECT_EQ(ds.get(1).label, 7);
  EXPECT_EQ(ds.get(1).inputs.to_vector<uint8_t>()[3071], pixel(1, 3071));
  const auto classes = std::get<std::vector<std::string>>(ds.metainfo().at("classes"));
  ASSERT_EQ(classes.size(), 100u);
  EXPECT_EQ(classes[99], "worm");
  testing::expect_error(
      [&] { Cifar100Dataset({.data_root = dir_.string(), .split = "test"}); },
      {"CIFAR-100", "test.bin", "tar xzf cifar-100-binary.tar.gz -C " + dir_.string()});
}

TEST_F(DataReaders, MnistReadsPlainAndGzipIdx) {
  write_mnist("train", {5, 0, 9});
  write_mnist("t10k", {1});
  MnistDataset train({.data_root = dir_.string()});
  ASSERT_EQ(train.size(), 3);
  const Sample s = train.get(1);
  EXPECT_EQ(s.label, 0);
  ASSERT_EQ(s.inputs.shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(s.inputs.to_vector<uint8_t>(), (std::vector<uint8_t>{30, 35, 40, 45, 50, 55}));
  EXPECT_EQ(train.get(2).label, 9);
  EXPECT_EQ(MnistDataset({.data_root = dir_.string(), .split = "test"}).size(), 1);
  FashionMnistDataset fashion({.data_root = dir_.string()});
  const auto classes = std::get<std::vector<std::string>>(fashion.metainfo().at("classes"));
  EXPECT_EQ(classes[9], "Ankle boot");
}

TEST_F(DataReaders, MnistErrors) {
  testing::expect_error([&] { FashionMnistDataset({.data_root = dir_.string()}); },
                        {"Fashion-MNIST", dir_.string(), "train-images-idx3-ubyte",
                         "dataset-fashion-mnist", "fashion-mnist.s3"});
  write_mnist("train", {5, 0, 9});
  // Wrong magic: a labels file where images belong.
  write_file(dir_ / "train-images-idx3-ubyte", idx_file(1, {3}, {1, 2, 3}));
  testing::expect_error([&] { MnistDataset({.data_root = dir_.string()}); },
                        {"train-images-idx3-ubyte", "not an idx file", "00 00 08 03"});
  Bytes short_pixels(10, 0);
  write_file(dir_ / "train-images-idx3-ubyte", idx_file(3, {3, 2, 3}, short_pixels));
  testing::expect_error([&] { MnistDataset({.data_root = dir_.string()}); },
                        {"10 data bytes", "3x2x3", "truncated"});
  write_file(dir_ / "train-images-idx3-ubyte", idx_file(3, {2, 2, 3}, Bytes(12, 0)));
  testing::expect_error([&] { MnistDataset({.data_root = dir_.string()}); },
                        {"2 images", "3 labels"});
  write_mnist("train", {5, 0, 9});
  Bytes gz = gzip_stored(idx_file(1, {3}, {5, 0, 9}));
  gz.resize(gz.size() - 6);  // cut inside the trailer
  write_file(dir_ / "train-labels-idx1-ubyte.gz", gz);
  testing::expect_error([&] { MnistDataset({.data_root = dir_.string()}); },
                        {"train-labels-idx1-ubyte.gz", "corrupt or truncated gzip"});
}

TEST_F(DataReaders, FindsFashionMnist) {
  setenv("ANVIL_FASHION_MNIST", dir_.c_str(), 1);
  testing::expect_error([&] { find_fashion_mnist(); },
                        {"Fashion-MNIST", "t10k-labels-idx1-ubyte", "$ANVIL_FASHION_MNIST",
                         "apt-get install dataset-fashion-mnist"});
  write_mnist("train", {1, 2, 3});
  write_mnist("t10k", {4});
  EXPECT_EQ(find_fashion_mnist(), dir_);
  unsetenv("ANVIL_FASHION_MNIST");
  if (fs::exists(kDebianFashionMnistDir)) {
    EXPECT_EQ(find_fashion_mnist(), kDebianFashionMnistDir);
  }
}

}  // namespace
}  // namespace anvil::engine
