#include "engine/data/sample.h"

#include <cstring>

#include "tensor/error.h"
#include "tensor/ops/factory.h"

namespace anvil::engine {

Tensor stack_tensors(const std::vector<Tensor>& tensors, const std::string& what) {
  ANVIL_CHECK(!tensors.empty(), "collate: no {} to stack", what);
  const Tensor& first = tensors.front();
  Shape shape{int64_t(tensors.size())};
  shape.insert(shape.end(), first.shape().begin(), first.shape().end());
  Tensor out = empty(shape, TensorOptions(first.dtype()));
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    ANVIL_CHECK(t.defined() && t.shape() == first.shape() && t.dtype() == first.dtype(),
                "collate: {} of sample {} is {}, expected {} like sample 0 (default_collate "
                "stacks equal shapes; resize or crop to one size first)",
                what, i, t.defined() ? t.describe() : "undefined", first.describe());
    Tensor row = out.select(0, int64_t(i));
    if (t.is_cpu() && t.is_contiguous()) {
      std::memcpy(row.raw_data(), t.raw_data(), size_t(t.nbytes()));
    } else {
      row.copy_(t);
    }
  }
  return out;
}

namespace {

std::vector<std::string> keys_of(const Sample& s) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : s.fields) keys.push_back("field " + k);
  for (const auto& [k, v] : s.meta) keys.push_back("meta " + k);
  return keys;
}

}  // namespace

Batch default_collate(std::vector<Sample>&& samples) {
  ANVIL_CHECK(!samples.empty(), "default_collate: empty batch");
  const Sample& first = samples.front();
  const auto first_keys = keys_of(first);
  for (size_t i = 1; i < samples.size(); ++i) {
    ANVIL_CHECK(keys_of(samples[i]) == first_keys,
                "default_collate: sample {} (index {}) has keys {}, sample 0 (index {}) has {}", i,
                samples[i].index, keys_of(samples[i]), first.index, first_keys);
  }
  const auto n = int64_t(samples.size());
  Batch batch;
  std::vector<Tensor> parts(samples.size());
  if (first.inputs.defined()) {
    for (size_t i = 0; i < samples.size(); ++i) parts[i] = samples[i].inputs;
    batch.inputs = stack_tensors(parts, "inputs");
  }
  batch.labels = empty({n}, TensorOptions(DType::i64));
  batch.indices = empty({n}, TensorOptions(DType::i64));
  for (int64_t i = 0; i < n; ++i) {
    batch.labels.data_ptr<int64_t>()[i] = samples[size_t(i)].label;
    batch.indices.data_ptr<int64_t>()[i] = samples[size_t(i)].index;
  }
  for (const auto& [key, value] : first.fields) {
    for (size_t i = 0; i < samples.size(); ++i) parts[i] = samples[i].fields.at(key);
    batch.fields[key] = stack_tensors(parts, "field '" + key + "'");
  }
  for (const auto& [key, value] : first.meta) {
    bool all_int = true;
    for (const Sample& s : samples)
      all_int = all_int && std::holds_alternative<int64_t>(s.meta.at(key));
    if (all_int) {
      Tensor gathered = empty({n}, TensorOptions(DType::i64));
      for (int64_t i = 0; i < n; ++i)
        gathered.data_ptr<int64_t>()[i] = std::get<int64_t>(samples[size_t(i)].meta.at(key));
      batch.fields[key] = gathered;
    } else {
      auto& list = batch.meta[key];
      for (Sample& s : samples) list.push_back(std::move(s.meta.at(key)));
    }
  }
  return batch;
}

}  // namespace anvil::engine
