#include "engine/model/base_model.h"

#include <fmt/ranges.h>

#include "anvil.h"

namespace anvil::engine {

std::pair<Tensor, Scalars> parse_losses(const Losses& losses) {
  Tensor total;
  Scalars log_vars{{"loss", 0.0}};
  for (const auto& [name, value] : losses) {
    ANVIL_CHECK(value.defined(), "parse_losses: the loss term '{}' is undefined", name);
    const Tensor mean = value.numel() == 1 ? value.reshape({}) : value.mean();
    if (name.find("loss") != std::string::npos) total = total.defined() ? total + mean : mean;
    log_vars.emplace_back(name, mean.item<double>());
  }
  ANVIL_CHECK(total.defined(),
              "parse_losses: no term's name contains 'loss' (got {}): nothing to optimise", [&] {
                std::string names;
                for (const auto& [n, v] : losses) names += (names.empty() ? "" : ", ") + n;
                return names.empty() ? std::string("none") : names;
              }());
  log_vars[0].second = total.item<double>();
  return {total, log_vars};
}

// ---- preprocessors ------------------------------------------------------------------------------

BaseDataPreprocessor::BaseDataPreprocessor() {
  device_marker_ = register_buffer("_device", zeros({0}), /*persistent=*/false);
}

Device BaseDataPreprocessor::device() const {
  return device_marker_.device();
}

Batch BaseDataPreprocessor::process(Batch batch, bool /*training*/) {
  const Device d = device();
  auto move = [&](Tensor& t) {
    if (t.defined()) t = t.to(d);
  };
  move(batch.inputs);
  if (batch.inputs.defined() && is_floating(batch.inputs.dtype())) {
    batch.inputs = batch.inputs.to(DType::f32);
  }
  move(batch.labels);
  move(batch.indices);
  for (auto& [name, t] : batch.fields) move(t);
  return batch;
}

ImgDataPreprocessor::ImgDataPreprocessor(ImgDataPreprocessorOptions o) : options(std::move(o)) {
  ANVIL_CHECK(options.mean.empty() == options.std.empty(),
              "ImgDataPreprocessor: give both mean and std or neither (got {} and {} values)",
              options.mean.size(), options.std.size());
  ANVIL_CHECK(options.mean.size() <= 3 && options.mean.size() != 2 &&
                  options.std.size() == options.mean.size(),
              "ImgDataPreprocessor: mean and std take 1 or 3 values each (got {} and {})",
              options.mean.size(), options.std.size());
  ANVIL_CHECK(!(options.bgr_to_rgb && options.rgb_to_bgr),
              "ImgDataPreprocessor: bgr_to_rgb and rgb_to_bgr cannot both be set");
  ANVIL_CHECK(options.pad_size_divisor >= 1,
              "ImgDataPreprocessor: pad_size_divisor must be >= 1, got {}",
              options.pad_size_divisor);
  if (!options.mean.empty()) {
    const auto c = static_cast<int64_t>(options.mean.size());
    mean = register_buffer("mean", tensor(options.mean).to(DType::f32).view({c, 1, 1}), false);
    std = register_buffer("std", tensor(options.std).to(DType::f32).view({c, 1, 1}), false);
  }
}

Batch ImgDataPreprocessor::process(Batch batch, bool training) {
  batch = BaseDataPreprocessor::process(std::move(batch), training);
  Tensor x = batch.inputs;
  ANVIL_CHECK(x.defined() && x.dim() == 4,
              "ImgDataPreprocessor: expected batched images [N, C, H, W], got {}",
              x.defined() ? x.describe() : std::string("no inputs"));
  if (options.bgr_to_rgb || options.rgb_to_bgr) {
    ANVIL_CHECK(x.size(1) == 3, "ImgDataPreprocessor: a channel flip needs 3 channels, got {}",
                x.describe());
    x = flip(x, {1});
  }
  x = x.to(DType::f32);
  if (mean.defined()) {
    ANVIL_CHECK(mean.size(0) == 1 || x.size(1) == mean.size(0),
                "ImgDataPreprocessor: {} mean values for images {}", mean.size(0), x.describe());
    x = (x - mean) / std;
  }
  const int64_t d = options.pad_size_divisor;
  const int64_t pad_h = (d - x.size(2) % d) % d, pad_w = (d - x.size(3) % d) % d;
  if (pad_h > 0 || pad_w > 0)
    x = pad(x, {0, pad_w, 0, pad_h}, PadMode::constant, options.pad_value);
  batch.inputs = x;
  return batch;
}

// ---- BaseModel ----------------------------------------------------------------------------------

BaseModel::BaseModel(std::shared_ptr<BaseDataPreprocessor> preprocessor)
    : data_preprocessor(preprocessor ? std::move(preprocessor)
                                     : std::make_shared<BaseDataPreprocessor>()) {
  register_module("data_preprocessor", data_preprocessor);
}

Scalars BaseModel::train_step(Batch batch, OptimWrapper& optim_wrapper) {
  Losses losses;
  {
    const OptimContext context = optim_wrapper.optim_context(*this);
    batch = data_preprocessor->process(std::move(batch), /*training=*/true);
    ModelOutput out = forward(batch, Mode::loss);
    ANVIL_CHECK(std::holds_alternative<Losses>(out),
                "{}::forward in loss mode must return Losses, got Outputs", type_name());
    losses = std::get<Losses>(std::move(out));
  }
  auto [total, log_vars] = parse_losses(losses);
  optim_wrapper.update_params(total);
  return log_vars;
}

Scalars BaseModel::train_step(Batch, OptimWrapperDict& optim_wrappers) {
  throw ValueError(fmt::format(
      "{}::train_step: the runner has several optimizer wrappers ({}); a model trained with an "
      "OptimWrapperDict must override train_step(Batch, OptimWrapperDict&)",
      type_name(), fmt::join(optim_wrappers.keys(), ", ")));
}

Outputs BaseModel::predict(Batch batch) {
  batch = data_preprocessor->process(std::move(batch), /*training=*/false);
  ModelOutput out = forward(batch, Mode::predict);
  ANVIL_CHECK(std::holds_alternative<Outputs>(out),
              "{}::forward in predict mode must return Outputs, got Losses", type_name());
  return std::get<Outputs>(std::move(out));
}

Outputs BaseModel::val_step(Batch batch) {
  return predict(std::move(batch));
}

Outputs BaseModel::test_step(Batch batch) {
  return predict(std::move(batch));
}

}  // namespace anvil::engine
