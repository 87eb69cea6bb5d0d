// Visualization backends: the TensorBoard event file read back by a decoder written here from
// the TFRecord and protobuf specifications (bitwise CRC-32C, generic wire-format parser), golden
// bytes cross-checked with python3-protobuf (shared/reference/ecosystem.md §2), the local
// backend's JSON lines, and PNG files checked chunk by chunk with zlib.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "anvil.h"
#include "common/op_test.h"
#include "engine/visualization/png.h"
#include "engine/visualization/visualizer.h"

namespace anvil::engine {
namespace {

namespace fs = std::filesystem;

std::string hex(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fresh directory under the test temp dir.
fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::path(::testing::TempDir()) / ("anvil_vis_" + name);
  fs::remove_all(d);
  return d;
}

// ---- an independent reader --------------------------------------------------------------------

uint32_t bitwise_crc32c(std::string_view data) {
  uint32_t c = ~0u;
  for (unsigned char b : data) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
  }
  return ~c;
}

uint32_t unmask(uint32_t m) {
  const uint32_t r = m - 0xa282ead8u;
  return (r << 15) | (r >> 17);
}

uint64_t le(std::string_view s, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(s[i])) << (8 * i);
  return v;
}

// The records of a TFRecord file, both CRCs verified.
std::vector<std::string> records(const std::string& file) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < file.size()) {
    EXPECT_GE(file.size() - pos, 12u);
    const std::string_view len(file.data() + pos, 8);
    const uint64_t n = le(len, 8);
    EXPECT_EQ(unmask(static_cast<uint32_t>(le(std::string_view(file).substr(pos + 8), 4))),
              bitwise_crc32c(len));
    const std::string data = file.substr(pos + 12, n);
    EXPECT_EQ(unmask(static_cast<uint32_t>(le(std::string_view(file).substr(pos + 12 + n), 4))),
              bitwise_crc32c(data));
    out.push_back(data);
    pos += 12 + n + 4;
  }
  return out;
}

// field number -> raw values (varints as numbers in `ints`, everything else as bytes).
struct Message {
  std::multimap<int, uint64_t> ints;
  std::multimap<int, std::string> bytes;
};

Message parse(std::string_view s) {
  Message m;
  size_t i = 0;
  auto varint = [&] {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      const auto b = static_cast<unsigned char>(s.at(i++));
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (i < s.size()) {
    const uint64_t key = varint();
    const int field = static_cast<int>(key >> 3);
    switch (key & 7) {
      case 0:
        m.ints.emplace(field, varint());
        break;
      case 1:
        m.bytes.emplace(field, std::string(s.substr(i, 8)));
        i += 8;
        break;
      case 5:
        m.bytes.emplace(field, std::string(s.substr(i, 4)));
        i += 4;
        break;
      case 2: {
        const uint64_t n = varint();
        m.bytes.emplace(field, std::string(s.substr(i, n)));
        i += n;
        break;
      }
      default:
        ADD_FAILURE() << "unexpected wire type " << (key & 7);
        return m;
    }
  }
  return m;
}

template <class T>
T as(const std::string& bytes) {
  T v;
  std::memcpy(&v, bytes.data(), sizeof(T));
  return v;
}

// ---- tests ------------------------------------------------------------------------------------

TEST(TensorBoard, Crc32cKnownAnswer) {
  EXPECT_EQ(crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(crc32c("123456789"), bitwise_crc32c("123456789"));
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(TensorBoard, EventBytesEqualProtobufs) {
  EXPECT_EQ(hex(tensorboard::file_version_event(1700000000.0)),
            "0900000040fc54d9411a0d" + hex("brain.Event:2"));
  const std::string scalar = tensorboard::scalar_event(1700000001.0, 10, "train/loss", 0.5f);
  EXPECT_EQ(hex(scalar), "0900004040fc54d941100a2a130a110a0a747261696e2f6c6f7373150000003f");
  const std::string rec = tensorboard::record(scalar);
  EXPECT_EQ(rec.size(), 48u);
  EXPECT_EQ(hex(rec.substr(0, 12)), "200000000000000029eda950");
  EXPECT_EQ(hex(rec.substr(44)), "a7e63d51");
}

TEST(TensorBoard, BackendWritesAFileTheReaderDecodes) {
  const fs::path dir = temp_dir("tb");
  {
    Visualizer vis(dir.string(), {Config::table({{"type", "TensorboardVisBackend"}})});
    vis.add_scalars({{"loss", 2.25}, {"lr", 0.1}}, 7);
    vis.add_scalar("acc", 0.875, 8);
    vis.add_config("model = \"ResNet\"");
    vis.add_image("grid", full({2, 3, 3}, 200, DType::u8), 9);
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir / "vis_data")) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(files[0].filename().string().starts_with("events.out.tfevents."));
  const std::vector<std::string> recs = records(read_file(files[0]));
  ASSERT_EQ(recs.size(), 6u);  // file version, 3 scalars, text, image
  EXPECT_EQ(parse(recs[0]).bytes.find(3)->second, "brain.Event:2");

  struct Scalar {
    std::string tag;
    int64_t step;
    float value;
  };
  std::vector<Scalar> scalars;
  for (size_t r = 1; r <= 3; ++r) {
    const Message event = parse(recs[r]);
    const Message value = parse(parse(event.bytes.find(5)->second).bytes.find(1)->second);
    scalars.push_back({value.bytes.find(1)->second,
                       static_cast<int64_t>(event.ints.find(2)->second),
                       as<float>(value.bytes.find(2)->second)});
  }
  EXPECT_EQ(scalars[0].tag, "loss");
  EXPECT_EQ(scalars[0].step, 7);
  EXPECT_EQ(scalars[0].value, 2.25f);
  EXPECT_EQ(scalars[1].tag, "lr");
  EXPECT_EQ(scalars[1].value, 0.1f);
  EXPECT_EQ(scalars[2].tag, "acc");
  EXPECT_EQ(scalars[2].step, 8);

  const Message text = parse(parse(parse(recs[4]).bytes.find(5)->second).bytes.find(1)->second);
  EXPECT_EQ(text.bytes.find(1)->second, "config");
  EXPECT_EQ(parse(text.bytes.find(8)->second).bytes.find(8)->second, "model = \"ResNet\"");
  EXPECT_EQ(parse(parse(text.bytes.find(9)->second).bytes.find(1)->second).bytes.find(1)->second,
            "text");

  const Message image = parse(parse(parse(recs[5]).bytes.find(5)->second).bytes.find(1)->second);
  const Message img = parse(image.bytes.find(4)->second);
  EXPECT_EQ(img.ints.find(1)->second, 2u);  // height
  EXPECT_EQ(img.ints.find(2)->second, 3u);  // width
  EXPECT_EQ(img.ints.find(3)->second, 3u);  // channels
  EXPECT_TRUE(img.bytes.find(4)->second.starts_with("\x89PNG"));
}

TEST(TensorBoard, ScalarNamedStepIsAnError) {
  TensorboardVisBackend b(temp_dir("tb_step").string());
  testing::expect_error([&] { b.add_scalars({{"step", 1}}, 0, ""); }, {"'step'"});
}

TEST(LocalVisBackend, WritesJsonLinesConfigAndImages) {
  const fs::path dir = temp_dir("local");
  Visualizer vis(dir.string());
  vis.add_scalars({{"lr", 0.001}, {"loss", 2.5}, {"epoch", 1}, {"iter", 50}}, 50, "20261126.json");
  vis.add_scalars({{"accuracy/top1", 91.25}}, 1);
  vis.add_config("a = 1\n");
  vis.add_image("sample", zeros({4, 5}, DType::u8), 3);
  const fs::path v = dir / "vis_data";
  EXPECT_EQ(read_file(v / "scalars.json"),
            "{\"lr\":0.001,\"loss\":2.5,\"epoch\":1,\"iter\":50,\"step\":50}\n"
            "{\"accuracy/top1\":91.25,\"step\":1}\n");
  EXPECT_EQ(read_file(v / "20261126.json"),
            "{\"lr\":0.001,\"loss\":2.5,\"epoch\":1,\"iter\":50,\"step\":50}\n");
  EXPECT_EQ(read_file(v / "config.toml"), "a = 1\n");
  EXPECT_TRUE(fs::exists(v / "vis_image" / "sample_3.png"));
}

TEST(LocalVisBackend, NothingIsWrittenUntilUsedNorOnOtherRanks) {
  const fs::path dir = temp_dir("lazy");
  {
    Visualizer vis(dir.string());
    EXPECT_FALSE(fs::exists(dir));
    Visualizer rank1(dir.string(), {}, /*rank=*/1);
    rank1.add_scalar("loss", 1.0, 1);
    EXPECT_FALSE(fs::exists(dir));
  }
}

TEST(Visualizer, BackendsFromConfigTables) {
  const fs::path dir = temp_dir("tables");
  Visualizer vis(
      dir.string(),
      {Config::table({{"type", "LocalVisBackend"}, {"scalar_save_file", "metrics.json"}}),
       Config::table({{"type", "TensorboardVisBackend"}})});
  vis.add_scalar("loss", 1.5, 2);
  EXPECT_EQ(read_file(dir / "vis_data" / "metrics.json"), "{\"loss\":1.5,\"step\":2}\n");
  EXPECT_NE(vis.get_backend("TensorboardVisBackend"), nullptr);
  testing::expect_error([&] { vis.add_backend(std::make_shared<LocalVisBackend>("x")); },
                        {"'LocalVisBackend'", "already"});
  testing::expect_error(
      [&] {
        Visualizer(dir.string(), {Config::table({{"type", "Wandb"}})});
      },
      {"Wandb", "LocalVisBackend", "TensorboardVisBackend"});
  testing::expect_error(
      [&] {
        Visualizer(dir.string(), {Config::table({{"type", "LocalVisBackend"}, {"dir", "x"}})});
      },
      {"dir", "scalar_save_file"});
}

// ---- PNG ----------------------------------------------------------------------------------------

TEST(Png, ChunksCrcsAndPixels) {
  std::vector<uint8_t> pixels(2 * 3 * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 13);
  const Tensor image =
      tensor(std::vector<int64_t>(pixels.begin(), pixels.end()), {2, 3, 3}).to(DType::u8);
  const std::string png = encode_png(image);
  ASSERT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  std::map<std::string, std::string> chunks;
  for (size_t pos = 8; pos < png.size();) {
    const uint32_t n = be32(pos);
    const std::string type = png.substr(pos + 4, 4), data = png.substr(pos + 8, n);
    const std::string body = png.substr(pos + 4, 4 + n);
    EXPECT_EQ(be32(pos + 8 + n),
              crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())))
        << type;
    chunks[type] = data;
    pos += 12 + n;
  }
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(hex(chunks["IHDR"]),
            "00000003"
            "00000002"
            "0802000000");  // 3x2, 8-bit RGB
  std::string raw(2 * (1 + 9), '\0');
  uLongf n = raw.size();
  ASSERT_EQ(
      uncompress(reinterpret_cast<Bytef*>(raw.data()), &n,
                 reinterpret_cast<const Bytef*>(chunks["IDAT"].data()), chunks["IDAT"].size()),
      Z_OK);
  ASSERT_EQ(n, raw.size());
  for (int y = 0; y < 2; ++y) {
    EXPECT_EQ(raw[y * 10], 0);  // filter: none
    for (int i = 0; i < 9; ++i)
      EXPECT_EQ(static_cast<uint8_t>(raw[y * 10 + 1 + i]), pixels[y * 9 + i]);
  }
}

TEST(Png, RejectsWhatItCannotEncode) {
  testing::expect_error([] { encode_png(zeros({2, 2})); }, {"encode_png", "u8", "f32"});
  testing::expect_error(
      [] {
        encode_png(zeros({2, 2, 2}, DType::u8));
      },
      {"encode_png", "C = 1, 3 or 4", "[2,2,2]"});
}

}  // namespace
}  // namespace anvil::engine
