#include "storage/uploader.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>

#include "common/clock.h"
#include "common/log.h"
#include "storage/object_format.h"

namespace carelog::storage {

std::vector<metadata::ObjectRange> object_ranges(const std::string& key,
                                                 const std::vector<object_format::IndexEntry>& entries) {
  std::vector<metadata::ObjectRange> out;
  out.reserve(entries.size());
  for (const auto& e : entries) {
    metadata::ObjectRange r;
    r.object_key = key;
    r.topic_id = e.topic_id;
    r.partition = e.partition;
    r.base_offset = e.base_offset;
    r.last_offset = e.last_offset;
    r.max_timestamp = e.max_timestamp;
    r.position = static_cast<int64_t>(e.position);
    r.length = static_cast<int64_t>(e.length);
    out.push_back(r);
  }
  return out;
}

ObjectUploader::ObjectUploader(objstore::ObjectStore& objects, metadata::MetadataStore& metadata,
                               UploaderOptions options)
    : objects_(objects), metadata_(metadata), options_(options) {}

void ObjectUploader::stop() {
  {
    std::lock_guard lk(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

uint64_t ObjectUploader::put_failures() const {
  std::lock_guard lk(mu_);
  return put_failures_;
}

bool ObjectUploader::backoff(uint32_t attempt) {
  auto delay = options_.initial_backoff * (1LL << std::min<uint32_t>(attempt, 16));
  delay = std::min<std::chrono::milliseconds>(delay, options_.max_backoff);
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, delay, [&] { return stopped_; });
  return !stopped_;
}

Status ObjectUploader::commit(const metadata::ObjectRecord& record,
                              const std::vector<metadata::ObjectRange>& ranges,
                              const std::vector<metadata::ProducerSnapshot>& snapshots) {
  bool ambiguous = false;
  for (uint32_t attempt = 0;; ++attempt) {
    Status st = metadata_.commit_object_with_snapshots(record, ranges, snapshots);
    if (st.ok()) return st;
    if (ambiguous && st.error().code == 42) {
      // An earlier attempt may have committed before reporting failure: the
      // key being recorded means it did (keys are never reused).
      auto all = metadata_.list_objects();
      if (all.ok()) {
        for (const auto& o : *all)
          if (o.key == record.key) return Status::OK();
      }
    }
    // Rejected, or fenced by a newer leader epoch: retrying cannot help.
    if (st.error().code == 42 || st.error().code == 74) return st;
    ambiguous = true;
    log::warn("uploader: committing {} failed (attempt {}): {}", record.key, attempt + 1, st.error().message);
    if (options_.max_attempts && attempt + 1 >= options_.max_attempts) return st;
    if (!backoff(attempt)) return st;
  }
}

Result<UploadedObject> ObjectUploader::upload(const std::vector<UploadBatch>& batches,
                                              const std::vector<metadata::ProducerSnapshot>& snapshots) {
  if (batches.empty()) return make_error("uploader: nothing to upload");
  // Batches come from the produce path, which verified their CRCs.
  object_format::ObjectBuilder builder(/*derive_batch_crcs=*/true);
  for (const auto& b : batches) {
    CARELOG_RETURN_IF_ERROR(
        builder.append(b.topic_id, b.partition, b.base_offset, b.last_offset, b.max_timestamp, b.bytes));
  }
  auto built = builder.finish();
  if (!built.ok()) return built.take_error();
  auto id = metadata_.allocate_object_id();
  if (!id.ok()) return id.take_error();

  UploadedObject out;
  out.key = object_format::make_object_key(*id);
  out.size = built->bytes.size();

  // Each batch's position: its range start plus the batches of the same
  // partition before it (the builder keeps append order within a range).
  std::map<std::pair<Uuid, int32_t>, uint64_t> cursor;
  for (const auto& e : built->entries) cursor[{e.topic_id, e.partition}] = e.position;
  out.positions.reserve(batches.size());
  for (const auto& b : batches) {
    uint64_t& c = cursor[{b.topic_id, b.partition}];
    out.positions.push_back(c);
    c += b.bytes.size();
  }
  out.ranges = object_ranges(out.key, built->entries);
  for (auto& r : out.ranges) {
    for (const auto& b : batches) {
      if (b.topic_id == r.topic_id && b.partition == r.partition) {
        r.leader_epoch = b.leader_epoch;
        break;
      }
    }
  }

  for (uint32_t attempt = 0;; ++attempt) {
    {
      std::lock_guard lk(mu_);
      if (stopped_) return make_error("uploader: stopped", objstore::kErrTransient);
    }
    Status st = objects_.put(out.key, built->bytes);
    if (st.ok()) break;
    {
      std::lock_guard lk(mu_);
      put_failures_++;
    }
    log::warn("uploader: PUT {} ({} bytes) failed (attempt {}): {}", out.key, out.size, attempt + 1,
              st.error().message);
    if (options_.max_attempts && attempt + 1 >= options_.max_attempts) return st.error();
    if (!backoff(attempt)) return st.error();
  }

  metadata::ObjectRecord record;
  record.key = out.key;
  record.size = static_cast<int64_t>(out.size);
  record.created_ms = wall_clock_ms();
  record.state = metadata::ObjectState::kCommitted;
  CARELOG_RETURN_IF_ERROR(commit(record, out.ranges, snapshots));
  return out;
}

}  // namespace carelog::storage
