// MMEngine's Visualizer and its storage backends (mmengine/visualization): the runner's logged
// scalars, the config and images go to every backend. LocalVisBackend writes
// <save_dir>/scalars.json (JSON lines, one object per call with its "step"), config.toml and
// vis_image/<name>_<step>.png; TensorboardVisBackend writes an event file TensorBoard reads.
// Backends create their directory on first use, as MMEngine's do lazily. Without backends a
// Visualizer has a LocalVisBackend, as the runner's default.
//
//   engine::Visualizer vis(log_dir);                   // backends in log_dir/vis_data
//   vis.add_backend(std::make_shared<engine::TensorboardVisBackend>(vis.backend_dir()));
//   vis.add_scalars({{"loss", 0.31}, {"lr", 0.1}}, /*step=*/50);
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/config/config.h"
#include "engine/scalars.h"
#include "engine/visualization/tensorboard.h"
#include "tensor/tensor.h"

namespace anvil::engine {

class VisBackend {
 public:
  virtual ~VisBackend() = default;
  // The backend's name in its Visualizer (MMEngine: the class name unless given).
  virtual std::string name() const = 0;
  virtual void add_config(const std::string& text) = 0;
  // `file_path`: a second JSON-lines file (LoggerHook's "<timestamp>.json"); other backends ignore
  // it.
  virtual void add_scalars(const Scalars& scalars, int64_t step, const std::string& file_path) = 0;
  // `image`: u8 [H, W] or [H, W, C] (C = 1, 3, 4).
  virtual void add_image(const std::string& name, const Tensor& image, int64_t step) = 0;
  virtual void close() {}
};

struct LocalVisBackendOptions {
  std::string img_save_dir = "vis_image";
  std::string config_save_file = "config.toml";
  std::string scalar_save_file = "scalars.json";
};

class LocalVisBackend final : public VisBackend {
 public:
  explicit LocalVisBackend(std::string save_dir, LocalVisBackendOptions options = {});
  std::string name() const override { return "LocalVisBackend"; }
  void add_config(const std::string& text) override;
  void add_scalars(const Scalars& scalars, int64_t step, const std::string& file_path) override;
  void add_image(const std::string& name, const Tensor& image, int64_t step) override;

 private:
  std::string dir(const std::string& sub = "") const;  // created on first use
  std::string save_dir_;
  LocalVisBackendOptions options_;
};

class TensorboardVisBackend final : public VisBackend {
 public:
  explicit TensorboardVisBackend(std::string save_dir);
  std::string name() const override { return "TensorboardVisBackend"; }
  void add_config(const std::string& text) override;  // a text summary "config"
  void add_scalars(const Scalars& scalars, int64_t step, const std::string& file_path) override;
  void add_image(const std::string& name, const Tensor& image, int64_t step) override;
  void close() override { writer_.reset(); }

 private:
  EventWriter& writer();  // the event file, opened on first use
  std::string save_dir_;
  std::unique_ptr<EventWriter> writer_;
};

class Visualizer {
 public:
  // `vis_backends` are config tables built through VISBACKENDS ({type = "LocalVisBackend"},
  // {type = "TensorboardVisBackend"}), in save_dir/vis_data (MMEngine's layout). Only rank 0
  // records (the others' calls do nothing), as MMEngine's master_only methods.
  explicit Visualizer(std::string save_dir, const std::vector<Config>& vis_backends = {},
                      int rank = 0);
  ~Visualizer();
  Visualizer(const Visualizer&) = delete;
  Visualizer& operator=(const Visualizer&) = delete;

  std::string backend_dir() const { return save_dir_ + "/vis_data"; }
  // Adds a backend; two with the same name are an error.
  void add_backend(std::shared_ptr<VisBackend> backend);
  // The backend called `name`, or null.
  std::shared_ptr<VisBackend> get_backend(const std::string& name) const;

  void add_config(const std::string& text);
  void add_scalar(const std::string& name, double value, int64_t step = 0);
  void add_scalars(const Scalars& scalars, int64_t step = 0, const std::string& file_path = "");
  void add_image(const std::string& name, const Tensor& image, int64_t step = 0);
  void close();

 private:
  std::string save_dir_;
  int rank_;
  std::vector<std::shared_ptr<VisBackend>> backends_;
};

}  // namespace anvil::engine
