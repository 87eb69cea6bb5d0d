// safetensors state dicts: round trips, the exact bytes of the public format, memory-mapped
// loading, atomic saving, and a reader that rejects every malformed file with a named fault.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/op_test.h"
#include "nn/serialize.h"

namespace anvil::nn {
namespace {

namespace fs = std::filesystem;
using testing::expect_error;
using testing::Layout;
using testing::random_tensor;
using testing::with_layout;

constexpr DType kAllDTypes[] = {DType::f32, DType::f64, DType::f16, DType::bf16,
                                DType::i64, DType::i32, DType::u8,  DType::boolean};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
}

std::string le64(uint64_t n) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out;
}

// A file with the given header (not padded) and data section.
std::string file_bytes(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// Same dtype, shape and bytes.
::testing::AssertionResult same_tensor(const Tensor& actual, const Tensor& expected) {
  if (actual.dtype() != expected.dtype() || actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure()
           << actual.describe() << " vs expected " << expected.describe();
  }
  const Tensor a = actual.contiguous(), e = expected.contiguous();
  if (a.nbytes() > 0 && std::memcmp(a.raw_data(), e.raw_data(), a.nbytes()) != 0) {
    return ::testing::AssertionFailure() << "values differ: " << a << " vs expected " << e;
  }
  return ::testing::AssertionSuccess();
}

class Safetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "anvil_safetensors_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  // The names in the directory: a failed save must leave no temporary file behind.
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string dir_;
};

TEST_F(Safetensors, RoundTripsEveryDtypeAndLayout) {
  for (DType dtype : kAllDTypes) {
    const Tensor base = random_tensor({3, 5}, dtype, 0, 100);
    NamedTensors state = {
        {"scalar", random_tensor({}, dtype, 0, 100, 7)},
        {"empty", random_tensor({0, 3}, dtype)},
        {"matrix", base},
        {"transposed", with_layout(base, Layout::transposed)},
        {"strided", with_layout(base, Layout::strided)},
        {"expanded", base[1].expand({2, 5})},
        {"param", is_floating(dtype) ? base.clone().requires_grad_() : base},
    };
    const std::string file = path(fmt::format("{}.safetensors", dtype_name(dtype)));
    save_safetensors(file, state);
    SafetensorsContents loaded = load_safetensors(file);
    ASSERT_EQ(loaded.tensors.size(), state.size());
    for (size_t i = 0; i < state.size(); ++i) {
      SCOPED_TRACE(fmt::format("{} {}", dtype_name(dtype), state[i].first));
      EXPECT_EQ(loaded.tensors[i].first, state[i].first);
      EXPECT_TRUE(loaded.tensors[i].second.is_contiguous());
      EXPECT_TRUE(same_tensor(loaded.tensors[i].second, state[i].second));
    }
    EXPECT_TRUE(loaded.metadata.empty());
  }
}

TEST_F(Safetensors, RoundTripsMetadataAndKeepsInsertionOrder) {
  const NamedTensors state = {{"z.weight", ones({2}, DType::f16)},
                              {"a.bias", zeros({3}, DType::i64)},
                              {"m.mask", ones({5}, DType::boolean)},
                              {"b.weight", full({2, 2}, 1.5)}};
  const SafetensorsMetadata metadata = {{"format", "pt"}, {"epoch", "3"}, {"note", "\"q\"\n\\"}};
  save_safetensors(path("m.safetensors"), state, metadata);
  SafetensorsFile file(path("m.safetensors"));
  EXPECT_EQ(file.metadata(), metadata);
  ASSERT_EQ(file.entries().size(), 4u);
  int64_t offset = 0;
  for (size_t i = 0; i < state.size(); ++i) {
    const SafetensorsEntry& e = file.entries()[i];
    EXPECT_EQ(e.name, state[i].first);
    EXPECT_EQ(e.begin, offset) << "the data are in insertion order too";
    offset = e.end;
    EXPECT_TRUE(same_tensor(file.tensor(e.name), state[i].second));
  }
  EXPECT_TRUE(file.contains("a.bias"));
  EXPECT_FALSE(file.contains("missing"));
  EXPECT_EQ(file.entry("a.bias").shape, (Shape{3}));
  expect_error([&] { file.tensor("missing"); }, {"m.safetensors", "no tensor named \"missing\""});
}

TEST_F(Safetensors, NamesWithEscapesAndUnicodeRoundTrip) {
  const std::string name = "a\"b\\c\nd\x01/é€😀";
  save_safetensors(path("n.safetensors"), {{name, ones({1})}, {"", zeros({1})}}, {{name, name}});
  const std::string bytes = read_bytes(path("n.safetensors"));
  // Escaped as serde_json does: short escapes, \u00XX for other control characters, raw UTF-8.
  EXPECT_NE(bytes.find(R"("a\"b\\c\nd\u0001/é€😀")"), std::string::npos);
  SafetensorsContents loaded = load_safetensors(path("n.safetensors"));
  EXPECT_EQ(loaded.tensors[0].first, name);
  EXPECT_EQ(loaded.tensors[1].first, "");
  EXPECT_EQ(loaded.metadata.at(name), name);
}

TEST_F(Safetensors, ReadsJsonEscapesOfOtherWriters) {
  // \u escapes (a surrogate pair among them), \/ and whitespace between tokens.
  const std::string header =
      " { \"w\\u00e9\\ud83d\\ude00\\/x\" : { \"shape\" : [ 1 ] , \"dtype\" : \"U8\" ,"
      " \"data_offsets\" : [ 0 , 1 ] } }\n\t\r";
  write_bytes(path("e.safetensors"), file_bytes(header, "\x2a"));
  SafetensorsFile file(path("e.safetensors"));
  ASSERT_EQ(file.entries().size(), 1u);
  EXPECT_EQ(file.entries()[0].name, "wé😀/x");
  EXPECT_EQ(file.tensor("wé😀/x").item<int64_t>(), 42);
}

// The bytes written by the reference implementation (Python safetensors 0.8.0,
// safetensors.numpy.save with metadata {"format": "pt"}) for these tensors, in the order that
// writer chose (by dtype alignment, then name).
TEST_F(Safetensors, WritesTheReferenceImplementationsBytes) {
  const NamedTensors state = {
      {"steps", scalar_tensor(7, DType::i64)},
      {"d", tensor<double>({0.25})},
      {"empty", zeros({0, 4}, DType::f64)},
      {"weight", tensor<float>({-1, -0.5, 0, 0.5, 1, 1.5}, {2, 3})},
      {"idx", tensor<int32_t>({-1, 2, 3})},
      {"bias", tensor<float>({1.5, -2}).to(DType::f16)},
      {"pix", tensor<uint8_t>({0, 255})},
      {"mask", tensor<bool>({true, false, true})},
  };
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"steps":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
      R"("d":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},)"
      R"("empty":{"dtype":"F64","shape":[0,4],"data_offsets":[16,16]},)"
      R"("weight":{"dtype":"F32","shape":[2,3],"data_offsets":[16,40]},)"
      R"("idx":{"dtype":"I32","shape":[3],"data_offsets":[40,52]},)"
      R"("bias":{"dtype":"F16","shape":[2],"data_offsets":[52,56]},)"
      R"("pix":{"dtype":"U8","shape":[2],"data_offsets":[56,58]},)"
      R"("mask":{"dtype":"BOOL","shape":[3],"data_offsets":[58,61]}} )";
  ASSERT_EQ(header.size(), 496u);
  const std::string data = from_hex(
      "0700000000000000000000000000d03f000080bf000000bf000000000000003f0000803f0000c03fffffffff02"
      "00000003000000003e00c000ff010001");
  const std::string expected = le64(496) + header + data;
  save_safetensors(path("ref.safetensors"), state, {{"format", "pt"}});
  EXPECT_EQ(read_bytes(path("ref.safetensors")), expected);

  // And the reference file reads back as those tensors.
  write_bytes(path("theirs.safetensors"), expected);
  SafetensorsContents loaded = load_safetensors(path("theirs.safetensors"));
  ASSERT_EQ(loaded.tensors.size(), state.size());
  for (size_t i = 0; i < state.size(); ++i) {
    EXPECT_EQ(loaded.tensors[i].first, state[i].first);
    EXPECT_TRUE(same_tensor(loaded.tensors[i].second, state[i].second)) << state[i].first;
  }
  EXPECT_EQ(loaded.metadata, (SafetensorsMetadata{{"format", "pt"}}));
}

TEST_F(Safetensors, HeaderIsPaddedWithSpacesAndHasNoMetadataKeyWhenEmpty) {
  save_safetensors(path("p.safetensors"), {{"a", ones({1}, DType::u8)}});
  const std::string bytes = read_bytes(path("p.safetensors"));
  const std::string header = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  const std::string padded = header + std::string((8 - header.size() % 8) % 8, ' ');
  EXPECT_EQ(bytes, le64(padded.size()) + padded + "\x01");
  save_safetensors(path("none.safetensors"), {});
  EXPECT_EQ(read_bytes(path("none.safetensors")), le64(8) + "{}      ");
  EXPECT_TRUE(load_safetensors(path("none.safetensors")).tensors.empty());
}

TEST_F(Safetensors, LoadedTensorsViewTheMappingAndOutliveTheFile) {
  const Tensor w = random_tensor({64, 32}, DType::f32);
  save_safetensors(path("w.safetensors"), {{"w", w}, {"b", ones({3}, DType::i64)}});
  Tensor view, copy_target = zeros({64, 32}, DType::f64);
  {
    SafetensorsFile file(path("w.safetensors"));
    view = file.tensor("w");
    // Views of the mapping, not copies.
    EXPECT_EQ(view.raw_data(), file.tensor("w").raw_data());
    file.copy_to("w", copy_target);
  }
  EXPECT_TRUE(same_tensor(view, w));
  EXPECT_TRUE(same_tensor(copy_target, w.to(DType::f64)));

  // Replacing the file (by rename) leaves the old mapping as it was.
  save_safetensors(path("w.safetensors"), {{"w", zeros({64, 32})}});
  EXPECT_TRUE(same_tensor(view, w));
  Tensor b = load_safetensors(path("w.safetensors")).tensors[0].second;
  fs::remove(path("w.safetensors"));
  EXPECT_TRUE(same_tensor(b, zeros({64, 32})));

  // Writing to a loaded tensor never reaches the file.
  save_safetensors(path("w.safetensors"), {{"w", w}});
  Tensor t = load_safetensors(path("w.safetensors")).tensors[0].second;
  t.add_(1);
  EXPECT_TRUE(same_tensor(t, w + 1));
  EXPECT_TRUE(same_tensor(load_safetensors(path("w.safetensors")).tensors[0].second, w));
}

TEST_F(Safetensors, CopyToConvertsDtypeButNotShape) {
  save_safetensors(path("c.safetensors"), {{"w", arange(6, DType::i32).reshape({2, 3})}});
  SafetensorsFile file(path("c.safetensors"));
  Tensor dst = zeros({3, 2}, DType::f32).t();  // non-contiguous destination
  file.copy_to("w", dst);
  EXPECT_EQ(dst.to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  // Into a parameter: no history is recorded, it stays a leaf.
  Tensor param = zeros({2, 3}).requires_grad_();
  file.copy_to("w", param);
  EXPECT_TRUE(param.is_leaf());
  EXPECT_TRUE(param.requires_grad());
  EXPECT_EQ(param.to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  Tensor wrong = zeros({6});
  expect_error([&] { file.copy_to("w", wrong); },
               {"c.safetensors", "copy_to \"w\"", "[2,3]", "[6] (f32, cpu)"});
}

TEST_F(Safetensors, MisalignedTensorsOfOtherWritersAreCopied) {
  // A 3-byte header and a 1-byte tensor first: the F32 tensor starts at an odd address.
  const std::string header = R"({"u":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                             R"("f":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}})";
  std::string data = "\x05";
  const float values[2] = {1.25f, -3.0f};
  data.append(reinterpret_cast<const char*>(values), sizeof(values));
  write_bytes(path("odd.safetensors"), file_bytes(header, data));
  SafetensorsFile file(path("odd.safetensors"));
  const Tensor f = file.tensor("f");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f.raw_data()) % alignof(float), 0u);
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{1.25f, -3.0f}));
  EXPECT_EQ(file.tensor("u").item<int64_t>(), 5);
}

TEST_F(Safetensors, SavesCudaTensors) {
  if (cuda_device_count() == 0) GTEST_SKIP() << cuda_unavailable_reason();
  const Tensor w = random_tensor({4, 3}, DType::f32);
  save_safetensors(path("cuda.safetensors"), {{"w", w.cuda().t()}});
  EXPECT_TRUE(same_tensor(load_safetensors(path("cuda.safetensors")).tensors[0].second, w.t()));
}

// ---- atomic saving ---------------------------------------------------------------------------

TEST_F(Safetensors, InvalidArgumentsLeaveTheOldFileAndNoTemporaryFile) {
  const std::string file = path("s.safetensors");
  save_safetensors(file, {{"w", ones({2})}});
  const std::string before = read_bytes(file);
  expect_error(
      [&] {
        save_safetensors(file, {{"w", ones({2})}, {"w", zeros({2})}});
      },
      {"s.safetensors", "duplicate tensor name \"w\""});
  expect_error(
      [&] {
        save_safetensors(file, {{"w", ones({2})}, {"u", Tensor()}});
      },
      {"s.safetensors", "tensor \"u\" is undefined"});
  expect_error(
      [&] {
        save_safetensors(file, {{"__metadata__", ones({2})}});
      },
      {"s.safetensors", "reserved"});
  expect_error(
      [&] {
        save_safetensors(file, {{"bad\xff", ones({2})}});
      },
      {"s.safetensors", "tensor name", "not valid UTF-8"});
  expect_error(
      [&] {
        save_safetensors(file, {}, {{"k", "\xc0\x80"}});
      },
      {"metadata value", "not valid UTF-8"});
  EXPECT_EQ(read_bytes(file), before);
  EXPECT_EQ(listing(), (std::vector<std::string>{"s.safetensors"}));
}

TEST_F(Safetensors, FailedRenameLeavesNoTemporaryFile) {
  fs::create_directory(path("target"));
  write_bytes(path("target/keep"), "x");
  expect_error(
      [&] {
        save_safetensors(path("target"), {{"w", ones({2})}});
      },
      {"save_safetensors", "target", "cannot rename"});
  EXPECT_EQ(listing(), (std::vector<std::string>{"target"}));
  EXPECT_EQ(read_bytes(path("target/keep")), "x");
  expect_error(
      [&] {
        save_safetensors(path("missing/w.safetensors"), {{"w", ones({2})}});
      },
      {"missing/w.safetensors", "cannot create a temporary file", "No such file"});
}

TEST_F(Safetensors, FailedWriteLeavesTheOldFileAndNoTemporaryFile) {
  const std::string file = path("big.safetensors");
  save_safetensors(file, {{"w", ones({4})}});
  const std::string before = read_bytes(file);
  // A file size limit makes the write fail half way (EFBIG instead of the signal).
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit = old_limit;
  limit.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  expect_error(
      [&] {
        save_safetensors(file, {{"w", ones({1 << 16})}});
      },
      {"big.safetensors", "cannot write the temporary file"});
  setrlimit(RLIMIT_FSIZE, &old_limit);
  signal(SIGXFSZ, old_handler);
  EXPECT_EQ(read_bytes(file), before);
  EXPECT_EQ(listing(), (std::vector<std::string>{"big.safetensors"}));
}

TEST_F(Safetensors, ATensorFailingHalfWayLeavesTheOldFileAndNoTemporaryFile) {
  if (cuda_device_count() > 0) GTEST_SKIP() << "needs a fake CUDA tensor that cannot be copied";
  const std::string file = path("half.safetensors");
  save_safetensors(file, {{"w", ones({4})}});
  const std::string before = read_bytes(file);
  // Tagged as CUDA memory in a build or on a machine without CUDA: copying it to the CPU throws
  // after the header and the first tensor were written.
  float host[4] = {};
  const Tensor fake = from_blob(host, {4}, DType::f32, Device::cuda(0));
  expect_error(
      [&] {
        save_safetensors(file, {{"a", ones({1000})}, {"fake", fake}});
      },
      {"CUDA"});  // "no CUDA backend" in a CPU-only build, "no CUDA device" in a CUDA build
  EXPECT_EQ(read_bytes(file), before);
  EXPECT_EQ(listing(), (std::vector<std::string>{"half.safetensors"}));
}

// ---- malformed files ---------------------------------------------------------------------------

struct Corrupt {
  std::string what;
  std::string bytes;
  std::vector<std::string> parts;
};

// One valid tensor "a" (two F32) to corrupt in each way.
const std::string kA = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
const std::string kData8(8, '\0');

std::vector<Corrupt> corrupt_cases() {
  auto f = [](const std::string& header, const std::string& data = kData8) {
    return file_bytes(header, data);
  };
  return {
      {"empty file", "", {"file is 0 bytes, shorter than the 8-byte header length"}},
      {"short file", "\x01\x02\x03\x04\x05", {"file is 5 bytes, shorter than"}},
      {"header past the file", le64(10) + "{}", {"header length 10 exceeds the 2 bytes"}},
      {"header over the limit",
       le64(100'000'001) + "{}",
       {"header length 100000001 exceeds the limit of 100000000 bytes"}},
      {"huge header length", le64(~0ull) + "{}", {"exceeds the limit"}},
      {"empty header", le64(0), {"not valid JSON", "expected an object, found the end"}},
      {"not JSON", f("{" + kA), {"not valid JSON", "expected '}', found the end"}},
      {"missing colon", f(R"({"a" {}})"), {"not valid JSON", "expected ':'"}},
      {"unquoted key", f("{a:1}"), {"not valid JSON", "expected a string key, found 'a'"}},
      {"trailing comma", f("{" + kA + ",}"), {"expected a string key, found '}'"}},
      {"trailing garbage", f("{" + kA + "} x"), {"'x' after the header object"}},
      {"two objects", f("{" + kA + "}{}"), {"an object after the header object"}},
      {"not an object", f("[1,2]"), {"the header must be an object, found an array"}},
      {"not UTF-8", f("{\"a\xff\":1}"), {"header is not valid UTF-8 (byte 3"}},
      {"unterminated string", f(R"({"a)"), {"unterminated string"}},
      {"control character", f("{\"a\tb\":1}"), {"control character in a string"}},
      {"invalid escape", f(R"({"a\x":1})"), {"invalid escape"}},
      {"bad hex escape", f(R"({"a\u12g4":1})"), {"invalid hex digit"}},
      {"lone low surrogate", f(R"({"\udc00":1})"), {"unpaired low surrogate"}},
      {"lone high surrogate", f(R"({"\ud800x":1})"), {"unpaired high surrogate"}},
      {"tensor not an object",
       f(R"({"a":[1]})"),
       {"tensor \"a\" must be an object, found an array"}},
      {"dtype not a string",
       f(R"({"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})"),
       {"tensor \"a\": \"dtype\" must be a string, found a number"}},
      {"shape not an array",
       f(R"({"a":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})"),
       {"tensor \"a\": \"shape\" must be an array, found a string"}},
      {"shape of booleans",
       f(R"({"a":{"dtype":"F32","shape":[true],"data_offsets":[0,8]}})"),
       {"\"shape\" must be an integer, found a boolean"}},
      {"fractional dimension",
       f(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})"),
       {"\"shape\" must be an integer, found a fractional number"}},
      {"leading zero",
       f(R"({"a":{"dtype":"F32","shape":[02],"data_offsets":[0,8]}})"),
       {"leading zero"}},
      {"integer too large",
       f(R"({"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,8]}})"),
       {"\"shape\": integer 99999999999999999999 does not fit in 64 bits"}},
      {"offsets not an array",
       f(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":{}}})"),
       {"\"data_offsets\" must be an array, found an object"}},
      {"missing field",
       f(R"({"a":{"dtype":"F32","shape":[2]}})"),
       {"tensor \"a\": missing field \"data_offsets\""}},
      {"unknown field",
       f(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"strides":[1]}})"),
       {"tensor \"a\": unknown field \"strides\""}},
      {"duplicate field",
       f(R"({"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})"),
       {"tensor \"a\": duplicate field \"dtype\""}},
      {"unknown dtype",
       f(R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})"),
       {"tensor \"a\": unknown dtype \"F33\""}},
      {"unsupported dtype",
       f(R"({"a":{"dtype":"I16","shape":[4],"data_offsets":[0,8]}})"),
       {"tensor \"a\": dtype I16 is not supported by anvil"}},
      {"negative dimension",
       f(R"({"a":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,8]}})"),
       {"tensor \"a\": negative dimension -1 in shape [2,-1]"}},
      {"too many elements",
       f(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})"),
       {"tensor \"a\": shape [4294967296,4294967296] has too many elements"}},
      {"too many bytes",
       f(R"({"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}})"),
       {"has too many elements"}},
      {"one offset",
       f(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}})"),
       {"tensor \"a\": data_offsets must be [begin, end], found [8]"}},
      {"three offsets",
       f(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}})"),
       {"found [0, 8, 8]"}},
      {"begin after end",
       f(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})"),
       {"tensor \"a\": data_offsets [8, 0] must satisfy 0 <= begin <= end"}},
      {"negative begin",
       f(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})"),
       {"data_offsets [-8, 0] must satisfy"}},
      {"wrong byte count",
       f(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})"),
       {"tensor \"a\": data_offsets [0, 8] hold 8 bytes, but shape [3] of F32 needs 12"}},
      {"past the data section",
       f("{" + kA + "}", "1234"),
       {"tensor \"a\": data_offsets [0, 8] end past the data section of 4 bytes"}},
      {"overlap",
       f(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
         R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})"),
       {"tensor \"b\" (data_offsets [4, 8]) overlaps tensor \"a\" ([0, 8])"}},
      {"zero-size tensor inside another",
       f(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
         R"("z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})"),
       {"tensor \"z\" (data_offsets [4, 4]) overlaps tensor \"a\""}},
      {"gap",
       f(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
         R"("b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}})"),
       {"gap of 2 bytes before tensor \"b\" (data_offsets [6, 8])"}},
      {"gap at the start",
       f(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})"),
       {"gap of 4 bytes before tensor \"a\""}},
      {"trailing bytes",
       f("{" + kA + "}", kData8 + "xyz"),
       {"3 trailing bytes after the last tensor (the data section is 11 bytes, the tensors cover "
        "8)"}},
      {"data without tensors", f("{}", "x"), {"1 trailing bytes"}},
      {"duplicate name", f("{" + kA + "," + kA + "}"), {"duplicate tensor name \"a\""}},
      {"duplicate metadata",
       f(R"({"__metadata__":{},"__metadata__":{}})", ""),
       {"duplicate key \"__metadata__\""}},
      {"metadata not an object",
       f(R"({"__metadata__":["pt"]})", ""),
       {"\"__metadata__\" must be an object, found an array"}},
      {"metadata value not a string",
       f(R"({"__metadata__":{"epoch":3}})", ""),
       {"\"__metadata__\" value of \"epoch\" must be a string, found a number"}},
      {"metadata value nested",
       f(R"({"__metadata__":{"cfg":{"lr":"1"}}})", ""),
       {"value of \"cfg\" must be a string, found an object"}},
      {"duplicate metadata key",
       f(R"({"__metadata__":{"k":"1","k":"2"}})", ""),
       {"duplicate key \"k\" in \"__metadata__\""}},
      {"invalid bool",
       f(R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})",
         std::string("\x01\x00\x02", 3)),
       {"tensor \"m\": BOOL element 2 is 2, not 0 or 1"}},
  };
}

TEST_F(Safetensors, RejectsEveryMalformedFileNamingFileAndFault) {
  for (const Corrupt& c : corrupt_cases()) {
    SCOPED_TRACE(c.what);
    const std::string file = path("bad.safetensors");
    write_bytes(file, c.bytes);
    std::vector<std::string> parts = c.parts;
    parts.push_back("safetensors file '" + file + "'");
    expect_error([&] { SafetensorsFile{file}; }, parts);
    expect_error([&] { load_safetensors(file); }, parts);
  }
  EXPECT_THROW(SafetensorsFile{path("bad.safetensors")}, SafetensorsError);
}

TEST_F(Safetensors, RejectsWhatIsNotAReadableFile) {
  expect_error([&] { SafetensorsFile{path("nope.safetensors")}; },
               {"nope.safetensors", "cannot open", "No such file"});
  expect_error([&] { SafetensorsFile{dir_}; }, {dir_, "not a regular file"});
  ASSERT_EQ(mkfifo(path("fifo").c_str(), 0600), 0);
  expect_error([&] { SafetensorsFile{path("fifo")}; }, {"fifo", "not a regular file"});
}

// Mutated and truncated copies of a valid file: each either loads (and its tensors can be read)
// or throws an anvil error; nothing else, and never a crash (run under ASan+UBSan too).
TEST_F(Safetensors, FuzzedFilesOnlyEverThrowAnvilErrors) {
  const std::string valid_path = path("valid.safetensors");
  save_safetensors(valid_path,
                   {{"w", random_tensor({3, 4}, DType::f32)},
                    {"b", random_tensor({4}, DType::f16)},
                    {"n", scalar_tensor(3, DType::i64)},
                    {"m", tensor<bool>({true, false})},
                    {"e", zeros({0}, DType::bf16)}},
                   {{"format", "pt"}});
  const std::string valid = read_bytes(valid_path);
  uint64_t header_len;
  std::memcpy(&header_len, valid.data(), 8);
  const std::string tokens = "{}[]\":,-0123456789.eE \\u\xff\x80";
  std::mt19937_64 rng(20240611);
  auto below = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  int loaded = 0, rejected = 0;
  for (int iter = 0; iter < 600; ++iter) {
    std::string bytes = valid;
    const size_t in_header = 8 + below(header_len);
    switch (iter % 6) {
      case 0:  // truncated
        bytes.resize(below(bytes.size()));
        break;
      case 1:  // random bytes anywhere
        for (int k = 0, n = 1 + below(4); k < n; ++k) bytes[below(bytes.size())] = char(rng());
        break;
      case 2:  // a JSON-significant character in the header
        bytes[in_header] = tokens[below(tokens.size())];
        break;
      case 3:  // header bytes inserted or deleted, with the length adjusted or not
        if (rng() % 2) {
          bytes.insert(in_header, 1 + below(3), tokens[below(tokens.size())]);
        } else {
          bytes.erase(in_header, 1 + below(3));
        }
        if (rng() % 2) {
          const uint64_t n = header_len + bytes.size() - valid.size();
          std::memcpy(bytes.data(), &n, 8);
        }
        break;
      case 4:  // a different header length
        bytes.replace(0, 8, le64(rng() % 2 ? rng() : below(bytes.size() + 16)));
        break;
      case 5:  // digits changed (shapes and offsets)
        for (size_t i = 8; i < 8 + header_len; ++i) {
          if (bytes[i] >= '0' && bytes[i] <= '9' && rng() % 8 == 0)
            bytes[i] = char('0' + below(10));
        }
        break;
    }
    const std::string file = path(fmt::format("fuzz{}.safetensors", iter));
    write_bytes(file, bytes);
    try {
      SafetensorsContents contents = load_safetensors(file);
      for (const auto& [name, t] : contents.tensors) {
        if (t.numel() > 0) t.to(DType::f64).sum().item<double>();
      }
      ++loaded;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
      ++rejected;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "iteration " << iter << ": not an anvil error: " << e.what();
    }
    fs::remove(file);
  }
  EXPECT_GT(loaded, 0);
  EXPECT_GT(rejected, 300);
}

}  // namespace
}  // namespace anvil::nn
