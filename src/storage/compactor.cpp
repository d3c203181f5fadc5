#include "storage/compactor.h"

#include <algorithm>

#include "common/log.h"
#include "storage/object_format.h"

namespace carelog::storage {

namespace {

struct LiveRange {
  object_format::IndexEntry entry;
  SharedBytes bytes;
};

}  // namespace

Result<std::optional<CompactionResult>> Compactor::run_once(const RangeLiveFn& live, int64_t now_ms) {
  auto records = metadata_.list_objects();
  if (!records.ok()) return records.take_error();
  // Ids grow with upload order; list_objects orders by key (hash prefix),
  // so sort by id to merge neighbours in time.
  std::vector<std::pair<uint64_t, metadata::ObjectRecord>> small;
  for (const auto& r : *records) {
    if (r.state != metadata::ObjectState::kCommitted) continue;
    if (static_cast<uint64_t>(r.size) >= options_.small_object_bytes) continue;
    auto id = object_format::parse_object_key(r.key);
    if (!id.ok()) continue;
    small.emplace_back(*id, r);
  }
  if (small.size() < std::max<size_t>(options_.min_objects, 2)) return std::optional<CompactionResult>{};
  std::sort(small.begin(), small.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  CompactionResult result;
  std::vector<LiveRange> ranges;
  uint64_t total = 0;
  for (const auto& [id, rec] : small) {
    if (total >= options_.target_bytes) break;
    auto whole = objects_.get(rec.key);
    if (!whole.ok()) {
      log::warn("compactor: cannot read {}: {}", rec.key, whole.error().message);
      continue;  // leave it for a later run
    }
    auto reader = object_format::ObjectReader::open(*whole);
    if (!reader.ok()) {
      log::error("compactor: {} is unreadable, leaving it alone: {}", rec.key, reader.error().message);
      continue;
    }
    CARELOG_RETURN_IF_ERROR(reader->verify_all(*whole));
    for (const auto& e : reader->entries()) {
      if (!live(e)) continue;
      ranges.push_back(LiveRange{e, whole->slice(e.position, e.length)});
      total += e.length;
    }
    result.replaced.push_back(rec.key);
  }
  if (result.replaced.size() < 2) return std::optional<CompactionResult>{};

  if (ranges.empty()) {
    CARELOG_RETURN_IF_ERROR(metadata_.mark_objects_for_deletion(result.replaced, now_ms + options_.grace_ms));
    return std::optional<CompactionResult>{std::move(result)};
  }
  std::sort(ranges.begin(), ranges.end(), [](const LiveRange& a, const LiveRange& b) {
    return std::tie(a.entry.topic_id, a.entry.partition, a.entry.base_offset) <
           std::tie(b.entry.topic_id, b.entry.partition, b.entry.base_offset);
  });
  object_format::ObjectBuilder builder;
  for (const auto& r : ranges) {
    CARELOG_RETURN_IF_ERROR(builder.append(r.entry.topic_id, r.entry.partition, r.entry.base_offset,
                                           r.entry.last_offset, r.entry.max_timestamp, r.bytes,
                                           r.entry.batch_count));
  }
  auto built = builder.finish();
  if (!built.ok()) return built.take_error();
  auto id = metadata_.allocate_object_id();
  if (!id.ok()) return id.take_error();
  result.key = object_format::make_object_key(*id);
  result.size = built->bytes.size();
  CARELOG_RETURN_IF_ERROR(objects_.put(result.key, built->bytes));
  for (const auto& e : built->entries) {
    metadata::ObjectRange r;
    r.object_key = result.key;
    r.topic_id = e.topic_id;
    r.partition = e.partition;
    r.base_offset = e.base_offset;
    r.last_offset = e.last_offset;
    r.max_timestamp = e.max_timestamp;
    r.position = static_cast<int64_t>(e.position);
    r.length = static_cast<int64_t>(e.length);
    result.ranges.push_back(r);
  }
  metadata::ObjectRecord record;
  record.key = result.key;
  record.size = static_cast<int64_t>(result.size);
  record.created_ms = now_ms;
  // On failure the new object is an orphan (swept later); the old ones stay.
  CARELOG_RETURN_IF_ERROR(
      metadata_.replace_objects(result.replaced, record, result.ranges, now_ms + options_.grace_ms));
  log::info("compactor: merged {} objects into {} ({} bytes)", result.replaced.size(), result.key,
            result.size);
  return std::optional<CompactionResult>{std::move(result)};
}

}  // namespace carelog::storage
