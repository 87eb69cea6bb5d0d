// The bookkeeping of the stream-ordered caching allocator (PyTorch's design), independent of
// CUDA: it gets device segments and events from a SegmentSource, so that CPU tests can drive it
// with a fake source. It is header-only for the same reason: the tests use it in builds without
// the CUDA backend.
//
// Rules:
// - Requests round up to 512 B. Requests up to 1 MiB come from the small pool, carved out of
//   2 MiB segments; larger ones from the large pool, in 20 MiB segments below 10 MiB and in
//   their size rounded up to 2 MiB above.
// - A block belongs to the stream it was allocated on; a free block is reused only by requests
//   on the same stream, so stream order alone makes reuse safe. Each (pool, stream) keeps its
//   free blocks ordered by size, and a request takes the smallest block that fits (best fit).
// - An oversized block is split when the remainder is useful (>= 512 B in the small pool,
//   > 1 MiB in the large one); a freed block merges with free neighbours of its segment.
// - record_stream(ptr, s): the block was used on another stream s. When it is freed, an event
//   is recorded on each such stream, and the block returns to its pool only once they are done.
// - When the source has no memory left, cached segments that are entirely free are released and
//   the request retried once; then OutOfMemoryError names the request, the bytes allocated,
//   reserved and free on the device.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tensor/allocator.h"
#include "tensor/error.h"

namespace anvil::cuda {

// A stream as the allocator sees it: an opaque key (the cudaStream_t's value for CUDA).
using StreamId = uintptr_t;
// An event recorded on a stream, opaque to the allocator.
using EventId = void*;

// Where the allocator gets device memory and events from.
class SegmentSource {
 public:
  virtual ~SegmentSource() = default;
  // A new segment of `nbytes`, or null when the device is out of memory (other failures throw).
  virtual void* allocate_segment(size_t nbytes) = 0;
  virtual void free_segment(void* ptr, size_t nbytes) = 0;
  // Records an event capturing the work enqueued on `stream` so far.
  virtual EventId record_event(StreamId stream) = 0;
  // Whether the work the event captured has completed.
  virtual bool event_done(EventId event) = 0;
  virtual void synchronize_event(EventId event) = 0;
  virtual void release_event(EventId event) = 0;
  // {free, total} bytes of the device, for out-of-memory messages.
  virtual std::pair<size_t, size_t> memory_info() = 0;
};

inline constexpr size_t kMinBlockSize = 512;        // every request rounds up to this
inline constexpr size_t kSmallSize = 1 << 20;       // largest request served by the small pool
inline constexpr size_t kSmallSegment = 2 << 20;    // segment size of the small pool
inline constexpr size_t kMinLargeAlloc = 10 << 20;  // below this, large requests share segments
inline constexpr size_t kLargeSegment = 20 << 20;   // shared segment size of the large pool
inline constexpr size_t kRoundLarge = 2 << 20;      // large segments round up to this

inline size_t round_request(size_t nbytes) {
  return std::max(kMinBlockSize, (nbytes + kMinBlockSize - 1) / kMinBlockSize * kMinBlockSize);
}

// The size of the segment to allocate for a rounded request.
inline size_t segment_size_for(size_t size) {
  if (size <= kSmallSize) return kSmallSegment;
  if (size < kMinLargeAlloc) return kLargeSegment;
  return (size + kRoundLarge - 1) / kRoundLarge * kRoundLarge;
}

// "1.50 MiB": byte counts in messages.
inline std::string format_bytes(size_t n) {
  if (n < 1024) return fmt::format("{} bytes", n);
  if (n < (size_t(1) << 20)) return fmt::format("{:.2f} KiB", n / 1024.0);
  if (n < (size_t(1) << 30)) return fmt::format("{:.2f} MiB", n / 1048576.0);
  return fmt::format("{:.2f} GiB", n / 1073741824.0);
}

class CachingAllocatorCore {
 public:
  // `name` ("cuda:0") appears in error messages; `source` must outlive the allocator.
  CachingAllocatorCore(SegmentSource* source, std::string name)
      : source_(source), name_(std::move(name)) {}
  ~CachingAllocatorCore() {
    std::lock_guard lock(mutex_);
    release_cached_segments();
  }
  CachingAllocatorCore(const CachingAllocatorCore&) = delete;
  CachingAllocatorCore& operator=(const CachingAllocatorCore&) = delete;

  // A block of at least `nbytes` for use on `stream`; null for 0 bytes.
  void* allocate(size_t nbytes, StreamId stream) {
    if (nbytes == 0) return nullptr;
    std::lock_guard lock(mutex_);
    process_events();
    const size_t size = round_request(nbytes);
    const bool small = size <= kSmallSize;
    Pool& pool = small ? small_pool_ : large_pool_;
    Block* block = take_best_fit(pool, stream, size);
    if (!block) block = new_segment(size, stream, small);
    if (!block) {
      release_cached_segments();
      block = new_segment(size, stream, small);
    }
    if (!block) throw_out_of_memory(nbytes);
    block = split(pool, block, size);
    block->allocated = true;
    active_.emplace(block->ptr, block);
    allocated_ += block->size;
    peak_ = std::max(peak_, allocated_);
    ++num_allocs_;
    return block->ptr;
  }

  // Returns a block; it becomes reusable once the events of record_stream() uses complete.
  void free(void* ptr) {
    if (!ptr) return;
    std::lock_guard lock(mutex_);
    Block* block = find_active(ptr, "free");
    active_.erase(ptr);
    allocated_ -= block->size;
    if (block->stream_uses.empty()) {
      release_block(block);
      return;
    }
    for (StreamId s : block->stream_uses) {
      pending_.push_back({source_->record_event(s), block});
      ++block->pending_events;
    }
    block->stream_uses.clear();
  }

  // Marks the block at `ptr` as used by `stream` too (not the stream it was allocated on).
  void record_stream(void* ptr, StreamId stream) {
    std::lock_guard lock(mutex_);
    Block* block = find_active(ptr, "record_stream");
    if (stream == block->stream) return;
    auto& uses = block->stream_uses;
    if (std::find(uses.begin(), uses.end(), stream) == uses.end()) uses.push_back(stream);
  }

  // Releases every cached segment that holds no live block (waiting for pending events first).
  void empty_cache() {
    std::lock_guard lock(mutex_);
    release_cached_segments();
  }

  MemoryStats stats() const {
    std::lock_guard lock(mutex_);
    return {int64_t(allocated_), int64_t(reserved_), int64_t(peak_), int64_t(num_allocs_)};
  }
  void reset_peak() {
    std::lock_guard lock(mutex_);
    peak_ = allocated_;
  }
  // Segments currently held from the source.
  size_t num_segments() const {
    std::lock_guard lock(mutex_);
    return num_segments_;
  }
  // The size of the live block at `ptr` (its request rounded up, or more when the remainder
  // was too small to split off).
  size_t block_size(void* ptr) const {
    std::lock_guard lock(mutex_);
    return find_active(ptr, "block_size")->size;
  }

 private:
  struct Block {
    void* ptr = nullptr;
    size_t size = 0;
    StreamId stream = 0;
    bool small = false;
    bool allocated = false;
    int pending_events = 0;
    Block* prev = nullptr;  // neighbours within the segment
    Block* next = nullptr;
    std::vector<StreamId> stream_uses;

    bool is_free() const { return !allocated && pending_events == 0; }
    char* bytes() const { return static_cast<char*>(ptr); }
  };
  // Free blocks ordered by (stream, size, address): a lower_bound is the best fit.
  struct BlockOrder {
    bool operator()(const Block* a, const Block* b) const {
      if (a->stream != b->stream) return a->stream < b->stream;
      if (a->size != b->size) return a->size < b->size;
      return std::less<void*>()(a->ptr, b->ptr);
    }
  };
  using Pool = std::set<Block*, BlockOrder>;

  Block* take_best_fit(Pool& pool, StreamId stream, size_t size) {
    Block key;
    key.stream = stream;
    key.size = size;
    auto it = pool.lower_bound(&key);
    if (it == pool.end() || (*it)->stream != stream) return nullptr;
    Block* block = *it;
    pool.erase(it);
    return block;
  }

  Block* new_segment(size_t size, StreamId stream, bool small) {
    const size_t seg = segment_size_for(size);
    void* ptr = source_->allocate_segment(seg);
    if (!ptr) return nullptr;
    reserved_ += seg;
    ++num_segments_;
    auto* block = new Block;
    block->ptr = ptr;
    block->size = seg;
    block->stream = stream;
    block->small = small;
    return block;
  }

  // Cuts `size` bytes off the front of `block` when the remainder is worth keeping; the
  // remainder goes back to the pool.
  Block* split(Pool& pool, Block* block, size_t size) {
    const size_t rest = block->size - size;
    const bool worth = block->small ? rest >= kMinBlockSize : rest > kSmallSize;
    if (!worth) return block;
    auto* tail = new Block;
    tail->ptr = block->bytes() + size;
    tail->size = rest;
    tail->stream = block->stream;
    tail->small = block->small;
    tail->prev = block;
    tail->next = block->next;
    if (tail->next) tail->next->prev = tail;
    block->next = tail;
    block->size = size;
    pool.insert(tail);
    return block;
  }

  // A freed block with no pending events: merges with free neighbours and rejoins its pool.
  void release_block(Block* block) {
    block->allocated = false;
    Pool& pool = block->small ? small_pool_ : large_pool_;
    if (Block* p = block->prev; p && p->is_free()) {
      pool.erase(p);
      p->size += block->size;
      p->next = block->next;
      if (p->next) p->next->prev = p;
      delete block;
      block = p;
    }
    if (Block* n = block->next; n && n->is_free()) {
      pool.erase(n);
      block->size += n->size;
      block->next = n->next;
      if (block->next) block->next->prev = block;
      delete n;
    }
    pool.insert(block);
  }

  // Returns the blocks whose record_stream events have all completed to their pools. Every
  // event is queried: one slow stream must not hold back blocks waiting on others.
  void process_events() {
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (source_->event_done(it->first)) {
        finish_event(*it);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void finish_event(const std::pair<EventId, Block*>& entry) {
    source_->release_event(entry.first);
    Block* block = entry.second;
    if (--block->pending_events == 0) release_block(block);
  }

  void release_cached_segments() {
    for (auto& entry : pending_) {
      source_->synchronize_event(entry.first);
      finish_event(entry);
    }
    pending_.clear();
    for (Pool* pool : {&small_pool_, &large_pool_}) {
      for (auto it = pool->begin(); it != pool->end();) {
        Block* block = *it;
        if (block->prev || block->next) {
          ++it;
          continue;
        }
        source_->free_segment(block->ptr, block->size);
        reserved_ -= block->size;
        --num_segments_;
        delete block;
        it = pool->erase(it);
      }
    }
  }

  Block* find_active(void* ptr, const char* what) const {
    auto it = active_.find(ptr);
    if (it == active_.end()) {
      throw InternalError(
          fmt::format("caching allocator ({}): {} of {} which it did not allocate "
                      "or which was already freed",
                      name_, what, ptr));
    }
    return it->second;
  }

  [[noreturn]] void throw_out_of_memory(size_t nbytes) {
    const auto [free, total] = source_->memory_info();
    throw OutOfMemoryError(fmt::format(
        "{} out of memory: tried to allocate {}; {} allocated by anvil, {} reserved by its "
        "caching allocator, {} free of {} on the device (cached free segments were released "
        "and the allocation retried)",
        name_, format_bytes(nbytes), format_bytes(allocated_), format_bytes(reserved_),
        format_bytes(free), format_bytes(total)));
  }

  SegmentSource* source_;
  std::string name_;
  mutable std::mutex mutex_;
  Pool small_pool_;
  Pool large_pool_;
  std::unordered_map<void*, Block*> active_;
  std::list<std::pair<EventId, Block*>> pending_;  // record_stream events not yet completed
  size_t allocated_ = 0;
  size_t reserved_ = 0;
  size_t peak_ = 0;
  size_t num_allocs_ = 0;
  size_t num_segments_ = 0;
};

}  // namespace anvil::cuda
