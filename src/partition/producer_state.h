// Idempotent-producer state of one partition: for each producer id, its
// epoch, the last 5 batches' sequence ranges (Kafka keeps 5 because a
// producer has at most 5 requests in flight per connection) and the max
// timestamp of its last batch (for expiry, as Kafka's
// producer.id.expiration.ms).
//
// Snapshots: encode()/decode() turn a table into a versioned, CRC-checked
// blob (docs/formats/producer-snapshot.md) that the uploader stores in the
// metadata store with each object commit, so start-up needs no object reads.
//
// Threading: not thread-safe; owned by WalPartitionLog under its mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "partition/partition_log.h"
#include "record/batch.h"

namespace carelog::partition {

struct ProducerBatch {
  int32_t first_seq = 0;
  int32_t last_seq = 0;
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  friend bool operator==(const ProducerBatch&, const ProducerBatch&) = default;
};

struct ProducerEntry {
  int16_t epoch = -1;
  int64_t last_timestamp = -1;        // max timestamp of the last batch appended
  std::deque<ProducerBatch> batches;  // oldest first, at most kMaxBatches
  // First offset of the producer's open transaction in this partition (its
  // first transactional batch since the last marker); -1 when none.
  int64_t txn_first_offset = -1;
  friend bool operator==(const ProducerEntry&, const ProducerEntry&) = default;
};

// An aborted transaction's span in this partition: its first batch and its
// abort marker (what Fetch returns as aborted_transactions).
struct AbortedSpan {
  int64_t producer_id = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;  // the abort marker's offset
  friend bool operator==(const AbortedSpan&, const AbortedSpan&) = default;
};

class ProducerStateTable {
 public:
  static constexpr size_t kMaxBatches = 5;

  struct Check {
    LogError error = LogError::kNone;
    std::string message;
    std::optional<ProducerBatch> duplicate;  // set when this batch was already appended
  };

  // Validates a batch of an idempotent producer (producer_id >= 0) against
  // the current state. Does not modify state.
  Check check(const record::BatchHeader& h) const;
  // Records an appended batch (also used to rebuild state on recovery).
  // Transactional batches open the producer's transaction; a control batch
  // (marker) closes it, and an abort marker (header.control_type 0) records
  // the aborted span.
  void update(const record::BatchHeader& h, int64_t base_offset);
  // Checks a transaction marker: only its epoch matters (no sequence).
  Check check_marker(const record::BatchHeader& h) const;

  // Lowest first offset of an open transaction; nullopt when none (the
  // last stable offset is then the high watermark).
  std::optional<int64_t> first_unstable_offset() const;
  // Aborted spans with last_offset >= from and first_offset < to, in
  // marker order.
  std::vector<AbortedSpan> aborted_between(int64_t from, int64_t to) const;
  // Forgets aborted spans wholly below the log start offset.
  void prune_aborted(int64_t log_start);
  // Forgets the aborted spans whose abort marker is at one of these offsets
  // (log compaction removed their data and markers).
  void forget_aborted(const std::vector<int64_t>& marker_offsets);
  const std::vector<AbortedSpan>& aborted() const { return aborted_; }
  const std::unordered_map<int64_t, ProducerEntry>& entries() const { return producers_; }

  const ProducerEntry* find(int64_t producer_id) const;
  // Copies one producer's entry (if any) from `other`; used to build a small
  // scratch table for checking multi-batch requests.
  void copy_entry_from(const ProducerStateTable& other, int64_t producer_id);
  // Moves every entry of this table into `dst`, replacing dst's.
  void merge_into(ProducerStateTable& dst) &&;
  size_t size() const { return producers_.size(); }
  // Base offset of every producer's last batch (log compaction keeps those
  // batches, emptied if need be, as Kafka does).
  std::vector<int64_t> last_batch_offsets() const;

  // Forgets producers whose last batch's timestamp is `expiration_ms` or more
  // before `now_ms` (Kafka's producer.id.expiration.ms; < 0 = never), except
  // those with an open transaction. Returns how many were removed.
  size_t expire(int64_t now_ms, int64_t expiration_ms);

  // Snapshot encoding (version 2; decode() also reads version 1); it fails with kSnapshotCorrupt on
  // any mismatch (magic, version, CRC, lengths, field ranges).
  std::vector<uint8_t> encode() const;
  static Result<ProducerStateTable> decode(std::span<const uint8_t> bytes);
  static constexpr int32_t kSnapshotCorrupt = 2;  // Kafka CORRUPT_MESSAGE

  friend bool operator==(const ProducerStateTable&, const ProducerStateTable&) = default;

 private:
  std::unordered_map<int64_t, ProducerEntry> producers_;
  std::vector<AbortedSpan> aborted_;  // by marker offset
};

}  // namespace carelog::partition
