#include "metadata/sqlite_schema.h"

#include <fmt/core.h>

#include <charconv>
#include <string>

namespace carelog::metadata::sqlite {
namespace {

// Column names avoid SQL keywords (`partition`, `offset`) on purpose.
constexpr const char* kMigrations[] = {
    // v1: initial schema.
    R"sql(
CREATE TABLE cluster (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  cluster_id TEXT NOT NULL
);
CREATE TABLE topics (
  id BLOB PRIMARY KEY CHECK (length(id) = 16),
  name TEXT NOT NULL UNIQUE,
  partitions INTEGER NOT NULL CHECK (partitions > 0),
  replication_factor INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE topic_configs (
  topic_id BLOB NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (topic_id, key)
);
CREATE TABLE log_start_offsets (
  topic_id BLOB NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
  partition_index INTEGER NOT NULL,
  start_offset INTEGER NOT NULL,
  PRIMARY KEY (topic_id, partition_index)
);
CREATE TABLE producer_id_blocks (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  next_id INTEGER NOT NULL
);
INSERT INTO producer_id_blocks (singleton, next_id) VALUES (1, 0);
CREATE TABLE broker_configs (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE partition_owners (
  topic_id BLOB NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
  partition_index INTEGER NOT NULL,
  broker_id INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  PRIMARY KEY (topic_id, partition_index)
);
)sql",
    // v2: committed offsets of consumer groups. Not tied to topics(id) by a
    // foreign key: offsets are keyed by topic name like Kafka's, and the
    // group coordinator ignores rows whose topic_id is not the live topic's.
    R"sql(
CREATE TABLE committed_offsets (
  group_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition_index INTEGER NOT NULL,
  topic_id BLOB NOT NULL CHECK (length(topic_id) = 16),
  committed_offset INTEGER NOT NULL,
  leader_epoch INTEGER NOT NULL,
  has_metadata INTEGER NOT NULL CHECK (has_metadata IN (0, 1)),
  metadata TEXT NOT NULL,
  commit_ms INTEGER NOT NULL,
  PRIMARY KEY (group_id, topic, partition_index)
) WITHOUT ROWID;
)sql",
    // v3: object index (stream-set objects in object storage, their
    // per-partition ranges, the per-partition uploaded high-water mark and
    // the object id sequence).
    R"sql(
CREATE TABLE objects (
  object_key TEXT PRIMARY KEY,
  size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
  created_ms INTEGER NOT NULL,
  state INTEGER NOT NULL CHECK (state IN (0, 1)),
  delete_after_ms INTEGER NOT NULL
);
CREATE TABLE object_ranges (
  topic_id BLOB NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
  partition_index INTEGER NOT NULL,
  base_offset INTEGER NOT NULL,
  last_offset INTEGER NOT NULL CHECK (last_offset >= base_offset),
  max_timestamp INTEGER NOT NULL,
  object_key TEXT NOT NULL REFERENCES objects(object_key) ON DELETE CASCADE,
  byte_position INTEGER NOT NULL CHECK (byte_position >= 0),
  byte_length INTEGER NOT NULL CHECK (byte_length > 0),
  PRIMARY KEY (topic_id, partition_index, base_offset)
) WITHOUT ROWID;
CREATE INDEX object_ranges_by_object ON object_ranges (object_key);
CREATE TABLE uploaded_offsets (
  topic_id BLOB NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
  partition_index INTEGER NOT NULL,
  last_offset INTEGER NOT NULL,
  PRIMARY KEY (topic_id, partition_index)
);
CREATE TABLE object_id_seq (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  next_id INTEGER NOT NULL
);
INSERT INTO object_id_seq (singleton, next_id) VALUES (1, 1);
)sql",
    // v4: salted SCRAM credentials (never plain passwords). `mechanism`
    // uses Kafka's ScramMechanism codes: 1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512.
    R"sql(
CREATE TABLE scram_credentials (
  user_name TEXT NOT NULL,
  mechanism INTEGER NOT NULL CHECK (mechanism IN (1, 2)),
  salt BLOB NOT NULL,
  stored_key BLOB NOT NULL,
  server_key BLOB NOT NULL,
  iterations INTEGER NOT NULL CHECK (iterations >= 4096),
  PRIMARY KEY (user_name, mechanism)
) WITHOUT ROWID;
)sql",
    // v5: Kafka ACL bindings. Integer columns hold Kafka's wire codes
    // (AclResourceType, PatternType, AclOperation, AclPermissionType).
    R"sql(
CREATE TABLE acls (
  resource_type INTEGER NOT NULL,
  resource_name TEXT NOT NULL,
  pattern_type INTEGER NOT NULL,
  principal TEXT NOT NULL,
  host TEXT NOT NULL,
  operation INTEGER NOT NULL,
  permission_type INTEGER NOT NULL,
  PRIMARY KEY (resource_type, resource_name, pattern_type, principal, host, operation, permission_type)
) WITHOUT ROWID;
)sql",
    // v6: idempotent-producer state snapshots per partition, so recovery
    // does not have to re-read objects. `state` is an encoded
    // ProducerStateTable covering every batch with offset < snapshot_offset.
    R"sql(
CREATE TABLE producer_snapshots (
  topic_id BLOB NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
  partition_index INTEGER NOT NULL,
  snapshot_offset INTEGER NOT NULL,
  state BLOB NOT NULL,
  PRIMARY KEY (topic_id, partition_index)
) WITHOUT ROWID;
)sql",
    // v7: the schema registry. Schema ids are global and never reused;
    // `references_json` is the JSON array of references as registered.
    R"sql(
CREATE TABLE registry_schemas (
  id INTEGER PRIMARY KEY CHECK (id > 0),
  schema_type TEXT NOT NULL,
  schema_text TEXT NOT NULL,
  references_json TEXT NOT NULL
);
CREATE INDEX registry_schemas_by_text ON registry_schemas (schema_type, schema_text);
CREATE TABLE registry_versions (
  subject TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version > 0),
  schema_id INTEGER NOT NULL REFERENCES registry_schemas(id),
  deleted INTEGER NOT NULL CHECK (deleted IN (0, 1)),
  PRIMARY KEY (subject, version)
) WITHOUT ROWID;
CREATE INDEX registry_versions_by_id ON registry_versions (schema_id);
CREATE TABLE registry_settings (
  subject TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (subject, key)
) WITHOUT ROWID;
)sql",
    // v8: transaction coordinator state, one encoded TxnMetadata per
    // transactional id (docs/formats/txn-state.md).
    R"sql(
CREATE TABLE transactions (
  transactional_id TEXT PRIMARY KEY,
  state BLOB NOT NULL
) WITHOUT ROWID;
)sql",
    // v9: cluster mode: broker registrations with heartbeat leases and the
    // leader of every partition with its leader epoch (docs/cluster.md).
    R"sql(
CREATE TABLE brokers (
  node_id INTEGER PRIMARY KEY,
  broker_epoch INTEGER NOT NULL,
  endpoints TEXT NOT NULL,
  rack TEXT,
  registered_ms INTEGER NOT NULL,
  lease_expires_ms INTEGER NOT NULL
);
CREATE TABLE broker_epoch_seq (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  next_epoch INTEGER NOT NULL
);
INSERT INTO broker_epoch_seq (singleton, next_epoch) VALUES (1, 1);
CREATE TABLE partition_leaders (
  topic_id BLOB NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
  partition_index INTEGER NOT NULL,
  leader_id INTEGER NOT NULL,
  broker_epoch INTEGER NOT NULL,
  leader_epoch INTEGER NOT NULL,
  recover_node INTEGER NOT NULL,
  recover_broker_epoch INTEGER NOT NULL,
  PRIMARY KEY (topic_id, partition_index)
) WITHOUT ROWID;
)sql",
};

constexpr int kCurrent = static_cast<int>(std::size(kMigrations));

Result<int> read_version(Db& db) {
  auto text = db.query_text("SELECT version FROM schema_version");
  if (!text.ok()) return text.take_error();
  if (text->empty()) return 0;
  int v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size() || v < 0)
    return Error{kStorageError, "metadata database has an unreadable schema_version row"};
  return v;
}

}  // namespace

int current_schema_version() { return kCurrent; }

Result<int> migrate(Db& db) {
  CARELOG_RETURN_IF_ERROR(
      db.exec("BEGIN IMMEDIATE;"
              "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
              "INSERT INTO schema_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);"
              "COMMIT;"));
  for (;;) {
    // Re-read inside the write lock: another process may migrate concurrently.
    CARELOG_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
    auto version = read_version(db);
    if (!version.ok()) {
      (void)db.exec("ROLLBACK");
      return version.take_error();
    }
    int v = *version;
    if (v > kCurrent) {
      (void)db.exec("ROLLBACK");
      return Error{
          kStorageError,
          fmt::format("metadata database has schema version {}, newer than this build supports ({}); "
                      "refusing to open it",
                      v, kCurrent)};
    }
    if (v == kCurrent) {
      CARELOG_RETURN_IF_ERROR(db.exec("COMMIT"));
      return v;
    }
    Status st = db.exec(kMigrations[v]);
    if (st.ok()) st = db.exec(fmt::format("UPDATE schema_version SET version = {}", v + 1));
    if (st.ok()) st = db.exec("COMMIT");
    if (!st.ok()) {
      (void)db.exec("ROLLBACK");
      return Error{kStorageError,
                   fmt::format("schema migration to version {} failed: {}", v + 1, st.error().message)};
    }
  }
}

}  // namespace carelog::metadata::sqlite
