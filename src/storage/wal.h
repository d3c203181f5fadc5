// Wal: Carelog's local write-ahead log, shared by every partition on the
// broker. Record batches are durable (fdatasync'ed) before their producers
// are acknowledged; the object-storage uploader (next) will copy them out
// and then call reclaim_before(). Byte format: docs/formats/wal.md.
//
// Group commit: append() copies the record into a pending buffer under a
// short mutex and returns. A dedicated commit thread swaps the buffer out,
// writes it with one write and one fdatasync per touched segment, then runs
// the callbacks of that whole group in append order. Many appends from many
// partitions and connections therefore share one fsync.
//
// Space: capacity_bytes bounds the sum of all segment sizes. A producer first
// reserves space with reserve_async() (never blocks: when the WAL is full the
// request waits in a FIFO queue for up to max_wait, then fails), then
// append()s under its own ordering lock (never blocks). Nothing is deleted
// except by reclaim_before(), so unuploaded data is never lost.
//
// Failure: a failed write or sync "poisons" the WAL: that group and every
// later append fail with KAFKA_STORAGE_ERROR (56), so durable data is always
// a prefix of what was appended.
//
// Threading: all methods are thread-safe. Callbacks run on the commit thread,
// must not block, and may call read()/reserve_async() but not reserve() or
// close().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/uuid.h"
#include "storage/file_system.h"

namespace carelog::storage {

inline constexpr int32_t kErrRequestTimedOut = 7;  // WAL full: retriable for every client
inline constexpr int32_t kErrKafkaStorageError = 56;

struct WalConfig {
  std::string dir = "wal";                   // wal.dir
  uint64_t segment_bytes = 64ull << 20;      // wal.segment.bytes
  uint64_t capacity_bytes = 16ull << 30;     // wal.capacity.bytes (all segments)
  std::chrono::milliseconds max_wait{1000};  // wait for space before failing
};

// Where a batch's bytes live: segment id, file offset of the batch bytes
// (after the record header and payload prefix), and length.
struct WalLocation {
  uint64_t segment = 0;
  uint64_t position = 0;
  uint32_t length = 0;
};

struct WalRecord {
  Uuid topic_id;
  int32_t partition = 0;
  int64_t base_offset = 0;
  SharedBytes batch;  // during recovery: a slice of the segment being scanned
  WalLocation location;
};

struct WalStats {
  uint64_t appends = 0;  // records enqueued
  uint64_t commits = 0;  // groups written
  uint64_t syncs = 0;    // fdatasync calls
  uint64_t used_bytes = 0;
  uint64_t segments = 0;
};

using WalCallback = std::function<void(const Status&, const WalLocation&)>;

class Wal {
 public:
  using RecoveryFn = std::function<void(const WalRecord&)>;

  // Scans every segment in order, calling `on_record` for each valid record
  // (on the calling thread), truncates a torn tail of the last segment, and
  // starts the commit thread. A corrupt record anywhere else is an error.
  static Result<std::unique_ptr<Wal>> open(FileSystem& fs, WalConfig config, const RecoveryFn& on_record);

  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // On-disk size of a record carrying `batch_bytes` bytes of batch.
  static uint64_t record_size(size_t batch_bytes);

  // Reserves `bytes` (sum of record_size()s) of capacity. `done` runs inline
  // when space is available now (or on immediate failure), otherwise later
  // on the thread that frees space or, after max_wait, on the commit thread
  // with REQUEST_TIMED_OUT (7). KAFKA_STORAGE_ERROR (56) when poisoned or
  // closed. Call without locks that `done` takes.
  using ReserveCallback = std::function<void(const Status&)>;
  void reserve_async(uint64_t bytes, ReserveCallback done);
  // Blocking form of reserve_async (tests, tools). Not from callbacks.
  Status reserve(uint64_t bytes);
  // Returns an unused reservation.
  void release_reservation(uint64_t bytes);

  // Enqueues one batch (consumes record_size(batch.size()) of a reservation).
  // Never blocks on I/O; `done` runs later on the commit thread, in append
  // order. Fails only after close(): then `done` is dropped, never called
  // (so callers may hold their own locks while appending).
  Status append(const Uuid& topic_id, int32_t partition, int64_t base_offset, std::span<const uint8_t> batch,
                WalCallback done);

  // Reads a batch's bytes back.
  Result<SharedBytes> read(const WalLocation& location);

  // Deletes every segment with id < `segment` (never the active one).
  Status reclaim_before(uint64_t segment);

  // Writes everything pending, completes its callbacks and stops the thread.
  void close();

  WalStats stats();
  uint64_t active_segment();

 private:
  struct Chunk {
    uint64_t segment = 0;
    bool new_segment = false;
    std::vector<uint8_t> data;
  };
  struct Waiter {
    uint64_t bytes;
    std::chrono::steady_clock::time_point deadline;
    ReserveCallback done;
  };
  struct Pending {
    WalCallback done;
    WalLocation location;
  };

  Wal(FileSystem& fs, WalConfig config);
  Status recover(const RecoveryFn& on_record);
  void commit_loop();
  Status write_chunk(Chunk& chunk);
  // Grants queued reservations that now fit (FIFO); callers run them
  // after unlocking.
  void grant_waiters_locked(std::vector<Waiter>* granted);
  Error state_error_locked() const;
  std::string segment_path(uint64_t id) const;

  FileSystem& fs_;
  const WalConfig config_;

  std::mutex mu_;  // guards everything below; never held during I/O
  std::condition_variable work_cv_;
  std::deque<Waiter> waiters_;  // FIFO; same max_wait, so front expires first
  std::vector<Chunk> chunks_;
  std::vector<Pending> pending_;
  std::map<uint64_t, std::shared_ptr<File>> segments_;
  std::map<uint64_t, uint64_t> segment_sizes_;  // including enqueued bytes
  uint64_t tail_segment_ = 0;
  uint64_t tail_size_ = 0;
  bool need_new_segment_ = true;
  uint64_t next_segment_ = 0;
  uint64_t inflight_min_ = UINT64_MAX;  // lowest segment the commit thread is writing
  uint64_t used_ = 0;                   // bytes in segments + enqueued
  uint64_t reserved_ = 0;               // reserved but not yet appended
  bool poisoned_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  WalStats stats_;
  std::thread thread_;
};

}  // namespace carelog::storage
