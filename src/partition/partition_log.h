// PartitionLog: the interface between the Kafka request handlers (server/)
// and the storage engine (storage/). One instance per topic-partition.
//
// Threading: every method is thread-safe. Implementations hold a
// per-partition mutex only for short, non-blocking critical sections (offset
// assignment, index updates); durable I/O (WAL fsync, object reads) never
// happens while that mutex is held. Callbacks are invoked on storage threads
// (the WAL's commit thread, for append) and must not block; the server posts
// them back to the connection's executor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace carelog::partition {

// Kafka error codes used in this interface (values as on the wire).
enum class LogError : int16_t {
  kNone = 0,
  kOffsetOutOfRange = 1,
  kCorruptMessage = 2,
  kUnknownTopicOrPartition = 3,
  kMessageTooLarge = 10,
  kKafkaStorageError = 56,
  kOutOfOrderSequence = 45,
  kDuplicateSequence = 46,  // not returned for duplicates: see AppendResult
  kInvalidProducerEpoch = 47,
  kUnknownProducerId = 59,
  kInvalidRecord = 87,
  kInvalidTimestamp = 32,
  kRequestTimedOut = 7,
  kNotEnoughReplicas = 19,
  kPolicyViolation = 44,
  kUnsupportedForMessageFormat = 43,
  kInvalidProducerIdMapping = 49,
  kProducerFenced = 90,
  kNotLeaderOrFollower = 6,  // cluster mode: the partition moved to another broker
};

enum class TimestampType : int8_t { kCreateTime = 0, kLogAppendTime = 1 };

struct AppendRequest {
  // One or more complete v2 record batches exactly as the client sent them
  // (already validated by record::validate_batches: magic, CRC, lengths).
  SharedBytes batches;
  TimestampType timestamp_type = TimestampType::kCreateTime;
};

struct AppendResult {
  LogError error = LogError::kNone;
  std::string error_message;     // for Produce v8+ error_message; never payload data
  int64_t base_offset = -1;      // offset assigned to the first record
  int64_t log_append_time = -1;  // -1 unless timestamp_type == kLogAppendTime
  int64_t log_start_offset = -1;
  // Produce v8+: index of the record that caused kInvalidRecord, if any.
  std::vector<std::pair<int32_t, std::string>> record_errors;
};

using AppendCallback = std::function<void(AppendResult)>;

struct ReadRequest {
  int64_t offset = 0;
  int32_t max_bytes = 1 << 20;
  // Kafka returns at least one whole batch even when it exceeds max_bytes,
  // so consumers always make progress (KIP-74).
  bool min_one_message = true;
  // Upper bound for the returned data: high watermark for consumers.
  std::optional<int64_t> max_offset;
  // isolation.level=read_committed: stop at the last stable offset and
  // report the aborted transactions the returned range overlaps.
  bool read_committed = false;
};

// An aborted transaction in a partition (Fetch aborted_transactions).
struct AbortedTransaction {
  int64_t producer_id = -1;
  int64_t first_offset = -1;
};

// One producer's state in a partition (DescribeProducers).
struct ActiveProducer {
  int64_t producer_id = -1;
  int16_t epoch = -1;
  int32_t last_sequence = -1;
  int64_t last_timestamp = -1;
  int64_t txn_start_offset = -1;  // first offset of its open transaction, or -1
};

struct ReadResult {
  LogError error = LogError::kNone;
  // Whole batches, unmodified, in offset order. The first batch may start
  // before `offset` (clients skip records below their fetch offset).
  std::vector<SharedBytes> batches;
  size_t total_bytes = 0;
  int64_t high_watermark = 0;
  int64_t log_start_offset = 0;
  int64_t last_stable_offset = 0;
  // read_committed reads only: aborted transactions overlapping the
  // returned batches, by first offset.
  std::vector<AbortedTransaction> aborted;
};

struct OffsetForTimestamp {
  int64_t offset = -1;  // -1 when no record has timestamp >= requested
  int64_t timestamp = -1;
  int32_t leader_epoch = -1;
};

class PartitionLog {
 public:
  virtual ~PartitionLog() = default;

  // Assigns offsets, makes the batches durable, then calls `done` (exactly
  // once, on a storage thread). Idempotent-producer duplicates complete with
  // the original base offset and no new write. Requests rejected before
  // reaching the WAL (bad framing, producer-state errors, WAL full after the
  // bounded wait, deleted partition) complete inline on the calling thread,
  // so callers must not hold locks that `done` takes. Never blocks: when the
  // WAL is full the request waits asynchronously (bounded) for space.
  virtual void append(AppendRequest request, AppendCallback done) = 0;

  // Reads committed (durable) batches starting at or before `offset`.
  // May block on object storage for cold data: call read_async from
  // network threads.
  virtual ReadResult read(const ReadRequest& request) = 0;

  // Like read(), but data that needs object-store I/O is read on a storage
  // thread; `done` runs exactly once, inline (hot data) or on that thread.
  // A failed object read yields KAFKA_STORAGE_ERROR (56), which consumers
  // retry after a metadata refresh; data is never partial inside a batch.
  virtual void read_async(const ReadRequest& request, std::function<void(ReadResult)> done) {
    done(read(request));
  }

  virtual int64_t high_watermark() const = 0;
  virtual int64_t log_start_offset() const = 0;
  // High watermark, or the first offset of the oldest open transaction
  // when that is lower (read_committed consumers stop there).
  virtual int64_t last_stable_offset() const = 0;
  // Bytes of record batches the partition holds from its log start on, in
  // object storage and in the WAL not yet uploaded (DescribeLogDirs'
  // PartitionSize). Counted in whole stored units, as Kafka counts whole
  // segments: a WAL batch, or an object range once uploaded (after a
  // restart, one range per uploaded object), so a log start inside a unit
  // (DeleteRecords, retention) counts all of it until retention drops the
  // unit. O(index entries) under the partition lock: an admin call, not for
  // the produce or fetch path.
  virtual uint64_t size_bytes() const = 0;
  // Producers with state in this partition (DescribeProducers).
  virtual std::vector<ActiveProducer> active_producers() const { return {}; }

  // ListOffsets support: first offset whose timestamp >= ts; and the record
  // with the largest timestamp (ts == -3, KIP-734).
  virtual OffsetForTimestamp offset_for_timestamp(int64_t timestamp) = 0;
  virtual OffsetForTimestamp max_timestamp() = 0;
  // offset_for_timestamp for network threads: a lookup that needs object
  // I/O runs on a storage thread; `done` runs exactly once, inline or there.
  virtual void offset_for_timestamp_async(int64_t timestamp, std::function<void(OffsetForTimestamp)> done) {
    done(offset_for_timestamp(timestamp));
  }

  // DeleteRecords: advance the log start offset to `offset` (must be <= high
  // watermark). Durable before `done` is called.
  virtual void delete_records_before(int64_t offset, std::function<void(LogError, int64_t)> done) = 0;

  // Leader epoch of this partition: constant for the life of this object
  // (in cluster mode a new leadership is a new PartitionLog).
  virtual int32_t leader_epoch() const = 0;

  // Registers a one-shot listener fired after the next committed append
  // (used by Fetch long polling). Returns an id for cancel_listener.
  virtual uint64_t add_listener(std::function<void()> fn) = 0;
  virtual void cancel_listener(uint64_t id) = 0;
};

}  // namespace carelog::partition
