// Cleaner: Kafka's log compaction (cleanup.policy=compact) on object
// storage, one partition at a time (docs/compaction.md,
// docs/formats/object-lifecycle.md#key-compaction).
//
// A partition's log is the list of its object ranges in the metadata store.
// The cleaner remembers, per partition, the offset up to which it has
// deduplicated (the clean offset); everything uploaded above it is dirty.
// Only uploaded ranges whose max timestamp is older than
// min.compaction.lag.ms are cleanable (the WAL tail and newer ranges are the
// never-compacted head). A pass runs when the dirty share of the cleanable
// bytes reaches min.cleanable.dirty.ratio, or when dirty data is older than
// max.compaction.lag.ms (a deadline). One pass:
//   1. maps key -> latest offset over the dirty ranges (KeyMap, bounded:
//      when it is full the pass stops at a batch boundary);
//   2. rewrites the partition's ranges from the first one that changes up to
//      the end of what was mapped: a record survives unless a later record
//      of its key was mapped, it has no key, or it is a tombstone whose
//      timestamp is older than delete.retention.ms (never the log's last
//      record). Offsets never change; batches whose records all survive are
//      copied byte for byte, others are re-encoded uncompressed with the
//      same offsets, timestamps, headers and producer fields; a batch
//      emptied entirely is dropped, except the last batch of a producer the
//      partition still tracks (kept empty, as Kafka does). Transactions
//      follow Kafka's cleaner: only offsets below the last stable offset are
//      cleanable; records of aborted transactions are removed (and never
//      supersede anything); committed transactional records are compacted
//      like others; a transaction marker stays while any batch of its
//      transaction remains before it, then for delete.retention.ms (an abort
//      marker: from the first pass that finds its data gone, and only once
//      the stored producer snapshot no longer lists its aborted span, see
//      CleanTarget::snapshot_aborted);
//   3. copies the other partitions' live ranges out of every shared input
//      object into one remainder object per input, so no input keeps any
//      referenced byte;
//   4. PUTs every output, then swaps them in with one
//      MetadataStore::replace_objects (inputs -> pending delete after
//      `grace_ms`, outputs committed, one transaction). A failure before the
//      commit leaves the index as it was (outputs become orphans). The
//      object GC deletes the inputs after the grace period.
// The caller re-points the in-memory indexes (CleanedSpan).
//
// Memory: the key map (key_map_bytes) plus one input range and one output
// object (output_object_bytes) at a time.
//
// Ownership: borrows the stores and the ObjectGc (its index memo).
// Threading: clean() runs on the storage-maintenance thread only; state()
// and stats() may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "metadata/metadata_store.h"
#include "objstore/object_store.h"
#include "storage/compactor.h"
#include "storage/key_map.h"
#include "storage/object_format.h"
#include "storage/object_gc.h"

namespace carelog::storage {

// A topic's compaction settings (topic configs, broker log.cleaner.* defaults).
struct CleanerPolicy {
  int64_t min_lag_ms = 0;                  // min.compaction.lag.ms
  int64_t max_lag_ms = INT64_MAX;          // max.compaction.lag.ms
  int64_t delete_retention_ms = 86400000;  // delete.retention.ms
  double min_dirty_ratio = 0.5;            // min.cleanable.dirty.ratio
};

struct CleanerOptions {
  uint64_t key_map_bytes = 128ull << 20;       // log.cleaner.dedupe.buffer.size
  uint64_t output_object_bytes = 64ull << 20;  // compaction.target.object.bytes
  int64_t grace_ms = 60000;                    // object.delete.delay.ms
};

// What the cleaner knows of one partition (memory only; after a restart the
// first pass treats the whole log as dirty).
struct CleanerPartitionState {
  std::string topic;            // name at the last look
  int64_t clean_offset = -1;    // offsets <= this were deduplicated
  int64_t last_clean_ms = -1;   // wall time of the last pass that rewrote it
  double dirty_ratio = 0;       // dirty / cleanable bytes at the last look
  int64_t dirty_since_ms = -1;  // age reference of the oldest dirty data (-1: none)
  uint64_t bytes_reclaimed = 0;
  uint64_t passes = 0;
};

struct CleanerStats {
  uint64_t passes = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t bytes_reclaimed = 0;  // input bytes of the partition minus its output bytes
  uint64_t keys = 0;             // keys mapped
  uint64_t records_removed = 0;
  uint64_t tombstones_removed = 0;
  uint64_t failures = 0;
  uint64_t deadline_passes = 0;          // passes started by max.compaction.lag.ms
  uint64_t aborted_records_removed = 0;  // records of aborted transactions
  uint64_t markers_removed = 0;          // transaction markers (control batches)
};

// An aborted transaction in the partition (its first batch and its abort
// marker), as the partition's producer state lists it for Fetch.
struct AbortedTxnSpan {
  int64_t producer_id = -1;
  int64_t first_offset = -1;
  int64_t marker_offset = -1;
};

// The result of a pass, for the caller to re-point its indexes.
struct CleanedSpan {
  metadata::PartitionKey partition;
  // The partition's offsets [span_base, span_last] now live in `outputs`
  // (ranges in offset order; gaps where records were removed).
  int64_t span_base = 0;
  int64_t span_last = -1;
  std::vector<CompactedObject> outputs;
  // Other partitions' ranges moved out of shared inputs (same offsets).
  std::vector<CompactedObject> remainders;
  std::vector<std::string> replaced;  // input keys, now pending delete
};

// One partition to look at.
struct CleanTarget {
  metadata::PartitionKey partition;
  std::string topic;  // its name (for state())
  int64_t log_start = 0;
  int64_t uploaded_offset = -1;  // ranges above it are not indexed in memory yet: ignored
  // Base offsets of the batches that are some tracked producer's last one.
  std::set<int64_t> producer_last_batches;
  CleanerPolicy policy;
  // Last stable offset: offsets at or above it (open transactions) are never
  // cleaned.
  int64_t stable_offset = INT64_MAX;
  // The partition's aborted transactions (by marker offset; at least every
  // one whose marker is at or below uploaded_offset).
  std::vector<AbortedTxnSpan> aborted;
  // Marker offsets of the aborted spans in the producer snapshot stored in
  // the metadata store: a restart would restore those spans, so their abort
  // markers are kept until a snapshot without them is stored (the pass
  // reports them in CleanOutcome::forget_aborted instead).
  std::set<int64_t> snapshot_aborted;
};

// Besides the rewritten span: aborted transactions whose data is gone and
// whose marker is due for removal; the partition drops them from its
// aborted-transaction list (Fetch aborted_transactions) and from the next
// producer snapshot, even when the pass rewrote nothing.
struct CleanOutcome {
  std::vector<int64_t> forget_aborted;  // marker offsets
};

class Cleaner {
 public:
  Cleaner(objstore::ObjectStore& objects, metadata::MetadataStore& metadata, ObjectGc& gc,
          CleanerOptions options)
      : objects_(objects), metadata_(metadata), gc_(gc), options_(options) {}

  // Looks at one partition and cleans it when due. `created_ms` maps object
  // keys to their commit time (list_objects); `live` says whether another
  // partition's range still matters (copied into remainders when it does).
  Result<std::optional<CleanedSpan>> clean(const CleanTarget& target,
                                           const std::map<std::string, int64_t>& created_ms,
                                           const RangeLiveFn& live, int64_t now_ms,
                                           CleanOutcome* outcome = nullptr);

  CleanerPartitionState state(const metadata::PartitionKey& p) const;
  // Every partition looked at (and not forgotten), by topic id and partition.
  std::vector<std::pair<metadata::PartitionKey, CleanerPartitionState>> states() const;
  void forget(const metadata::PartitionKey& p);
  CleanerStats stats() const;
  // Largest age of dirty data beyond its max.compaction.lag.ms over all
  // partitions at their last look (0 when none is late), in ms.
  int64_t max_overdue_ms(int64_t now_ms) const;

 private:
  Result<std::optional<CleanedSpan>> rewrite(const CleanTarget& target,
                                             const std::vector<metadata::ObjectRange>& ranges, size_t end,
                                             int64_t map_upto, const KeyMap& map, const RangeLiveFn& live,
                                             int64_t now_ms, CleanerStats& pass, CleanOutcome& outcome);
  Result<SharedBytes> read_range(const metadata::ObjectRange& r);
  Result<CompactedObject> put_object(object_format::BuiltObject built);

  objstore::ObjectStore& objects_;
  metadata::MetadataStore& metadata_;
  ObjectGc& gc_;
  const CleanerOptions options_;

  mutable std::mutex mu_;  // guards the two below
  std::map<std::pair<Uuid, int32_t>, CleanerPartitionState> states_;
  std::map<std::pair<Uuid, int32_t>, int64_t> max_lag_;  // policy at the last look
  // Abort markers found without data, by partition: marker offset -> wall
  // time of the first pass that found it so (their delete.retention.ms
  // starts there; a restart starts it again). Only touched by clean().
  std::map<std::pair<Uuid, int32_t>, std::map<int64_t, int64_t>> abort_empty_since_;
  CleanerStats stats_;
};

}  // namespace carelog::storage
