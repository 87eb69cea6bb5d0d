#include "tensor/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <system_error>
#include <utility>

#include "tensor/error.h"

namespace anvil {

namespace {

std::string errno_message(int err) {
  return std::error_code(err, std::generic_category()).message();
}

}  // namespace

AtomicFile::AtomicFile(std::string target, std::string op)
    : target_(std::move(target)), op_(std::move(op)) {
  const size_t slash = target_.rfind('/');
  dir_ = slash == std::string::npos ? "." : slash == 0 ? "/" : target_.substr(0, slash);
  const std::string base = slash == std::string::npos ? target_ : target_.substr(slash + 1);
  static std::atomic<uint64_t> counter{std::random_device{}()};
  for (int attempt = 0; attempt < 100; ++attempt) {
    path_ = fmt::format("{}/.{}.{}-{}.tmp", dir_, base, getpid(), counter++);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0 || errno != EEXIST) break;
  }
  if (fd_ < 0) fail(fmt::format("cannot create a temporary file in '{}'", dir_), errno);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(path_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, std::min<size_t>(n, size_t{1} << 30));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) fail(fmt::format("cannot write the temporary file '{}'", path_), errno);
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) fail(fmt::format("cannot fsync '{}'", path_), errno);
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) fail(fmt::format("cannot close '{}'", path_), errno);
  if (::rename(path_.c_str(), target_.c_str()) != 0) {
    fail(fmt::format("cannot rename '{}' over it", path_), errno);
  }
  committed_ = true;
  sync_directory(dir_, op_ + " '" + target_ + "': written, but");
}

void AtomicFile::fail(const std::string& what, int err) const {
  throw IOError(fmt::format("{} '{}': {}: {}", op_, target_, what, errno_message(err)));
}

void write_file_atomically(const std::string& path, std::string_view data, const std::string& op) {
  AtomicFile file(path, op);
  file.write(data);
  file.commit();
}

void sync_directory(const std::string& dir, const std::string& op) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const int err = fd < 0 || ::fsync(fd) != 0 ? errno : 0;
  if (fd >= 0) ::close(fd);
  if (err) {
    throw IOError(
        fmt::format("{} cannot fsync the directory '{}': {}", op, dir, errno_message(err)));
  }
}

}  // namespace anvil
