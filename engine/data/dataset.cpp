#include "engine/data/dataset.h"

#include <algorithm>
#include <numeric>

#include "tensor/error.h"

namespace anvil::engine {

Sample Dataset::get(int64_t idx, const RandomKey& key) const {
  const int64_t n = size();
  ANVIL_CHECK_INDEX(idx >= -n && idx < n, "dataset: index {} out of range for {} samples", idx, n);
  if (idx < 0) idx += n;
  Sample sample = fetch(idx, key);
  sample.index = idx;
  return sample;
}

BaseDataset::BaseDataset(DatasetOptions options) : options_(std::move(options)) {}

BaseDataset::BaseDataset(const BaseDataset& other) : Dataset(other), options_(other.options_) {
  other.full_init();
  indices_ = other.indices_;
  initialized_ = true;
}

void BaseDataset::init_unless_lazy() const {
  if (!options_.lazy_init) full_init();
}

void BaseDataset::full_init() const {
  if (initialized_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(init_mutex_);
  if (initialized_.load(std::memory_order_relaxed)) return;
  // Loading fills the subclass's data, which is part of the dataset's cached state.
  const int64_t n = const_cast<BaseDataset*>(this)->load_data_list();
  indices_ = resolve(options_.indices, n);
  initialized_.store(true, std::memory_order_release);
}

std::vector<int64_t> BaseDataset::resolve(const Indices& indices, int64_t n) const {
  std::vector<int64_t> out;
  if (const auto* count = std::get_if<int64_t>(&indices)) {
    const int64_t k = std::min(std::abs(*count), n);
    out.resize(size_t(k));
    std::iota(out.begin(), out.end(), *count >= 0 ? 0 : n - k);
  } else if (const auto* list = std::get_if<std::vector<int64_t>>(&indices)) {
    for (int64_t i : *list) {
      ANVIL_CHECK_INDEX(i >= -n && i < n, "dataset indices: {} out of range for {} samples", i, n);
      out.push_back(i < 0 ? i + n : i);
    }
  } else {
    out.resize(size_t(n));
    std::iota(out.begin(), out.end(), int64_t(0));
  }
  return out;
}

int64_t BaseDataset::size() const {
  full_init();
  return int64_t(indices_.size());
}

Metainfo BaseDataset::metainfo() const {
  Metainfo info = class_metainfo();
  for (const auto& [k, v] : options_.metainfo) info[k] = v;
  return info;
}

Sample BaseDataset::get_data_info(int64_t idx) const {
  const int64_t n = size();
  ANVIL_CHECK_INDEX(idx >= -n && idx < n, "dataset: index {} out of range for {} samples", idx, n);
  if (idx < 0) idx += n;
  Sample sample = raw_sample(indices_[size_t(idx)]);
  sample.index = idx;
  return sample;
}

Sample BaseDataset::fetch(int64_t idx, const RandomKey& key) const {
  Sample sample = get_data_info(idx);
  Rng rng(key);
  for (const auto& transform : options_.pipeline) transform->apply(sample, rng);
  return sample;
}

std::shared_ptr<BaseDataset> BaseDataset::subset_at(const std::vector<int64_t>& positions) const {
  auto subset = clone();
  subset->indices_.clear();
  for (int64_t p : positions) subset->indices_.push_back(indices_[size_t(p)]);
  return subset;
}

std::shared_ptr<BaseDataset> BaseDataset::get_subset(const std::vector<int64_t>& indices) const {
  return subset_at(resolve(indices, size()));
}

std::shared_ptr<BaseDataset> BaseDataset::get_subset(int64_t n) const {
  return subset_at(resolve(n, size()));
}

ConcatDataset::ConcatDataset(std::vector<std::shared_ptr<Dataset>> datasets,
                             std::vector<std::string> ignore_keys)
    : datasets_(std::move(datasets)) {
  ANVIL_CHECK(!datasets_.empty(), "ConcatDataset: no datasets");
  const Metainfo first = datasets_.front()->metainfo();
  for (size_t d = 1; d < datasets_.size(); ++d) {
    Metainfo info = datasets_[d]->metainfo();
    for (const auto& key : ignore_keys) info.erase(key);
    for (const auto& [key, value] : first) {
      if (std::find(ignore_keys.begin(), ignore_keys.end(), key) != ignore_keys.end()) continue;
      const auto it = info.find(key);
      ANVIL_CHECK(it != info.end() && it->second == value,
                  "ConcatDataset: metainfo '{}' of dataset {} differs from dataset 0's (pass it "
                  "in ignore_keys to concatenate anyway)",
                  key, d);
      info.erase(it);
    }
    ANVIL_CHECK(info.empty(), "ConcatDataset: dataset {} has metainfo '{}' that dataset 0 lacks", d,
                info.empty() ? "" : info.begin()->first);
  }
}

void ConcatDataset::full_init() const {
  std::call_once(init_, [&] {
    int64_t end = 0;
    for (const auto& d : datasets_) ends_.push_back(end += d->size());
  });
}

int64_t ConcatDataset::size() const {
  full_init();
  return ends_.back();
}

Sample ConcatDataset::fetch(int64_t idx, const RandomKey& key) const {
  full_init();
  const auto d = size_t(std::upper_bound(ends_.begin(), ends_.end(), idx) - ends_.begin());
  return datasets_[d]->get(idx - (d == 0 ? 0 : ends_[d - 1]), key);
}

RepeatDataset::RepeatDataset(std::shared_ptr<Dataset> dataset, int64_t times)
    : dataset_(std::move(dataset)), times_(times) {
  ANVIL_CHECK(times_ >= 1, "RepeatDataset: times must be >= 1, got {}", times_);
}

Sample RepeatDataset::fetch(int64_t idx, const RandomKey& key) const {
  return dataset_->get(idx % dataset_->size(), key);
}

}  // namespace anvil::engine
