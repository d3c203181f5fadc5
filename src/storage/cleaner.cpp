#include "storage/cleaner.h"

#include <fmt/core.h>

#include <algorithm>
#include <limits>

#include "common/log.h"
#include "record/batch.h"
#include "record/batch_builder.h"
#include "record/control.h"
#include "record/records.h"
#include "storage/key_map.h"
#include "storage/object_format.h"
#include "storage/uploader.h"

namespace carelog::storage {
namespace {

using PKey = std::pair<Uuid, int32_t>;

PKey pkey(const metadata::PartitionKey& p) { return {p.topic_id, p.partition}; }

// Calls fn(header, slice) for every batch of a range's bytes.
template <typename Fn>
Status for_each_batch(const SharedBytes& bytes, const std::string& key, Fn&& fn) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < record::kBatchHeaderSize)
      return make_error(fmt::format("object {}: truncated batch at {}", key, pos), objstore::kErrCorrupt);
    auto h = record::parse_header(bytes.span().subspan(pos));
    if (!h.ok() || h->batch_length <= 0 || h->total_size() > bytes.size() - pos)
      return make_error(fmt::format("object {}: bad batch header at {}", key, pos), objstore::kErrCorrupt);
    CARELOG_RETURN_IF_ERROR(fn(*h, bytes.slice(pos, h->total_size())));
    pos += h->total_size();
  }
  return Status::OK();
}

// Which transactional batches belong to an aborted transaction.
class AbortedIndex {
 public:
  explicit AbortedIndex(const std::vector<AbortedTxnSpan>& spans) {
    for (const auto& a : spans) by_producer_[a.producer_id].push_back(a);
    for (auto& [id, v] : by_producer_)
      std::sort(v.begin(), v.end(),
                [](const auto& a, const auto& b) { return a.marker_offset < b.marker_offset; });
  }
  bool aborted(int64_t producer_id, int64_t offset) const {
    auto it = by_producer_.find(producer_id);
    if (it == by_producer_.end()) return false;
    auto s = std::lower_bound(it->second.begin(), it->second.end(), offset,
                              [](const AbortedTxnSpan& a, int64_t o) { return a.marker_offset < o; });
    return s != it->second.end() && s->first_offset <= offset;
  }

 private:
  std::map<int64_t, std::vector<AbortedTxnSpan>> by_producer_;
};

// A re-encoded batch with the header fields encode_batch does not carry:
// base offset, leader epoch and (a committed transaction's) transactional bit.
SharedBytes reencode(const record::BatchHeader& h, const std::vector<record::RecordView>& keep) {
  auto encoded = record::encode_batch(h, keep);
  if (h.transactional()) {
    const uint16_t attrs = static_cast<uint16_t>(
        ((encoded[record::kAttributesOffset] << 8) | encoded[record::kAttributesOffset + 1]) | 0x10);
    encoded[record::kAttributesOffset] = static_cast<uint8_t>(attrs >> 8);
    encoded[record::kAttributesOffset + 1] = static_cast<uint8_t>(attrs);
    record::update_crc(encoded.data(), encoded.size());
  }
  record::set_base_offset(encoded.data(), h.base_offset);
  record::set_partition_leader_epoch(encoded.data(), h.partition_leader_epoch);
  return SharedBytes::from_vector(std::move(encoded));
}

int64_t sub_sat(int64_t a, int64_t b) {
  if (b > 0 && a < std::numeric_limits<int64_t>::min() + b) return std::numeric_limits<int64_t>::min();
  return a - b;
}

}  // namespace

Result<SharedBytes> Cleaner::read_range(const metadata::ObjectRange& r) {
  auto index = gc_.index_of(r.object_key);
  if (!index.ok()) return index.take_error();
  for (const auto& e : *index) {
    if (e.topic_id != r.topic_id || e.partition != r.partition) continue;
    if (e.position != static_cast<uint64_t>(r.position) || e.length != static_cast<uint64_t>(r.length))
      return make_error(fmt::format("object {}: range does not match the object index", r.object_key),
                        objstore::kErrCorrupt);
    return object_format::ObjectReader::read_range(objects_, r.object_key, e);
  }
  return make_error(fmt::format("object {} has no range of this partition", r.object_key),
                    objstore::kErrCorrupt);
}

Result<CompactedObject> Cleaner::put_object(object_format::BuiltObject built) {
  auto id = metadata_.allocate_object_id();
  if (!id.ok()) return id.take_error();
  CompactedObject out;
  out.key = object_format::make_object_key(*id);
  out.size = built.bytes.size();
  CARELOG_RETURN_IF_ERROR(objects_.put(out.key, built.bytes));
  out.ranges = object_ranges(out.key, built.entries);
  return out;
}

Result<std::optional<CleanedSpan>> Cleaner::clean(const CleanTarget& target,
                                                  const std::map<std::string, int64_t>& created_ms,
                                                  const RangeLiveFn& live, int64_t now_ms,
                                                  CleanOutcome* outcome) {
  CleanOutcome scratch;
  if (!outcome) outcome = &scratch;
  const auto& pk = target.partition;
  // The partition's uploaded log, in offset order.
  std::vector<metadata::ObjectRange> ranges;
  for (int64_t from = target.log_start;;) {
    constexpr int32_t kPage = 1000;
    auto page = metadata_.find_ranges(pk, from, kPage);
    if (!page.ok()) return page.take_error();
    bool beyond = false;
    for (auto& r : *page) {
      if (r.last_offset > target.uploaded_offset) {
        beyond = true;
        break;
      }
      from = r.last_offset + 1;
      ranges.push_back(std::move(r));
    }
    if (beyond || page->size() < static_cast<size_t>(kPage)) break;
  }
  CleanerPartitionState st;
  {
    std::lock_guard lk(mu_);
    st = states_[pkey(pk)];
    max_lag_[pkey(pk)] = target.policy.max_lag_ms;
  }
  auto created = [&](const metadata::ObjectRange& r) {
    auto it = created_ms.find(r.object_key);
    return it == created_ms.end() ? now_ms : it->second;
  };
  // Cleanable prefix: ranges older than min.compaction.lag.ms and below the
  // last stable offset (an open transaction's data and what follows wait).
  const int64_t cutoff = sub_sat(now_ms, target.policy.min_lag_ms);
  size_t cleanable = 0;
  // A range holding the stable offset is cleanable up to it (batch by batch).
  while (cleanable < ranges.size() && ranges[cleanable].max_timestamp <= cutoff &&
         ranges[cleanable].base_offset < target.stable_offset)
    ++cleanable;
  size_t dirty_first = 0;
  while (dirty_first < ranges.size() && ranges[dirty_first].last_offset <= st.clean_offset) ++dirty_first;
  uint64_t cleanable_bytes = 0, dirty_bytes = 0;
  for (size_t i = 0; i < cleanable; ++i) {
    cleanable_bytes += static_cast<uint64_t>(ranges[i].length);
    if (i >= dirty_first) dirty_bytes += static_cast<uint64_t>(ranges[i].length);
  }
  int64_t dirty_since = -1;
  for (size_t i = dirty_first; i < ranges.size(); ++i) {
    int64_t t = created(ranges[i]);
    if (ranges[i].max_timestamp >= 0) t = std::min(t, ranges[i].max_timestamp);
    dirty_since = dirty_since < 0 ? t : std::min(dirty_since, t);
  }
  const double ratio = cleanable_bytes ? double(dirty_bytes) / double(cleanable_bytes) : 0.0;
  {
    std::lock_guard lk(mu_);
    auto& s = states_[pkey(pk)];
    s.topic = target.topic;
    s.dirty_ratio = ratio;
    s.dirty_since_ms = dirty_since;
  }
  if (dirty_first >= cleanable) return std::optional<CleanedSpan>{};
  int64_t first_dirty_since = created(ranges[dirty_first]);
  if (ranges[dirty_first].max_timestamp >= 0)
    first_dirty_since = std::min(first_dirty_since, ranges[dirty_first].max_timestamp);
  const bool overdue = sub_sat(now_ms, first_dirty_since) >= target.policy.max_lag_ms;
  if (ratio < target.policy.min_dirty_ratio && !overdue) return std::optional<CleanedSpan>{};

  // 1. Key map over the dirty cleanable ranges.
  CleanerStats pass;
  pass.deadline_passes = overdue && ratio < target.policy.min_dirty_ratio ? 1 : 0;
  KeyMap map(options_.key_map_bytes);
  const AbortedIndex aborted(target.aborted);
  int64_t map_upto = st.clean_offset;
  bool full = false, unstable = false;
  for (size_t i = dirty_first; i < cleanable && !full && !unstable; ++i) {
    auto bytes = read_range(ranges[i]);
    if (!bytes.ok()) return bytes.take_error();
    pass.bytes_read += bytes->size();
    CARELOG_RETURN_IF_ERROR(for_each_batch(
        *bytes, ranges[i].object_key, [&](const record::BatchHeader& h, SharedBytes b) -> Status {
          if (full || unstable || h.last_offset() <= st.clean_offset) return Status::OK();
          if (h.base_offset >= target.stable_offset) {
            unstable = true;  // an open transaction: it and what follows wait
            return Status::OK();
          }
          if (h.control() || (h.transactional() && aborted.aborted(h.producer_id, h.base_offset))) {
            // Markers have no key; aborted records never supersede anything.
            map_upto = h.last_offset();
            return Status::OK();
          }
          auto decoded = record::decode_batch(b);
          if (!decoded.ok()) return decoded.take_error();
          if (map.size() > 0 && map.size() + decoded->records.size() > map.capacity()) {
            full = true;  // the rest waits for the next pass
            return Status::OK();
          }
          for (const auto& r : decoded->records) {
            if (r.key) map.put(hash_key(*r.key), decoded->offset_of(r));
          }
          map_upto = h.last_offset();
          return Status::OK();
        }));
  }
  pass.keys = map.size();
  if (map_upto <= st.clean_offset) {
    if (unstable) return std::optional<CleanedSpan>{};
    log::warn("cleaner: {}-{}: key map too small for one batch at offset {}", pk.topic_id.to_string(),
              pk.partition, ranges[dirty_first].base_offset);
    return std::optional<CleanedSpan>{};
  }
  size_t end = 0;
  while (end < ranges.size() && ranges[end].base_offset <= map_upto) ++end;

  auto span = rewrite(target, ranges, end, map_upto, map, live, now_ms, pass, *outcome);
  {
    std::lock_guard lk(mu_);
    if (!span.ok()) {
      stats_.failures++;
      return span.take_error();
    }
    auto& s = states_[pkey(pk)];
    s.clean_offset = map_upto;
    s.last_clean_ms = now_ms;
    s.passes++;
    s.bytes_reclaimed += pass.bytes_reclaimed;
    // What stays dirty: ranges above the mapped offset.
    s.dirty_since_ms = -1;
    for (size_t i = 0; i < ranges.size(); ++i) {
      if (ranges[i].last_offset <= map_upto) continue;
      int64_t t = created(ranges[i]);
      if (ranges[i].max_timestamp >= 0) t = std::min(t, ranges[i].max_timestamp);
      s.dirty_since_ms = s.dirty_since_ms < 0 ? t : std::min(s.dirty_since_ms, t);
    }
    stats_.passes++;
    stats_.bytes_read += pass.bytes_read;
    stats_.bytes_written += pass.bytes_written;
    stats_.bytes_reclaimed += pass.bytes_reclaimed;
    stats_.keys += pass.keys;
    stats_.records_removed += pass.records_removed;
    stats_.tombstones_removed += pass.tombstones_removed;
    stats_.deadline_passes += pass.deadline_passes;
    stats_.aborted_records_removed += pass.aborted_records_removed;
    stats_.markers_removed += pass.markers_removed;
  }
  return span;
}

Result<std::optional<CleanedSpan>> Cleaner::rewrite(const CleanTarget& target,
                                                    const std::vector<metadata::ObjectRange>& ranges,
                                                    size_t end, int64_t map_upto, const KeyMap& map,
                                                    const RangeLiveFn& live, int64_t now_ms,
                                                    CleanerStats& pass, CleanOutcome& outcome) {
  const auto& pk = target.partition;
  const int64_t log_last = ranges.back().last_offset;  // the log's last record always stays
  const int64_t tombstone_cutoff = sub_sat(now_ms, target.policy.delete_retention_ms);
  const AbortedIndex aborted(target.aborted);
  // Producers with a batch of their current transaction seen in this pass
  // (the scan starts at the log start, so a marker whose producer is absent
  // here has no data of its transaction left before it).
  std::set<int64_t> txn_data;
  const auto& empty_since_before = abort_empty_since_[pkey(pk)];
  std::map<int64_t, int64_t> empty_since;  // replaces abort_empty_since_ after the pass
  for (auto it = empty_since_before.upper_bound(map_upto); it != empty_since_before.end(); ++it)
    empty_since.insert(*it);
  // Whether a marker may go (Kafka's rules, docs/transactions.md#compaction).
  auto marker_goes = [&](const record::BatchHeader& h) {
    const bool had_data = txn_data.erase(h.producer_id) > 0;
    if (h.base_offset > map_upto || h.last_offset() >= log_last || had_data) return false;
    if (h.control_type == static_cast<int8_t>(record::ControlType::kCommit))
      return h.max_timestamp < tombstone_cutoff;
    if (h.control_type != static_cast<int8_t>(record::ControlType::kAbort)) return false;
    auto seen = empty_since_before.find(h.base_offset);
    const int64_t since = seen == empty_since_before.end() ? now_ms : seen->second;
    if (since >= tombstone_cutoff || h.max_timestamp >= tombstone_cutoff) {
      empty_since[h.base_offset] = since;
      return false;
    }
    outcome.forget_aborted.push_back(h.base_offset);
    if (target.snapshot_aborted.count(h.base_offset)) {
      empty_since[h.base_offset] = since;  // a restart would bring the span back: next pass
      return false;
    }
    return true;
  };
  CleanedSpan span;
  span.partition = pk;
  bool started = false;
  uint64_t in_bytes = 0, out_bytes = 0;
  object_format::ObjectBuilder builder;
  auto flush = [&]() -> Status {
    if (builder.empty()) return Status::OK();
    auto built = builder.finish();
    if (!built.ok()) return built.take_error();
    for (const auto& e : built->entries) out_bytes += e.length;  // the partition's bytes, not index/footer
    auto put = put_object(std::move(built).value());
    if (!put.ok()) return put.take_error();
    pass.bytes_written += put->size;
    span.outputs.push_back(std::move(put).value());
    return Status::OK();
  };
  for (size_t i = 0; i < end; ++i) {
    auto bytes = read_range(ranges[i]);
    if (!bytes.ok()) return bytes.take_error();
    pass.bytes_read += bytes->size();
    std::vector<SharedBytes> kept;
    bool changed = false;
    CARELOG_RETURN_IF_ERROR(for_each_batch(
        *bytes, ranges[i].object_key, [&](const record::BatchHeader& h, SharedBytes b) -> Status {
          if (h.control()) {
            if (marker_goes(h)) {
              changed = true;
              pass.markers_removed++;
            } else {
              kept.push_back(std::move(b));
            }
            return Status::OK();
          }
          const bool txn = h.transactional();
          if (txn) txn_data.insert(h.producer_id);
          if (h.base_offset > map_upto) {
            kept.push_back(std::move(b));
            return Status::OK();
          }
          const bool last_of_producer =
              h.producer_id >= 0 && target.producer_last_batches.count(h.base_offset);
          if (txn && aborted.aborted(h.producer_id, h.base_offset) && h.last_offset() < log_last) {
            // An aborted transaction's records go; the batch stays empty
            // when it is its producer's last (sequence numbers), as Kafka's.
            if (h.records_count == 0 && last_of_producer) {
              kept.push_back(std::move(b));
              return Status::OK();
            }
            changed = true;
            pass.records_removed += static_cast<uint64_t>(h.records_count);
            pass.aborted_records_removed += static_cast<uint64_t>(h.records_count);
            if (last_of_producer) kept.push_back(reencode(h, {}));
            return Status::OK();
          }
          auto decoded = record::decode_batch(b);
          if (!decoded.ok()) return decoded.take_error();
          std::vector<record::RecordView> keep;
          for (const auto& r : decoded->records) {
            const int64_t o = decoded->offset_of(r);
            bool survives = true;
            if (o <= map_upto) {
              if (!r.key) {
                survives = false;  // as Kafka's cleaner: keyless records do not survive compaction
              } else if (auto latest = map.get(hash_key(*r.key)); latest && *latest > o) {
                survives = false;
              } else if (!r.value && o < log_last && decoded->timestamp_of(r) < tombstone_cutoff) {
                survives = false;
                pass.tombstones_removed++;
              }
            }
            if (survives) {
              keep.push_back(r);
            } else {
              pass.records_removed++;
            }
          }
          if (keep.size() == decoded->records.size()) {
            kept.push_back(std::move(b));
            return Status::OK();
          }
          changed = true;
          if (keep.empty() && !last_of_producer) return Status::OK();
          kept.push_back(reencode(h, keep));
          return Status::OK();
        }));
    if (!started && !changed) continue;  // leading ranges that stay as they are
    if (!started) {
      started = true;
      span.span_base = ranges[i].base_offset;
    }
    span.replaced.push_back(ranges[i].object_key);
    in_bytes += static_cast<uint64_t>(ranges[i].length);
    for (auto& b : kept) {
      auto h = record::parse_header(b.span());
      if (!h.ok()) return h.take_error();
      CARELOG_RETURN_IF_ERROR(
          builder.append(pk.topic_id, pk.partition, h->base_offset, h->last_offset(), h->max_timestamp, b));
    }
    if (builder.size_bytes() >= options_.output_object_bytes) CARELOG_RETURN_IF_ERROR(flush());
  }
  if (!started) {
    abort_empty_since_[pkey(pk)] = std::move(empty_since);
    std::optional<CleanedSpan> none;
    return none;
  }
  CARELOG_RETURN_IF_ERROR(flush());
  span.span_last = ranges[end - 1].last_offset;
  // Other partitions' ranges in the inputs move to remainder objects.
  for (const auto& key : span.replaced) {
    auto index = gc_.index_of(key);
    if (!index.ok()) return index.take_error();
    object_format::ObjectBuilder rest;
    for (const auto& e : *index) {
      if (e.topic_id == pk.topic_id && e.partition == pk.partition) continue;
      if (!live(e)) continue;
      auto bytes = object_format::ObjectReader::read_range(objects_, key, e);
      if (!bytes.ok()) return bytes.take_error();
      pass.bytes_read += bytes->size();
      CARELOG_RETURN_IF_ERROR(rest.append(e.topic_id, e.partition, e.base_offset, e.last_offset,
                                          e.max_timestamp, std::move(bytes).value(), e.batch_count));
    }
    if (rest.empty()) continue;
    auto built = rest.finish();
    if (!built.ok()) return built.take_error();
    auto put = put_object(std::move(built).value());
    if (!put.ok()) return put.take_error();
    pass.bytes_written += put->size;
    span.remainders.push_back(std::move(put).value());
  }
  std::vector<metadata::NewObject> commit;
  for (const auto* group : {&span.outputs, &span.remainders}) {
    for (const auto& o : *group) {
      metadata::NewObject n;
      n.object.key = o.key;
      n.object.size = static_cast<int64_t>(o.size);
      n.object.created_ms = now_ms;
      n.ranges = o.ranges;
      commit.push_back(std::move(n));
    }
  }
  CARELOG_RETURN_IF_ERROR(metadata_.replace_objects(span.replaced, commit, now_ms + options_.grace_ms));
  abort_empty_since_[pkey(pk)] = std::move(empty_since);
  pass.bytes_reclaimed = in_bytes > out_bytes ? in_bytes - out_bytes : 0;
  log::info(
      "cleaner: {}-{}: offsets {}..{} rewritten from {} objects into {} (+{} remainder), {} -> {} bytes, {} "
      "keys, {} records removed",
      pk.topic_id.to_string(), pk.partition, span.span_base, span.span_last, span.replaced.size(),
      span.outputs.size(), span.remainders.size(), in_bytes, out_bytes, pass.keys, pass.records_removed);
  return std::optional<CleanedSpan>{std::move(span)};
}

CleanerPartitionState Cleaner::state(const metadata::PartitionKey& p) const {
  std::lock_guard lk(mu_);
  auto it = states_.find(pkey(p));
  return it == states_.end() ? CleanerPartitionState{} : it->second;
}

std::vector<std::pair<metadata::PartitionKey, CleanerPartitionState>> Cleaner::states() const {
  std::lock_guard lk(mu_);
  std::vector<std::pair<metadata::PartitionKey, CleanerPartitionState>> out;
  for (const auto& [k, s] : states_) out.emplace_back(metadata::PartitionKey{k.first, k.second}, s);
  return out;
}

void Cleaner::forget(const metadata::PartitionKey& p) {
  std::lock_guard lk(mu_);
  states_.erase(pkey(p));
  max_lag_.erase(pkey(p));
  abort_empty_since_.erase(pkey(p));
}

CleanerStats Cleaner::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

int64_t Cleaner::max_overdue_ms(int64_t now_ms) const {
  std::lock_guard lk(mu_);
  int64_t worst = 0;
  for (const auto& [k, s] : states_) {
    if (s.dirty_since_ms < 0) continue;
    auto lag = max_lag_.find(k);
    if (lag == max_lag_.end()) continue;
    const int64_t over = sub_sat(sub_sat(now_ms, s.dirty_since_ms), lag->second);
    worst = std::max(worst, over);
  }
  return worst;
}

}  // namespace carelog::storage
