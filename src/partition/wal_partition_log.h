// WalPartitionLog: PartitionLog backed by the broker's shared WAL and, once
// uploaded, by stream-set objects in object storage.
//
// State (under mu_): next offset to assign, high watermark (end of the
// durable prefix), log start offset, the batch index, idempotent-producer
// state, fetch listeners and the upload cursor. mu_ is held only for short
// in-memory work; WAL reservation (asynchronous when the WAL is full), reads
// (WAL preads, object GETs) and metadata writes happen outside it. Lock
// order: mu_ -> Wal's internal mutex / BatchCache (leaves).
//
// Append: reserve WAL space -> under mu_: producer checks, assign offsets,
// enqueue to the WAL (so WAL order == offset order) -> WAL commit thread:
// on_durable() indexes the batch, advances the high watermark, fires
// listeners, then the produce callback.
//
// Index entries live in one of three places (IndexEntry::Kind): a WAL
// location; one batch inside an object; or a whole object range (several
// batches, as recovered from the metadata store), which the first read
// expands into per-batch entries by walking batch headers through the
// BlockCache. The uploader copies entries from the upload cursor on, and
// after the object is committed switches them to object locations
// (mark_uploaded); only then does the WAL segment become reclaimable.
//
// Lifetime: owned by WalLogManager via shared_ptr; WAL callbacks hold a
// shared_ptr to the partition, and the partition shares ownership of the Wal.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/uuid.h"
#include "metadata/metadata_store.h"
#include "partition/batch_cache.h"
#include "partition/partition_log.h"
#include "partition/producer_state.h"
#include "partition/read_pool.h"
#include "record/batch.h"
#include "storage/block_cache.h"
#include "storage/wal.h"

namespace carelog::partition {

// An uploaded object, shared by the index entries that point into it.
struct ObjectRef {
  std::string key;
  uint64_t size = 0;
};

struct IndexEntry {
  enum class Kind : uint8_t {
    kWal,          // `location` in the WAL; one batch
    kObject,       // one batch at [position, position+length) of `object`
    kObjectRange,  // several batches at [position, position+length): expand before use
  };
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  int64_t max_timestamp = -1;
  Kind kind = Kind::kWal;
  storage::WalLocation location;  // kWal: location.length = batch size
  std::shared_ptr<const ObjectRef> object;
  uint64_t position = 0;
  uint64_t length = 0;

  uint64_t bytes() const { return kind == Kind::kWal ? location.length : length; }
};

// Where object reads go: the block cache, and a pool for reads that may
// block on object-store I/O (so network threads never wait for a GET).
struct ObjectTier {
  storage::BlockCache* blocks = nullptr;
  ReadPool* pool = nullptr;
};

class WalPartitionLog final : public PartitionLog, public std::enable_shared_from_this<WalPartitionLog> {
 public:
  WalPartitionLog(Uuid topic_id, int32_t partition, uint64_t uid, std::shared_ptr<BatchCache> cache,
                  metadata::MetadataStore& store, int32_t leader_epoch);

  // --- start-up only (single-threaded, before serving) ---
  void recover_batch(const record::BatchHeader& header, const storage::WalLocation& location);
  void recover_log_start(int64_t offset);
  void attach(std::shared_ptr<storage::WriteAheadLog> wal);
  void attach_objects(ObjectTier tier);
  // Adds an uploaded range (ascending, before any WAL batch is recovered).
  void recover_object_range(const metadata::ObjectRange& r, std::shared_ptr<const ObjectRef> object);
  // Highest offset in objects: WAL batches at or below it are skipped.
  void recover_uploaded(int64_t last_offset);
  // Producer state from the snapshot stored with the last upload: it
  // covers offsets up to `snapshot_offset`; only later batches are replayed.
  void recover_producer_snapshot(int64_t snapshot_offset, ProducerStateTable state);
  // Uploaded ranges holding batches the producer state has not seen yet
  // (after the snapshot; all of them without one), in offset order.
  std::vector<IndexEntry> producer_replay_ranges() const;
  // Reads a range's batch headers (expanding it in the index); thread-safe,
  // so ranges of many partitions can be read in parallel at start-up.
  Result<std::vector<record::BatchHeader>> read_range_headers(const IndexEntry& range);
  // Feeds uploaded batches' headers (in offset order) to producer state.
  void recover_uploaded_producers(const std::vector<record::BatchHeader>& headers);
  // WAL replay of a batch that is already uploaded: producer state only.
  void recover_uploaded_batch(const record::BatchHeader& header);
  int64_t uploaded_offset() const;

  // --- uploader (its thread; no locks held by the caller) ---
  // WAL-located entries from the upload cursor on, at most `max_bytes`
  // (at least one entry when any).
  std::vector<IndexEntry> pending_upload(uint64_t max_bytes) const;
  uint64_t pending_upload_bytes() const;
  // Bytes of a WAL entry (cache first, then the WAL).
  Result<SharedBytes> read_for_upload(const IndexEntry& e);
  // After commit: entries (by base offset) now live at `positions` of
  // `object`; the upload cursor moves past `last_offset`.
  void mark_uploaded(const std::vector<std::pair<int64_t, uint64_t>>& positions,
                     std::shared_ptr<const ObjectRef> object, int64_t last_offset);
  // Producer state after `uploaded` (headers of the batches being
  // uploaded, in offset order): a copy of the state at the upload cursor,
  // advanced, with producers idle for `expiration_ms` dropped. Stored with
  // the object commit, then installed by set_uploaded_producers().
  ProducerStateTable uploaded_producers_after(const std::vector<record::BatchHeader>& uploaded,
                                              int64_t now_ms, int64_t expiration_ms) const;
  // After the commit: `state` is the state at the new upload cursor; the
  // live table forgets expired producers too.
  void set_uploaded_producers(ProducerStateTable state, int64_t now_ms, int64_t expiration_ms);
  // Lowest WAL segment still needed by this partition (none: UINT64_MAX).
  uint64_t wal_floor() const;
  // After compaction: offsets [r.base_offset, r.last_offset] now live in
  // `object` (one range entry replaces the old entries).
  void relocate(const metadata::ObjectRange& r, std::shared_ptr<const ObjectRef> object);

  // --- log compaction (wal_partition_cleaning.cpp) ---
  // After a cleaner pass: offsets [span_base, span_last] now live in the
  // given object ranges (offset order, gaps allowed); the entries there
  // before, and their cached bytes, are dropped.
  void replace_cleaned(
      int64_t span_base, int64_t span_last,
      const std::vector<std::pair<metadata::ObjectRange, std::shared_ptr<const ObjectRef>>>& ranges);
  // Base offsets of the uploaded producer state's last batches.
  std::vector<int64_t> producer_last_batches() const;
  // The durable aborted transactions (what read_committed Fetch lists).
  std::vector<AbortedSpan> aborted_spans() const;
  // Marker offsets of the aborted spans in the last stored producer snapshot.
  std::vector<int64_t> snapshot_aborted() const;
  // The cleaner removed the data of these aborted transactions (by marker
  // offset) and is about to remove their markers: they leave every producer
  // state table, so Fetch stops listing them and the next snapshot omits them.
  void forget_aborted(const std::vector<int64_t>& marker_offsets);

  // --- retention ---
  // New log start offset that retention asks for (nullopt: no change).
  std::optional<int64_t> retention_target(int64_t now_ms, int64_t retention_ms,
                                          int64_t retention_bytes) const;
  // Persists and applies a new log start offset (DeleteRecords, retention).
  LogError advance_log_start(int64_t offset, int64_t* now_start);
  bool dropped() const;

  // Rejects further appends/reads (topic deleted).
  void mark_dropped();
  // Cluster mode, planned move: further appends fail with
  // NOT_LEADER_OR_FOLLOWER (reads still work until the log is dropped).
  void mark_moved(bool moved = true);
  // No append is between offset assignment and durability.
  bool settled() const;

  // PartitionLog
  void append(AppendRequest request, AppendCallback done) override;
  ReadResult read(const ReadRequest& request) override;
  void read_async(const ReadRequest& request, std::function<void(ReadResult)> done) override;
  int64_t high_watermark() const override;
  int64_t log_start_offset() const override;
  uint64_t size_bytes() const override;
  int64_t last_stable_offset() const override;
  std::vector<ActiveProducer> active_producers() const override;
  OffsetForTimestamp offset_for_timestamp(int64_t timestamp) override;
  OffsetForTimestamp max_timestamp() override;
  void offset_for_timestamp_async(int64_t timestamp, std::function<void(OffsetForTimestamp)> done) override;
  void delete_records_before(int64_t offset, std::function<void(LogError, int64_t)> done) override;
  int32_t leader_epoch() const override { return leader_epoch_; }
  uint64_t add_listener(std::function<void()> fn) override;
  void cancel_listener(uint64_t id) override;

  const Uuid& topic_id() const { return topic_id_; }
  int32_t partition() const { return partition_; }
  size_t index_size() const;

 private:
  struct Deferred {
    int64_t last_offset;
    std::function<void(bool ok)> fn;
  };

  struct PreparedAppend;
  void push_index_locked(const IndexEntry& e);
  void erase_index_prefix_locked(std::vector<IndexEntry>::iterator keep);
  void append_reserved(const std::shared_ptr<PreparedAppend>& work);
  void on_durable(const Status& st, const storage::WalLocation& loc, const record::BatchHeader& h,
                  SharedBytes bytes, AppendCallback done);
  // Bytes of one batch entry; after a failure caused by the entry moving
  // (WAL reclaimed after upload, object compacted), retries at its new home.
  Result<SharedBytes> fetch(const IndexEntry& e, bool allow_object_io = true);
  Result<SharedBytes> fetch_once(const IndexEntry& e);
  // Expands a kObjectRange entry in place (I/O outside mu_); the batches'
  // headers go to `headers` when given. With io false, fails instead of
  // reading blocks that are not loaded.
  Status expand(const IndexEntry& range, std::vector<record::BatchHeader>* headers = nullptr, bool io = true);
  // Bytes of a batch entry from memory only (recent-data cache or loaded
  // blocks); nullopt when that would need I/O.
  std::optional<SharedBytes> fetch_cached(const IndexEntry& e);
  // Appends to `out` the object ranges (object, position, length) of the
  // uploaded batches from `it` on, up to the readahead window. Caller holds mu_.
  void collect_readahead_locked(std::vector<IndexEntry>::const_iterator it,
                                std::vector<IndexEntry>& out) const;
  // One read. With allow_object_io false, returns nullopt instead of
  // doing anything that may block on object storage.
  std::optional<ReadResult> read_impl(const ReadRequest& req, bool allow_object_io);
  void recompute_max_ts_locked();
  int64_t last_stable_offset_locked() const;
  // Timestamp lookups; with io false they return nullopt instead of doing
  // anything that may block on object storage (as read_impl).
  std::optional<OffsetForTimestamp> offset_for_timestamp_impl(int64_t timestamp, bool io);
  std::optional<OffsetForTimestamp> max_timestamp_impl(bool io);
  std::optional<OffsetForTimestamp> find_in_batch(const IndexEntry& e, int64_t timestamp, bool exact,
                                                  bool io);

  const Uuid topic_id_;
  const int32_t partition_;
  const uint64_t uid_;  // cache key
  const std::shared_ptr<BatchCache> cache_;
  metadata::MetadataStore& store_;
  const int32_t leader_epoch_;
  std::shared_ptr<storage::WriteAheadLog> wal_;  // set by attach() before serving
  ObjectTier tier_;                              // set by attach_objects() before serving

  mutable std::mutex mu_;
  int64_t next_offset_ = 0;
  int64_t high_watermark_ = 0;
  int64_t log_start_ = 0;
  bool dropped_ = false;
  bool moved_ = false;
  std::vector<IndexEntry> index_;  // sorted by offset; entries below log start removed
  size_t max_ts_entry_ = 0;        // index_ position of the first batch with the largest max timestamp
  ProducerStateTable producers_;
  // Producer state of the durable prefix (high watermark): producers_ rolls
  // back to it when WAL writes fail (the object WAL fails every write in
  // flight together), so retries are checked as if the failed batches had
  // never been appended.
  ProducerStateTable durable_producers_;
  // Producer state as of the upload cursor (what the last snapshot stored);
  // the base of the next snapshot. Only batches in objects feed it.
  ProducerStateTable uploaded_producers_;
  std::vector<int64_t> snapshot_aborted_;  // aborted spans' markers in the stored snapshot
  std::map<uint64_t, std::function<void()>> listeners_;
  uint64_t next_listener_id_ = 1;
  std::vector<Deferred> deferred_;  // duplicate retries waiting for durability
  int64_t upload_next_ = 0;         // first offset not yet in an object
  uint64_t pending_bytes_ = 0;      // WAL-located bytes at or above upload_next_
  int64_t producers_upto_ = -1;     // last offset whose batch fed producers_ (recovery)

  std::mutex delete_mu_;  // serializes delete_records_before's metadata writes
};

}  // namespace carelog::partition
