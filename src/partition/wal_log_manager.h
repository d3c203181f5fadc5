// WalLogManager: the LogManager of the WAL storage engine. Owns the Wal, the
// shared batch cache and every WalPartitionLog on this broker.
//
// open() recovers: it opens the WAL, replays its records into the partitions
// of topics that exist in the metadata store (records of deleted topics are
// skipped), rebuilds indexes and producer state, then applies the stored log
// start offsets.
//
// Threading: thread-safe. The partition map is guarded by a shared_mutex
// (lookups shared, topic creation/deletion exclusive).
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <utility>

#include "metadata/metadata_store.h"
#include "partition/batch_cache.h"
#include "partition/log_config.h"
#include "partition/log_manager.h"
#include "partition/wal_partition_log.h"
#include "storage/file_system.h"
#include "storage/wal.h"

namespace carelog::partition {

class WalLogManager final : public LogManager {
 public:
  // `store` and `fs` must outlive the manager.
  static Result<std::unique_ptr<WalLogManager>> open(const LogConfig& config, metadata::MetadataStore& store,
                                                     storage::FileSystem& fs);
  ~WalLogManager() override;

  std::shared_ptr<PartitionLog> get(const Uuid& topic_id, int32_t partition) override;
  Status ensure_partitions(const Uuid& topic_id, int32_t count) override;
  void drop_topic(const Uuid& topic_id) override;
  void shutdown() override;

  // For tests and the (future) uploader.
  storage::Wal& wal() { return *wal_; }
  BatchCache& cache() { return *cache_; }
  uint64_t skipped_records() const { return skipped_records_; }

 private:
  using Key = std::pair<Uuid, int32_t>;
  WalLogManager(const LogConfig& config, metadata::MetadataStore& store);
  std::shared_ptr<WalPartitionLog> make_partition(const Uuid& topic_id, int32_t partition);

  const LogConfig config_;
  metadata::MetadataStore& store_;
  std::shared_ptr<BatchCache> cache_;
  std::shared_ptr<storage::Wal> wal_;
  std::shared_mutex mu_;
  std::map<Key, std::shared_ptr<WalPartitionLog>> partitions_;
  uint64_t next_uid_ = 1;
  uint64_t skipped_records_ = 0;
};

}  // namespace carelog::partition
