// Datasets (subsets, Concat, Repeat), samplers (MMEngine's order properties) and the DataLoader
// (order, drop_last, collate, workers, errors, early break, resume), on an in-memory dataset.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <set>
#include <thread>

#include "common/op_test.h"
#include "engine/data/data.h"
#include "tensor/ops/factory.h"

namespace anvil::engine {
namespace {

// Sample i: a u8 image [3, 4, 4] filled with i, label i % 3, meta id = 10 i.
class ToyDataset : public BaseDataset {
 public:
  ToyDataset(int64_t n, DatasetOptions options = {}) : BaseDataset(std::move(options)), n_(n) {
    init_unless_lazy();
  }
  std::atomic<int>* loads = nullptr;

 protected:
  int64_t load_data_list() override {
    if (loads) ++*loads;
    return n_;
  }
  Sample raw_sample(int64_t i) const override {
    Sample s;
    s.inputs = full({3, 4, 4}, i % 256, TensorOptions(DType::u8));
    s.label = i % 3;
    s.meta["id"] = 10 * i;
    return s;
  }
  Metainfo class_metainfo() const override {
    return {{"classes", std::vector<std::string>{"a", "b", "c"}}};
  }
  std::shared_ptr<BaseDataset> clone() const override {
    return std::make_shared<ToyDataset>(*this);
  }

 private:
  int64_t n_;
};

// Fails on one sample, sleeps a little on the others (so workers finish out of order).
class Faulty : public Transform {
 public:
  explicit Faulty(int64_t bad) : bad_(bad) {}
  void apply(Sample& s, Rng& rng) const override {
    std::this_thread::sleep_for(std::chrono::microseconds(rng.randint(0, 300)));
    ANVIL_CHECK(s.index != bad_, "Faulty: cannot load {}", s.index);
  }
  std::string name() const override { return "Faulty"; }

 private:
  int64_t bad_;
};

Pipeline augment() {
  return {std::make_shared<RandomCrop>(RandomCropOptions{.size = {4}, .padding = {2}}),
          std::make_shared<RandomFlip>(),
          std::make_shared<Normalize>(NormalizeOptions{.mean = {1, 2, 3}, .std = {2, 2, 2}})};
}

int64_t first_value(const Sample& s) {
  return s.inputs.to(DType::i64).to_vector<int64_t>()[5];
}

std::vector<int64_t> ids(const Tensor& t) {
  return t.to_vector<int64_t>();
}

TEST(DataDataset, SubsetsAndIndices) {
  auto ds = std::make_shared<ToyDataset>(10);
  EXPECT_EQ(ds->size(), 10);
  EXPECT_EQ(ds->get(-1).label, 9 % 3);
  auto first = ds->get_subset(3);
  EXPECT_EQ(first->size(), 3);
  EXPECT_EQ(first_value(first->get(2)), 2);
  auto last = ds->get_subset(-2);
  EXPECT_EQ(first_value(last->get(0)), 8);
  auto picked = ds->get_subset(std::vector<int64_t>{7, -1, 2});
  ASSERT_EQ(picked->size(), 3);
  EXPECT_EQ(first_value(picked->get(1)), 9);
  EXPECT_EQ(picked->get(1).index, 1);  // the index in the subset, as MMEngine's sample_idx
  auto nested = picked->get_subset(std::vector<int64_t>{2});
  EXPECT_EQ(first_value(nested->get(0)), 2);
  EXPECT_EQ(ds->size(), 10);  // subsets copy; the original is unchanged
  ToyDataset by_option(10, {.indices = std::vector<int64_t>{4, 5}});
  EXPECT_EQ(by_option.size(), 2);
  EXPECT_EQ(first_value(by_option.get(1)), 5);
  EXPECT_EQ(ToyDataset(10, {.indices = int64_t(4)}).size(), 4);
  testing::expect_error([&] { ds->get(10); }, {"index 10", "10 samples"});
  testing::expect_error([&] { ds->get_subset(std::vector<int64_t>{11}); }, {"11", "10 samples"});
}

TEST(DataDataset, LazyInitLoadsOnce) {
  std::atomic<int> loads = 0;
  ToyDataset ds(5, {.lazy_init = true});
  ds.loads = &loads;
  EXPECT_FALSE(ds.fully_initialized());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { EXPECT_EQ(ds.size(), 5); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(loads.load(), 1);
}

TEST(DataDataset, ConcatAndRepeat) {
  auto a = std::make_shared<ToyDataset>(3);
  auto b = std::make_shared<ToyDataset>(7, DatasetOptions{.indices = std::vector<int64_t>{5, 6}});
  ConcatDataset both({a, b});
  ASSERT_EQ(both.size(), 5);
  EXPECT_EQ(first_value(both.get(2)), 2);
  EXPECT_EQ(first_value(both.get(3)), 5);
  EXPECT_EQ(first_value(both.get(-1)), 6);
  EXPECT_EQ(both.get(4).index, 4);
  auto other = std::make_shared<ToyDataset>(
      2, DatasetOptions{.metainfo = {{"classes", std::vector<std::string>{"x"}}}});
  testing::expect_error([&] { ConcatDataset({a, other}); }, {"ConcatDataset", "'classes'", "1"});
  EXPECT_EQ(ConcatDataset({a, other}, {"classes"}).size(), 5);

  auto augmented = std::make_shared<ToyDataset>(2, DatasetOptions{.pipeline = augment()});
  RepeatDataset thrice(augmented, 3);
  ASSERT_EQ(thrice.size(), 6);
  EXPECT_EQ(thrice.get(5).label, 1);
  // Each repeat is augmented by its own stream: the copies of sample 1 differ somewhere.
  std::set<std::vector<float>> copies;
  for (int64_t i : {1, 3, 5}) copies.insert(thrice.get(i).inputs.to_vector<float>());
  EXPECT_GT(copies.size(), 1u);
  testing::expect_error([&] { RepeatDataset(a, 0); }, {"times", ">= 1"});
}

TEST(DataSampler, DefaultSamplerShufflesPerEpoch) {
  DefaultSampler s(10, {.seed = 7});
  auto sorted = [](std::vector<int64_t> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  std::vector<int64_t> all(10);
  std::iota(all.begin(), all.end(), 0);
  const auto e0 = s.indices();
  EXPECT_EQ(sorted(e0), all);
  EXPECT_NE(e0, all);
  s.set_epoch(1);
  EXPECT_EQ(sorted(s.indices()), all);
  EXPECT_NE(s.indices(), e0);
  s.set_epoch(0);
  EXPECT_EQ(s.indices(), e0);
  EXPECT_EQ(DefaultSampler(10, {.seed = 7}).indices(), e0);  // seed + epoch decide the order
  EXPECT_NE(DefaultSampler(10, {.seed = 8}).indices(), e0);
  EXPECT_EQ(DefaultSampler(10, {.shuffle = false}).indices(), all);
  EXPECT_EQ(s.index_at(10), std::nullopt);
}

TEST(DataSampler, DefaultSamplerRanksAndRoundUp) {
  const auto order = DefaultSampler(10, {.seed = 3}).indices();
  std::vector<int64_t> seen;
  for (int64_t r = 0; r < 3; ++r) {
    DefaultSampler s(10, {.seed = 3, .rank = r, .world_size = 3});
    ASSERT_EQ(s.size(), 4);  // ceil(10 / 3)
    for (int64_t k = 0; k < 4; ++k)
      EXPECT_EQ(s.indices()[size_t(k)], order[size_t((r + 3 * k) % 10)]);  // padded by repeating
    seen.insert(seen.end(), s.indices().begin(), s.indices().end());
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()) - seen.begin(), 10);
  std::set<int64_t> disjoint;
  int64_t total = 0;
  for (int64_t r = 0; r < 3; ++r) {
    DefaultSampler s(10, {.seed = 3, .round_up = false, .rank = r, .world_size = 3});
    EXPECT_EQ(s.size(), (10 - r + 2) / 3);  // ceil((N - rank) / W)
    disjoint.insert(s.indices().begin(), s.indices().end());
    total += s.size();
  }
  EXPECT_EQ(total, 10);
  EXPECT_EQ(disjoint.size(), 10u);
  testing::expect_error([] { DefaultSampler(10, {.rank = 2, .world_size = 2}); },
                        {"rank 2", "world_size=2"});
}

TEST(DataSampler, InfiniteSamplerStreams) {
  InfiniteSampler one(5, {.seed = 11});
  std::vector<int64_t> stream;
  for (int64_t p = 0; p < 20; ++p) stream.push_back(*one.index_at(p));
  std::vector<std::vector<int64_t>> passes;
  for (int k = 0; k < 4; ++k) {
    std::vector<int64_t> pass(stream.begin() + 5 * k, stream.begin() + 5 * k + 5);
    std::sort(pass.begin(), pass.end());
    EXPECT_EQ(pass, (std::vector<int64_t>{0, 1, 2, 3, 4}));  // each pass is a permutation
    passes.emplace_back(stream.begin() + 5 * k, stream.begin() + 5 * k + 5);
  }
  EXPECT_GT(std::set<std::vector<int64_t>>(passes.begin(), passes.end()).size(), 1u);
  one.set_epoch(3);  // no effect
  EXPECT_EQ(*one.index_at(7), stream[7]);
  for (int64_t r = 0; r < 2; ++r) {
    InfiniteSampler ranked(5, {.seed = 11, .rank = r, .world_size = 2});
    for (int64_t p = 0; p < 10; ++p) EXPECT_EQ(*ranked.index_at(p), stream[size_t(2 * p + r)]);
  }
  EXPECT_EQ(*InfiniteSampler(5, {.shuffle = false}).index_at(12), 2);
}

std::vector<Batch> all_batches(DataLoader& loader) {
  std::vector<Batch> out;
  for (Batch& b : loader) out.push_back(std::move(b));
  return out;
}

TEST(DataLoaderTest, BatchesInOrderWithCollate) {
  auto ds = std::make_shared<ToyDataset>(10);
  DataLoader loader(ds, nullptr, {.batch_size = 4});
  EXPECT_EQ(loader.size(), 3);
  const auto batches = all_batches(loader);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].inputs.shape(), (Shape{4, 3, 4, 4}));
  EXPECT_EQ(batches[0].inputs.dtype(), DType::u8);
  EXPECT_EQ(ids(batches[1].indices), (std::vector<int64_t>{4, 5, 6, 7}));
  EXPECT_EQ(ids(batches[1].labels), (std::vector<int64_t>{1, 2, 0, 1}));
  EXPECT_EQ(ids(batches[2].fields.at("id")), (std::vector<int64_t>{80, 90}));
  EXPECT_EQ(batches[2].size(), 2);
  EXPECT_EQ(batches[2].inputs.select(0, 1).to(DType::i64).to_vector<int64_t>()[0], 9);
  DataLoader dropping(ds, nullptr, {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(dropping.size(), 2);
  EXPECT_EQ(all_batches(dropping).size(), 2u);
}

TEST(DataLoaderTest, WorkersGiveTheBatchesOfZeroWorkers) {
  auto ds = std::make_shared<ToyDataset>(23, DatasetOptions{.pipeline = augment()});
  auto run = [&](DataLoaderOptions options, int64_t epoch) {
    auto sampler = std::make_shared<DefaultSampler>(*ds, DefaultSamplerOptions{.seed = 5});
    options.batch_size = 4;
    DataLoader loader(ds, sampler, options);
    loader.set_epoch(epoch);
    std::vector<std::vector<float>> out;
    for (Batch& b : loader) {
      out.push_back(b.inputs.to_vector<float>());
      const auto idx = ids(b.indices);
      out.emplace_back(idx.begin(), idx.end());
    }
    return out;
  };
  for (int64_t epoch : {0, 1}) {
    const auto reference = run({}, epoch);
    EXPECT_EQ(reference.size(), 12u);
    EXPECT_EQ(run({.num_workers = 1}, epoch), reference);
    EXPECT_EQ(run({.num_workers = 3, .prefetch_factor = 1}, epoch), reference);
    EXPECT_EQ(run({.num_workers = 2, .persistent_workers = true}, epoch), reference);
  }
  EXPECT_NE(run({}, 0), run({}, 1));
}

TEST(DataLoaderTest, PersistentWorkersServeEveryEpoch) {
  auto ds = std::make_shared<ToyDataset>(9, DatasetOptions{.pipeline = augment()});
  DataLoader loader(ds, std::make_shared<DefaultSampler>(*ds, DefaultSamplerOptions{.seed = 1}),
                    {.batch_size = 2, .num_workers = 2, .persistent_workers = true});
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    loader.set_epoch(epoch);
    int64_t n = 0;
    for (Batch& b : loader) n += b.size();
    EXPECT_EQ(n, 9);
  }
}

TEST(DataLoaderTest, WorkerErrorsNameTheSample) {
  auto ds =
      std::make_shared<ToyDataset>(12, DatasetOptions{.pipeline = {std::make_shared<Faulty>(7)}});
  for (int64_t workers : {0, 2}) {
    DataLoader loader(ds, nullptr, {.batch_size = 3, .num_workers = workers});
    int64_t seen = 0;
    testing::expect_error(
        [&] {
          for (Batch& b : loader) seen += b.size();
        },
        {"DataLoader", "sample 7", "batch 2", "Faulty: cannot load 7"});
    EXPECT_EQ(seen, 6);  // the batches before the failing one arrived, in order
  }
  auto mixed = std::make_shared<ConcatDataset>(std::vector<std::shared_ptr<Dataset>>{
      std::make_shared<ToyDataset>(2),
      std::make_shared<ToyDataset>(
          2, DatasetOptions{.pipeline = {std::make_shared<Resize>(ResizeOptions{.size = {2}})}})});
  DataLoader loader(mixed, nullptr, {.batch_size = 4, .num_workers = 1});
  testing::expect_error([&] { all_batches(loader); },
                        {"collating batch 0", "inputs of sample 2", "[3,2,2]"});
}

TEST(DataLoaderTest, AbandonedPassesStopCleanly) {
  auto ds =
      std::make_shared<ToyDataset>(200, DatasetOptions{.pipeline = {std::make_shared<Faulty>(-1)}});
  DataLoader loader(ds, nullptr, {.batch_size = 2, .num_workers = 3, .prefetch_factor = 4});
  for (int pass = 0; pass < 3; ++pass) {
    int64_t n = 0;
    for (Batch& b : loader) {
      EXPECT_EQ(ids(b.indices)[0], 2 * n);
      if (++n == 2) break;
    }
  }
  auto it = loader.begin();  // dropped unfinished, with batches in flight
  EXPECT_EQ(all_batches(loader).size(), 100u);
  DataLoader endless(ds, std::make_shared<InfiniteSampler>(*ds, InfiniteSamplerOptions{.seed = 2}),
                     {.batch_size = 64, .num_workers = 2});
  int64_t batches = 0;
  for (Batch& b : endless) {
    EXPECT_EQ(b.size(), 64);
    if (++batches == 5) break;  // past the end of the first permutation
  }
}

// Counts the samples loaded.
class Counting : public Transform {
 public:
  explicit Counting(std::atomic<int>& count) : count_(count) {}
  void apply(Sample& s, Rng& rng) const override { ++count_; }
  std::string name() const override { return "Counting"; }

 private:
  std::atomic<int>& count_;
};

int wait_for(const std::atomic<int>& count, int expected) {
  for (int k = 0; k < 10000 && count.load() < expected; ++k)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return count.load();
}

TEST(DataLoaderTest, PrefetchesWorkersTimesFactorBatchesAhead) {
  std::atomic<int> loaded = 0;
  auto ds = std::make_shared<ToyDataset>(
      40, DatasetOptions{.pipeline = {std::make_shared<Counting>(loaded)}});
  DataLoader loader(ds, nullptr, {.batch_size = 2, .num_workers = 2, .prefetch_factor = 2});
  auto it = loader.begin();  // batch 0 is yielded; batches 1..4 (2 workers x 2) are in flight
  EXPECT_EQ(wait_for(loaded, 10), 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(loaded.load(), 10);  // and no further ahead
  ++it;
  EXPECT_EQ(wait_for(loaded, 12), 12);
  EXPECT_EQ(ids(it->indices), (std::vector<int64_t>{2, 3}));
}

TEST(DataLoaderTest, ResumesMidEpochWithoutReplaying) {
  auto ds = std::make_shared<ToyDataset>(10, DatasetOptions{.pipeline = augment()});
  auto make = [&] {
    return std::make_unique<DataLoader>(
        ds, std::make_shared<DefaultSampler>(*ds, DefaultSamplerOptions{.seed = 4}),
        DataLoaderOptions{.batch_size = 3, .num_workers = 2});
  };
  auto straight = make();
  straight->set_epoch(1);
  std::vector<std::vector<float>> expected;
  DataLoaderState at_two;
  for (Batch& b : *straight) {
    expected.push_back(b.inputs.to_vector<float>());
    if (expected.size() == 2) at_two = straight->state();
  }
  EXPECT_EQ(at_two.epoch, 1);
  EXPECT_EQ(at_two.iteration, 2);
  auto resumed = make();
  resumed->load_state(at_two);
  std::vector<std::vector<float>> rest;
  for (Batch& b : *resumed) rest.push_back(b.inputs.to_vector<float>());
  EXPECT_EQ(rest, std::vector<std::vector<float>>(expected.begin() + 2, expected.end()));
  EXPECT_EQ(resumed->state().iteration, 4);
  EXPECT_EQ(all_batches(*resumed).size(), 4u);  // the next pass starts at 0 again

  // An endless stream (IterBasedTrainLoop) resumes at its iteration the same way.
  auto endless = [&] {
    return std::make_unique<DataLoader>(
        ds, std::make_shared<InfiniteSampler>(*ds, InfiniteSamplerOptions{.seed = 4}),
        DataLoaderOptions{.batch_size = 4, .num_workers = 1});
  };
  auto first = endless();
  std::vector<std::vector<float>> stream;
  for (Batch& b : *first) {
    stream.push_back(b.inputs.to_vector<float>());
    if (stream.size() == 6) break;
  }
  auto later = endless();
  later->load_state({.epoch = 0, .iteration = 3});
  auto it = later->begin();
  for (size_t k = 3; k < 6; ++k, ++it) EXPECT_EQ(it->inputs.to_vector<float>(), stream[k]);
}

}  // namespace
}  // namespace anvil::engine
