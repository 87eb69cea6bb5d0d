// A Storage is one buffer of bytes on one device, shared by every view of it, with the version
// counter that in-place writes bump (autograd checks it against saved tensors).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "tensor/allocator.h"
#include "tensor/device.h"

namespace anvil {

class StorageImpl {
 public:
  // Allocates `nbytes` with the device's allocator.
  StorageImpl(size_t nbytes, Device device);
  // Wraps memory owned elsewhere; `deleter` runs when the storage dies (may be empty).
  StorageImpl(void* data, size_t nbytes, Device device, std::function<void(void*)> deleter);
  ~StorageImpl();
  StorageImpl(const StorageImpl&) = delete;
  StorageImpl& operator=(const StorageImpl&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  Allocator* allocator_ = nullptr;  // null for wrapped memory
  std::function<void(void*)> deleter_;
  std::atomic<uint64_t> version_{0};
};

using Storage = std::shared_ptr<StorageImpl>;

}  // namespace anvil
