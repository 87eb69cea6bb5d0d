// Evaluator, BaseMetric and Accuracy: top-k with ties in PyTorch's topk order (expected indices
// from torch 1.13's CPU topk, values from MMPretrain's Accuracy.calculate), accumulation over
// batches, truncation to the dataset size, prefixes, the empty-results warning, duplicate names
// and building from a config.
#include <gtest/gtest.h>

#include "anvil.h"
#include "common/op_test.h"
#include "engine/evaluator/accuracy.h"
#include "engine/registry/registries.h"

namespace anvil::engine {
namespace {

// torch.manual_seed(0); torch.randint(0, 3, (6, 8)).float(): many ties.
const std::vector<float> kTiedScores = {2, 0, 2, 0, 1, 0, 1, 1,  //
                                        1, 0, 2, 2, 0, 0, 1, 2,  //
                                        0, 0, 2, 0, 2, 2, 2, 2,  //
                                        2, 2, 1, 2, 0, 0, 1, 0,  //
                                        2, 0, 1, 0, 1, 2, 2, 1,  //
                                        2, 0, 1, 1, 1, 2, 1, 1};

Batch batch_of(const std::vector<int64_t>& labels) {
  Batch b;
  b.labels = tensor<int64_t>(labels);
  b.indices = arange(static_cast<int64_t>(labels.size()), DType::i64);
  return b;
}

std::vector<int64_t> topk(const std::vector<float>& row, int64_t k) {
  std::vector<double> d(row.begin(), row.end());
  return torch_topk_indices(d.data(), static_cast<int64_t>(d.size()), k);
}

TEST(TorchTopk, TieOrderMatchesTorch) {
  // x.topk(3, dim=1).indices and x.topk(5, dim=1).indices (nth_element + sort path).
  const std::vector<std::vector<int64_t>> top3 = {{2, 0, 4}, {7, 3, 2}, {6, 5, 4},
                                                  {1, 0, 3}, {6, 0, 5}, {0, 5, 6}};
  const std::vector<std::vector<int64_t>> top5 = {{2, 0, 4, 6, 7}, {7, 3, 2, 0, 6},
                                                  {4, 7, 6, 5, 2}, {1, 0, 3, 2, 6},
                                                  {6, 0, 5, 4, 7}, {0, 5, 6, 4, 7}};
  for (size_t r = 0; r < 6; ++r) {
    std::vector<float> row(kTiedScores.begin() + r * 8, kTiedScores.begin() + r * 8 + 8);
    EXPECT_EQ(topk(row, 3), top3[r]) << "row " << r;
    EXPECT_EQ(topk(row, 5), top5[r]) << "row " << r;
  }
  // k * 64 <= n takes std::partial_sort: 130 zeros/ones, k = 2 -> [3, 1] (torch).
  const std::vector<int64_t> ones = {
      1,   3,   4,   5,   6,   8,   11,  12,  14,  16,  22,  23,  27,  28,  30, 33, 35,
      36,  37,  38,  39,  40,  42,  43,  46,  49,  50,  52,  55,  59,  60,  62, 68, 70,
      72,  73,  74,  75,  76,  78,  79,  80,  81,  83,  84,  87,  92,  93,  96, 98, 99,
      100, 101, 105, 107, 108, 109, 111, 114, 116, 117, 120, 122, 124, 126, 128};
  std::vector<float> wide(130, 0.f);
  for (int64_t i : ones) wide[i] = 1.f;
  EXPECT_EQ(topk(wide, 2), (std::vector<int64_t>{3, 1}));
  // NaN ranks first.
  EXPECT_EQ(topk({0.5f, NAN, 0.5f, 1.f}, 3), (std::vector<int64_t>{1, 3, 2}));
}

TEST(Accuracy, TopkWithTiesAndThresholds) {
  // MMPretrain: topk (1, 3, 5) x thrs (None, 1.5) on these scores and labels.
  Accuracy acc({.topk = {1, 3, 5}, .thrs = {std::nullopt, 1.5}});
  const Tensor scores = tensor<float>(kTiedScores, {6, 8});
  acc.process(batch_of({2, 2, 2, 3, 5, 7}), {scores});
  EXPECT_EQ(acc.results().size(), 6u);
  const Scalars values = acc.evaluate(6);
  const Scalars expected = {
      {"accuracy/top1_no-thr", 100.0 / 6}, {"accuracy/top1_thr-1.50", 100.0 / 6},
      {"accuracy/top3_no-thr", 400.0 / 6}, {"accuracy/top3_thr-1.50", 400.0 / 6},
      {"accuracy/top5_no-thr", 100.0},     {"accuracy/top5_thr-1.50", 500.0 / 6}};
  ASSERT_EQ(values.size(), expected.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(values[i].first, expected[i].first);
    EXPECT_DOUBLE_EQ(values[i].second, expected[i].second) << values[i].first;
  }
  EXPECT_TRUE(acc.results().empty());  // cleared by evaluate
}

TEST(Accuracy, BatchesAccumulateAndTruncateToSize) {
  Accuracy acc({.topk = {1, 2}});
  // Outputs {scores, labels} as the quick start's predict mode returns them; any float dtype.
  const Tensor s1 = tensor<float>({0.1f, 0.9f, 0.8f, 0.2f}, {2, 2}).to(DType::bf16);
  acc.process(Batch{}, {s1, tensor<int64_t>({1, 1})});  // hit, miss at top-1
  acc.process(batch_of({0, 0}), {tensor<double>({3, 2, 1, 1, 2, 3}, {2, 3})});  // hit, miss
  // A third batch of round-up padding that evaluate(4) drops.
  acc.process(batch_of({0}), {tensor<double>({0, 1, 2}, {1, 3})});
  const Scalars values = acc.evaluate(4);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0], (std::pair<std::string, double>{"accuracy/top1", 50.0}));
  EXPECT_EQ(values[1], (std::pair<std::string, double>{"accuracy/top2", 75.0}));
}

TEST(Accuracy, PredictedLabelsGiveTop1) {
  Accuracy acc;
  acc.process(batch_of({1, 2, 3, 4}), {tensor<int64_t>({1, 2, 0, 0})});
  EXPECT_EQ(acc.evaluate(4), (Scalars{{"accuracy/top1", 50.0}}));
  Accuracy top5({.topk = {1, 5}});
  testing::expect_error([&] { top5.process(batch_of({1}), {tensor<int64_t>({1})}); },
                        {"only give top-1", "topk must be [1]"});
}

TEST(Accuracy, Errors) {
  Accuracy acc({.topk = {5}});
  testing::expect_error(
      [&] {
        acc.process(batch_of({0}), {tensor<float>({1, 2, 3}, {1, 3})});
      },
      {"top-5 accuracy is unavailable", "number of categories is 3"});
  testing::expect_error(
      [&] {
        acc.process(batch_of({0, 1}), {tensor<float>({1, 2, 3}, {1, 3})});
      },
      {"expected target labels [1]", "[2]"});
  testing::expect_error([] { Accuracy({.topk = {0}}); }, {"topk must be >= 1"});
}

TEST(Accuracy, Prefixes) {
  Accuracy plain({.prefix = ""});
  plain.process(batch_of({0}), {tensor<float>({1, 0}, {1, 2})});
  EXPECT_EQ(plain.evaluate(1), (Scalars{{"top1", 100.0}}));
  Accuracy named({.prefix = "val_acc"});
  EXPECT_EQ(named.prefix(), "val_acc");
}

TEST(BaseMetric, EmptyResultsWarnAndReturnNothing) {
  Accuracy acc;
  ::testing::internal::CaptureStderr();
  const Scalars values = acc.evaluate(10);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(values.empty());
  EXPECT_NE(err.find("Warning: the metric 'accuracy' got empty results"), std::string::npos) << err;
}

TEST(Evaluator, MergesMetricsAndRejectsDuplicateNames) {
  auto top1 = std::make_shared<Accuracy>();
  auto top2 = std::make_shared<Accuracy>(AccuracyOptions{.topk = {2}, .prefix = "acc2"});
  Evaluator evaluator({top1, top2});
  evaluator.set_dataset_meta({{"classes", std::vector<std::string>{"a", "b", "c"}}});
  EXPECT_EQ(top2->dataset_meta().count("classes"), 1u);
  evaluator.process(batch_of({0, 2}), {tensor<float>({3, 2, 1, 1, 2, 3}, {2, 3})});
  evaluator.process(batch_of({1}), {tensor<float>({3, 2, 1}, {1, 3})});
  EXPECT_EQ(evaluator.evaluate(3), (Scalars{{"accuracy/top1", 200.0 / 3}, {"acc2/top2", 100.0}}));

  Evaluator duplicate({std::make_shared<Accuracy>(), std::make_shared<Accuracy>()});
  duplicate.process(batch_of({0}), {tensor<float>({1, 0}, {1, 2})});
  testing::expect_error([&] { duplicate.evaluate(1); },
                        {"multiple evaluation results with the same metric name 'accuracy/top1'"});
}

TEST(Accuracy, BuildsFromConfig) {
  const Config cfg = Config::from_string("type = \"Accuracy\"\ntopk = [1, 5]\n", "metric.toml");
  std::shared_ptr<BaseMetric> metric = METRICS.build(cfg);
  auto* acc = dynamic_cast<Accuracy*>(metric.get());
  ASSERT_NE(acc, nullptr);
  EXPECT_EQ(acc->options().topk, (std::vector<int64_t>{1, 5}));
  EXPECT_EQ(acc->prefix(), "accuracy");
  std::vector<float> scores(6 * 8);
  std::copy(kTiedScores.begin(), kTiedScores.end(), scores.begin());
  acc->process(batch_of({2, 2, 2, 3, 5, 7}), {tensor<float>(scores, {6, 8})});
  EXPECT_EQ(metric->evaluate(6)[1], (std::pair<std::string, double>{"accuracy/top5", 100.0}));

  auto thr = METRICS.build(
      Config::from_string("type = \"Accuracy\"\nthrs = [0.0, 0.5]\nprefix = \"a\"\n", "m.toml"));
  thr->process(batch_of({0}), {tensor<float>({0.4f, 0.1f}, {1, 2})});
  EXPECT_EQ(thr->evaluate(1), (Scalars{{"a/top1_thr-0.00", 100.0}, {"a/top1_thr-0.50", 0.0}}));

  testing::expect_error(
      [] { METRICS.build(Config::from_string("type = \"Accuracy\"\ntop_k = 1\n", "bad.toml")); },
      {"bad.toml", "top_k", "topk"});
}

}  // namespace
}  // namespace anvil::engine
