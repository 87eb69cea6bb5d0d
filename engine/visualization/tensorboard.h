// TensorBoard event files without TensorFlow or protobuf: TFRecord framing (length, masked
// CRC-32C of the length, data, masked CRC-32C of the data) around hand-encoded `Event` protos
// (tensorboard/compat/proto/event.proto, summary.proto). Scalars are written as `simple_value`,
// the form every TensorBoard version reads into its scalar dashboard.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "engine/checksum.h"
#include "tensor/tensor.h"

namespace anvil::engine {

// The encoded protos (exposed for tests and other writers).
namespace tensorboard {
std::string file_version_event(double wall_time);  // "brain.Event:2", the first record
std::string scalar_event(double wall_time, int64_t step, const std::string& tag, float value);
std::string text_event(double wall_time, int64_t step, const std::string& tag,
                       const std::string& text);
std::string image_event(double wall_time, int64_t step, const std::string& tag,
                        const Tensor& image);  // u8 HWC, stored as PNG
// One TFRecord around `data`.
std::string record(std::string_view data);
}  // namespace tensorboard

// Writes one new events.out.tfevents.<unix seconds>.<host>.<pid>.<n> file in `dir` (created
// when missing); every record is flushed as it is written, so a crashed run keeps its events.
class EventWriter {
 public:
  explicit EventWriter(const std::string& dir);
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  void add_scalar(const std::string& tag, double value, int64_t step);
  void add_text(const std::string& tag, const std::string& text, int64_t step);
  void add_image(const std::string& tag, const Tensor& image, int64_t step);
  const std::string& path() const { return path_; }

 private:
  void write(const std::string& event);
  std::string path_;
  std::ofstream out_;
};

}  // namespace anvil::engine
