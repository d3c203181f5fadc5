// Object lifecycle after upload: retiring objects whose data is all dead
// (retention, DeleteRecords, deleted topics), deleting retired objects once
// their grace period has passed, and sweeping orphans (objects that were
// PUT but never committed, e.g. because the broker crashed in between).
//
// Deletion is always two-phase: first the metadata store stops indexing the
// object (state kPendingDelete, delete_after_ms = now + grace), so no new
// read finds it; only after the grace period is it removed from storage, so
// reads already holding its location finish.
//
// Ownership: borrows both stores. Caches the (immutable) index of every
// object it has opened. Threading: not thread-safe; driven by the broker's
// single storage-maintenance thread.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "metadata/metadata_store.h"
#include "objstore/object_store.h"
#include "storage/object_format.h"

namespace carelog::storage {

// Says whether a range of an object still holds live data.
using RangeLiveFn = std::function<bool(const object_format::IndexEntry&)>;

class ObjectGc {
 public:
  ObjectGc(objstore::ObjectStore& objects, metadata::MetadataStore& metadata)
      : objects_(objects), metadata_(metadata) {}

  // Marks committed objects with no live range for deletion after
  // `grace_ms`. Returns how many were retired.
  Result<size_t> retire_dead_objects(const RangeLiveFn& live, int64_t now_ms, int64_t grace_ms);

  // Removes retired objects whose grace period is over, then forgets them.
  // `on_deleted` is told each key (to drop cached blocks).
  Result<size_t> delete_expired(int64_t now_ms, const std::function<void(const std::string&)>& on_deleted);

  // Deletes object keys (make_object_key format) that no metadata record
  // references and that are older than `min_age_ms` (the window covers an
  // upload between its PUT and its commit). Other keys are left alone.
  Result<size_t> sweep_orphans(int64_t now_ms, int64_t min_age_ms);

  // The index of `key`, from the memo or one tail GET.
  Result<std::vector<object_format::IndexEntry>> index_of(const std::string& key);
  void forget(const std::string& key) { indexes_.erase(key); }

 private:
  objstore::ObjectStore& objects_;
  metadata::MetadataStore& metadata_;
  std::map<std::string, std::vector<object_format::IndexEntry>> indexes_;
};

}  // namespace carelog::storage
