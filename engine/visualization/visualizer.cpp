#include "engine/visualization/visualizer.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/registry/registries.h"
#include "engine/visualization/png.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"

namespace anvil::engine {

namespace {

std::string ensure_dir(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  ANVIL_CHECK(!ec, "visualizer: cannot create the directory '{}': {}", path, ec.message());
  return path;
}

void append_line(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  out << line << '\n';
  ANVIL_CHECK(out.good(), "LocalVisBackend: cannot append to '{}'", path);
}

}  // namespace

// ---- LocalVisBackend -------------------------------------------------------------------------

LocalVisBackend::LocalVisBackend(std::string save_dir, LocalVisBackendOptions options)
    : save_dir_(std::move(save_dir)), options_(std::move(options)) {
  ANVIL_CHECK(options_.scalar_save_file.ends_with(".json"),
              "LocalVisBackend: scalar_save_file must end in .json, got '{}'",
              options_.scalar_save_file);
}

std::string LocalVisBackend::dir(const std::string& sub) const {
  return ensure_dir(sub.empty() ? save_dir_ : save_dir_ + "/" + sub);
}

void LocalVisBackend::add_config(const std::string& text) {
  write_file_atomically(dir() + "/" + options_.config_save_file, text, "LocalVisBackend");
}

void LocalVisBackend::add_scalars(const Scalars& scalars, int64_t step,
                                  const std::string& file_path) {
  ANVIL_CHECK(file_path.empty() || file_path != options_.scalar_save_file,
              "LocalVisBackend: file_path '{}' must differ from scalar_save_file", file_path);
  nlohmann::ordered_json line = nlohmann::ordered_json::object();
  for (const auto& [tag, v] : scalars) {
    // Whole numbers (epoch, iter, memory) print as integers, as Python's json writes them.
    if (std::isfinite(v) && v == std::trunc(v) && std::abs(v) < 9.0e15) {
      line[tag] = static_cast<int64_t>(v);
    } else {
      line[tag] = v;
    }
  }
  line["step"] = step;
  const std::string text = line.dump();
  append_line(dir() + "/" + options_.scalar_save_file, text);
  if (!file_path.empty()) append_line(dir() + "/" + file_path, text);
}

void LocalVisBackend::add_image(const std::string& name, const Tensor& image, int64_t step) {
  write_png(fmt::format("{}/{}_{}.png", dir(options_.img_save_dir), name, step), image);
}

// ---- TensorboardVisBackend -------------------------------------------------------------------

TensorboardVisBackend::TensorboardVisBackend(std::string save_dir)
    : save_dir_(std::move(save_dir)) {}

EventWriter& TensorboardVisBackend::writer() {
  if (!writer_) writer_ = std::make_unique<EventWriter>(save_dir_);
  return *writer_;
}

void TensorboardVisBackend::add_config(const std::string& text) {
  writer().add_text("config", text, 0);
}

void TensorboardVisBackend::add_scalars(const Scalars& scalars, int64_t step, const std::string&) {
  for (const auto& [tag, v] : scalars) {
    ANVIL_CHECK(tag != "step", "TensorboardVisBackend: a scalar may not be called 'step'");
    writer().add_scalar(tag, v, step);
  }
}

void TensorboardVisBackend::add_image(const std::string& name, const Tensor& image, int64_t step) {
  writer().add_image(name, image, step);
}

ANVIL_REGISTER(VISBACKENDS, "LocalVisBackend",
               [](const Config& cfg, std::filesystem::path save_dir) {
                 cfg.check_keys({"img_save_dir", "config_save_file", "scalar_save_file"});
                 LocalVisBackendOptions o;
                 o.img_save_dir = cfg.get_or("img_save_dir", o.img_save_dir);
                 o.config_save_file = cfg.get_or("config_save_file", o.config_save_file);
                 o.scalar_save_file = cfg.get_or("scalar_save_file", o.scalar_save_file);
                 return std::make_shared<LocalVisBackend>(save_dir.string(), o);
               });

ANVIL_REGISTER(VISBACKENDS, "TensorboardVisBackend",
               [](const Config& cfg, std::filesystem::path save_dir) {
                 cfg.check_keys({});
                 return std::make_shared<TensorboardVisBackend>(save_dir.string());
               });

// ---- Visualizer ------------------------------------------------------------------------------

Visualizer::Visualizer(std::string save_dir, const std::vector<Config>& vis_backends, int rank)
    : save_dir_(std::move(save_dir)), rank_(rank) {
  for (const Config& b : vis_backends) add_backend(VISBACKENDS.build(b, backend_dir()));
  if (vis_backends.empty()) add_backend(std::make_shared<LocalVisBackend>(backend_dir()));
}

Visualizer::~Visualizer() {
  close();
}

void Visualizer::add_backend(std::shared_ptr<VisBackend> backend) {
  ANVIL_CHECK(backend != nullptr, "Visualizer::add_backend: null backend");
  ANVIL_CHECK(!get_backend(backend->name()), "Visualizer: a backend called '{}' is there already",
              backend->name());
  backends_.push_back(std::move(backend));
}

std::shared_ptr<VisBackend> Visualizer::get_backend(const std::string& name) const {
  for (const auto& b : backends_)
    if (b->name() == name) return b;
  return nullptr;
}

void Visualizer::add_config(const std::string& text) {
  if (rank_ != 0) return;
  for (const auto& b : backends_) b->add_config(text);
}

void Visualizer::add_scalar(const std::string& name, double value, int64_t step) {
  add_scalars({{name, value}}, step);
}

void Visualizer::add_scalars(const Scalars& scalars, int64_t step, const std::string& file_path) {
  if (rank_ != 0) return;
  for (const auto& b : backends_) b->add_scalars(scalars, step, file_path);
}

void Visualizer::add_image(const std::string& name, const Tensor& image, int64_t step) {
  if (rank_ != 0) return;
  for (const auto& b : backends_) b->add_image(name, image, step);
}

void Visualizer::close() {
  for (const auto& b : backends_) b->close();
}

}  // namespace anvil::engine
