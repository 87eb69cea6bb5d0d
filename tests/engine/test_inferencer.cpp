// The Inferencer: a config and a trained checkpoint give, for a dataset or image files, the
// classes the model predicts (the same as the runner's evaluation), with top-k scores and class
// names from the dataset's metainfo.
#include <gtest/gtest.h>

#include "anvil.h"
#include "common/op_test.h"
#include "engine/infer/inferencer.h"
#include "engine/registry/registries.h"
#include "engine/runner/runner.h"
#include "engine/runner_fixtures.h"
#include "engine/visualization/png.h"

namespace anvil::engine {
namespace {

using namespace fixtures;
namespace fs = std::filesystem;

TEST(Inferencer, PredictsDatasetsAndImagesAsTheRunnerEvaluates) {
  const fs::path dir = fresh_dir("inferencer");
  Config cfg = toy_config(dir, "{by_epoch = true, max_epochs = 2}");
  const Scalars metrics = [&] {
    auto runner = Runner::from_cfg(cfg);
    runner->train();
    return runner->val_loop()->metrics();
  }();

  Inferencer inferencer(cfg, dir / "epoch_2.ckpt", {.batch_size = 5, .topk = 2});
  EXPECT_EQ(inferencer.classes(), (std::vector<std::string>{"dark", "bright"}));
  const auto dataset = DATASETS.build(cfg["val_dataloader"]["dataset"]);
  const std::vector<Prediction> predictions = inferencer(*dataset, "val");
  ASSERT_EQ(predictions.size(), 16u);
  double correct = 0;
  for (const Prediction& p : predictions) {
    correct += p.label == p.gt_label;
    ASSERT_EQ(p.topk.size(), 2u);
    EXPECT_EQ(p.topk[0].first, p.label);
    EXPECT_GE(p.topk[0].second, p.topk[1].second);
    EXPECT_NEAR(p.topk[0].second + p.topk[1].second, 1.0, 1e-6);  // softmax over two classes
    EXPECT_EQ(p.class_name, p.label == 0 ? "dark" : "bright");
  }
  EXPECT_EQ(predictions[3].input, "val[3]");
  EXPECT_DOUBLE_EQ(100 * correct / 16, metrics.front().second);  // accuracy/top1 of the run

  // The same samples as gray PNG files (the preprocessor's one-value mean means gray).
  std::vector<fs::path> files;
  for (int64_t i = 0; i < 3; ++i) {
    const Tensor image = dataset->get(i).inputs;
    files.push_back(dir / fmt::format("img{}.png", i));
    write_png(files.back().string(), image.reshape({4, 4}));
  }
  const std::vector<Prediction> from_files = inferencer(files);
  ASSERT_EQ(from_files.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(from_files[i].input, files[i].string());
    EXPECT_EQ(from_files[i].label, predictions[i].label);
    EXPECT_DOUBLE_EQ(from_files[i].score, predictions[i].score);
  }
  testing::expect_error([&] { inferencer({dir / "missing.png"}); }, {"missing.png"});
}

}  // namespace
}  // namespace anvil::engine
