// The caching allocator's bookkeeping, driven by a fake segment source in host memory: these
// tests need no GPU and never skip.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <memory>

#include "common/op_test.h"
#include "tensor/cuda/caching_allocator_core.h"

namespace anvil::cuda {
namespace {

constexpr size_t KiB = 1024;
constexpr size_t MiB = 1024 * 1024;

// Host memory with a capacity, and events that complete when the test says so.
class FakeSource final : public SegmentSource {
 public:
  explicit FakeSource(size_t capacity) : capacity_(capacity) {}
  ~FakeSource() override {
    EXPECT_TRUE(segments_.empty()) << segments_.size() << " segments never freed";
    for (auto& [p, n] : segments_) std::free(p);
  }

  void* allocate_segment(size_t nbytes) override {
    ++segment_requests;
    if (used_ + nbytes > capacity_) return nullptr;
    void* p = std::malloc(nbytes);
    segments_[p] = nbytes;
    used_ += nbytes;
    return p;
  }
  void free_segment(void* ptr, size_t nbytes) override {
    EXPECT_EQ(segments_.at(ptr), nbytes);
    segments_.erase(ptr);
    used_ -= nbytes;
    std::free(ptr);
    ++segments_freed;
  }
  EventId record_event(StreamId stream) override {
    events_.push_back(std::make_unique<FakeEvent>(FakeEvent{stream, false, false}));
    return events_.back().get();
  }
  bool event_done(EventId e) override { return static_cast<FakeEvent*>(e)->done; }
  void synchronize_event(EventId e) override {
    static_cast<FakeEvent*>(e)->done = true;
    ++synchronizations;
  }
  void release_event(EventId e) override { static_cast<FakeEvent*>(e)->released = true; }
  std::pair<size_t, size_t> memory_info() override { return {capacity_ - used_, capacity_}; }

  // Completes every event recorded on `stream` (the stream's work finished).
  void complete_stream(StreamId stream) {
    for (auto& e : events_)
      if (e->stream == stream) e->done = true;
  }
  int events_recorded() const { return static_cast<int>(events_.size()); }
  bool all_events_released() const {
    for (auto& e : events_)
      if (!e->released) return false;
    return true;
  }
  size_t used() const { return used_; }

  int segment_requests = 0;
  int segments_freed = 0;
  int synchronizations = 0;

 private:
  struct FakeEvent {
    StreamId stream;
    bool done;
    bool released;
  };
  size_t capacity_;
  size_t used_ = 0;
  std::map<void*, size_t> segments_;
  std::vector<std::unique_ptr<FakeEvent>> events_;
};

constexpr StreamId kStreamA = 0x10;
constexpr StreamId kStreamB = 0x20;

struct Fixture {
  explicit Fixture(size_t capacity = 1024 * MiB) : source(capacity), alloc(&source, "cuda:0") {}
  FakeSource source;  // declared first: outlives the allocator
  CachingAllocatorCore alloc;
};

char* as_bytes(void* p) {
  return static_cast<char*>(p);
}

TEST(CachingAllocatorCore, SizeClasses) {
  EXPECT_EQ(round_request(1), 512u);
  EXPECT_EQ(round_request(512), 512u);
  EXPECT_EQ(round_request(513), 1024u);
  EXPECT_EQ(segment_size_for(512), 2 * MiB);
  EXPECT_EQ(segment_size_for(1 * MiB), 2 * MiB);
  EXPECT_EQ(segment_size_for(1 * MiB + 512), 20 * MiB);
  EXPECT_EQ(segment_size_for(10 * MiB - 512), 20 * MiB);
  EXPECT_EQ(segment_size_for(10 * MiB), 10 * MiB);
  EXPECT_EQ(segment_size_for(10 * MiB + 512), 12 * MiB);
  EXPECT_EQ(format_bytes(100), "100 bytes");
  EXPECT_EQ(format_bytes(1536 * MiB), "1.50 GiB");
}

TEST(CachingAllocatorCore, ZeroBytesIsNull) {
  Fixture f;
  EXPECT_EQ(f.alloc.allocate(0, kStreamA), nullptr);
  f.alloc.free(nullptr);
  EXPECT_EQ(f.alloc.stats().num_allocs, 0);
  EXPECT_EQ(f.source.segment_requests, 0);
}

TEST(CachingAllocatorCore, SmallRequestsShareOneSegment) {
  Fixture f;
  void* a = f.alloc.allocate(100, kStreamA);
  void* b = f.alloc.allocate(1000, kStreamA);
  EXPECT_EQ(f.source.segment_requests, 1);
  EXPECT_EQ(f.alloc.num_segments(), 1u);
  EXPECT_EQ(f.alloc.block_size(a), 512u);
  EXPECT_EQ(f.alloc.block_size(b), 1024u);
  // Split from the front of the segment, one after the other.
  EXPECT_EQ(as_bytes(b), as_bytes(a) + 512);
  const MemoryStats s = f.alloc.stats();
  EXPECT_EQ(s.allocated, 1536);
  EXPECT_EQ(s.reserved, int64_t(2 * MiB));
  EXPECT_EQ(s.num_allocs, 2);
  f.alloc.free(a);
  f.alloc.free(b);
  EXPECT_EQ(f.alloc.stats().allocated, 0);
  EXPECT_EQ(f.alloc.stats().reserved, int64_t(2 * MiB));  // cached, not returned
}

TEST(CachingAllocatorCore, FreedBlockIsReused) {
  Fixture f;
  void* a = f.alloc.allocate(4 * KiB, kStreamA);
  f.alloc.free(a);
  void* b = f.alloc.allocate(4 * KiB, kStreamA);
  EXPECT_EQ(a, b);
  EXPECT_EQ(f.source.segment_requests, 1);
  f.alloc.free(b);
}

TEST(CachingAllocatorCore, BestFitPicksTheSmallestBlockThatFits) {
  Fixture f;
  // Carve a segment into [8K][sep][4K][sep][16K][sep][rest] and free the three sized blocks.
  void* b8 = f.alloc.allocate(8 * KiB, kStreamA);
  void* s1 = f.alloc.allocate(512, kStreamA);
  void* b4 = f.alloc.allocate(4 * KiB, kStreamA);
  void* s2 = f.alloc.allocate(512, kStreamA);
  void* b16 = f.alloc.allocate(16 * KiB, kStreamA);
  void* s3 = f.alloc.allocate(512, kStreamA);
  f.alloc.free(b8);
  f.alloc.free(b4);
  f.alloc.free(b16);
  EXPECT_EQ(f.alloc.allocate(3 * KiB, kStreamA), b4);  // split from the 4K block
  EXPECT_EQ(f.alloc.allocate(6 * KiB, kStreamA), b8);
  EXPECT_EQ(f.alloc.allocate(12 * KiB, kStreamA), b16);
  EXPECT_EQ(f.source.segment_requests, 1);
  for (void* p : {b4, b8, b16, s1, s2, s3}) f.alloc.free(p);
}

TEST(CachingAllocatorCore, SplitRemainderAndMergeOnFree) {
  Fixture f;
  void* a = f.alloc.allocate(1 * MiB, kStreamA);
  void* b = f.alloc.allocate(512 * KiB, kStreamA);
  void* c = f.alloc.allocate(512 * KiB, kStreamA);
  EXPECT_EQ(f.source.segment_requests, 1);  // 1M + 512K + 512K fill one 2 MiB segment exactly
  EXPECT_EQ(as_bytes(c), as_bytes(a) + 1536 * KiB);
  // Free the middle, then the ends: the segment merges back into one 2 MiB block.
  f.alloc.free(b);
  f.alloc.free(a);
  f.alloc.free(c);
  void* whole = f.alloc.allocate(1 * MiB, kStreamA);
  EXPECT_EQ(whole, a);
  void* rest = f.alloc.allocate(1 * MiB, kStreamA);
  EXPECT_EQ(as_bytes(rest), as_bytes(a) + 1 * MiB);
  EXPECT_EQ(f.source.segment_requests, 1);
  f.alloc.free(whole);
  f.alloc.free(rest);
  // Merged back into one free segment, empty_cache can release it.
  f.alloc.empty_cache();
  EXPECT_EQ(f.alloc.stats().reserved, 0);
  EXPECT_EQ(f.source.segments_freed, 1);
}

TEST(CachingAllocatorCore, LargeRequestsUseTheLargePool) {
  Fixture f;
  void* a = f.alloc.allocate(3 * MiB, kStreamA);
  EXPECT_EQ(f.alloc.stats().reserved, int64_t(20 * MiB));
  EXPECT_EQ(f.alloc.block_size(a), 3 * MiB);
  // The 17 MiB remainder serves the next large request; a small one gets its own segment.
  void* b = f.alloc.allocate(5 * MiB, kStreamA);
  EXPECT_EQ(as_bytes(b), as_bytes(a) + 3 * MiB);
  void* s = f.alloc.allocate(4 * KiB, kStreamA);
  EXPECT_EQ(f.alloc.stats().reserved, int64_t(22 * MiB));
  // Best fit: an 11 MiB request takes the 12 MiB remainder whole (1 MiB left is not worth a
  // split); the next one gets its own segment, its size rounded up to 2 MiB.
  void* big = f.alloc.allocate(11 * MiB, kStreamA);
  EXPECT_EQ(as_bytes(big), as_bytes(a) + 8 * MiB);
  EXPECT_EQ(f.alloc.block_size(big), 12 * MiB);
  void* big2 = f.alloc.allocate(11 * MiB, kStreamA);
  EXPECT_EQ(f.alloc.block_size(big2), 12 * MiB);
  EXPECT_EQ(f.alloc.stats().reserved, int64_t(34 * MiB));
  f.alloc.free(big2);
  for (void* p : {a, b, s, big}) f.alloc.free(p);
}

TEST(CachingAllocatorCore, LargeBlocksKeepSmallRemaindersUnsplit) {
  Fixture f;
  void* a = f.alloc.allocate(19 * MiB + 512 * KiB, kStreamA);
  EXPECT_EQ(f.alloc.block_size(a), 20 * MiB);  // 512 KiB left: not > 1 MiB
  EXPECT_EQ(f.alloc.stats().allocated, int64_t(20 * MiB));
  f.alloc.free(a);
}

TEST(CachingAllocatorCore, StreamsDoNotShareFreeBlocks) {
  Fixture f;
  void* a = f.alloc.allocate(4 * KiB, kStreamA);
  f.alloc.free(a);
  void* b = f.alloc.allocate(4 * KiB, kStreamB);
  EXPECT_NE(a, b);
  EXPECT_EQ(f.source.segment_requests, 2);
  void* a2 = f.alloc.allocate(4 * KiB, kStreamA);
  EXPECT_EQ(a2, a);
  f.alloc.free(b);
  f.alloc.free(a2);
}

TEST(CachingAllocatorCore, RecordStreamDefersReuseUntilTheEventCompletes) {
  Fixture f;
  void* a = f.alloc.allocate(4 * KiB, kStreamA);
  f.alloc.record_stream(a, kStreamB);
  f.alloc.record_stream(a, kStreamB);  // recorded once
  f.alloc.record_stream(a, kStreamA);  // the owning stream: nothing to wait for
  f.alloc.free(a);
  EXPECT_EQ(f.source.events_recorded(), 1);
  EXPECT_EQ(f.alloc.stats().allocated, 0);  // freed as far as the stats go
  // Stream B has not finished with it: a new request on A must not get it.
  void* b = f.alloc.allocate(4 * KiB, kStreamA);
  EXPECT_NE(b, a);
  f.source.complete_stream(kStreamB);
  void* c = f.alloc.allocate(4 * KiB, kStreamA);
  EXPECT_EQ(c, a);
  EXPECT_TRUE(f.source.all_events_released());
  f.alloc.free(b);
  f.alloc.free(c);
}

TEST(CachingAllocatorCore, RecordStreamOnSeveralStreamsWaitsForAll) {
  Fixture f;
  constexpr StreamId kStreamC = 0x30;
  void* a = f.alloc.allocate(4 * KiB, kStreamA);
  f.alloc.record_stream(a, kStreamB);
  f.alloc.record_stream(a, kStreamC);
  f.alloc.free(a);
  EXPECT_EQ(f.source.events_recorded(), 2);
  f.source.complete_stream(kStreamB);
  void* b = f.alloc.allocate(4 * KiB, kStreamA);
  EXPECT_NE(b, a);
  f.source.complete_stream(kStreamC);
  void* c = f.alloc.allocate(4 * KiB, kStreamA);
  EXPECT_EQ(c, a);
  f.alloc.free(b);
  f.alloc.free(c);
}

TEST(CachingAllocatorCore, ASlowStreamDoesNotHoldBackOthers) {
  Fixture f;
  constexpr StreamId kStreamC = 0x30;
  void* a = f.alloc.allocate(4 * KiB, kStreamA);
  void* b = f.alloc.allocate(8 * KiB, kStreamA);
  f.alloc.record_stream(a, kStreamB);  // B stays busy
  f.alloc.record_stream(b, kStreamC);
  f.alloc.free(a);
  f.alloc.free(b);
  f.source.complete_stream(kStreamC);
  void* c = f.alloc.allocate(8 * KiB, kStreamA);
  EXPECT_EQ(c, b);
  f.source.complete_stream(kStreamB);
  f.alloc.free(c);
}

TEST(CachingAllocatorCore, PendingBlocksDoNotMergeEarly) {
  Fixture f;
  void* a = f.alloc.allocate(512 * KiB, kStreamA);
  void* b = f.alloc.allocate(512 * KiB, kStreamA);
  void* c = f.alloc.allocate(1 * MiB, kStreamA);  // the segment is full
  f.alloc.record_stream(a, kStreamB);
  f.alloc.free(a);  // pending on B
  f.alloc.free(b);  // free, but its neighbour is still in use on B
  void* d = f.alloc.allocate(1 * MiB, kStreamA);
  void* e = f.alloc.allocate(1 * MiB, kStreamA);  // fills the second segment
  EXPECT_EQ(f.source.segment_requests, 2);
  EXPECT_NE(d, a);
  f.source.complete_stream(kStreamB);
  void* g = f.alloc.allocate(1 * MiB, kStreamA);  // a and b merged
  EXPECT_EQ(g, a);
  EXPECT_EQ(f.source.segment_requests, 2);
  for (void* p : {c, d, e, g}) f.alloc.free(p);
}

TEST(CachingAllocatorCore, OutOfMemoryReleasesCacheAndRetries) {
  Fixture f(24 * MiB);
  void* a = f.alloc.allocate(4 * KiB, kStreamA);  // 2 MiB small segment
  f.alloc.free(a);
  void* big = f.alloc.allocate(11 * MiB, kStreamA);  // 12 MiB segment
  f.alloc.free(big);
  EXPECT_EQ(f.alloc.stats().reserved, int64_t(14 * MiB));
  // 20 MiB does not fit next to the 14 MiB cached: the cache is released and the retry succeeds.
  void* c = f.alloc.allocate(20 * MiB, kStreamA);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(f.source.segments_freed, 2);
  EXPECT_EQ(f.alloc.stats().reserved, int64_t(20 * MiB));
  f.alloc.free(c);
}

TEST(CachingAllocatorCore, OutOfMemoryWaitsForPendingEventsBeforeReleasing) {
  Fixture f(20 * MiB);
  void* a = f.alloc.allocate(12 * MiB, kStreamA);
  f.alloc.record_stream(a, kStreamB);
  f.alloc.free(a);  // pending on B
  void* b = f.alloc.allocate(14 * MiB, kStreamA);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(f.source.synchronizations, 1);
  EXPECT_EQ(f.source.segments_freed, 1);
  f.alloc.free(b);
}

TEST(CachingAllocatorCore, OutOfMemoryErrorNamesTheNumbers) {
  Fixture f(24 * MiB);
  void* a = f.alloc.allocate(12 * MiB, kStreamA);
  testing::expect_error(
      [&] { f.alloc.allocate(16 * MiB, kStreamA); },
      {"cuda:0 out of memory", "tried to allocate 16.00 MiB", "12.00 MiB allocated",
       "12.00 MiB reserved", "12.00 MiB free of 24.00 MiB"});
  EXPECT_THROW(f.alloc.allocate(16 * MiB, kStreamA), OutOfMemoryError);
  // The failed requests changed nothing.
  EXPECT_EQ(f.alloc.stats().allocated, int64_t(12 * MiB));
  EXPECT_EQ(f.alloc.stats().num_allocs, 1);
  f.alloc.free(a);
}

TEST(CachingAllocatorCore, LiveSplitSegmentsSurviveEmptyCache) {
  Fixture f;
  void* a = f.alloc.allocate(4 * KiB, kStreamA);
  void* b = f.alloc.allocate(4 * KiB, kStreamA);
  void* big = f.alloc.allocate(3 * MiB, kStreamA);
  f.alloc.free(b);
  f.alloc.free(big);
  f.alloc.empty_cache();
  // The small segment still holds `a`; the large one was entirely free.
  EXPECT_EQ(f.alloc.num_segments(), 1u);
  EXPECT_EQ(f.alloc.stats().reserved, int64_t(2 * MiB));
  f.alloc.free(a);
  f.alloc.empty_cache();
  EXPECT_EQ(f.alloc.num_segments(), 0u);
  EXPECT_EQ(f.source.used(), 0u);
}

TEST(CachingAllocatorCore, StatsAndPeak) {
  Fixture f;
  void* a = f.alloc.allocate(1000, kStreamA);
  void* b = f.alloc.allocate(3 * MiB, kStreamA);
  EXPECT_EQ(f.alloc.stats().peak_allocated, int64_t(1024 + 3 * MiB));
  f.alloc.free(b);
  EXPECT_EQ(f.alloc.stats().allocated, 1024);
  EXPECT_EQ(f.alloc.stats().peak_allocated, int64_t(1024 + 3 * MiB));
  f.alloc.reset_peak();
  EXPECT_EQ(f.alloc.stats().peak_allocated, 1024);
  void* c = f.alloc.allocate(512, kStreamA);
  EXPECT_EQ(f.alloc.stats().peak_allocated, 1536);
  EXPECT_EQ(f.alloc.stats().num_allocs, 3);
  EXPECT_EQ(f.alloc.stats().reserved, int64_t(22 * MiB));
  f.alloc.free(a);
  f.alloc.free(c);
}

TEST(CachingAllocatorCore, UnknownPointersAreInternalErrors) {
  Fixture f;
  int x = 0;
  testing::expect_error([&] { f.alloc.free(&x); },
                        {"caching allocator (cuda:0)", "free of", "did not allocate"});
  void* a = f.alloc.allocate(512, kStreamA);
  f.alloc.free(a);
  EXPECT_THROW(f.alloc.free(a), InternalError);
  EXPECT_THROW(f.alloc.record_stream(a, kStreamB), InternalError);
}

TEST(CachingAllocatorCore, ManyRandomAllocationsStayConsistent) {
  Fixture f(2048 * MiB);
  std::vector<void*> live;
  uint64_t state = 42;
  // The high bits of a 64-bit LCG (its low bits have short periods).
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  size_t expect_allocated = 0;
  std::map<void*, size_t> sizes;
  for (int i = 0; i < 2000; ++i) {
    if (live.empty() || next() % 2 != 0) {
      // One draw per statement: the order of two draws in one expression is unspecified.
      const bool large = next() % 4 == 0;
      const size_t n = next() % (large ? 12 * MiB : 64 * KiB) + 1;
      const StreamId s = next() % 2 ? kStreamA : kStreamB;
      void* p = f.alloc.allocate(n, s);
      // The block never overlaps a live one.
      auto it = sizes.upper_bound(p);
      if (it != sizes.end()) ASSERT_LE(as_bytes(p) + f.alloc.block_size(p), as_bytes(it->first));
      if (it != sizes.begin()) {
        --it;
        ASSERT_LE(as_bytes(it->first) + it->second, as_bytes(p));
      }
      sizes[p] = f.alloc.block_size(p);
      expect_allocated += sizes[p];
      live.push_back(p);
    } else {
      const size_t k = next() % live.size();
      expect_allocated -= sizes.at(live[k]);
      sizes.erase(live[k]);
      f.alloc.free(live[k]);
      live.erase(live.begin() + k);
    }
    ASSERT_EQ(f.alloc.stats().allocated, int64_t(expect_allocated));
  }
  for (void* p : live) f.alloc.free(p);
  f.alloc.empty_cache();
  EXPECT_EQ(f.alloc.stats().reserved, 0);  // every segment merged back whole
  EXPECT_EQ(f.source.used(), 0u);
}

}  // namespace
}  // namespace anvil::cuda
