// Configuration of the storage engine (broker-level settings).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

#include "metadata/metadata_store.h"
#include "objstore/object_store.h"
#include "storage/cleaner.h"
#include "storage/object_wal.h"
#include "storage/wal.h"

namespace carelog::partition {

// retention.ms and retention.bytes of a topic (-1 = unlimited).
using RetentionFn = std::function<std::pair<int64_t, int64_t>(const metadata::TopicRecord&)>;
// A topic's compaction settings; nullopt unless cleanup.policy contains compact.
using CleanupFn = std::function<std::optional<storage::CleanerPolicy>(const metadata::TopicRecord&)>;

struct LogConfig {
  storage::WalType wal_type = storage::WalType::kFile;  // wal.type
  storage::ObjectWalConfig object_wal;                  // wal.object.*, for wal.type=object
  storage::WalConfig wal;             // wal.dir, wal.segment.bytes, wal.capacity.bytes, max wait
  uint64_t cache_bytes = 256u << 20;  // cache.log.bytes: recent batches kept in memory
  int32_t leader_epoch = 0;           // of every partition when not in cluster mode
  // Cluster mode (docs/cluster.md): partitions exist here only while this
  // broker leads them (adopt/release), uploads are fenced on each
  // partition's leader epoch, and compaction is off.
  bool cluster = false;

  // Object storage (borrowed; must outlive the manager). Null: WAL only,
  // nothing is uploaded (unit tests of the WAL engine).
  objstore::ObjectStore* object_store = nullptr;
  uint64_t block_cache_bytes = 256ull << 20;               // cache.block.bytes
  uint64_t upload_object_bytes = 16ull << 20;              // upload.object.bytes
  int64_t upload_interval_ms = 2000;                       // upload.interval.ms
  int64_t retention_check_interval_ms = 300000;            // log.retention.check.interval.ms
  int64_t compaction_interval_ms = 60000;                  // compaction.interval.ms (0 = off)
  uint64_t compaction_small_object_bytes = 4ull << 20;     // compaction.small.object.bytes
  uint64_t compaction_target_object_bytes = 64ull << 20;   // compaction.target.object.bytes
  int64_t object_delete_delay_ms = 60000;                  // object.delete.delay.ms (grace for readers)
  int64_t orphan_min_age_ms = 600000;                      // object.orphan.min.age.ms
  uint64_t compaction_partition_split_bytes = 8ull << 20;  // compaction.partition.split.bytes
  int64_t producer_id_expiration_ms = 86400000;            // producer.id.expiration.ms (< 0: never)
  unsigned recovery_read_threads = 8;                      // parallel object reads at start-up
  unsigned read_threads = 2;
  RetentionFn retention;  // null: no retention
  // Log compaction (docs/compaction.md). null: no topic is compacted.
  CleanupFn cleanup;
  int64_t cleaner_backoff_ms = 15000;             // log.cleaner.backoff.ms: how often partitions are checked
  uint64_t cleaner_key_map_bytes = 128ull << 20;  // log.cleaner.dedupe.buffer.size
};

}  // namespace carelog::partition
