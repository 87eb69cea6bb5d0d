// The example programs end to end: each binary runs one epoch on a small generated dataset in a
// temporary directory, and its work directory, log and images are checked; missing data and bad
// flags give messages that say what to do.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/data/image_io.h"
#include "engine/data_fixtures.h"

namespace anvil::engine {
namespace {

namespace fs = std::filesystem;
using namespace fixtures;

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Examples : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("anvil_examples_{}_{}",
                       ::testing::UnitTest::GetInstance()->current_test_info()->name(), getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `binary args` with stdout and stderr in output_; returns its exit status.
  int run(const std::string& binary, const std::string& args) {
    const fs::path out = dir_ / "output.txt";
    const int status =
        std::system(fmt::format("'{}' {} > '{}' 2>&1", binary, args, out.string()).c_str());
    output_ = read(out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // The run's log: work_dir/<timestamp>/<timestamp>.log.
  std::string log(const fs::path& work_dir) const {
    for (const auto& entry : fs::directory_iterator(work_dir)) {
      const fs::path file = entry.path() / (entry.path().filename().string() + ".log");
      if (entry.is_directory() && fs::exists(file)) return read(file);
    }
    ADD_FAILURE() << "no log in " << work_dir;
    return "";
  }

  fs::path dir_;
  std::string output_;
};

TEST_F(Examples, ResNet50Cifar10TrainsAndValidates) {
  // 64 training records over the five batch files, 32 test records.
  const fs::path data = dir_ / "data";
  int64_t record = 0;
  for (int b = 1; b <= 5; ++b) {
    std::vector<Bytes> labels;
    for (int i = 0; i < (b < 5 ? 13 : 12); ++i) labels.push_back({uint8_t((record + i) % 10)});
    write_file(data / fmt::format("data_batch_{}.bin", b), cifar_records(labels, record));
    record += int64_t(labels.size());
  }
  std::vector<Bytes> test_labels;
  for (int i = 0; i < 32; ++i) test_labels.push_back({uint8_t(i % 10)});
  write_file(data / "test_batch.bin", cifar_records(test_labels, 100));

  const fs::path work_dir = dir_ / "work_dir";
  ASSERT_EQ(run(ANVIL_RESNET50_CIFAR10, fmt::format("'{}' --max-epochs 1 --batch-size 16 "
                                                    "--work-dir '{}'",
                                                    data.string(), work_dir.string())),
            0)
      << output_;
  EXPECT_TRUE(fs::is_directory(work_dir / "epoch_1.ckpt"));
  EXPECT_EQ(read(work_dir / "last_checkpoint"), (work_dir / "epoch_1.ckpt").string());
  const std::string text = log(work_dir);
  EXPECT_NE(text.find("Epoch(train)  [1][4/4]"), std::string::npos) << text;
  EXPECT_NE(text.find("Epoch(val) [1][2/2]    accuracy: "), std::string::npos) << text;
}

TEST_F(Examples, ResNet50Cifar10SaysWhereToGetCifar10) {
  EXPECT_EQ(run(ANVIL_RESNET50_CIFAR10, "'" + (dir_ / "data").string() + "'"), 1);
  for (const std::string& part :
       {std::string("data_batch_1.bin"), std::string("cifar-10-batches-bin"),
        std::string("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"),
        "tar xzf cifar-10-binary.tar.gz -C " + (dir_ / "data").string()}) {
    EXPECT_NE(output_.find(part), std::string::npos) << part << "\n" << output_;
  }
}

TEST_F(Examples, BadFlagsPrintUsage) {
  for (const char* args : {"", "data --max-epoch 1", "data --max-epochs", "--max-epochs 1"}) {
    EXPECT_EQ(run(ANVIL_RESNET50_CIFAR10, args), 1) << args;
    EXPECT_NE(output_.find("usage: resnet50_cifar10 <cifar-10 dir>"), std::string::npos) << output_;
  }
  EXPECT_EQ(run(ANVIL_GAN_EXAMPLE, "data --epochs 1"), 1);
  EXPECT_NE(output_.find("usage: gan [fashion-mnist dir]"), std::string::npos) << output_;
}

TEST_F(Examples, GanWritesSampleGridAndLogsBothLosses) {
  // 64 Fashion-MNIST-format images (gzip'd, as Debian ships them) and labels.
  const uint32_t n = 64;
  Bytes pixels(n * 28 * 28), labels(n);
  for (uint32_t i = 0; i < n; ++i) {
    labels[i] = uint8_t(i % 10);
    for (uint32_t k = 0; k < 28 * 28; ++k) pixels[i * 28 * 28 + k] = pixel(i, k);
  }
  const fs::path data = dir_ / "data";
  write_file(data / "train-images-idx3-ubyte.gz", gzip_stored(idx_file(3, {n, 28, 28}, pixels)));
  write_file(data / "train-labels-idx1-ubyte.gz", gzip_stored(idx_file(1, {n}, labels)));

  const fs::path work_dir = dir_ / "work_dir";
  ASSERT_EQ(
      run(ANVIL_GAN_EXAMPLE, fmt::format("'{}' --max-epochs 1 --batch-size 16 --work-dir '{}'",
                                         data.string(), work_dir.string())),
      0)
      << output_;
  const std::string text = log(work_dir);
  EXPECT_NE(text.find("discriminator.lr: 2.0000e-04  generator.lr: 2.0000e-04"), std::string::npos)
      << text;
  EXPECT_NE(text.find("loss_dis: "), std::string::npos) << text;
  EXPECT_NE(text.find("loss_gen: "), std::string::npos) << text;
  // An 8x8 grid of 28x28 images, each with a 2-pixel border.
  fs::path png;
  for (const auto& entry : fs::recursive_directory_iterator(work_dir)) {
    if (entry.path().filename() == "samples_1.png") png = entry.path();
  }
  ASSERT_FALSE(png.empty()) << "no samples_1.png in " << work_dir;
  EXPECT_EQ(png.parent_path().filename(), "vis_image");
  const Tensor grid = read_image(png);
  EXPECT_EQ(grid.shape(), (Shape{1, 256, 256}));
  // The borders are black, the images are not.
  const std::vector<uint8_t> values = grid.to_vector<uint8_t>();
  EXPECT_EQ(values[0], 0);
  EXPECT_GT(values[16 * 256 + 16], 0);
}

TEST_F(Examples, GanSaysWhereToGetFashionMnist) {
  EXPECT_EQ(run(ANVIL_GAN_EXAMPLE, "'" + (dir_ / "data").string() + "'"), 1);
  EXPECT_NE(output_.find("Fashion-MNIST: missing train-images-idx3-ubyte"), std::string::npos)
      << output_;
  EXPECT_NE(output_.find("apt-get install dataset-fashion-mnist"), std::string::npos) << output_;
}

}  // namespace
}  // namespace anvil::engine
