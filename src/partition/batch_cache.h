// BatchCache: recently appended batches, shared by all partitions of a
// broker, so tailing consumers are served from memory. FIFO eviction by
// total bytes (appends arrive in time order, so FIFO ~ LRU for tailing).
//
// Threading: thread-safe; its mutex is a leaf lock (no callbacks, no I/O),
// so callers may hold their own locks while using it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "common/bytes.h"

namespace carelog::partition {

class BatchCache {
 public:
  explicit BatchCache(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  void put(uint64_t partition_uid, int64_t base_offset, SharedBytes bytes);
  std::optional<SharedBytes> get(uint64_t partition_uid, int64_t base_offset);
  // Drops a partition's batches with base offsets in [from, to] (their
  // bytes changed: log compaction rewrote them).
  void erase_range(uint64_t partition_uid, int64_t from, int64_t to);

  uint64_t size_bytes();
  uint64_t hits();
  uint64_t misses();

 private:
  using Key = std::pair<uint64_t, int64_t>;
  std::mutex mu_;
  const uint64_t capacity_;
  uint64_t size_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  std::map<Key, SharedBytes> entries_;
  std::deque<Key> fifo_;
};

}  // namespace carelog::partition
