// PgMetadataStore: the object index and producer snapshots. Every mutation
// is one call of carelog_commit_objects_fenced (pg_schema.cpp: the leader
// epoch fence, then the commit, in one transaction), so an uploaded object
// costs two round trips in all: allocate_object_id and the commit.
#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "fmt/core.h"
#include "metadata/object_checks.h"
#include "metadata/pg_json.h"
#include "metadata/pg_metadata_store.h"

namespace carelog::metadata {
namespace {

using Json = nlohmann::json;
using pg::Param;

Param id_param(const Uuid& id) { return pg::bytea_param(id.bytes.data(), 16); }

Json object_json(const NewObject& o) {
  // Sorted by partition so concurrent commits take partition locks in one
  // order (no deadlocks between brokers).
  std::vector<const ObjectRange*> sorted;
  sorted.reserve(o.ranges.size());
  for (const auto& r : o.ranges) sorted.push_back(&r);
  std::stable_sort(sorted.begin(), sorted.end(), [](const ObjectRange* a, const ObjectRange* b) {
    return std::tie(a->topic_id, a->partition) < std::tie(b->topic_id, b->partition);
  });
  Json ranges = Json::array();
  for (const ObjectRange* r : sorted) {
    ranges.push_back({{"id", pg::hex(r->topic_id.bytes.data(), 16)},
                      {"p", r->partition},
                      {"b", r->base_offset},
                      {"l", r->last_offset},
                      {"ts", r->max_timestamp},
                      {"pos", r->position},
                      {"len", r->length}});
    // Cluster mode: the writer's leader epoch, checked by the fence.
    if (r->leader_epoch >= 0) ranges.back()["e"] = r->leader_epoch;
  }
  return {
      {"key", o.object.key}, {"size", o.object.size}, {"created", o.object.created_ms}, {"ranges", ranges}};
}

}  // namespace

Status PgMetadataStore::commit_objects(const std::vector<std::string>& retire, int64_t delete_after_ms,
                                       const std::vector<NewObject>& objects,
                                       const std::vector<ProducerSnapshot>& snapshots) {
  for (const auto& o : objects) CARELOG_RETURN_IF_ERROR(check_object(o.object, o.ranges));
  CARELOG_RETURN_IF_ERROR(check_snapshots(snapshots));
  Json keys = Json::array();
  for (const auto& k : retire) keys.push_back(k);
  Json objs = Json::array();
  for (const auto& o : objects) objs.push_back(object_json(o));
  Json snaps = Json::array();
  for (const auto& s : snapshots) {
    snaps.push_back({{"id", pg::hex(s.partition.topic_id.bytes.data(), 16)},
                     {"p", s.partition.partition},
                     {"o", s.snapshot_offset},
                     {"state", pg::hex(s.state.data(), s.state.size())}});
  }
  auto k = pg::dump_json(keys);
  if (!k.ok()) return k.take_error();
  auto o = pg::dump_json(objs);
  if (!o.ok()) return o.take_error();
  auto s = pg::dump_json(snaps);
  if (!s.ok()) return s.take_error();
  auto rows = exec("SELECT carelog_commit_objects_fenced($1, $2, $3, $4)",
                   {*k, std::to_string(delete_after_ms), *o, *s}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Status PgMetadataStore::commit_object(const ObjectRecord& object, const std::vector<ObjectRange>& ranges) {
  return commit_objects({}, 0, {NewObject{object, ranges}}, {});
}

Status PgMetadataStore::commit_object_with_snapshots(const ObjectRecord& object,
                                                     const std::vector<ObjectRange>& ranges,
                                                     const std::vector<ProducerSnapshot>& snapshots) {
  return commit_objects({}, 0, {NewObject{object, ranges}}, snapshots);
}

Status PgMetadataStore::mark_objects_for_deletion(const std::vector<std::string>& keys,
                                                  int64_t delete_after_ms) {
  return commit_objects(keys, delete_after_ms, {}, {});
}

Status PgMetadataStore::replace_objects(const std::vector<std::string>& old_keys, const ObjectRecord& object,
                                        const std::vector<ObjectRange>& ranges, int64_t delete_after_ms) {
  return commit_objects(old_keys, delete_after_ms, {NewObject{object, ranges}}, {});
}

Status PgMetadataStore::replace_objects(const std::vector<std::string>& old_keys,
                                        const std::vector<NewObject>& objects, int64_t delete_after_ms) {
  return commit_objects(old_keys, delete_after_ms, objects, {});
}

Status PgMetadataStore::delete_object_records(const std::vector<std::string>& keys) {
  if (keys.empty()) return Status::OK();
  Json arr = Json::array();
  for (const auto& k : keys) arr.push_back(k);
  auto text = pg::dump_json(arr);
  if (!text.ok()) return text.take_error();
  // Ranges go with ON DELETE CASCADE.
  auto rows = exec("DELETE FROM objects WHERE object_key IN (SELECT jsonb_array_elements_text($1::jsonb))",
                   {*text}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Result<std::vector<ObjectRange>> PgMetadataStore::find_ranges(const PartitionKey& p, int64_t from_offset,
                                                              int32_t limit) {
  if (limit <= 0) return std::vector<ObjectRange>();
  // Seek to the last range starting at or before from_offset (ranges do not
  // overlap, so only it can contain from_offset), then scan forward.
  auto rows = exec(
      "SELECT base_offset, last_offset, max_timestamp, object_key, byte_position, byte_length "
      "FROM object_ranges WHERE topic_id = $1 AND partition_index = $2 AND last_offset >= $3 "
      "AND base_offset >= coalesce((SELECT max(base_offset) FROM object_ranges WHERE topic_id = $1 "
      "AND partition_index = $2 AND base_offset <= $3), $3) ORDER BY base_offset LIMIT $4",
      {id_param(p.topic_id), std::to_string(p.partition), std::to_string(from_offset), std::to_string(limit)},
      true);
  if (!rows.ok()) return rows.take_error();
  std::vector<ObjectRange> out;
  out.reserve(static_cast<size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    ObjectRange r;
    r.topic_id = p.topic_id;
    r.partition = p.partition;
    r.base_offset = rows->integer(i, 0);
    r.last_offset = rows->integer(i, 1);
    r.max_timestamp = rows->integer(i, 2);
    r.object_key = rows->text(i, 3);
    r.position = rows->integer(i, 4);
    r.length = rows->integer(i, 5);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<ObjectRecord>> PgMetadataStore::list_objects() {
  auto rows = exec(
      "SELECT object_key, size_bytes, created_ms, state, delete_after_ms FROM objects ORDER BY object_key",
      {}, true);
  if (!rows.ok()) return rows.take_error();
  std::vector<ObjectRecord> out;
  out.reserve(static_cast<size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    ObjectRecord o;
    o.key = rows->text(i, 0);
    o.size = rows->integer(i, 1);
    o.created_ms = rows->integer(i, 2);
    o.state = rows->integer(i, 3) == 1 ? ObjectState::kPendingDelete : ObjectState::kCommitted;
    o.delete_after_ms = rows->integer(i, 4);
    out.push_back(std::move(o));
  }
  return out;
}

Result<std::optional<int64_t>> PgMetadataStore::uploaded_offset(const PartitionKey& p) {
  auto rows = exec("SELECT last_offset FROM uploaded_offsets WHERE topic_id = $1 AND partition_index = $2",
                   {id_param(p.topic_id), std::to_string(p.partition)}, true);
  if (!rows.ok()) return rows.take_error();
  if (rows->size() == 0) return std::optional<int64_t>();
  return std::optional<int64_t>(rows->integer(0, 0));
}

Result<std::map<PartitionKey, int64_t>> PgMetadataStore::uploaded_offsets() {
  auto rows = exec("SELECT topic_id, partition_index, last_offset FROM uploaded_offsets", {}, true);
  if (!rows.ok()) return rows.take_error();
  std::map<PartitionKey, int64_t> out;
  for (int i = 0; i < rows->size(); ++i) {
    PartitionKey k;
    if (!pg::read_uuid(*rows, i, 0, &k.topic_id)) return pg::malformed("uploaded_offsets");
    k.partition = static_cast<int32_t>(rows->integer(i, 1));
    out[k] = rows->integer(i, 2);
  }
  return out;
}

Result<uint64_t> PgMetadataStore::allocate_object_id() {
  auto rows = exec(
      "UPDATE object_id_seq SET next_id = next_id + 1 WHERE singleton = 1 AND next_id > 0 "
      "AND next_id < 9223372036854775807 RETURNING next_id - 1",
      {}, false);
  if (!rows.ok()) return rows.take_error();
  if (rows->size() != 1) return Error{pg::kStorageError, "metadata store: object id space exhausted"};
  return static_cast<uint64_t>(rows->integer(0, 0));
}

Result<std::map<PartitionKey, ProducerSnapshot>> PgMetadataStore::producer_snapshots() {
  auto rows =
      exec("SELECT topic_id, partition_index, snapshot_offset, state FROM producer_snapshots", {}, true);
  if (!rows.ok()) return rows.take_error();
  std::map<PartitionKey, ProducerSnapshot> out;
  for (int i = 0; i < rows->size(); ++i) {
    ProducerSnapshot s;
    auto state = rows->bytes(i, 3);
    if (!pg::read_uuid(*rows, i, 0, &s.partition.topic_id) || !state)
      return pg::malformed("producer_snapshots");
    s.partition.partition = static_cast<int32_t>(rows->integer(i, 1));
    s.snapshot_offset = rows->integer(i, 2);
    s.state = std::move(*state);
    out[s.partition] = std::move(s);
  }
  return out;
}

}  // namespace carelog::metadata
