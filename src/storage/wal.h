// The write-ahead log of a broker: every produced batch is made durable here
// before its producer is acknowledged. Two implementations share the
// WriteAheadLog interface below (chosen by wal.type in broker.cpp):
//   * Wal (this file): local segment files with group commit + fdatasync.
//     Byte format: docs/formats/wal.md.
//   * ObjectWal (object_wal.h): batches collected for a short window and
//     written as one object to the object store (stateless brokers).
// The uploader copies durable batches into stream-set objects and then calls
// reclaim_before(); WalLocation::segment is a segment id (Wal) or a WAL
// object sequence number (ObjectWal), increasing in append order.
//
// Wal group commit: append() queues the record under a short mutex and
// returns: its header (and a batch under 4 KiB) is copied into a pending
// buffer, a larger batch is kept by reference (WalBatch::bytes). A
// dedicated commit thread swaps the queue out, writes it with one gathered
// write and one fdatasync per touched segment, then runs the callbacks of
// that whole group in append order. Many appends from many partitions and
// connections therefore share one fsync.
//
// Space: capacity_bytes bounds the sum of all segment sizes (WalSpace). A
// producer first reserves space with reserve_async() (never blocks: when the
// WAL is full the request waits in a FIFO queue for up to max_wait, then
// fails), then append()s under its own ordering lock (never blocks). Nothing
// is deleted except by reclaim_before(), so unuploaded data is never lost.
//
// Failure: a failed write or sync "poisons" the Wal: that group and every
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
#include "storage/wal_space.h"

namespace carelog::storage {

// wal.type: which WriteAheadLog the broker uses.
enum class WalType { kFile, kObject };

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

// One batch handed to a WAL. The WAL holds a reference to `bytes` until the
// record is written (the file WAL writes large batches straight from them),
// so they must not change after append().
struct WalBatch {
  SharedBytes bytes;
  // The bytes are a Kafka v2 batch whose own CRC the caller verified (or
  // set): the WAL derives its checksum from it instead of reading them.
  bool kafka_crc_verified = false;
};

// What the partitions and the log manager use; see the file comment.
class WriteAheadLog {
 public:
  using RecoveryFn = std::function<void(const WalRecord&)>;
  using ReserveCallback = std::function<void(const Status&)>;

  virtual ~WriteAheadLog() = default;

  // Bytes a record carrying `batch_bytes` bytes of batch takes (the same
  // record framing in segment files and WAL objects).
  static uint64_t record_size(size_t batch_bytes);

  // Reserves `bytes` (sum of record_size()s) of capacity. `done` runs inline
  // when space is available now (or on immediate failure), otherwise later
  // on the thread that frees space or, after max_wait, with
  // REQUEST_TIMED_OUT (7). KAFKA_STORAGE_ERROR (56) when poisoned or
  // closed. Call without locks that `done` takes.
  virtual void reserve_async(uint64_t bytes, ReserveCallback done) = 0;
  // Blocking form of reserve_async (tests, tools). Not from callbacks.
  Status reserve(uint64_t bytes);
  // Returns an unused reservation.
  virtual void release_reservation(uint64_t bytes) = 0;

  // Enqueues one batch (consumes record_size(batch.size()) of a
  // reservation). Never blocks on I/O; `done` runs later, in append order.
  // On an error return nothing was queued and `done` is dropped, never
  // called (so callers may hold their own locks while appending): the WAL
  // is closed, or (ObjectWal) failed writes are being reported, with
  // REQUEST_TIMED_OUT.
  virtual Status append(const Uuid& topic_id, int32_t partition, int64_t base_offset, const WalBatch& batch,
                        WalCallback done) = 0;

  // Reads a batch's bytes back.
  virtual Result<SharedBytes> read(const WalLocation& location) = 0;

  // Frees everything below `segment` (never data still being written).
  virtual Status reclaim_before(uint64_t segment) = 0;

  // Every record in a segment below the returned id has completed (its
  // callback ran, so the partitions have indexed it) and no later record
  // can go there. Take it BEFORE asking the partitions for their upload
  // floor: a record completing in between is then above the horizon
  // instead of being missed by the floor and deleted unuploaded.
  // With `seal`, a file WAL whose tail segment has no write in flight
  // closes it to appends (the next append starts a new segment), so the
  // tail can be reclaimed too; callers seal when space is short, otherwise
  // a full WAL could wait forever on the tail it cannot free.
  virtual uint64_t reclaim_horizon(bool seal) = 0;

  // Space is short: producers wait, or half the capacity is taken. The
  // uploader then uploads (and reclaims) without waiting for its interval.
  virtual bool space_pressure() = 0;

  // Writes everything pending, completes its callbacks and stops.
  virtual void close() = 0;

  virtual WalStats stats() = 0;
  virtual uint64_t active_segment() = 0;
};

class Wal final : public WriteAheadLog {
 public:
  // Scans every segment in order, calling `on_record` for each valid record
  // (on the calling thread), truncates a torn tail of the last segment, and
  // starts the commit thread. A corrupt record anywhere else is an error.
  static Result<std::unique_ptr<Wal>> open(FileSystem& fs, WalConfig config, const RecoveryFn& on_record);

  ~Wal() override;
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  void reserve_async(uint64_t bytes, ReserveCallback done) override;
  void release_reservation(uint64_t bytes) override;
  Status append(const Uuid& topic_id, int32_t partition, int64_t base_offset, const WalBatch& batch,
                WalCallback done) override;
  Result<SharedBytes> read(const WalLocation& location) override;
  // Deletes every segment with id < `segment` (never the active one,
  // unless it was sealed by reclaim_horizon()).
  Status reclaim_before(uint64_t segment) override;
  uint64_t reclaim_horizon(bool seal) override;
  bool space_pressure() override { return space_.pressure(); }
  void close() override;
  WalStats stats() override;
  uint64_t active_segment() override;

 private:
  // The bytes of one commit group bound for one segment. Record headers and
  // small batches are copied into `staged`; larger batches are written
  // straight from the producer's buffer (one gathered write): the bytes are
  // staged[0, refs[0].staged_end), refs[0].batch, staged[.., refs[1].
  // staged_end), refs[1].batch, ..., then the rest of `staged`.
  struct Chunk {
    struct Ref {
      size_t staged_end = 0;
      SharedBytes batch;
    };
    uint64_t segment = 0;
    bool new_segment = false;
    std::vector<uint8_t> staged;
    std::vector<Ref> refs;
  };
  // Batches smaller than this are copied (a gathered write costs per
  // slice; copying a small batch costs less).
  static constexpr size_t kCopyBelowBytes = 4096;
  struct Pending {
    WalCallback done;
    WalLocation location;
  };

  Wal(FileSystem& fs, WalConfig config);
  Status recover(const RecoveryFn& on_record);
  void commit_loop();
  Status write_chunk(Chunk& chunk);
  Error state_error_locked() const;
  std::string segment_path(uint64_t id) const;

  FileSystem& fs_;
  const WalConfig config_;
  WalSpace space_;  // bytes in segments + enqueued, and reservations

  std::mutex mu_;  // guards everything below; never held during I/O
  uint64_t reclaim_limit_locked(uint64_t segment) const;
  std::condition_variable work_cv_;
  std::vector<Chunk> chunks_;
  std::vector<Pending> pending_;
  std::map<uint64_t, std::shared_ptr<File>> segments_;
  std::map<uint64_t, uint64_t> segment_sizes_;  // including enqueued bytes
  uint64_t tail_segment_ = 0;
  uint64_t tail_size_ = 0;
  bool need_new_segment_ = true;  // the tail is sealed (or absent): the next append rolls
  uint64_t next_segment_ = 0;
  uint64_t inflight_min_ = UINT64_MAX;  // lowest segment the commit thread is writing
  bool poisoned_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  WalStats stats_;
  std::thread thread_;
};

}  // namespace carelog::storage
