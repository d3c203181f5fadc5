#include "server/consumer_offsets_topic.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>

#include "common/clock.h"
#include "common/log.h"
#include "record/batch_builder.h"

namespace carelog::server {
namespace {

void put16(std::vector<uint8_t>* out, int16_t v) {
  out->push_back(static_cast<uint8_t>(static_cast<uint16_t>(v) >> 8));
  out->push_back(static_cast<uint8_t>(v));
}
void put32(std::vector<uint8_t>* out, int32_t v) {
  for (int s = 24; s >= 0; s -= 8) out->push_back(static_cast<uint8_t>(static_cast<uint32_t>(v) >> s));
}
void put64(std::vector<uint8_t>* out, int64_t v) {
  for (int s = 56; s >= 0; s -= 8) out->push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> s));
}
void put_uvarint(std::vector<uint8_t>* out, uint32_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<uint8_t>(v));
}
void put_string(std::vector<uint8_t>* out, std::string_view s) {
  put16(out, static_cast<int16_t>(s.size()));
  out->insert(out->end(), s.begin(), s.end());
}
void put_compact_string(std::vector<uint8_t>* out, std::string_view s) {
  put_uvarint(out, static_cast<uint32_t>(s.size() + 1));
  out->insert(out->end(), s.begin(), s.end());
}

// Decodes one UTF-8 code point at `i` (advancing it); invalid bytes count
// as one code unit of their own value, which only matters for group ids
// that Java could not have produced either.
uint32_t next_code_point(std::string_view s, size_t& i) {
  const auto b = static_cast<uint8_t>(s[i]);
  int extra = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : 0;
  if (i + static_cast<size_t>(extra) >= s.size()) extra = 0;  // truncated sequence
  uint32_t cp = extra == 0 ? b : extra == 1 ? (b & 0x1F) : extra == 2 ? (b & 0x0F) : (b & 0x07);
  for (int k = 1; k <= extra; ++k)
    cp = (cp << 6) | (static_cast<uint8_t>(s[i + static_cast<size_t>(k)]) & 0x3F);
  i += 1 + static_cast<size_t>(extra);
  return cp;
}

}  // namespace

namespace {
std::atomic<ConsumerOffsetsTopic*> g_topic{nullptr};
}  // namespace

void install_consumer_offsets_topic(ConsumerOffsetsTopic* topic) { g_topic = topic; }
ConsumerOffsetsTopic* consumer_offsets_topic() { return g_topic.load(); }

int32_t consumer_offsets_partition(std::string_view group_id, int32_t partitions) {
  uint32_t h = 0;  // Java int arithmetic, wrapping
  for (size_t i = 0; i < group_id.size();) {
    const uint32_t cp = next_code_point(group_id, i);
    if (cp > 0xFFFF) {
      const uint32_t v = cp - 0x10000;
      h = 31 * h + (0xD800 + (v >> 10));
      h = 31 * h + (0xDC00 + (v & 0x3FF));
    } else {
      h = 31 * h + cp;
    }
  }
  return static_cast<int32_t>((h & 0x7FFFFFFFu) % static_cast<uint32_t>(partitions));
}

std::vector<uint8_t> encode_offset_commit_key(std::string_view group, std::string_view topic,
                                              int32_t partition) {
  std::vector<uint8_t> out;
  out.reserve(10 + group.size() + topic.size());
  put16(&out, 1);
  put_string(&out, group);
  put_string(&out, topic);
  put32(&out, partition);
  return out;
}

std::vector<uint8_t> encode_offset_commit_value(const metadata::CommittedOffsetRecord& rec) {
  std::vector<uint8_t> out;
  const std::string_view meta = rec.metadata ? std::string_view(*rec.metadata) : std::string_view();
  out.reserve(48 + meta.size());
  put16(&out, 4);
  put64(&out, rec.offset);
  put32(&out, rec.leader_epoch);
  put_compact_string(&out, meta);
  put64(&out, rec.commit_timestamp_ms);
  if (rec.topic_id.is_zero()) {
    put_uvarint(&out, 0);  // no tagged fields: the topic id is at its default
  } else {
    put_uvarint(&out, 1);   // one tagged field
    put_uvarint(&out, 0);   // tag 0: TopicId
    put_uvarint(&out, 16);  // its size
    const auto& b = rec.topic_id.bytes;
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

Result<std::shared_ptr<const TopicInfo>> ConsumerOffsetsTopic::ensure() {
  const std::string name(kConsumerOffsetsTopic);
  if (auto t = topics_.find(name)) return t;
  // Kafka's configs for the topic (GroupCoordinator's offsetsTopicConfigs).
  metadata::ConfigMap configs{
      {"cleanup.policy", "compact"}, {"compression.type", "producer"}, {"segment.bytes", "104857600"}};
  auto created = topics_.create(name, partitions_, 1, configs, false);
  if (!created.ok()) {
    if (auto t = topics_.find(name)) return t;  // raced with another creator
    return created;
  }
  log::info("created {} with {} partitions", name, partitions_);
  return created;
}

void ConsumerOffsetsTopic::committed(const std::vector<metadata::CommittedOffsetRecord>& recs) {
  append(recs, false);
}

void ConsumerOffsetsTopic::deleted(const std::vector<metadata::CommittedOffsetRecord>& keys) {
  append(keys, true);
}

void ConsumerOffsetsTopic::append(const std::vector<metadata::CommittedOffsetRecord>& recs, bool tombstones) {
  if (recs.empty()) return;
  auto topic = ensure();
  if (!topic.ok()) {
    log::warn("{}: cannot mirror {} offset change(s): {}", kConsumerOffsetsTopic, recs.size(),
              topic.error().message);
    return;
  }
  const auto& info = **topic;
  // One batch per partition, records in the order given.
  std::map<int32_t, std::vector<const metadata::CommittedOffsetRecord*>> by_partition;
  for (const auto& r : recs)
    by_partition[consumer_offsets_partition(r.group_id, info.partitions)].push_back(&r);
  const int64_t now = wall_clock_ms();
  for (const auto& [p, list] : by_partition) {
    auto log = logs_.get(info.id, p);
    if (!log) continue;
    std::vector<std::vector<uint8_t>> keys, values;
    keys.reserve(list.size());
    values.reserve(list.size());
    std::vector<record::RecordView> views;
    views.reserve(list.size());
    const int64_t base_ts = tombstones ? now : list.front()->commit_timestamp_ms;
    int64_t max_ts = base_ts;
    for (size_t i = 0; i < list.size(); ++i) {
      const auto& r = *list[i];
      keys.push_back(encode_offset_commit_key(r.group_id, r.topic, r.partition));
      if (!tombstones) values.push_back(encode_offset_commit_value(r));
      const int64_t ts = tombstones ? now : r.commit_timestamp_ms;
      max_ts = std::max(max_ts, ts);
      record::RecordView v;
      v.offset_delta = static_cast<int32_t>(i);
      v.timestamp_delta = ts - base_ts;
      v.key = std::string_view(reinterpret_cast<const char*>(keys.back().data()), keys.back().size());
      if (!tombstones)
        v.value = std::string_view(reinterpret_cast<const char*>(values.back().data()), values.back().size());
      views.push_back(std::move(v));
    }
    record::BatchHeader tmpl;
    tmpl.last_offset_delta = static_cast<int32_t>(list.size() - 1);
    tmpl.base_timestamp = base_ts;
    tmpl.max_timestamp = max_ts;
    partition::AppendRequest request{SharedBytes::from_vector(record::encode_batch(tmpl, views)),
                                     partition::TimestampType::kCreateTime};
    const size_t n = list.size();
    log->append(std::move(request), [p = p, n](partition::AppendResult r) {
      if (r.error != partition::LogError::kNone)
        log::warn("{}-{}: appending {} offset record(s) failed: {}", kConsumerOffsetsTopic, p, n,
                  r.error_message);
    });
  }
}

}  // namespace carelog::server
