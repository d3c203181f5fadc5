// WalLogManager in cluster mode: partitions come and go with leadership
// (docs/cluster.md). adopt() builds a partition from the shared metadata
// store and, after a failover, from the previous leader's object WAL;
// prepare_release() and forget() hand it back.
#include <fmt/core.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "partition/wal_log_manager.h"
#include "record/batch.h"
#include "storage/object_wal.h"

namespace carelog::partition {

Status WalLogManager::take_over_wal_records(WalPartitionLog& p, const std::string& prefix) {
  if (!config_.object_store) return make_error("cluster mode needs an object store");
  struct Taken {
    record::BatchHeader header;
    SharedBytes batch;
  };
  std::vector<Taken> taken;
  uint64_t already = 0;
  const int64_t uploaded = p.uploaded_offset();
  Status replay =
      storage::ObjectWal::replay_prefix(*config_.object_store, prefix, [&](const storage::WalRecord& r) {
        if (r.topic_id != p.topic_id() || r.partition != p.partition()) return;
        auto h = record::parse_header(r.batch.span());
        if (!h.ok() || h->base_offset != r.base_offset) return;
        if (h->base_offset <= uploaded) {
          p.recover_uploaded_batch(*h);
          already++;
          return;
        }
        taken.push_back(Taken{*h, r.batch});
      });
  if (!replay.ok()) return replay;
  if (taken.empty()) return Status::OK();

  // Into this broker's WAL, offsets unchanged, then into the index.
  std::mutex mu;
  std::condition_variable cv;
  size_t remaining = taken.size();
  std::vector<storage::WalLocation> locations(taken.size());
  Status failed;
  uint64_t bytes = 0;
  for (const auto& t : taken) bytes += storage::WriteAheadLog::record_size(t.batch.size());
  CARELOG_RETURN_IF_ERROR(wal_->reserve(bytes));
  for (size_t i = 0; i < taken.size(); ++i) {
    Status st = wal_->append(p.topic_id(), p.partition(), taken[i].header.base_offset,
                             storage::WalBatch{taken[i].batch, false},
                             [&, i](const Status& s, const storage::WalLocation& loc) {
                               std::lock_guard lk(mu);
                               if (!s.ok() && failed.ok()) failed = s;
                               locations[i] = loc;
                               if (--remaining == 0) cv.notify_all();
                             });
    if (!st.ok()) {
      std::lock_guard lk(mu);
      remaining -= taken.size() - i;
      if (failed.ok()) failed = st;
      break;
    }
  }
  {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return remaining == 0; });
  }
  if (!failed.ok()) return failed;
  for (size_t i = 0; i < taken.size(); ++i) p.recover_batch(taken[i].header, locations[i]);
  log::info("cluster: {}-{}: took over {} unuploaded batches from {} (offsets {}..{}; {} already uploaded)",
            p.topic_id().to_string(), p.partition(), taken.size(), prefix, taken.front().header.base_offset,
            taken.back().header.last_offset(), already);
  return Status::OK();
}

Status WalLogManager::adopt(const Uuid& topic_id, int32_t partition, int32_t leader_epoch,
                            const std::string& recover_prefix) {
  if (!config_.cluster) return make_error("adopt() is for cluster mode");
  const auto started = std::chrono::steady_clock::now();
  auto p = make_partition(topic_id, partition, leader_epoch, /*attach_wal=*/false);
  PartitionMap one{{Key{topic_id, partition}, p}};
  if (config_.object_store) CARELOG_RETURN_IF_ERROR(recover_objects(one));
  if (!recover_prefix.empty()) CARELOG_RETURN_IF_ERROR(take_over_wal_records(*p, recover_prefix));
  auto starts = store_.log_start_offsets();
  if (!starts.ok()) return starts.take_error();
  if (auto it = starts->find(metadata::PartitionKey{topic_id, partition}); it != starts->end())
    p->recover_log_start(it->second);
  p->attach(wal_);
  {
    std::unique_lock lk(mu_);
    auto& slot = partitions_[Key{topic_id, partition}];
    if (slot) slot->mark_moved();
    slot = p;
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
          .count();
  log::info("cluster: leading {}-{} at leader epoch {} (high watermark {}, ready in {} ms)",
            topic_id.to_string(), partition, leader_epoch, p->high_watermark(), ms);
  return Status::OK();
}

Status WalLogManager::prepare_release(const Uuid& topic_id, int32_t partition,
                                      std::chrono::milliseconds timeout) {
  std::shared_ptr<WalPartitionLog> p;
  {
    std::shared_lock lk(mu_);
    auto it = partitions_.find(Key{topic_id, partition});
    if (it == partitions_.end()) return Status::OK();
    p = it->second;
  }
  p->mark_moved();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!p->settled() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Status st = p->settled() ? Status::OK() : make_error("appends still in flight", 7);
  if (st.ok() && uploader_) {
    auto up = upload_once(/*drain=*/true);
    if (!up.ok()) st = up.error();
  }
  if (st.ok() && p->pending_upload_bytes() != 0) st = make_error("not everything was uploaded", 7);
  if (!st.ok()) p->mark_moved(false);
  return st;
}

void WalLogManager::forget(const Uuid& topic_id, int32_t partition) {
  std::unique_lock lk(mu_);
  auto it = partitions_.find(Key{topic_id, partition});
  if (it == partitions_.end()) return;
  it->second->mark_moved();
  partitions_.erase(it);
}

std::vector<std::pair<metadata::PartitionKey, int32_t>> WalLogManager::led_partitions() {
  std::vector<std::pair<metadata::PartitionKey, int32_t>> out;
  std::shared_lock lk(mu_);
  for (const auto& [key, p] : partitions_)
    out.emplace_back(metadata::PartitionKey{key.first, key.second}, p->leader_epoch());
  return out;
}

}  // namespace carelog::partition
