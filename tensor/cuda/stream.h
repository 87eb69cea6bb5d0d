// CUDA streams and events. Work on one stream runs in order; work on different streams is ordered
// only through events. Each device has a default stream (the legacy null stream) and a pool of
// non-blocking streams; each thread has a current stream per device, which kernels and copies
// use, set with StreamGuard.
#pragma once

#include <cstdint>

#include "tensor/device.h"

// The runtime's opaque types (cudaStream_t is CUstream_st*, cudaEvent_t is CUevent_st*),
// declared here so that this header needs no CUDA include.
struct CUstream_st;
struct CUevent_st;

namespace anvil::cuda {

// A handle to a stream on a device; cheap to copy. The streams themselves live as long as the
// program.
class Stream {
 public:
  Stream(Device device, CUstream_st* handle) : device_(device), handle_(handle) {}

  Device device() const { return device_; }
  int device_index() const { return device_.index; }
  CUstream_st* handle() const { return handle_; }  // a cudaStream_t
  // The allocator's key for the stream.
  uintptr_t id() const { return reinterpret_cast<uintptr_t>(handle_); }
  bool is_default() const { return handle_ == nullptr; }

  // Whether all work enqueued so far has completed.
  bool query() const;
  void synchronize() const;

  bool operator==(const Stream& o) const { return device_ == o.device_ && handle_ == o.handle_; }

 private:
  Device device_;
  CUstream_st* handle_;
};

// The default stream of a device (index -1: the current device).
Stream default_stream(int device = -1);
// A non-blocking stream from the device's pool of 32, handed out round-robin (as PyTorch does:
// streams are never destroyed, so handles stay valid and allocator blocks tied to them stay
// safe).
Stream stream_from_pool(int device = -1);
// This thread's current stream on a device (its default stream until set).
Stream current_stream(int device = -1);
void set_current_stream(const Stream& stream);

// Makes `stream` the current stream of its device, and its device the current device, while
// alive.
class StreamGuard {
 public:
  explicit StreamGuard(const Stream& stream);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  Stream previous_stream_;
  int previous_device_;
};

// A CUDA event: marks a point in a stream's work. Created on first record().
class Event {
 public:
  explicit Event(bool enable_timing = false) : enable_timing_(enable_timing) {}
  ~Event();
  Event(Event&& other) noexcept;
  Event& operator=(Event&& other) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Captures the work enqueued on `stream` so far (the current stream by default).
  void record(const Stream& stream);
  void record();
  // Makes future work on `stream` wait until the recorded work completes (no host wait).
  void wait(const Stream& stream) const;
  // Whether the recorded work has completed (true when never recorded).
  bool query() const;
  // Waits on the host for the recorded work.
  void synchronize() const;
  // Milliseconds between this event and a later `end`, both recorded with timing enabled.
  float elapsed_ms(const Event& end) const;

  bool is_recorded() const { return handle_ != nullptr; }
  CUevent_st* handle() const { return handle_; }

 private:
  bool enable_timing_;
  int device_ = -1;
  CUevent_st* handle_ = nullptr;
};

}  // namespace anvil::cuda
