// Files that appear whole or not at all (checkpoints, configs, safetensors): the bytes go to a
// temporary file beside the target, which is fsync'd, renamed over the target, and the
// directory fsync'd, so that a crash or a failure at any point leaves either the old file or the
// new one, and no temporary file. Failures throw IOError naming the caller's operation, the
// target and the OS's reason.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "tensor/error.h"

namespace anvil {

// A file could not be created, written, renamed or synced (the message carries the OS's reason).
class IOError : public Error {
 public:
  using Error::Error;
};

class AtomicFile {
 public:
  // `op` names the caller in errors ("save_safetensors").
  AtomicFile(std::string target, std::string op);
  ~AtomicFile();  // removes the temporary file unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  // Makes the written bytes the target's content, durably.
  void commit();

 private:
  [[noreturn]] void fail(const std::string& what, int err) const;
  std::string target_, op_, dir_, path_;
  int fd_ = -1;
  bool committed_ = false;
};

// The whole of `data` as `path`'s new content, atomically.
void write_file_atomically(const std::string& path, std::string_view data, const std::string& op);

// fsync of a directory, so that renames and creations in it survive a crash.
void sync_directory(const std::string& dir, const std::string& op);

}  // namespace anvil
