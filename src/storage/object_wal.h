// ObjectWal: the write-ahead log kept in object storage (wal.type=object),
// so a broker holds no local state worth keeping. Byte format and recovery
// rules: docs/formats/object-wal.md (code: object_wal_format.h).
//
// Batching: append() adds the record to the open object, in memory (records
// of every partition and connection share one object). The flusher thread
// seals it and hands it to a pool of `max_inflight` PUT workers:
//   * adaptive (max_puts_per_sec > 0, the default): group commit over PUTs.
//     The open object is sealed as soon as no WAL PUT is in flight (a lone
//     record goes at once; records arriving during a PUT share the next
//     object) while the last sealed object was under half of `batch_bytes`
//     (heavy traffic waits for the size trigger, keeping the PUTs per GiB
//     of the fixed window at saturation), or once `batch_bytes` wait, or once its first record has
//     waited `batch_window` (a slow PUT is then overlapped by the next) --
//     but never sooner than 1/max_puts_per_sec after the previous seal, so
//     WAL PUTs never exceed that rate (close() alone ignores the budget).
//   * fixed window (max_puts_per_sec == 0): sealed `batch_window` after its
//     first record, or once `batch_bytes` wait.
// In both, at most `max_inflight` PUTs run at once. Objects complete
// strictly in sequence order: the callbacks of object N run (OK) only after
// its PUT succeeded and after those of N-1. Nothing is acknowledged before
// its PUT returned OK.
//
// Failure: when the oldest object in flight fails, or is not done after
// `put_timeout` (a hung gateway), that object, every later object in flight
// and the open object all fail with REQUEST_TIMED_OUT (7, retried by every
// Kafka client; the write may or may not have landed). While their
// callbacks run, append() refuses new records, so a partition sees all of
// its undone batches fail before it assigns new offsets (it rolls back to
// its high watermark). The failed sequence numbers are "cancelled": listed
// in the trailer of every later object until deleted, so recovery ignores
// them even if a PUT reported as failed landed after all. Unlike the file
// WAL, the ObjectWal is not poisoned: the next object is tried normally.
//
// Memory: durable objects stay in memory (read() serves the uploader and
// tail reads from them) until reclaim_before() deletes them after upload.
// Capacity (WalSpace) counts appended record bytes, so capacity_bytes
// bounds this memory.
//
// Threading: all methods are thread-safe; mu_ is never held during object
// store calls or callbacks. Callbacks run on the flusher thread, in append
// order, and must not block. reclaim_before() deletes objects on the
// caller's thread (the uploader's).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "objstore/object_store.h"
#include "storage/wal.h"

namespace carelog::storage {

struct ObjectWalConfig {
  std::string prefix = "wal/";                  // keys: <prefix><sequence>.cwo
  std::chrono::milliseconds batch_window{200};  // wal.object.batch.ms
  uint64_t batch_bytes = 4ull << 20;            // wal.object.batch.bytes
  // wal.object.max.puts.per.sec: PUT budget of the adaptive batching (0 =
  // fixed window). Default and cost: docs/s3.md#latency-trade-off.
  double max_puts_per_sec = 50;
  std::chrono::milliseconds put_timeout{10000};  // wal.object.put.timeout.ms
  uint64_t capacity_bytes = 2ull << 30;          // wal.capacity.bytes (memory here)
  std::chrono::milliseconds max_wait{1000};      // wal.max.wait.ms
  size_t max_inflight = 4;                       // PUTs in flight
};

struct ObjectWalStats {
  uint64_t puts = 0;            // PUT attempts started
  uint64_t put_bytes = 0;       // bytes of successful PUTs
  uint64_t put_failures = 0;    // PUTs that returned an error
  uint64_t put_timeouts = 0;    // objects failed because their PUT took too long
  uint64_t failed_records = 0;  // records failed back to producers
  uint64_t deletes = 0;         // WAL objects deleted
};

class ObjectWal final : public WriteAheadLog {
 public:
  // Lists and reads every WAL object under the prefix, replays the records
  // that count (see docs/formats/object-wal.md) through `on_record` on the
  // calling thread, then starts the flusher and PUT workers. An object that
  // fails validation is an error naming its key. `store` must outlive this.
  static Result<std::unique_ptr<ObjectWal>> open(objstore::ObjectStore& store, ObjectWalConfig config,
                                                 const RecoveryFn& on_record);
  // Reads the WAL objects under `prefix` (another broker incarnation's WAL,
  // cluster mode) and replays the records that count, exactly as open()
  // would, without writing or deleting anything. Read-only.
  static Status replay_prefix(objstore::ObjectStore& store, const std::string& prefix,
                              const RecoveryFn& on_record);
  ~ObjectWal() override;
  ObjectWal(const ObjectWal&) = delete;
  ObjectWal& operator=(const ObjectWal&) = delete;

  void reserve_async(uint64_t bytes, ReserveCallback done) override;
  void release_reservation(uint64_t bytes) override;
  Status append(const Uuid& topic_id, int32_t partition, int64_t base_offset, const WalBatch& batch,
                WalCallback done) override;
  Result<SharedBytes> read(const WalLocation& location) override;
  // Deletes WAL objects with sequence < `segment` (never one still being
  // completed) and every cancelled object whose PUT is not running.
  Status reclaim_before(uint64_t segment) override;
  // The lowest object not yet completed (`seal` does nothing: the open
  // object closes within wal.object.batch.ms anyway).
  uint64_t reclaim_horizon(bool seal) override;
  bool space_pressure() override { return space_.pressure(); }
  void close() override;
  WalStats stats() override;
  // Sequence of the open object.
  uint64_t active_segment() override;

  ObjectWalStats object_stats();
  // Sequences of WAL objects held (durable, not yet reclaimed).
  std::vector<uint64_t> held_objects();

 private:
  struct Pending {
    WalCallback done;
    WalLocation location;
    uint64_t bytes = 0;  // record size, for space accounting
  };
  struct Open {
    uint64_t seq = 0;
    std::vector<uint8_t> body;
    uint32_t records = 0;
    uint64_t record_bytes = 0;
    std::vector<Pending> pending;
    std::chrono::steady_clock::time_point deadline;
  };
  struct Held {
    SharedBytes bytes;          // the whole object
    uint64_t record_bytes = 0;  // space it holds (WalSpace)
  };
  struct Job {
    uint64_t seq = 0;
    std::string key;
    SharedBytes bytes;
    std::vector<Pending> pending;
    std::chrono::steady_clock::time_point deadline;
    bool running = false;
    bool finished = false;
    bool cancelled = false;
    Status status;
  };

  ObjectWal(objstore::ObjectStore& store, ObjectWalConfig config);
  Status recover(const RecoveryFn& on_record);
  void flusher_loop();
  void worker_loop();
  void seal_locked();
  // Completes the front job (success) or fails everything (failure);
  // unlocks `lk` around the callbacks.
  void complete_front(std::unique_lock<std::mutex>& lk);
  void fail_all(std::unique_lock<std::mutex>& lk, const std::string& why, bool timed_out);
  uint64_t lowest_incomplete_locked() const;

  objstore::ObjectStore& store_;
  const ObjectWalConfig config_;
  WalSpace space_;

  std::mutex mu_;  // guards everything below; never held during I/O or callbacks
  std::condition_variable flusher_cv_;
  std::condition_variable worker_cv_;
  Open open_;
  std::deque<std::shared_ptr<Job>> inflight_;  // sealed, sequence order, not yet completed
  std::deque<std::shared_ptr<Job>> queue_;     // waiting for a worker
  std::map<uint64_t, Held> objects_;           // durable, not yet reclaimed
  std::set<uint64_t> cancelled_;               // failed objects not yet deleted
  std::set<uint64_t> running_;                 // sequences with a PUT in progress
  std::optional<uint64_t> completing_;         // callbacks of this sequence are running
  uint64_t next_seq_ = 0;
  // Adaptive batching: the earliest moment the next object may be sealed.
  std::chrono::steady_clock::time_point next_seal_{};
  uint64_t last_sealed_bytes_ = 0;  // body size of the last sealed object
  bool failing_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  bool workers_stop_ = false;
  WalStats stats_;
  ObjectWalStats ostats_;
  std::thread flusher_;
  std::vector<std::thread> workers_;
};

}  // namespace carelog::storage
