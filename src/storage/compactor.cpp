#include "storage/compactor.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "common/log.h"
#include "storage/object_format.h"
#include "storage/uploader.h"

namespace carelog::storage {

Result<CompactedObject> Compactor::write_output(const std::vector<const LiveRange*>& ranges) {
  object_format::ObjectBuilder builder;
  for (const LiveRange* r : ranges) {
    CARELOG_RETURN_IF_ERROR(builder.append(r->entry.topic_id, r->entry.partition, r->entry.base_offset,
                                           r->entry.last_offset, r->entry.max_timestamp, r->bytes,
                                           r->entry.batch_count));
  }
  auto built = builder.finish();
  if (!built.ok()) return built.take_error();
  auto id = metadata_.allocate_object_id();
  if (!id.ok()) return id.take_error();
  CompactedObject out;
  out.key = object_format::make_object_key(*id);
  out.size = built->bytes.size();
  CARELOG_RETURN_IF_ERROR(objects_.put(out.key, built->bytes));
  out.ranges = object_ranges(out.key, built->entries);
  return out;
}

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

  // 1. Tentative inputs, oldest first, from their indexes (tail reads,
  // memoised by the GC).
  struct Candidate {
    std::string key;
    std::vector<object_format::IndexEntry> entries;
  };
  std::vector<Candidate> chosen;
  uint64_t planned = 0;
  for (const auto& [id, rec] : small) {
    if (planned >= options_.target_bytes) break;
    auto index = gc_.index_of(rec.key);
    if (!index.ok()) {
      log::warn("compactor: cannot read the index of {}: {}", rec.key, index.error().message);
      continue;  // leave it for a later run
    }
    chosen.push_back(Candidate{rec.key, std::move(index).value()});
    planned += static_cast<uint64_t>(rec.size);
  }
  // 2. The merged object has one range per partition spanning all of that
  // partition's inputs; no object that stays indexed may hold offsets inside
  // that span. Drop inputs past such a "foreign" range until none is left.
  using PKey = std::pair<Uuid, int32_t>;
  for (bool changed = true; changed && chosen.size() >= 2;) {
    changed = false;
    std::set<std::string> keys;
    std::map<PKey, std::pair<int64_t, int64_t>> spans;
    for (const auto& c : chosen) {
      keys.insert(c.key);
      for (const auto& e : c.entries) {
        if (!live(e)) continue;
        auto [it, fresh] = spans.try_emplace(PKey{e.topic_id, e.partition}, e.base_offset, e.last_offset);
        if (!fresh) {
          it->second.first = std::min(it->second.first, e.base_offset);
          it->second.second = std::max(it->second.second, e.last_offset);
        }
      }
    }
    for (const auto& [pk, span] : spans) {
      auto indexed = metadata_.find_ranges(metadata::PartitionKey{pk.first, pk.second}, span.first, 1 << 20);
      if (!indexed.ok()) return indexed.take_error();
      std::optional<int64_t> foreign;
      for (const auto& r : *indexed) {
        if (r.base_offset > span.second) break;
        if (!keys.count(r.object_key)) {
          foreign = r.base_offset;
          break;
        }
      }
      if (!foreign) continue;
      // Keep the larger side of the foreign range.
      auto side = [&](const Candidate& c, bool after) {
        return std::any_of(c.entries.begin(), c.entries.end(), [&](const object_format::IndexEntry& e) {
          return e.topic_id == pk.first && e.partition == pk.second &&
                 (after ? e.last_offset >= *foreign : e.base_offset < *foreign);
        });
      };
      const auto n_after =
          std::count_if(chosen.begin(), chosen.end(), [&](const Candidate& c) { return side(c, true); });
      const auto n_before =
          std::count_if(chosen.begin(), chosen.end(), [&](const Candidate& c) { return side(c, false); });
      const bool drop_after = n_before == 0 || (n_after > 0 && n_after <= n_before);
      std::erase_if(chosen, [&](const Candidate& c) { return side(c, drop_after); });
      changed = true;
      break;
    }
  }
  if (chosen.size() < 2) return std::optional<CompactionResult>{};

  // 3. Read the inputs whole and keep their live ranges.
  CompactionResult result;
  std::vector<LiveRange> ranges;
  for (const auto& c : chosen) {
    auto whole = objects_.get(c.key);
    if (!whole.ok()) return whole.take_error();  // all or nothing: the plan assumed every input
    auto reader = object_format::ObjectReader::open(*whole);
    if (!reader.ok()) {
      log::error("compactor: {} is unreadable, leaving it alone: {}", c.key, reader.error().message);
      return reader.take_error();
    }
    CARELOG_RETURN_IF_ERROR(reader->verify_all(*whole));
    for (const auto& e : reader->entries()) {
      if (!live(e)) continue;
      ranges.push_back(LiveRange{e, whole->slice(e.position, e.length)});
    }
    result.replaced.push_back(c.key);
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
  // 4. Large partitions get objects of their own, the rest share one.
  const uint64_t split = std::max(options_.partition_split_bytes, options_.small_object_bytes);
  std::vector<std::vector<const LiveRange*>> own;
  std::vector<const LiveRange*> mixed;
  for (size_t i = 0; i < ranges.size();) {
    size_t j = i;
    uint64_t bytes = 0;
    for (; j < ranges.size() && ranges[j].entry.topic_id == ranges[i].entry.topic_id &&
           ranges[j].entry.partition == ranges[i].entry.partition;
         ++j)
      bytes += ranges[j].entry.length;
    auto& into = bytes >= split ? own.emplace_back() : mixed;
    for (; i < j; ++i) into.push_back(&ranges[i]);
  }
  const size_t per_partition = own.size();
  if (!mixed.empty()) own.push_back(std::move(mixed));
  std::vector<metadata::NewObject> commit;
  for (const auto& group : own) {
    // On failure the objects PUT so far are orphans (swept later); the
    // inputs stay indexed.
    auto out = write_output(group);
    if (!out.ok()) return out.take_error();
    metadata::NewObject n;
    n.object.key = out->key;
    n.object.size = static_cast<int64_t>(out->size);
    n.object.created_ms = now_ms;
    n.ranges = out->ranges;
    commit.push_back(std::move(n));
    result.outputs.push_back(std::move(out).value());
  }
  CARELOG_RETURN_IF_ERROR(metadata_.replace_objects(result.replaced, commit, now_ms + options_.grace_ms));
  uint64_t total = 0;
  for (const auto& o : result.outputs) total += o.size;
  log::info("compactor: merged {} objects into {} ({} bytes, {} of them per-partition)",
            result.replaced.size(), result.outputs.size(), total, per_partition);
  return std::optional<CompactionResult>{std::move(result)};
}

}  // namespace carelog::storage
