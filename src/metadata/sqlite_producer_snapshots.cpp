// SqliteMetadataStore: idempotent-producer snapshots (table
// producer_snapshots, schema v6). The object uploader writes them in the
// same transaction as an object commit (commit_object_with_snapshots in
// sqlite_object_index.cpp), so the snapshot offset of a partition is exactly
// what that commit made durable. The state blob is opaque here; its format is
// docs/formats/producer-snapshot.md (partition::ProducerStateTable).
#include <fmt/core.h>

#include "metadata/object_checks.h"
#include "metadata/sqlite_metadata_store.h"

namespace carelog::metadata {

Status SqliteMetadataStore::insert_snapshots_locked(const std::vector<ProducerSnapshot>& snapshots) {
  // A topic deleted while its object was uploading has no row to refer to:
  // its snapshot is dropped, like its ranges.
  auto put = db_->prepare(
      "INSERT INTO producer_snapshots (topic_id, partition_index, snapshot_offset, state) "
      "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM topics WHERE id = ?1) "
      "ON CONFLICT (topic_id, partition_index) DO UPDATE SET snapshot_offset = excluded.snapshot_offset, "
      "state = excluded.state");
  if (!put.ok()) return put.take_error();
  CARELOG_RETURN_IF_ERROR(check_snapshots(snapshots));
  for (const auto& s : snapshots) {
    sqlite::Stmt& q = **put;
    q.reset();
    CARELOG_RETURN_IF_ERROR(q.bind_blob(1, s.partition.topic_id.bytes.data(), 16));
    CARELOG_RETURN_IF_ERROR(q.bind_int(2, s.partition.partition));
    CARELOG_RETURN_IF_ERROR(q.bind_int(3, s.snapshot_offset));
    // sqlite binds a null pointer as NULL: an empty state needs a real one.
    static const uint8_t kNone = 0;
    CARELOG_RETURN_IF_ERROR(q.bind_blob(4, s.state.empty() ? &kNone : s.state.data(), s.state.size()));
    CARELOG_RETURN_IF_ERROR(q.run());
  }
  return Status::OK();
}

Result<std::map<PartitionKey, ProducerSnapshot>> SqliteMetadataStore::producer_snapshots() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(
      "SELECT topic_id, partition_index, snapshot_offset, length(state), state FROM producer_snapshots");
  if (!q.ok()) return q.take_error();
  std::map<PartitionKey, ProducerSnapshot> out;
  for (;;) {
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    ProducerSnapshot s;
    s.state.resize(static_cast<size_t>(std::max<int64_t>((*q)->column_int(3), 0)));
    const bool id_ok = (*q)->column_blob(0, s.partition.topic_id.bytes.data(), 16);
    const bool state_ok = s.state.empty() || (*q)->column_blob(4, s.state.data(), s.state.size());
    if (!id_ok || !state_ok) {
      (*q)->reset();
      return Error{sqlite::kStorageError, "metadata store: producer_snapshots row is malformed"};
    }
    s.partition.partition = static_cast<int32_t>((*q)->column_int(1));
    s.snapshot_offset = (*q)->column_int(2);
    out[s.partition] = std::move(s);
  }
  (*q)->reset();
  return out;
}

}  // namespace carelog::metadata
