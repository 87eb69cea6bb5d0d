#include "engine/visualization/tensorboard.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "engine/checksum.h"
#include "engine/visualization/png.h"
#include "tensor/error.h"

namespace anvil::engine {

namespace {

// ---- protobuf wire format: just what Event and Summary need --------------------------------

void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void tag(std::string& out, int field, int wire_type) {
  varint(out, static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire_type));
}

template <class T>
void fixed(std::string& out, int field, T v) {  // double (wire type 1) or float (5)
  tag(out, field, sizeof(T) == 8 ? 1 : 5);
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));  // little-endian, as the wire format
  out.append(bytes, sizeof(T));
}

void int_field(std::string& out, int field, int64_t v) {
  tag(out, field, 0);
  varint(out, static_cast<uint64_t>(v));
}

void bytes_field(std::string& out, int field, std::string_view v) {
  tag(out, field, 2);
  varint(out, v.size());
  out.append(v);
}

// Event{wall_time = 1, step = 2, summary = 5 {value = 1 {...}}}.
std::string summary_event(double wall_time, int64_t step, const std::string& value) {
  std::string summary, event;
  bytes_field(summary, 1, value);
  fixed(event, 1, wall_time);
  int_field(event, 2, step);
  bytes_field(event, 5, summary);
  return event;
}

double now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

namespace tensorboard {

std::string file_version_event(double wall_time) {
  std::string event;
  fixed(event, 1, wall_time);
  bytes_field(event, 3, "brain.Event:2");
  return event;
}

std::string scalar_event(double wall_time, int64_t step, const std::string& tag, float value) {
  std::string v;
  bytes_field(v, 1, tag);
  fixed(v, 2, value);  // simple_value
  return summary_event(wall_time, step, v);
}

// The text plugin's form: a rank-0 DT_STRING tensor with plugin_name "text".
std::string text_event(double wall_time, int64_t step, const std::string& tag,
                       const std::string& text) {
  std::string plugin, metadata, tensor, shape, v;
  bytes_field(plugin, 1, "text");
  bytes_field(metadata, 1, plugin);
  int_field(tensor, 1, 7);  // dtype DT_STRING
  bytes_field(tensor, 2, shape);
  bytes_field(tensor, 8, text);  // string_val
  bytes_field(v, 1, tag);
  bytes_field(v, 9, metadata);
  bytes_field(v, 8, tensor);
  return summary_event(wall_time, step, v);
}

// Summary.Value.image = 4: Image{height = 1, width = 2, colorspace = 3, encoded_image_string = 4}.
std::string image_event(double wall_time, int64_t step, const std::string& tag,
                        const Tensor& image) {
  std::string img, v;
  int_field(img, 1, image.size(0));
  int_field(img, 2, image.size(1));
  int_field(img, 3, image.dim() == 3 ? image.size(2) : 1);
  bytes_field(img, 4, encode_png(image));
  bytes_field(v, 1, tag);
  bytes_field(v, 4, img);
  return summary_event(wall_time, step, v);
}

std::string record(std::string_view data) {
  std::string out;
  const uint64_t n = data.size();
  char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  auto u32 = [&out](uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  out.append(len, 8);
  u32(masked_crc32c(std::string_view(len, 8)));
  out.append(data);
  u32(masked_crc32c(data));
  return out;
}

}  // namespace tensorboard

EventWriter::EventWriter(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  ANVIL_CHECK(!ec, "TensorBoard: cannot create the directory '{}': {}", dir, ec.message());
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  static std::atomic<int> counter{0};
  const double t = now();
  path_ = fmt::format("{}/events.out.tfevents.{:010d}.{}.{}.{}", dir, static_cast<int64_t>(t), host,
                      getpid(), counter++);
  out_.open(path_, std::ios::binary | std::ios::trunc);
  ANVIL_CHECK(out_.good(), "TensorBoard: cannot create the event file '{}'", path_);
  write(tensorboard::file_version_event(t));
}

void EventWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  write(tensorboard::scalar_event(now(), step, tag, static_cast<float>(value)));
}

void EventWriter::add_text(const std::string& tag, const std::string& text, int64_t step) {
  write(tensorboard::text_event(now(), step, tag, text));
}

void EventWriter::add_image(const std::string& tag, const Tensor& image, int64_t step) {
  write(tensorboard::image_event(now(), step, tag, image));
}

void EventWriter::write(const std::string& event) {
  const std::string r = tensorboard::record(event);
  out_.write(r.data(), static_cast<std::streamsize>(r.size()));
  out_.flush();
  ANVIL_CHECK(out_.good(), "TensorBoard: cannot write to '{}'", path_);
}

}  // namespace anvil::engine
