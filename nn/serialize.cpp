#include "nn/serialize.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <system_error>
#include <unordered_set>

#include "autograd/grad_mode.h"
#include "tensor/atomic_file.h"
#include "tensor/ops/factory.h"

namespace anvil::nn {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

namespace {

// The reference reader's guard against huge headers.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr std::string_view kMetadataKey = "__metadata__";

struct DTypeName {
  DType dtype;
  std::string_view name;
};
constexpr DTypeName kDTypeNames[] = {
    {DType::f32, "F32"}, {DType::f64, "F64"}, {DType::f16, "F16"}, {DType::bf16, "BF16"},
    {DType::i64, "I64"}, {DType::i32, "I32"}, {DType::u8, "U8"},   {DType::boolean, "BOOL"}};
// Dtypes of the format that anvil has no type for.
constexpr std::string_view kUnsupportedDTypes[] = {
    "I8",      "I16",     "U16",         "U32",         "U64", "C64",     "F8_E5M2",
    "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "F4",  "F6_E2M3", "F6_E3M2"};

std::string_view safetensors_dtype(DType t) {
  for (const DTypeName& d : kDTypeNames) {
    if (d.dtype == t) return d.name;
  }
  throw InternalError("safetensors_dtype: invalid dtype");
}

std::string errno_message(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. Returns the offset of
// the first invalid byte, or npos.
size_t invalid_utf8_at(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t min_cp, cp;
    if ((c & 0xe0) == 0xc0) {
      len = 2, min_cp = 0x80, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, min_cp = 0x800, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, min_cp = 0x10000, cp = c & 0x07;
    } else {
      return i;
    }
    if (s.size() - i < len) return i;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min_cp || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return std::string_view::npos;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// Escapes as serde_json (the reference writer) does, so that our headers match its bytes.
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<uint8_t>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

// ---- reading -------------------------------------------------------------------------------

[[noreturn]] void fail(const std::string& path, const std::string& fault) {
  throw SafetensorsError(fmt::format("safetensors file '{}': {}", path, fault));
}

std::string quoted(std::string_view name) {
  std::string out;
  append_json_string(out, name);
  return out;
}

// A parser for exactly the header's schema, straight into entries (no generic JSON tree, so
// neither nesting depth nor a header full of tiny values can exhaust the stack or memory):
//   {"__metadata__": {string: string, ...}?,
//    name: {"dtype": string, "shape": [int, ...], "data_offsets": [int, int]}, ...}
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : text_(text), path_(path) {}

  void parse(std::vector<SafetensorsEntry>& entries, SafetensorsMetadata& metadata) {
    bool has_metadata = false;
    std::unordered_set<std::string> names;
    expect_value('{', "the header");
    parse_object([&](std::string key) {
      if (key == kMetadataKey) {
        if (has_metadata) fault(fmt::format("duplicate key {}", quoted(key)));
        has_metadata = true;
        parse_metadata(metadata);
        return;
      }
      if (!names.insert(key).second) fault(fmt::format("duplicate tensor name {}", quoted(key)));
      entries.push_back(parse_entry(std::move(key)));
    });
    skip_ws();
    if (pos_ != text_.size()) {
      syntax_error(fmt::format("{} after the header object", found()));
    }
  }

 private:
  [[noreturn]] void fault(const std::string& what) const { fail(path_, what); }

  [[noreturn]] void syntax_error(const std::string& what) const {
    fault(fmt::format("header is not valid JSON: {} at byte {} of the header", what, pos_));
  }

  std::string found() const {
    if (pos_ >= text_.size()) return "the end of the header";
    const char c = text_[pos_];
    switch (c) {
      case '{':
        return "an object";
      case '[':
        return "an array";
      case '"':
        return "a string";
      case 't':
      case 'f':
        return "a boolean";
      case 'n':
        return "null";
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return "a number";
        if (c > 0x20 && c < 0x7f) return fmt::format("'{}'", c);
        return fmt::format("byte 0x{:02x}", static_cast<uint8_t>(c));
    }
  }

  void skip_ws() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool consume(char c) {
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void expect(char c) {
    if (!consume(c)) syntax_error(fmt::format("expected '{}', found {}", c, found()));
  }

  // A value of the schema must start with `open` ('{', '[', '"' or '0' for an integer); what
  // else is there is a type fault of `what`, not a syntax error.
  void expect_value(char open, const std::string& what) {
    skip_ws();
    const bool ok = pos_ < text_.size() &&
                    (open == '0' ? text_[pos_] == '-' || (text_[pos_] >= '0' && text_[pos_] <= '9')
                                 : text_[pos_] == open);
    if (ok) return;
    const char* kind = open == '{'   ? "an object"
                       : open == '[' ? "an array"
                       : open == '"' ? "a string"
                                     : "an integer";
    if (pos_ >= text_.size()) syntax_error(fmt::format("expected {}, found {}", kind, found()));
    fault(fmt::format("{} must be {}, found {}", what, kind, found()));
  }

  // Calls member(key) with the parser at the member's value, which it must consume.
  template <class F>
  void parse_object(F&& member) {
    expect('{');
    if (consume('}')) return;
    do {
      skip_ws();
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        syntax_error(fmt::format("expected a string key, found {}", found()));
      }
      std::string key = parse_string();
      expect(':');
      member(std::move(key));
    } while (consume(','));
    expect('}');
  }

  std::string parse_string() {
    ++pos_;  // the opening quote, checked by the caller
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) syntax_error("unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<uint8_t>(c) < 0x20) syntax_error("control character in a string");
      if (c != '\\') {
        out += c;  // the whole header was checked to be UTF-8
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= text_.size()) syntax_error("unterminated string");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = parse_hex4();
          if (cp >= 0xdc00 && cp <= 0xdfff) syntax_error("unpaired low surrogate escape");
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (text_.substr(pos_, 2) != "\\u") syntax_error("unpaired high surrogate escape");
            pos_ += 2;
            const uint32_t low = parse_hex4();
            if (low < 0xdc00 || low > 0xdfff) syntax_error("unpaired high surrogate escape");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          --pos_;
          syntax_error("invalid escape in a string");
      }
    }
  }

  uint32_t parse_hex4() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i, ++pos_) {
      if (pos_ >= text_.size()) syntax_error("truncated \\u escape");
      const char c = text_[pos_];
      const int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (d < 0) syntax_error("invalid hex digit in a \\u escape");
      v = v * 16 + static_cast<uint32_t>(d);
    }
    return v;
  }

  int64_t parse_integer(const std::string& what) {
    expect_value('0', what);
    const size_t start = pos_;
    const bool negative = text_[pos_] == '-';
    if (negative) ++pos_;
    if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9') {
      syntax_error("expected a digit");
    }
    if (text_[pos_] == '0' && pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' &&
        text_[pos_ + 1] <= '9') {
      syntax_error("leading zero in a number");
    }
    size_t end = pos_;
    while (end < text_.size() && text_[end] >= '0' && text_[end] <= '9') ++end;
    auto too_large = [&] {
      fault(fmt::format("{}: integer {} does not fit in 64 bits", what,
                        text_.substr(start, std::min<size_t>(end - start, 40))));
    };
    // Accumulated negatively so that INT64_MIN fits.
    int64_t v = 0;
    for (; pos_ < end; ++pos_) {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_sub_overflow(v, text_[pos_] - '0', &v)) {
        too_large();
      }
    }
    if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
      fault(fmt::format("{} must be an integer, found a fractional number", what));
    }
    if (!negative) {
      if (v == INT64_MIN) too_large();
      v = -v;
    }
    return v;
  }

  std::vector<int64_t> parse_integer_array(const std::string& what) {
    expect_value('[', what);
    std::vector<int64_t> values;
    expect('[');
    if (consume(']')) return values;
    do {
      values.push_back(parse_integer(what));
    } while (consume(','));
    expect(']');
    return values;
  }

  void parse_metadata(SafetensorsMetadata& metadata) {
    expect_value('{', quoted(kMetadataKey));
    parse_object([&](std::string key) {
      expect_value('"', fmt::format("{} value of {}", quoted(kMetadataKey), quoted(key)));
      std::string value = parse_string();
      if (!metadata.emplace(key, std::move(value)).second) {
        fault(fmt::format("duplicate key {} in {}", quoted(key), quoted(kMetadataKey)));
      }
    });
  }

  SafetensorsEntry parse_entry(std::string name) {
    const std::string what = fmt::format("tensor {}", quoted(name));
    expect_value('{', what);
    std::optional<std::string> dtype;
    std::optional<Shape> shape;
    std::optional<std::vector<int64_t>> offsets;
    parse_object([&](std::string key) {
      const std::string field = fmt::format("{}: {}", what, quoted(key));
      auto once = [&](bool seen) {
        if (seen) fault(fmt::format("{}: duplicate field {}", what, quoted(key)));
      };
      if (key == "dtype") {
        once(dtype.has_value());
        expect_value('"', field);
        dtype = parse_string();
      } else if (key == "shape") {
        once(shape.has_value());
        shape = parse_integer_array(field);
      } else if (key == "data_offsets") {
        once(offsets.has_value());
        offsets = parse_integer_array(field);
      } else {
        fault(fmt::format("{}: unknown field {} (expected \"dtype\", \"shape\", \"data_offsets\")",
                          what, quoted(key)));
      }
    });
    for (auto [present, field] :
         {std::pair{dtype.has_value(), "dtype"}, std::pair{shape.has_value(), "shape"},
          std::pair{offsets.has_value(), "data_offsets"}}) {
      if (!present) fault(fmt::format("{}: missing field \"{}\"", what, field));
    }
    return make_entry(std::move(name), what, *dtype, std::move(*shape), *offsets);
  }

  SafetensorsEntry make_entry(std::string name, const std::string& what, const std::string& dtype,
                              Shape shape, const std::vector<int64_t>& offsets) const {
    SafetensorsEntry e;
    e.name = std::move(name);
    const auto known = std::find_if(std::begin(kDTypeNames), std::end(kDTypeNames),
                                    [&](const DTypeName& d) { return d.name == dtype; });
    if (known == std::end(kDTypeNames)) {
      if (std::find(std::begin(kUnsupportedDTypes), std::end(kUnsupportedDTypes), dtype) !=
          std::end(kUnsupportedDTypes)) {
        fault(fmt::format(
            "{}: dtype {} is not supported by anvil (F32, F64, F16, BF16, I64, I32, U8, BOOL are)",
            what, dtype));
      }
      fault(fmt::format("{}: unknown dtype {}", what, quoted(dtype)));
    }
    e.dtype = known->dtype;
    int64_t numel = 1;
    for (int64_t d : shape) {
      if (d < 0)
        fault(fmt::format("{}: negative dimension {} in shape {}", what, d, shape_str(shape)));
      if (__builtin_mul_overflow(numel, d, &numel)) {
        fault(fmt::format("{}: shape {} has too many elements", what, shape_str(shape)));
      }
    }
    int64_t nbytes;
    if (__builtin_mul_overflow(numel, dtype_size(e.dtype), &nbytes)) {
      fault(fmt::format("{}: shape {} has too many elements", what, shape_str(shape)));
    }
    e.shape = std::move(shape);
    if (offsets.size() != 2) {
      fault(fmt::format("{}: data_offsets must be [begin, end], found [{}]", what,
                        fmt::join(offsets, ", ")));
    }
    e.begin = offsets[0];
    e.end = offsets[1];
    if (e.begin < 0 || e.end < e.begin) {
      fault(fmt::format("{}: data_offsets [{}, {}] must satisfy 0 <= begin <= end", what, e.begin,
                        e.end));
    }
    if (e.end - e.begin != nbytes) {
      fault(fmt::format("{}: data_offsets [{}, {}] hold {} bytes, but shape {} of {} needs {}",
                        what, e.begin, e.end, e.end - e.begin, shape_str(e.shape), dtype, nbytes));
    }
    return e;
  }

  std::string_view text_;
  const std::string& path_;
  size_t pos_ = 0;
};

// The reference's rule: sorted by offsets, the tensors cover the data section exactly.
void check_layout(const std::string& path, const std::vector<SafetensorsEntry>& entries,
                  int64_t data_size) {
  std::vector<const SafetensorsEntry*> sorted;
  sorted.reserve(entries.size());
  for (const SafetensorsEntry& e : entries) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](const SafetensorsEntry* a, const SafetensorsEntry* b) {
    return std::pair(a->begin, a->end) < std::pair(b->begin, b->end);
  });
  const SafetensorsEntry* prev = nullptr;
  int64_t covered = 0;
  for (const SafetensorsEntry* e : sorted) {
    if (e->end > data_size) {
      fail(path, fmt::format("tensor {}: data_offsets [{}, {}] end past the data section of {} "
                             "bytes",
                             quoted(e->name), e->begin, e->end, data_size));
    }
    if (e->begin < covered) {
      fail(path, fmt::format("tensor {} (data_offsets [{}, {}]) overlaps tensor {} ([{}, {}])",
                             quoted(e->name), e->begin, e->end, quoted(prev->name), prev->begin,
                             prev->end));
    }
    if (e->begin > covered) {
      fail(path, fmt::format("gap of {} bytes before tensor {} (data_offsets [{}, {}]): the "
                             "tensors must cover the data section exactly",
                             e->begin - covered, quoted(e->name), e->begin, e->end));
    }
    covered = e->end;
    prev = e;
  }
  if (covered != data_size) {
    fail(path, fmt::format("{} trailing bytes after the last tensor (the data section is {} "
                           "bytes, the tensors cover {})",
                           data_size - covered, data_size, covered));
  }
}

// ---- writing -------------------------------------------------------------------------------

void check_utf8(std::string_view s, std::string_view what, const std::string& path) {
  const size_t bad = invalid_utf8_at(s);
  ANVIL_CHECK(bad == std::string_view::npos,
              "save_safetensors '{}': {} {} is not valid UTF-8 (byte {})", path, what, quoted(s),
              bad);
}

}  // namespace

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const SafetensorsMetadata& metadata) {
  std::string header = "{";
  if (!metadata.empty()) {
    append_json_string(header, kMetadataKey);
    header += ":{";
    for (const auto& [key, value] : metadata) {
      check_utf8(key, "metadata key", path);
      check_utf8(value, "metadata value", path);
      if (header.back() != '{') header += ',';
      append_json_string(header, key);
      header += ':';
      append_json_string(header, value);
    }
    header += "},";
  }
  std::unordered_set<std::string_view> names;
  int64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    check_utf8(name, "tensor name", path);
    ANVIL_CHECK(name != kMetadataKey,
                "save_safetensors '{}': \"__metadata__\" is reserved and cannot name a tensor",
                path);
    ANVIL_CHECK(names.insert(name).second, "save_safetensors '{}': duplicate tensor name {}", path,
                quoted(name));
    ANVIL_CHECK(t.defined(), "save_safetensors '{}': tensor {} is undefined", path, quoted(name));
    append_json_string(header, name);
    header += fmt::format(R"(:{{"dtype":"{}","shape":[{}],"data_offsets":[{},{}]}},)",
                          safetensors_dtype(t.dtype()), fmt::join(t.shape(), ","), offset,
                          offset + t.nbytes());
    offset += t.nbytes();
  }
  if (header.back() == ',') header.pop_back();
  header += '}';
  // Padded with spaces, as the reference writer does, so that the data section starts 8-aligned.
  header.append((8 - header.size() % 8) % 8, ' ');

  AtomicFile file(path, "save_safetensors");
  const uint64_t n = header.size();
  file.write(&n, sizeof(n));
  file.write(header.data(), header.size());
  for (const auto& [name, t] : tensors) {
    const Tensor host = t.detach().to(Device::cpu()).contiguous();
    if (host.nbytes() > 0) file.write(host.raw_data(), static_cast<size_t>(host.nbytes()));
  }
  file.commit();
}

// ---- SafetensorsFile -------------------------------------------------------------------------

struct SafetensorsFile::Mapping {
  void* addr = MAP_FAILED;
  size_t size = 0;
  ~Mapping() {
    if (addr != MAP_FAILED) ::munmap(addr, size);
  }
};

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block
  if (fd < 0) fail(path, fmt::format("cannot open: {}", errno_message(errno)));
  auto mapping = std::make_shared<Mapping>();
  {
    struct stat st;
    int err = ::fstat(fd, &st) != 0 ? errno : 0;
    if (!err && !S_ISREG(st.st_mode)) err = -1;
    if (!err && st.st_size >= 8) {
      mapping->size = static_cast<size_t>(st.st_size);
      // Private and writable: in-place ops on loaded tensors copy the pages they touch and
      // never reach the file. MAP_NORESERVE: only written pages need memory, so a file larger
      // than memory still maps.
      mapping->addr = ::mmap(nullptr, mapping->size, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_NORESERVE, fd, 0);
      if (mapping->addr == MAP_FAILED) err = errno;
    }
    ::close(fd);
    if (err == -1) fail(path, "not a regular file");
    if (err) fail(path, fmt::format("cannot map: {}", errno_message(err)));
    if (st.st_size < 8) {
      fail(path,
           fmt::format("file is {} bytes, shorter than the 8-byte header length", st.st_size));
    }
  }
  mapping_ = mapping;
  const auto* bytes = static_cast<const uint8_t*>(mapping->addr);
  const uint64_t file_size = mapping->size;
  uint64_t n;
  std::memcpy(&n, bytes, sizeof(n));
  if (n > kMaxHeaderBytes) {
    fail(path, fmt::format("header length {} exceeds the limit of {} bytes", n, kMaxHeaderBytes));
  }
  if (n > file_size - 8) {
    fail(path, fmt::format("header length {} exceeds the {} bytes that follow it in the file", n,
                           file_size - 8));
  }
  const std::string_view header(reinterpret_cast<const char*>(bytes + 8), n);
  if (const size_t bad = invalid_utf8_at(header); bad != std::string_view::npos) {
    fail(path, fmt::format("header is not valid UTF-8 (byte {} of the header)", bad));
  }
  HeaderParser(header, path).parse(entries_, metadata_);
  data_ = bytes + 8 + n;
  check_layout(path, entries_, static_cast<int64_t>(file_size - 8 - n));
  for (size_t i = 0; i < entries_.size(); ++i) {
    const SafetensorsEntry& e = entries_[i];
    index_.emplace(e.name, i);
    // Any other byte would be an invalid bool value in memory.
    if (e.dtype == DType::boolean) {
      for (int64_t k = e.begin; k < e.end; ++k) {
        if (data_[k] > 1) {
          fail(path, fmt::format("tensor {}: BOOL element {} is {}, not 0 or 1", quoted(e.name),
                                 k - e.begin, data_[k]));
        }
      }
    }
  }
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) fail(path_, fmt::format("no tensor named {}", quoted(name)));
  return entries_[it->second];
}

Tensor SafetensorsFile::make_tensor(const SafetensorsEntry& e) const {
  auto* p = const_cast<uint8_t*>(data_ + e.begin);
  if (reinterpret_cast<uintptr_t>(p) % static_cast<uintptr_t>(dtype_size(e.dtype)) != 0) {
    return from_data(p, e.shape, e.dtype);
  }
  return from_blob(p, e.shape, e.dtype, Device::cpu(), [keep = mapping_](void*) {});
}

Tensor SafetensorsFile::tensor(const std::string& name) const {
  return make_tensor(entry(name));
}

NamedTensors SafetensorsFile::tensors() const {
  NamedTensors out;
  out.reserve(entries_.size());
  for (const SafetensorsEntry& e : entries_) out.emplace_back(e.name, make_tensor(e));
  return out;
}

void SafetensorsFile::copy_to(const std::string& name, const Tensor& dst) const {
  const SafetensorsEntry& e = entry(name);
  ANVIL_CHECK(dst.defined(), "safetensors file '{}': copy_to {}: the destination is undefined",
              path_, quoted(name));
  ANVIL_CHECK(dst.shape() == e.shape,
              "safetensors file '{}': copy_to {}: the file's shape {} differs from the "
              "destination {}",
              path_, quoted(name), shape_str(e.shape), dst.describe());
  NoGradGuard no_grad;
  Tensor out = dst;
  out.copy_(make_tensor(e));
}

SafetensorsContents load_safetensors(const std::string& path) {
  SafetensorsFile file(path);
  return {file.tensors(), file.metadata()};
}

}  // namespace anvil::nn
