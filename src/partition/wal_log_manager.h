// WalLogManager: the LogManager of the storage engine. Owns the Wal, the
// shared batch cache, every WalPartitionLog on this broker and, when an
// object store is configured, the object tier: block cache, read pool, the
// uploader thread and the maintenance thread (retention, object GC,
// compaction, orphan sweep).
//
// open() recovers: partition indexes first from the object ranges in the
// metadata store, idempotent-producer state from the snapshots stored with
// the uploads (plus any uploaded batches after them, read in parallel), then
// the WAL records above each partition's uploaded offset (records of
// deleted topics are skipped), then the stored log start offsets.
//
// Upload: the uploader thread wakes every upload.interval.ms, or as soon as
// upload.object.bytes are waiting, and packs every partition's not yet
// uploaded batches into one object (a partition with at least half that
// much gets an object of its own). After the commit it points the indexes
// at the object and reclaims WAL segments below the oldest batch still
// needed. Shutdown uploads everything and empties the WAL.
//
// Threading: thread-safe. The partition map is guarded by a shared_mutex
// (lookups shared, topic creation/deletion exclusive). switch_mu_
// serialises "commit object + repoint indexes" between uploader and
// compactor, so compaction never merges an object whose batches are still
// indexed at WAL locations.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>
#include <vector>

#include "metadata/metadata_store.h"
#include "partition/batch_cache.h"
#include "partition/log_config.h"
#include "partition/log_manager.h"
#include "partition/read_pool.h"
#include "partition/wal_partition_log.h"
#include "storage/block_cache.h"
#include "storage/compactor.h"
#include "storage/file_system.h"
#include "storage/object_gc.h"
#include "storage/uploader.h"
#include "storage/wal.h"

namespace carelog::partition {

struct UploadStats {
  uint64_t objects = 0;
  uint64_t bytes = 0;
  uint64_t failures = 0;
};

class WalLogManager final : public LogManager {
 public:
  // `store`, `fs` and config.object_store must outlive the manager.
  static Result<std::unique_ptr<WalLogManager>> open(const LogConfig& config, metadata::MetadataStore& store,
                                                     storage::FileSystem& fs);
  ~WalLogManager() override;

  std::shared_ptr<PartitionLog> get(const Uuid& topic_id, int32_t partition) override;

  // --- cluster mode (config.cluster) ---
  // Starts leading a partition at `leader_epoch`: its index from the object
  // index, its producer state from the stored snapshot and the uploaded
  // batches after it, then, when `recover_prefix` is not empty, the WAL
  // records above the uploaded offset from that WAL prefix (a previous
  // leader's object WAL), which are appended to this broker's WAL with
  // their offsets before the partition serves. Blocks (object I/O).
  Status adopt(const Uuid& topic_id, int32_t partition, int32_t leader_epoch,
               const std::string& recover_prefix);
  // Planned move, step 1: refuses further appends (NOT_LEADER_OR_FOLLOWER),
  // waits up to `timeout` for appends in flight, then uploads everything.
  // On failure the partition serves again and nothing changed.
  Status prepare_release(const Uuid& topic_id, int32_t partition, std::chrono::milliseconds timeout);
  // Stops leading a partition (after a release, or when fenced).
  void forget(const Uuid& topic_id, int32_t partition);
  // Partitions led here with their leader epochs.
  std::vector<std::pair<metadata::PartitionKey, int32_t>> led_partitions();
  Status ensure_partitions(const Uuid& topic_id, int32_t count) override;
  void drop_topic(const Uuid& topic_id) override;
  void shutdown() override;

  // Starts the uploader and maintenance threads (no-op without an object
  // store). Separate from open() so tests can drive the steps by hand.
  void start_background();

  // One upload pass: uploads what is pending (all of it when `drain`),
  // then reclaims WAL space. Returns the number of objects committed.
  Result<size_t> upload_once(bool drain = false);
  // One maintenance pass of each kind (tests call them directly).
  Status apply_retention();
  Status collect_garbage();
  Result<bool> compact_once();
  // One log-compaction look at every compacted partition
  // (wal_log_cleaning.cpp). Returns how many partitions were rewritten.
  Result<size_t> clean_once();
  storage::CleanerStats cleaner_stats() const;
  // Largest lag behind max.compaction.lag.ms over compacted partitions (ms).
  int64_t cleaner_max_overdue_ms() const;
  // The cleaner's view of one partition (carelog topic describe).
  storage::CleanerPartitionState cleaner_state(const Uuid& topic_id, int32_t partition) const;
  // Every compacted partition's cleaner state (/metrics, carelog topic describe).
  std::vector<std::pair<metadata::PartitionKey, storage::CleanerPartitionState>> cleaner_states() const;
  Result<size_t> sweep_orphans();

  // For tests and tools.
  storage::WriteAheadLog& wal() { return *wal_; }
  BatchCache& cache() { return *cache_; }
  storage::BlockCache* block_cache() { return blocks_.get(); }
  uint64_t skipped_records() const { return skipped_records_; }
  UploadStats upload_stats();

 private:
  using Key = std::pair<Uuid, int32_t>;
  WalLogManager(const LogConfig& config, metadata::MetadataStore& store);
  using PartitionMap = std::map<Key, std::shared_ptr<WalPartitionLog>>;
  std::shared_ptr<WalPartitionLog> make_partition(const Uuid& topic_id, int32_t partition,
                                                  int32_t leader_epoch, bool attach_wal);
  // The partition, or null (shared lock on the map).
  std::shared_ptr<WalPartitionLog> find_partition(const Uuid& topic_id, int32_t partition);
  std::vector<std::shared_ptr<WalPartitionLog>> snapshot();
  Status recover_objects(PartitionMap& parts);
  // Producer state: stored snapshots, then the uploaded batches after them
  // (object reads in parallel).
  Status recover_producers(PartitionMap& parts);
  // Appends a previous leader's WAL records of `p` (above its uploaded
  // offset) to this broker's WAL and indexes them (adopt()).
  Status take_over_wal_records(WalPartitionLog& p, const std::string& prefix);
  std::shared_ptr<const ObjectRef> object_ref(const std::string& key, uint64_t size);
  // Uploads the given partitions' pending entries as one object.
  Status upload_group(
      storage::ObjectUploader& uploader,
      const std::vector<std::pair<std::shared_ptr<WalPartitionLog>, std::vector<IndexEntry>>>& group);
  Status reclaim_wal();
  Result<size_t> upload_pass(storage::ObjectUploader& uploader, bool drain);
  uint64_t pending_bytes();
  bool range_live(const storage::object_format::IndexEntry& e);
  void upload_loop();
  void maintenance_loop();

  const LogConfig config_;
  metadata::MetadataStore& store_;
  std::shared_ptr<BatchCache> cache_;
  std::shared_ptr<storage::WriteAheadLog> wal_;
  std::shared_mutex mu_;
  std::map<Key, std::shared_ptr<WalPartitionLog>> partitions_;
  uint64_t next_uid_ = 1;
  uint64_t skipped_records_ = 0;

  // Object tier (all null without an object store).
  std::unique_ptr<storage::BlockCache> blocks_;
  std::unique_ptr<ReadPool> pool_;
  std::unique_ptr<storage::ObjectUploader> uploader_;
  std::unique_ptr<storage::ObjectGc> gc_;
  std::unique_ptr<storage::Compactor> compactor_;
  std::unique_ptr<storage::Cleaner> cleaner_;
  std::mutex switch_mu_;  // see header comment
  std::mutex upload_mu_;  // one upload pass at a time

  std::mutex stats_mu_;
  UploadStats stats_;

  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool bg_stop_ = false;
  bool shut_down_ = false;
  std::thread upload_thread_;
  std::thread maintenance_thread_;
};

}  // namespace carelog::partition
