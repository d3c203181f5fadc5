// WalPartitionLog: PartitionLog backed by the broker's shared WAL.
//
// State (under mu_): next offset to assign, high watermark (end of the
// durable prefix), log start offset, the batch index, idempotent-producer
// state and fetch listeners. mu_ is held only for short in-memory work;
// WAL reservation (asynchronous when the WAL is full), reads and metadata
// writes happen outside it. Lock order: mu_ -> Wal's internal mutex / BatchCache (leaves).
//
// Append: reserve WAL space -> under mu_: producer checks, assign offsets,
// enqueue to the WAL (so WAL order == offset order) -> WAL commit thread:
// on_durable() indexes the batch, advances the high watermark, fires
// listeners, then the produce callback.
//
// Lifetime: owned by WalLogManager via shared_ptr; WAL callbacks hold a
// shared_ptr to the partition, and the partition shares ownership of the Wal.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "common/uuid.h"
#include "metadata/metadata_store.h"
#include "partition/batch_cache.h"
#include "partition/partition_log.h"
#include "partition/producer_state.h"
#include "record/batch.h"
#include "storage/wal.h"

namespace carelog::partition {

struct IndexEntry {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  int64_t max_timestamp = -1;
  storage::WalLocation location;  // location.length = batch size
};

class WalPartitionLog final : public PartitionLog, public std::enable_shared_from_this<WalPartitionLog> {
 public:
  WalPartitionLog(Uuid topic_id, int32_t partition, uint64_t uid, std::shared_ptr<BatchCache> cache,
                  metadata::MetadataStore& store, int32_t leader_epoch);

  // --- start-up only (single-threaded, before serving) ---
  void recover_batch(const record::BatchHeader& header, const storage::WalLocation& location);
  void recover_log_start(int64_t offset);
  void attach(std::shared_ptr<storage::Wal> wal);

  // Rejects further appends/reads (topic deleted).
  void mark_dropped();

  // PartitionLog
  void append(AppendRequest request, AppendCallback done) override;
  ReadResult read(const ReadRequest& request) override;
  int64_t high_watermark() const override;
  int64_t log_start_offset() const override;
  int64_t last_stable_offset() const override;
  OffsetForTimestamp offset_for_timestamp(int64_t timestamp) override;
  OffsetForTimestamp max_timestamp() override;
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
  Result<SharedBytes> fetch(const IndexEntry& e);
  OffsetForTimestamp find_in_batch(const IndexEntry& e, int64_t timestamp, bool exact);

  const Uuid topic_id_;
  const int32_t partition_;
  const uint64_t uid_;  // cache key
  const std::shared_ptr<BatchCache> cache_;
  metadata::MetadataStore& store_;
  const int32_t leader_epoch_;
  std::shared_ptr<storage::Wal> wal_;  // set by attach() before serving

  mutable std::mutex mu_;
  int64_t next_offset_ = 0;
  int64_t high_watermark_ = 0;
  int64_t log_start_ = 0;
  bool dropped_ = false;
  std::vector<IndexEntry> index_;  // sorted by offset; entries below log start removed
  size_t max_ts_entry_ = 0;        // index_ position of the first batch with the largest max timestamp
  ProducerStateTable producers_;
  std::map<uint64_t, std::function<void()>> listeners_;
  uint64_t next_listener_id_ = 1;
  std::vector<Deferred> deferred_;  // duplicate retries waiting for durability

  std::mutex delete_mu_;  // serializes delete_records_before's metadata writes
};

}  // namespace carelog::partition
