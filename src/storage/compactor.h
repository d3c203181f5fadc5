// Compactor: merges many small stream-set objects into fewer large ones.
//
// A run picks committed objects smaller than `small_object_bytes` in id
// order until `target_bytes`, reads each whole and keeps the live partition
// ranges (RangeLiveFn). A partition with at least `partition_split_bytes`
// of live data (and no less than `small_object_bytes`, so the result is not
// a merge candidate again) gets an object of its own; the others are laid
// out per partition in offset order in one mixed stream-set object. Every
// output is PUT, then all are swapped in with one
// MetadataStore::replace_objects (old objects -> pending delete after
// `grace_ms`, new objects committed, one transaction): a failed PUT leaves
// the index unchanged and the outputs already PUT become orphans for the
// sweep. Readers holding old locations keep working until the grace period
// ends; the caller re-points its in-memory indexes at the new ranges.
//
// Ownership: borrows the stores and the ObjectGc (for its index memo).
// Threading: not thread-safe; run from the storage-maintenance thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "metadata/metadata_store.h"
#include "objstore/object_store.h"
#include "storage/object_gc.h"

namespace carelog::storage {

struct CompactionOptions {
  uint64_t small_object_bytes = 8ull << 20;     // objects below this are merge candidates
  uint64_t target_bytes = 64ull << 20;          // stop adding inputs beyond this
  size_t min_objects = 4;                       // merge only when at least this many candidates
  int64_t grace_ms = 60000;                     // old objects deleted after this
  uint64_t partition_split_bytes = 8ull << 20;  // a partition with this much gets its own object
};

struct CompactedObject {
  std::string key;
  uint64_t size = 0;
  std::vector<metadata::ObjectRange> ranges;
};

struct CompactionResult {
  std::vector<std::string> replaced;     // old keys (now pending delete)
  std::vector<CompactedObject> outputs;  // new objects (none when every input was dead)
};

class Compactor {
 public:
  Compactor(objstore::ObjectStore& objects, metadata::MetadataStore& metadata, ObjectGc& gc,
            CompactionOptions options)
      : objects_(objects), metadata_(metadata), gc_(gc), options_(options) {}

  // One merge, or nullopt when there is nothing worth merging.
  Result<std::optional<CompactionResult>> run_once(const RangeLiveFn& live, int64_t now_ms);

 private:
  struct LiveRange {
    object_format::IndexEntry entry;
    SharedBytes bytes;
  };
  // Builds one output object from `ranges` (sorted), PUTs it under a new id.
  Result<CompactedObject> write_output(const std::vector<const LiveRange*>& ranges);

  objstore::ObjectStore& objects_;
  metadata::MetadataStore& metadata_;
  ObjectGc& gc_;
  const CompactionOptions options_;
};

}  // namespace carelog::storage
