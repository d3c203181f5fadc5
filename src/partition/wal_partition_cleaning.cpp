// WalPartitionLog's part of log compaction (storage/cleaner.h): swapping a
// cleaned span into the in-memory index.
#include <fmt/core.h>

#include <algorithm>

#include "common/log.h"
#include "partition/wal_partition_log.h"

namespace carelog::partition {

void WalPartitionLog::replace_cleaned(
    int64_t span_base, int64_t span_last,
    const std::vector<std::pair<metadata::ObjectRange, std::shared_ptr<const ObjectRef>>>& ranges) {
  std::lock_guard lk(mu_);
  auto first = std::lower_bound(index_.begin(), index_.end(), span_base,
                                [](const IndexEntry& e, int64_t off) { return e.base_offset < off; });
  auto last = first;
  while (last != index_.end() && last->last_offset <= span_last) {
    if (last->kind == IndexEntry::Kind::kWal) {
      // Never happens (the cleaner only takes uploaded ranges); refuse
      // rather than lose the WAL location.
      log::error("partition {}-{}: cleaned span {}..{} covers WAL offset {}; not re-pointed",
                 topic_id_.to_string(), partition_, span_base, span_last, last->base_offset);
      return;
    }
    ++last;
  }
  std::vector<IndexEntry> fresh;
  for (const auto& [r, ref] : ranges) {
    if (r.last_offset < log_start_) continue;  // retention moved on meanwhile
    IndexEntry e;
    e.base_offset = r.base_offset;
    e.last_offset = r.last_offset;
    e.max_timestamp = r.max_timestamp;
    e.kind = IndexEntry::Kind::kObjectRange;
    e.object = ref;
    e.position = static_cast<uint64_t>(r.position);
    e.length = static_cast<uint64_t>(r.length);
    fresh.push_back(std::move(e));
  }
  auto at = index_.erase(first, last);
  index_.insert(at, fresh.begin(), fresh.end());
  recompute_max_ts_locked();
  cache_->erase_range(uid_, span_base, span_last);
}

std::vector<int64_t> WalPartitionLog::producer_last_batches() const {
  std::lock_guard lk(mu_);
  std::vector<int64_t> out = uploaded_producers_.last_batch_offsets();
  for (int64_t o : producers_.last_batch_offsets()) out.push_back(o);
  return out;
}

std::vector<AbortedSpan> WalPartitionLog::aborted_spans() const {
  std::lock_guard lk(mu_);
  return durable_producers_.aborted();
}

std::vector<int64_t> WalPartitionLog::snapshot_aborted() const {
  std::lock_guard lk(mu_);
  return snapshot_aborted_;
}

void WalPartitionLog::forget_aborted(const std::vector<int64_t>& marker_offsets) {
  std::lock_guard lk(mu_);
  producers_.forget_aborted(marker_offsets);
  durable_producers_.forget_aborted(marker_offsets);
  uploaded_producers_.forget_aborted(marker_offsets);
}

}  // namespace carelog::partition
