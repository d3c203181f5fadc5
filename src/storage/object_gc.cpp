#include "storage/object_gc.h"

#include <set>

#include "common/log.h"

namespace carelog::storage {

Result<std::vector<object_format::IndexEntry>> ObjectGc::index_of(const std::string& key) {
  auto it = indexes_.find(key);
  if (it != indexes_.end()) return it->second;
  auto reader = object_format::ObjectReader::open(objects_, key);
  if (!reader.ok()) return reader.take_error();
  return indexes_[key] = reader->entries();
}

Result<size_t> ObjectGc::retire_dead_objects(const RangeLiveFn& live, int64_t now_ms, int64_t grace_ms) {
  auto records = metadata_.list_objects();
  if (!records.ok()) return records.take_error();
  std::vector<std::string> dead;
  for (const auto& r : *records) {
    if (r.state != metadata::ObjectState::kCommitted) continue;
    auto index = index_of(r.key);
    if (!index.ok()) {
      // Unreadable index: never guess that its data is dead.
      log::warn("object gc: cannot read index of {}: {}", r.key, index.error().message);
      continue;
    }
    bool any = false;
    for (const auto& e : *index) any = any || live(e);
    if (!any) dead.push_back(r.key);
  }
  if (dead.empty()) return size_t{0};
  CARELOG_RETURN_IF_ERROR(metadata_.mark_objects_for_deletion(dead, now_ms + grace_ms));
  log::info("object gc: retired {} objects holding only expired data", dead.size());
  return dead.size();
}

Result<size_t> ObjectGc::delete_expired(int64_t now_ms,
                                        const std::function<void(const std::string&)>& on_deleted) {
  auto records = metadata_.list_objects();
  if (!records.ok()) return records.take_error();
  std::vector<std::string> due;
  for (const auto& r : *records) {
    if (r.state == metadata::ObjectState::kPendingDelete && r.delete_after_ms <= now_ms) due.push_back(r.key);
  }
  if (due.empty()) return size_t{0};
  auto results = objects_.remove_batch(due);
  std::vector<std::string> gone;
  for (size_t i = 0; i < due.size(); ++i) {
    if (i < results.size() && results[i].ok()) {
      gone.push_back(due[i]);
    } else if (i < results.size()) {
      log::warn("object gc: deleting {} failed: {}", due[i], results[i].error().message);
    }
  }
  if (gone.empty()) return size_t{0};
  CARELOG_RETURN_IF_ERROR(metadata_.delete_object_records(gone));
  for (const auto& k : gone) {
    indexes_.erase(k);
    if (on_deleted) on_deleted(k);
  }
  return gone.size();
}

Result<size_t> ObjectGc::sweep_orphans(int64_t now_ms, int64_t min_age_ms) {
  auto records = metadata_.list_objects();
  if (!records.ok()) return records.take_error();
  std::set<std::string> known;
  for (const auto& r : *records) known.insert(r.key);
  std::vector<std::string> orphans;
  std::string continuation;
  for (;;) {
    auto page = objects_.list("", continuation, 1000);
    if (!page.ok()) return page.take_error();
    for (const auto& o : page->objects) {
      if (known.count(o.key)) continue;
      if (!object_format::parse_object_key(o.key).ok()) continue;  // not ours
      if (o.mtime_ms > now_ms - min_age_ms) continue;              // may be an upload in flight
      orphans.push_back(o.key);
    }
    if (!page->next_continuation) break;
    continuation = *page->next_continuation;
  }
  if (orphans.empty()) return size_t{0};
  // Re-check against the index just before deleting: a commit may have
  // landed since the list (the age window makes this rare, not impossible).
  auto again = metadata_.list_objects();
  if (!again.ok()) return again.take_error();
  for (const auto& r : *again) known.insert(r.key);
  std::vector<std::string> doomed;
  for (auto& k : orphans)
    if (!known.count(k)) doomed.push_back(std::move(k));
  size_t n = 0;
  auto results = objects_.remove_batch(doomed);
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].ok()) {
      n++;
      indexes_.erase(doomed[i]);
    }
  }
  if (n) log::info("object gc: deleted {} orphan objects", n);
  return n;
}

}  // namespace carelog::storage
