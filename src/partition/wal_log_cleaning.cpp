// WalLogManager's log compaction pass (storage/cleaner.h, docs/compaction.md):
// every compacted partition is looked at once per log.cleaner.backoff.ms on
// the maintenance thread; a partition due for cleaning is rewritten by the
// Cleaner and its in-memory index (and those of partitions whose ranges
// moved out of shared objects) re-pointed.
//
// No partition mutex is held during I/O, and uploads are not blocked: the
// cleaner only takes ranges at or below the partition's in-memory upload
// cursor (already re-pointed at objects; it waits for an upload in the
// middle of re-pointing to finish), and uploads only add ranges above it.
// Merging, retention and GC run on the same thread, so they never
// interleave with a pass.
#include <algorithm>
#include <set>

#include "common/clock.h"
#include "common/log.h"
#include "partition/wal_log_manager.h"

namespace carelog::partition {

Result<size_t> WalLogManager::clean_once() {
  // Cluster mode: log cleaning rewrites objects other brokers index (left
  // for later, docs/cluster.md).
  if (!cleaner_ || !config_.cleanup || config_.cluster) return size_t{0};
  auto topics = store_.list_topics();
  if (!topics.ok()) return topics.take_error();
  std::map<std::string, int64_t> created;
  bool listed = false;
  size_t rewritten = 0;
  for (const auto& t : *topics) {
    auto policy = config_.cleanup(t);
    if (!policy) {
      for (int32_t i = 0; i < t.partitions; ++i) cleaner_->forget(metadata::PartitionKey{t.id, i});
      continue;
    }
    for (int32_t i = 0; i < t.partitions; ++i) {
      std::shared_ptr<WalPartitionLog> p = find_partition(t.id, i);
      if (!p || p->dropped() || p->uploaded_offset() < 0) continue;
      if (!listed) {
        auto objects = store_.list_objects();
        if (!objects.ok()) return objects.take_error();
        for (const auto& o : *objects) created[o.key] = o.created_ms;
        listed = true;
      }
      storage::CleanTarget target;
      target.partition = metadata::PartitionKey{t.id, i};
      target.topic = t.name;
      target.log_start = p->log_start_offset();
      target.uploaded_offset = p->uploaded_offset();
      // An upload re-points all partitions of its object under switch_mu_;
      // waiting for it here means every object holding this partition's
      // ranges up to the cursor is re-pointed for its other partitions too,
      // so the remainders' relocate() never meets WAL entries.
      // The producer state is read under it too: an upload computes,
      // commits and installs its snapshot under switch_mu_, so
      // snapshot_aborted is exactly what the stored snapshot lists.
      {
        std::lock_guard sw(switch_mu_);
        for (int64_t o : p->producer_last_batches()) target.producer_last_batches.insert(o);
        target.stable_offset = p->last_stable_offset();
        for (const auto& a : p->aborted_spans())
          target.aborted.push_back(storage::AbortedTxnSpan{a.producer_id, a.first_offset, a.last_offset});
        for (int64_t o : p->snapshot_aborted()) target.snapshot_aborted.insert(o);
      }
      target.policy = *policy;
      storage::CleanOutcome outcome;
      auto span = cleaner_->clean(
          target, created, [this](const auto& e) { return range_live(e); }, wall_clock_ms(), &outcome);
      if (!outcome.forget_aborted.empty()) {
        std::lock_guard sw(switch_mu_);
        p->forget_aborted(outcome.forget_aborted);
      }
      if (!span.ok()) {
        log::warn("log compaction: {} partition {}: {}", t.name, i, span.error().message);
        continue;
      }
      if (!*span) continue;
      const storage::CleanedSpan& s = **span;
      std::vector<std::pair<metadata::ObjectRange, std::shared_ptr<const ObjectRef>>> own;
      for (const auto& out : s.outputs) {
        auto ref = object_ref(out.key, out.size);
        for (const auto& r : out.ranges) own.emplace_back(r, ref);
      }
      p->replace_cleaned(s.span_base, s.span_last, own);
      for (const auto& out : s.remainders) {
        auto ref = object_ref(out.key, out.size);
        for (const auto& r : out.ranges) {
          if (auto q = find_partition(r.topic_id, r.partition)) q->relocate(r, ref);
        }
      }
      for (const auto& out : s.outputs) created[out.key] = wall_clock_ms();
      for (const auto& out : s.remainders) created[out.key] = wall_clock_ms();
      rewritten++;
    }
  }
  return rewritten;
}

std::shared_ptr<WalPartitionLog> WalLogManager::find_partition(const Uuid& topic_id, int32_t partition) {
  std::shared_lock lk(mu_);
  auto it = partitions_.find(Key{topic_id, partition});
  return it == partitions_.end() ? nullptr : it->second;
}

storage::CleanerStats WalLogManager::cleaner_stats() const {
  return cleaner_ ? cleaner_->stats() : storage::CleanerStats{};
}

int64_t WalLogManager::cleaner_max_overdue_ms() const {
  return cleaner_ ? cleaner_->max_overdue_ms(wall_clock_ms()) : 0;
}

std::vector<std::pair<metadata::PartitionKey, storage::CleanerPartitionState>> WalLogManager::cleaner_states()
    const {
  if (!cleaner_) return {};
  return cleaner_->states();
}

storage::CleanerPartitionState WalLogManager::cleaner_state(const Uuid& topic_id, int32_t partition) const {
  return cleaner_ ? cleaner_->state(metadata::PartitionKey{topic_id, partition})
                  : storage::CleanerPartitionState{};
}

}  // namespace carelog::partition
