// SqliteMetadataStore: the object index (objects, object_ranges,
// uploaded_offsets, object_id_seq; schema v3). Kept apart from the rest of
// the store so the object-index logic reads as one unit.
//
// Invariant kept by every write here: the ranges of one partition never
// overlap, so "the range holding offset X" is well defined and find_ranges
// can seek by base_offset.
#include <sqlite3.h>

#include <limits>
#include <set>

#include "fmt/core.h"
#include "metadata/object_checks.h"
#include "metadata/sqlite_metadata_store.h"

namespace carelog::metadata {
namespace {

constexpr int32_t kInvalidRequest = 42;

Error invalid(std::string message) { return Error{kInvalidRequest, std::move(message)}; }

// BEGIN IMMEDIATE ... COMMIT around `body`, rolling back on error.
template <typename F>
auto in_write_tx(sqlite::Db& db, F&& body) -> decltype(body()) {
  CARELOG_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
  auto result = body();
  if (!result.ok()) {
    (void)db.exec("ROLLBACK");
    return result;
  }
  Status commit = db.exec("COMMIT");
  if (!commit.ok()) {
    (void)db.exec("ROLLBACK");
    return commit.error();
  }
  return result;
}

template <typename F>
auto in_read_tx(sqlite::Db& db, F&& body) -> decltype(body()) {
  CARELOG_RETURN_IF_ERROR(db.exec("BEGIN"));
  auto result = body();
  (void)db.exec("ROLLBACK");
  return result;
}

// Runs a single-row, single-integer query; nullopt when there is no row.
Result<std::optional<int64_t>> query_int(sqlite::Stmt& s) {
  auto row = s.step();
  if (!row.ok()) return row.take_error();
  std::optional<int64_t> out;
  if (*row) out = s.column_int(0);
  s.reset();
  return out;
}

Result<ObjectRange> read_range_row(sqlite::Stmt& s) {
  ObjectRange r;
  if (!s.column_blob(0, r.topic_id.bytes.data(), 16))
    return Error{sqlite::kStorageError, "metadata store: object_ranges row has a malformed topic id"};
  r.partition = static_cast<int32_t>(s.column_int(1));
  r.base_offset = s.column_int(2);
  r.last_offset = s.column_int(3);
  r.max_timestamp = s.column_int(4);
  r.object_key = s.column_text(5);
  r.position = s.column_int(6);
  r.length = s.column_int(7);
  return r;
}

constexpr const char* kRangeColumns =
    "SELECT topic_id, partition_index, base_offset, last_offset, max_timestamp, object_key, byte_position, "
    "byte_length FROM object_ranges ";

}  // namespace

Status SqliteMetadataStore::insert_object_locked(const ObjectRecord& object,
                                                 const std::vector<ObjectRange>& ranges) {
  CARELOG_RETURN_IF_ERROR(check_object(object, ranges));
  CARELOG_RETURN_IF_ERROR(check_fence_locked(ranges));
  auto exists = db_->prepare("SELECT 1 FROM objects WHERE object_key = ?");
  if (!exists.ok()) return exists.take_error();
  CARELOG_RETURN_IF_ERROR((*exists)->bind_text(1, object.key));
  auto found = query_int(**exists);
  if (!found.ok()) return found.take_error();
  if (*found) return invalid(fmt::format("object '{}' is already recorded", object.key));

  auto ins = db_->prepare(
      "INSERT INTO objects (object_key, size_bytes, created_ms, state, delete_after_ms) VALUES (?, ?, ?, 0, "
      "0)");
  if (!ins.ok()) return ins.take_error();
  CARELOG_RETURN_IF_ERROR((*ins)->bind_text(1, object.key));
  CARELOG_RETURN_IF_ERROR((*ins)->bind_int(2, object.size));
  CARELOG_RETURN_IF_ERROR((*ins)->bind_int(3, object.created_ms));
  CARELOG_RETURN_IF_ERROR((*ins)->run());

  auto topic_exists = db_->prepare("SELECT 1 FROM topics WHERE id = ?");
  if (!topic_exists.ok()) return topic_exists.take_error();
  auto overlap = db_->prepare(
      "SELECT base_offset FROM object_ranges WHERE topic_id = ?1 AND partition_index = ?2 "
      "AND base_offset <= ?4 AND last_offset >= ?3 LIMIT 1");
  if (!overlap.ok()) return overlap.take_error();
  auto add = db_->prepare(
      "INSERT INTO object_ranges (topic_id, partition_index, base_offset, last_offset, max_timestamp, "
      "object_key, byte_position, byte_length) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!add.ok()) return add.take_error();
  auto mark = db_->prepare(
      "INSERT INTO uploaded_offsets (topic_id, partition_index, last_offset) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (topic_id, partition_index) DO UPDATE SET last_offset = max(last_offset, ?3)");
  if (!mark.ok()) return mark.take_error();
  for (const auto& r : ranges) {
    const uint8_t* tid = r.topic_id.bytes.data();
    (*topic_exists)->reset();
    CARELOG_RETURN_IF_ERROR((*topic_exists)->bind_blob(1, tid, 16));
    auto live = query_int(**topic_exists);
    if (!live.ok()) return live.take_error();
    if (!*live) continue;  // topic deleted while the object was uploading

    (*overlap)->reset();
    CARELOG_RETURN_IF_ERROR((*overlap)->bind_blob(1, tid, 16));
    CARELOG_RETURN_IF_ERROR((*overlap)->bind_int(2, r.partition));
    CARELOG_RETURN_IF_ERROR((*overlap)->bind_int(3, r.base_offset));
    CARELOG_RETURN_IF_ERROR((*overlap)->bind_int(4, r.last_offset));
    auto clash = query_int(**overlap);
    if (!clash.ok()) return clash.take_error();
    if (*clash)
      return invalid(fmt::format("object '{}': offsets [{}, {}] of {}-{} overlap an indexed range",
                                 object.key, r.base_offset, r.last_offset, r.topic_id.to_base64(),
                                 r.partition));

    sqlite::Stmt& a = **add;
    a.reset();
    CARELOG_RETURN_IF_ERROR(a.bind_blob(1, tid, 16));
    CARELOG_RETURN_IF_ERROR(a.bind_int(2, r.partition));
    CARELOG_RETURN_IF_ERROR(a.bind_int(3, r.base_offset));
    CARELOG_RETURN_IF_ERROR(a.bind_int(4, r.last_offset));
    CARELOG_RETURN_IF_ERROR(a.bind_int(5, r.max_timestamp));
    CARELOG_RETURN_IF_ERROR(a.bind_text(6, object.key));
    CARELOG_RETURN_IF_ERROR(a.bind_int(7, r.position));
    CARELOG_RETURN_IF_ERROR(a.bind_int(8, r.length));
    CARELOG_RETURN_IF_ERROR(a.run());

    (*mark)->reset();
    CARELOG_RETURN_IF_ERROR((*mark)->bind_blob(1, tid, 16));
    CARELOG_RETURN_IF_ERROR((*mark)->bind_int(2, r.partition));
    CARELOG_RETURN_IF_ERROR((*mark)->bind_int(3, r.last_offset));
    CARELOG_RETURN_IF_ERROR((*mark)->run());
  }
  return Status::OK();
}

Status SqliteMetadataStore::retire_objects_locked(const std::vector<std::string>& keys,
                                                  int64_t delete_after_ms) {
  auto up = db_->prepare("UPDATE objects SET state = 1, delete_after_ms = ? WHERE object_key = ?");
  if (!up.ok()) return up.take_error();
  auto drop = db_->prepare("DELETE FROM object_ranges WHERE object_key = ?");
  if (!drop.ok()) return drop.take_error();
  for (const auto& key : keys) {
    (*up)->reset();
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(1, delete_after_ms));
    CARELOG_RETURN_IF_ERROR((*up)->bind_text(2, key));
    CARELOG_RETURN_IF_ERROR((*up)->run());
    if (sqlite3_changes(db_->raw()) == 0) return invalid(fmt::format("object '{}' is not recorded", key));
    (*drop)->reset();
    CARELOG_RETURN_IF_ERROR((*drop)->bind_text(1, key));
    CARELOG_RETURN_IF_ERROR((*drop)->run());
  }
  return Status::OK();
}

Status SqliteMetadataStore::commit_object(const ObjectRecord& object,
                                          const std::vector<ObjectRange>& ranges) {
  std::lock_guard lock(mu_);
  return in_write_tx(*db_, [&]() -> Status { return insert_object_locked(object, ranges); });
}

Status SqliteMetadataStore::commit_object_with_snapshots(const ObjectRecord& object,
                                                         const std::vector<ObjectRange>& ranges,
                                                         const std::vector<ProducerSnapshot>& snapshots) {
  std::lock_guard lock(mu_);
  return in_write_tx(*db_, [&]() -> Status {
    CARELOG_RETURN_IF_ERROR(insert_object_locked(object, ranges));
    return insert_snapshots_locked(snapshots);
  });
}

Status SqliteMetadataStore::mark_objects_for_deletion(const std::vector<std::string>& keys,
                                                      int64_t delete_after_ms) {
  std::lock_guard lock(mu_);
  return in_write_tx(*db_, [&]() -> Status { return retire_objects_locked(keys, delete_after_ms); });
}

Status SqliteMetadataStore::replace_objects(const std::vector<std::string>& old_keys,
                                            const ObjectRecord& object,
                                            const std::vector<ObjectRange>& ranges, int64_t delete_after_ms) {
  std::lock_guard lock(mu_);
  return in_write_tx(*db_, [&]() -> Status {
    CARELOG_RETURN_IF_ERROR(retire_objects_locked(old_keys, delete_after_ms));
    return insert_object_locked(object, ranges);
  });
}

Status SqliteMetadataStore::replace_objects(const std::vector<std::string>& old_keys,
                                            const std::vector<NewObject>& objects, int64_t delete_after_ms) {
  std::lock_guard lock(mu_);
  return in_write_tx(*db_, [&]() -> Status {
    CARELOG_RETURN_IF_ERROR(retire_objects_locked(old_keys, delete_after_ms));
    for (const auto& o : objects) CARELOG_RETURN_IF_ERROR(insert_object_locked(o.object, o.ranges));
    return Status::OK();
  });
}

Status SqliteMetadataStore::delete_object_records(const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  return in_write_tx(*db_, [&]() -> Status {
    // Ranges go with ON DELETE CASCADE.
    auto del = db_->prepare("DELETE FROM objects WHERE object_key = ?");
    if (!del.ok()) return del.take_error();
    for (const auto& key : keys) {
      (*del)->reset();
      CARELOG_RETURN_IF_ERROR((*del)->bind_text(1, key));
      CARELOG_RETURN_IF_ERROR((*del)->run());
    }
    return Status::OK();
  });
}

Result<std::vector<ObjectRange>> SqliteMetadataStore::find_ranges(const PartitionKey& p, int64_t from_offset,
                                                                  int32_t limit) {
  if (limit <= 0) return std::vector<ObjectRange>();
  std::lock_guard lock(mu_);
  // Seek to the last range starting at or before from_offset (ranges do not
  // overlap, so only it can contain from_offset), then scan forward.
  auto q =
      db_->prepare(std::string(kRangeColumns) +
                   "WHERE topic_id = ?1 AND partition_index = ?2 AND last_offset >= ?3 AND base_offset >= "
                   "coalesce((SELECT max(base_offset) FROM object_ranges WHERE topic_id = ?1 AND "
                   "partition_index = ?2 AND base_offset <= ?3), ?3) ORDER BY base_offset LIMIT ?4");
  if (!q.ok()) return q.take_error();
  CARELOG_RETURN_IF_ERROR((*q)->bind_blob(1, p.topic_id.bytes.data(), 16));
  CARELOG_RETURN_IF_ERROR((*q)->bind_int(2, p.partition));
  CARELOG_RETURN_IF_ERROR((*q)->bind_int(3, from_offset));
  CARELOG_RETURN_IF_ERROR((*q)->bind_int(4, limit));
  std::vector<ObjectRange> out;
  for (;;) {
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    auto r = read_range_row(**q);
    if (!r.ok()) {
      (*q)->reset();
      return r.take_error();
    }
    out.push_back(std::move(*r));
  }
  (*q)->reset();
  return out;
}

Result<std::vector<ObjectRecord>> SqliteMetadataStore::list_objects() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(
      "SELECT object_key, size_bytes, created_ms, state, delete_after_ms FROM objects ORDER BY object_key");
  if (!q.ok()) return q.take_error();
  std::vector<ObjectRecord> out;
  for (;;) {
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    ObjectRecord o;
    o.key = (*q)->column_text(0);
    o.size = (*q)->column_int(1);
    o.created_ms = (*q)->column_int(2);
    o.state = (*q)->column_int(3) == 1 ? ObjectState::kPendingDelete : ObjectState::kCommitted;
    o.delete_after_ms = (*q)->column_int(4);
    out.push_back(std::move(o));
  }
  (*q)->reset();
  return out;
}

Result<std::optional<int64_t>> SqliteMetadataStore::uploaded_offset(const PartitionKey& p) {
  std::lock_guard lock(mu_);
  auto q =
      db_->prepare("SELECT last_offset FROM uploaded_offsets WHERE topic_id = ? AND partition_index = ?");
  if (!q.ok()) return q.take_error();
  CARELOG_RETURN_IF_ERROR((*q)->bind_blob(1, p.topic_id.bytes.data(), 16));
  CARELOG_RETURN_IF_ERROR((*q)->bind_int(2, p.partition));
  return query_int(**q);
}

Result<std::map<PartitionKey, int64_t>> SqliteMetadataStore::uploaded_offsets() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT topic_id, partition_index, last_offset FROM uploaded_offsets");
  if (!q.ok()) return q.take_error();
  std::map<PartitionKey, int64_t> out;
  for (;;) {
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    PartitionKey k;
    if (!(*q)->column_blob(0, k.topic_id.bytes.data(), 16)) {
      (*q)->reset();
      return Error{sqlite::kStorageError, "metadata store: uploaded_offsets row has a malformed topic id"};
    }
    k.partition = static_cast<int32_t>((*q)->column_int(1));
    out[k] = (*q)->column_int(2);
  }
  (*q)->reset();
  return out;
}

Result<uint64_t> SqliteMetadataStore::allocate_object_id() {
  std::lock_guard lock(mu_);
  return in_write_tx(*db_, [&]() -> Result<uint64_t> {
    auto q = db_->prepare(
        "UPDATE object_id_seq SET next_id = next_id + 1 WHERE singleton = 1 RETURNING next_id - 1");
    if (!q.ok()) return q.take_error();
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) return Error{sqlite::kStorageError, "metadata store: object_id_seq row is missing"};
    int64_t id = (*q)->column_int(0);
    auto done = (*q)->step();  // finish the statement before COMMIT
    (*q)->reset();
    if (!done.ok()) return done.take_error();
    if (id <= 0 || id == std::numeric_limits<int64_t>::max())
      return Error{sqlite::kStorageError, "metadata store: object id space exhausted"};
    return static_cast<uint64_t>(id);
  });
}

}  // namespace carelog::metadata
