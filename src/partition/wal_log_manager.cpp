#include "partition/wal_log_manager.h"

#include <fmt/core.h>

#include "common/log.h"

namespace carelog::partition {

WalLogManager::WalLogManager(const LogConfig& config, metadata::MetadataStore& store)
    : config_(config), store_(store), cache_(std::make_shared<BatchCache>(config.cache_bytes)) {}

WalLogManager::~WalLogManager() { shutdown(); }

std::shared_ptr<WalPartitionLog> WalLogManager::make_partition(const Uuid& topic_id, int32_t partition) {
  auto p = std::make_shared<WalPartitionLog>(topic_id, partition, next_uid_++, cache_, store_,
                                             config_.leader_epoch);
  if (wal_) p->attach(wal_);
  return p;
}

Result<std::unique_ptr<WalLogManager>> WalLogManager::open(const LogConfig& config,
                                                           metadata::MetadataStore& store,
                                                           storage::FileSystem& fs) {
  std::unique_ptr<WalLogManager> m(new WalLogManager(config, store));
  auto topics = store.list_topics();
  if (!topics.ok()) return topics.take_error();
  for (const auto& t : *topics) {
    for (int32_t p = 0; p < t.partitions; ++p) m->partitions_[Key{t.id, p}] = m->make_partition(t.id, p);
  }

  uint64_t recovered = 0;
  auto on_record = [&](const storage::WalRecord& r) {
    auto it = m->partitions_.find(Key{r.topic_id, r.partition});
    if (it == m->partitions_.end()) {
      m->skipped_records_++;  // deleted topic (or partition never created)
      return;
    }
    auto h = record::parse_header(r.batch.span());
    if (!h.ok() || h->base_offset != r.base_offset) {
      log::warn("wal: skipping undecodable batch of {}-{} at offset {}", r.topic_id.to_string(), r.partition,
                r.base_offset);
      m->skipped_records_++;
      return;
    }
    it->second->recover_batch(*h, r.location);
    recovered++;
  };
  auto wal = storage::Wal::open(fs, config.wal, on_record);
  if (!wal.ok()) return wal.take_error();
  m->wal_ = std::shared_ptr<storage::Wal>(std::move(wal).value());

  auto starts = store.log_start_offsets();
  if (!starts.ok()) return starts.take_error();
  for (const auto& [key, offset] : *starts) {
    auto it = m->partitions_.find(Key{key.topic_id, key.partition});
    if (it != m->partitions_.end()) it->second->recover_log_start(offset);
  }
  for (auto& [key, p] : m->partitions_) p->attach(m->wal_);
  log::info("log manager: recovered {} batches into {} partitions ({} WAL records skipped)", recovered,
            m->partitions_.size(), m->skipped_records_);
  return m;
}

std::shared_ptr<PartitionLog> WalLogManager::get(const Uuid& topic_id, int32_t partition) {
  std::shared_lock lk(mu_);
  auto it = partitions_.find(Key{topic_id, partition});
  return it == partitions_.end() ? nullptr : it->second;
}

Status WalLogManager::ensure_partitions(const Uuid& topic_id, int32_t count) {
  if (count < 0) return make_error(fmt::format("invalid partition count {}", count), 37);
  std::unique_lock lk(mu_);
  for (int32_t p = 0; p < count; ++p) {
    auto& slot = partitions_[Key{topic_id, p}];
    if (!slot) slot = make_partition(topic_id, p);
  }
  return Status::OK();
}

void WalLogManager::drop_topic(const Uuid& topic_id) {
  std::unique_lock lk(mu_);
  auto it = partitions_.lower_bound(Key{topic_id, INT32_MIN});
  while (it != partitions_.end() && it->first.first == topic_id) {
    it->second->mark_dropped();
    it = partitions_.erase(it);
  }
}

void WalLogManager::shutdown() {
  if (wal_) wal_->close();
}

}  // namespace carelog::partition
