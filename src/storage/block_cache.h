// BlockCache: a byte-bounded LRU cache of fixed-size blocks of immutable
// objects, with single-flight loading and sequential readahead. The read
// path for data that has left the WAL goes through it.
//
// Blocks: block i of object K covers bytes [i*block_size, (i+1)*block_size)
// of K (the last block may be shorter); it is loaded with one ranged GET.
// Objects are immutable and keys never reused, so cached blocks never go
// stale; invalidate() just frees memory for deleted objects.
//
// Single-flight: concurrent misses on one block share one GET; the other
// readers wait for it. A failed GET is reported to every waiter and is not
// cached (the next read retries).
//
// Readahead: the cache tracks, per object, where the last read ended. After
// `readahead_trigger` consecutive reads that continue where the previous
// one stopped (same or next block), it queues the next `readahead_blocks`
// blocks for a small pool of background threads (separate from WAL and
// network threads). Prefetch failures are dropped (a real read retries).
//
// Eviction: least recently used ready blocks go once cached bytes exceed
// `capacity_bytes` (config key cache.block.bytes). Blocks still referenced
// by readers stay alive through their SharedBytes, outside the accounting.
//
// Ownership: the cache borrows the ObjectStore (must outlive the cache) and
// owns its blocks and readahead threads; the destructor stops the threads
// (queued prefetches are dropped, running ones finish).
// Threading: all methods are thread-safe; read() blocks on object-store I/O,
// so call it from storage/fetch worker threads, not network I/O threads.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "objstore/object_store.h"

namespace carelog::storage {

struct BlockCacheOptions {
  uint64_t capacity_bytes = 256ull << 20;  // cache.block.bytes
  uint64_t block_size = 1ull << 20;        // see block_size_for()
  uint32_t readahead_blocks = 4;           // 0 disables readahead
  uint32_t readahead_trigger = 2;          // sequential reads before prefetching starts
  uint32_t readahead_threads = 2;
};

// Block size for a cache of `capacity` bytes: 4 MiB blocks at the default
// 256 MiB, smaller (down to 1 MiB) for small caches so they still hold 64
// blocks. Large blocks matter because producers' batches are large (up to
// librdkafka's 1 MB batch.size): a batch that straddles two blocks is
// copied into one buffer, which with 1 MiB blocks happened to about half of
// the bytes of a replay.
inline uint64_t block_size_for(uint64_t capacity) {
  return std::clamp<uint64_t>(capacity / 64, 1ull << 20, 4ull << 20) & ~((1ull << 20) - 1);
}

struct BlockCacheStats {
  uint64_t hits = 0;            // block found ready
  uint64_t misses = 0;          // block absent or still loading (waited)
  uint64_t gets = 0;            // object-store GETs issued (reads + readahead)
  uint64_t readahead_gets = 0;  // of which issued by readahead
  uint64_t get_failures = 0;
  uint64_t evictions = 0;
  uint64_t cached_bytes = 0;
  uint64_t cached_blocks = 0;
};

class BlockCache {
 public:
  BlockCache(objstore::ObjectStore& store, BlockCacheOptions options);
  ~BlockCache();
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // Returns bytes [offset, offset+length) of object `key`, clamped at the
  // object's end (like ObjectStore::get). A slice of one cached block when
  // the range lies within one block (no copy), else a new buffer.
  // `object_size`, when the caller knows it (0 = unknown), keeps readahead
  // from probing past the end. Errors are the object store's (not found,
  // transient, ...).
  Result<SharedBytes> read(const std::string& key, uint64_t offset, uint64_t length,
                           uint64_t object_size = 0);

  // Like read(), but never blocks and never issues a GET: nullopt unless
  // every block of the range is cached and loaded. For network threads.
  std::optional<SharedBytes> try_read(const std::string& key, uint64_t offset, uint64_t length,
                                      uint64_t object_size = 0);

  // Queues the blocks covering [offset, offset+length) that are neither
  // cached nor loading for the readahead threads; never blocks. Readers use
  // it for what they will read next (e.g. a partition's next batches, which
  // sit in another object or among other partitions' data).
  void prefetch(const std::string& key, uint64_t offset, uint64_t length, uint64_t object_size = 0);

  // Drops cached blocks and readahead state of `key`.
  void invalidate(const std::string& key);

  BlockCacheStats stats() const;
  const BlockCacheOptions& options() const { return opts_; }

 private:
  struct BlockKey {
    std::string key;
    uint64_t index;
    friend auto operator<=>(const BlockKey&, const BlockKey&) = default;
  };
  struct Block {
    bool done = false;  // load finished (ok or failed)
    std::optional<Error> error;
    SharedBytes data;
    bool in_lru = false;
    std::list<BlockKey>::iterator lru;
  };
  struct Stream {
    uint64_t last_block = 0;
    uint32_t run = 0;
    uint64_t ahead_until = 0;           // highest block already queued
    uint64_t block_count = UINT64_MAX;  // known number of blocks
  };

  // Returns block `index` of `key`, loading it (or waiting for a load in
  // flight). For prefetches, returns immediately when present or loading.
  Result<SharedBytes> get_block(const std::string& key, uint64_t index, bool prefetch);
  // Updates the stream state for a read of blocks [first, last] and queues
  // readahead. Caller holds mu_.
  void note_read_locked(const std::string& key, uint64_t first, uint64_t last, uint64_t object_size);
  void evict_locked();
  // Joins [offset, offset+length) from `blocks` (first..last, in order):
  // a slice when one block holds it, else a copy.
  Result<SharedBytes> gather(const std::string& key, uint64_t offset, uint64_t length,
                             const std::vector<SharedBytes>& blocks) const;
  // Clamps a read to the object's end; false when offset is past it.
  bool clamp(uint64_t object_size, uint64_t offset, uint64_t& length) const;
  void worker();

  objstore::ObjectStore& store_;
  const BlockCacheOptions opts_;

  mutable std::mutex mu_;
  std::condition_variable loaded_cv_;  // a load finished
  std::condition_variable work_cv_;    // readahead queued or stopping
  std::map<BlockKey, std::shared_ptr<Block>> blocks_;
  std::list<BlockKey> lru_;  // front = most recently used
  std::unordered_map<std::string, Stream> streams_;
  std::deque<BlockKey> queue_;
  bool stopping_ = false;
  BlockCacheStats stats_;
  std::vector<std::thread> threads_;
};

}  // namespace carelog::storage
