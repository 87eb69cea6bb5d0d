// The toy training problem the runner and hook tests share: a ToyBlobs dataset (registered in
// DATASETS), a TOML config around it, and a hook that interrupts a run.
#pragma once

#include <filesystem>
#include <string>

#include "engine/config/config.h"
#include "engine/hooks/hook.h"

namespace anvil::engine::fixtures {

// An empty directory under the temporary directory: <tmp>/anvil_<name>.
std::filesystem::path fresh_dir(const std::string& name);

// The toy problem in a config: 24 training images in batches of 4 (6 iterations per epoch, random
// flips, dropout, SGD with momentum, a LinearLR warm-up and a MultiStepLR), validation on 16, seed
// 3. `train_cfg` is the train_cfg table; `extra` is appended after the [optim_wrapper] table.
std::string toy_config_text(const std::filesystem::path& work_dir, const std::string& train_cfg,
                            const std::string& extra = "");
// `text` written as work_dir/toy.toml and read back (so errors name toy.toml and its lines).
Config write_config(const std::filesystem::path& work_dir, const std::string& text);
Config toy_config(const std::filesystem::path& work_dir, const std::string& train_cfg,
                  const std::string& extra = "");

std::string read(const std::filesystem::path& path);

// Stops training after `epochs` epochs (or `iters` iterations), after that step's checkpoint: an
// interrupted run.
class StopHook final : public Hook {
 public:
  StopHook(int64_t epochs, int64_t iters) : epochs_(epochs), iters_(iters) {}
  std::string name() const override { return "StopHook"; }
  int priority() const override { return static_cast<int>(Priority::LOWEST); }
  void after_train_epoch(Runner& r) override;
  void after_train_iter(Runner& r, int64_t, const Batch&, const Scalars&) override;

 private:
  int64_t epochs_, iters_;
};

}  // namespace anvil::engine::fixtures
