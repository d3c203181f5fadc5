// ObjectUploader: turns a set of committed record batches (from any number
// of partitions) into one stream-set object and makes it visible.
//
// Protocol (the order is what makes crashes safe):
//   1. build the object (object_format::ObjectBuilder) under a fresh id
//      from MetadataStore::allocate_object_id(), key make_object_key(id);
//   2. PUT it, retrying failures with exponential backoff;
//   3. commit the object record and every partition range in ONE metadata
//      transaction (MetadataStore::commit_object).
// Only after step 3 may the caller point its indexes at the object and
// reclaim WAL space. An object that was PUT but never committed is garbage:
// nothing reads it, and the orphan sweep (storage/object_gc.h) deletes it.
//
// Ownership: borrows the object store and metadata store (both must outlive
// it). Threading: upload() is called from one uploader thread at a time;
// stop() may be called from any thread to abort backoff waits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/result.h"
#include "common/uuid.h"
#include "metadata/metadata_store.h"
#include "objstore/object_store.h"
#include "storage/object_format.h"

namespace carelog::storage {

// One whole Kafka record batch (or several, contiguous) of one partition.
struct UploadBatch {
  Uuid topic_id;
  int32_t partition = 0;
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  int64_t max_timestamp = -1;
  SharedBytes bytes;
  // Cluster mode: the partition leader's epoch; the commit is fenced on it
  // (metadata::ObjectRange::leader_epoch). -1 = not fenced.
  int32_t leader_epoch = -1;
};

struct UploadedObject {
  std::string key;
  uint64_t size = 0;
  // positions[i] = byte position of batches[i] in the object.
  std::vector<uint64_t> positions;
  std::vector<metadata::ObjectRange> ranges;
};

struct UploaderOptions {
  // Attempts per PUT / commit before upload() gives up (0 = until stop()).
  uint32_t max_attempts = 0;
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
};

class ObjectUploader {
 public:
  ObjectUploader(objstore::ObjectStore& objects, metadata::MetadataStore& metadata, UploaderOptions options);

  // Uploads and commits `batches` as one object. Within a partition the
  // batches must be in offset order. On error nothing was committed (a PUT
  // object may remain as an orphan).
  // `snapshots` (producer state per partition as of its last uploaded
  // offset) are committed in the same transaction as the object.
  Result<UploadedObject> upload(const std::vector<UploadBatch>& batches,
                                const std::vector<metadata::ProducerSnapshot>& snapshots = {});

  // Aborts retries: a pending or later upload() fails promptly.
  void stop();

  uint64_t put_failures() const;

 private:
  // Sleeps for the backoff of `attempt`; false when stopped.
  bool backoff(uint32_t attempt);
  Status commit(const metadata::ObjectRecord& record, const std::vector<metadata::ObjectRange>& ranges,
                const std::vector<metadata::ProducerSnapshot>& snapshots);

  objstore::ObjectStore& objects_;
  metadata::MetadataStore& metadata_;
  const UploaderOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  uint64_t put_failures_ = 0;
};

// The metadata-index ranges of a built object stored under `key`.
std::vector<metadata::ObjectRange> object_ranges(const std::string& key,
                                                 const std::vector<object_format::IndexEntry>& entries);

}  // namespace carelog::storage
