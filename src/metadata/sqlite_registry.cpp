// SqliteMetadataStore: the schema registry's tables (schema v7,
// docs/formats/registry-metadata.md). The store keeps what the registry
// decided; parsing, canonical forms and compatibility are the registry's job.
// Registration is one BEGIN IMMEDIATE transaction, so id and version
// allocation is safe against another process sharing the file.
#include <sqlite3.h>

#include "fmt/core.h"
#include "metadata/sqlite_metadata_store.h"

namespace carelog::metadata {
namespace {

constexpr int32_t kOperationNotPermitted = 42205;

RegistrySchemaRecord read_schema(const sqlite::Stmt& s) {
  RegistrySchemaRecord r;
  r.id = static_cast<int32_t>(s.column_int(0));
  r.schema_type = s.column_text(1);
  r.schema = s.column_text(2);
  r.references = s.column_text(3);
  return r;
}

Result<int64_t> query_int(sqlite::Db& db, const std::string& sql, const std::string& text_arg) {
  auto q = db.prepare(sql);
  if (!q.ok()) return q.take_error();
  if (sql.find('?') != std::string::npos) CARELOG_RETURN_IF_ERROR((*q)->bind_text(1, text_arg));
  auto row = (*q)->step();
  if (!row.ok()) return row.take_error();
  int64_t v = *row ? (*q)->column_int(0) : 0;
  (*q)->reset();
  return v;
}

// The id of a schema with exactly this content, 0 when none.
Result<int32_t> find_schema(sqlite::Db& db, const RegistrySchemaRecord& s) {
  auto q = db.prepare(
      "SELECT id FROM registry_schemas WHERE schema_type = ? AND schema_text = ? AND references_json = ? "
      "ORDER BY id LIMIT 1");
  if (!q.ok()) return q.take_error();
  CARELOG_RETURN_IF_ERROR((*q)->bind_text(1, s.schema_type));
  CARELOG_RETURN_IF_ERROR((*q)->bind_text(2, s.schema));
  CARELOG_RETURN_IF_ERROR((*q)->bind_text(3, s.references));
  auto row = (*q)->step();
  if (!row.ok()) return row.take_error();
  int32_t id = *row ? static_cast<int32_t>((*q)->column_int(0)) : 0;
  (*q)->reset();
  return id;
}

Result<std::optional<RegistrySchemaRecord>> load_schema(sqlite::Db& db, int32_t id) {
  auto q =
      db.prepare("SELECT id, schema_type, schema_text, references_json FROM registry_schemas WHERE id = ?");
  if (!q.ok()) return q.take_error();
  CARELOG_RETURN_IF_ERROR((*q)->bind_int(1, id));
  auto row = (*q)->step();
  if (!row.ok()) return row.take_error();
  std::optional<RegistrySchemaRecord> out;
  if (*row) out = read_schema(**q);
  (*q)->reset();
  return out;
}

Status insert_schema(sqlite::Db& db, const RegistrySchemaRecord& s) {
  auto ins = db.prepare(
      "INSERT INTO registry_schemas (id, schema_type, schema_text, references_json) VALUES (?, ?, ?, ?)");
  if (!ins.ok()) return ins.take_error();
  CARELOG_RETURN_IF_ERROR((*ins)->bind_int(1, s.id));
  CARELOG_RETURN_IF_ERROR((*ins)->bind_text(2, s.schema_type));
  CARELOG_RETURN_IF_ERROR((*ins)->bind_text(3, s.schema));
  CARELOG_RETURN_IF_ERROR((*ins)->bind_text(4, s.references));
  return (*ins)->run();
}

Result<RegistryRegistered> register_locked(sqlite::Db& db, const RegistryRegistration& r) {
  auto latest =
      query_int(db, "SELECT COALESCE(MAX(version), 0) FROM registry_versions WHERE subject = ?", r.subject);
  if (!latest.ok()) return latest.take_error();
  if (r.expected_latest >= 0 && *latest != r.expected_latest)
    return Error{kRegistryConflict, "the subject changed concurrently"};
  RegistryRegistered out;
  RegistrySchemaRecord schema = r.schema;
  if (schema.id > 0) {
    auto existing = load_schema(db, schema.id);
    if (!existing.ok()) return existing.take_error();
    if (*existing) {
      if ((*existing)->schema_type != schema.schema_type || (*existing)->schema != schema.schema ||
          (*existing)->references != schema.references)
        return Error{kOperationNotPermitted,
                     fmt::format("Overwrite new schema with id {} is not permitted.", schema.id)};
    } else {
      CARELOG_RETURN_IF_ERROR(insert_schema(db, schema));
    }
  } else {
    auto found = find_schema(db, schema);
    if (!found.ok()) return found.take_error();
    if (*found > 0) {
      schema.id = *found;
    } else {
      auto max_id = query_int(db, "SELECT COALESCE(MAX(id), 0) FROM registry_schemas", "");
      if (!max_id.ok()) return max_id.take_error();
      schema.id = static_cast<int32_t>(*max_id + 1);
      CARELOG_RETURN_IF_ERROR(insert_schema(db, schema));
    }
  }
  out.id = schema.id;
  auto live = db.prepare(
      "SELECT version FROM registry_versions WHERE subject = ? AND schema_id = ? AND deleted = 0 "
      "ORDER BY version DESC LIMIT 1");
  if (!live.ok()) return live.take_error();
  CARELOG_RETURN_IF_ERROR((*live)->bind_text(1, r.subject));
  CARELOG_RETURN_IF_ERROR((*live)->bind_int(2, schema.id));
  auto row = (*live)->step();
  if (!row.ok()) return row.take_error();
  if (*row && r.version == 0) {
    out.version = static_cast<int32_t>((*live)->column_int(0));
    (*live)->reset();
    return out;
  }
  (*live)->reset();
  out.version = r.version > 0 ? r.version : static_cast<int32_t>(*latest + 1);
  auto taken = db.prepare("SELECT schema_id FROM registry_versions WHERE subject = ? AND version = ?");
  if (!taken.ok()) return taken.take_error();
  CARELOG_RETURN_IF_ERROR((*taken)->bind_text(1, r.subject));
  CARELOG_RETURN_IF_ERROR((*taken)->bind_int(2, out.version));
  auto trow = (*taken)->step();
  if (!trow.ok()) return trow.take_error();
  const bool exists = *trow;
  const int64_t taken_id = exists ? (*taken)->column_int(0) : 0;
  (*taken)->reset();
  if (exists) {
    if (taken_id == schema.id) return out;  // the same import, again
    return Error{kOperationNotPermitted,
                 fmt::format("Version {} of subject '{}' already exists with another schema.", out.version,
                             r.subject)};
  }
  auto ins =
      db.prepare("INSERT INTO registry_versions (subject, version, schema_id, deleted) VALUES (?, ?, ?, 0)");
  if (!ins.ok()) return ins.take_error();
  CARELOG_RETURN_IF_ERROR((*ins)->bind_text(1, r.subject));
  CARELOG_RETURN_IF_ERROR((*ins)->bind_int(2, out.version));
  CARELOG_RETURN_IF_ERROR((*ins)->bind_int(3, schema.id));
  CARELOG_RETURN_IF_ERROR((*ins)->run());
  out.created = true;
  return out;
}

}  // namespace

Result<RegistryRegistered> SqliteMetadataStore::registry_register(const RegistryRegistration& r) {
  std::lock_guard lock(mu_);
  CARELOG_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  auto out = register_locked(*db_, r);
  if (out.ok()) {
    Status commit = db_->exec("COMMIT");
    if (!commit.ok()) {
      (void)db_->exec("ROLLBACK");
      return commit.error();
    }
    return out;
  }
  (void)db_->exec("ROLLBACK");
  return out;
}

Result<std::optional<RegistrySchemaRecord>> SqliteMetadataStore::registry_schema(int32_t id) {
  std::lock_guard lock(mu_);
  return load_schema(*db_, id);
}

Result<std::vector<RegistrySchemaRecord>> SqliteMetadataStore::registry_schemas() {
  std::lock_guard lock(mu_);
  auto q =
      db_->prepare("SELECT id, schema_type, schema_text, references_json FROM registry_schemas ORDER BY id");
  if (!q.ok()) return q.take_error();
  std::vector<RegistrySchemaRecord> out;
  for (;;) {
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    out.push_back(read_schema(**q));
  }
  (*q)->reset();
  return out;
}

Result<std::vector<RegistryVersionRecord>> SqliteMetadataStore::registry_versions(
    const std::string& subject) {
  std::lock_guard lock(mu_);
  const std::string sql = std::string("SELECT subject, version, schema_id, deleted FROM registry_versions ") +
                          (subject.empty() ? "" : "WHERE subject = ? ") + "ORDER BY subject, version";
  auto q = db_->prepare(sql);
  if (!q.ok()) return q.take_error();
  if (!subject.empty()) CARELOG_RETURN_IF_ERROR((*q)->bind_text(1, subject));
  std::vector<RegistryVersionRecord> out;
  for (;;) {
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    RegistryVersionRecord v;
    v.subject = (*q)->column_text(0);
    v.version = static_cast<int32_t>((*q)->column_int(1));
    v.schema_id = static_cast<int32_t>((*q)->column_int(2));
    v.deleted = (*q)->column_int(3) != 0;
    out.push_back(std::move(v));
  }
  (*q)->reset();
  return out;
}

Status SqliteMetadataStore::registry_delete_versions(const std::string& subject,
                                                     const std::vector<int32_t>& versions, bool permanent) {
  std::lock_guard lock(mu_);
  CARELOG_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  Status st;
  const std::string sql = permanent
                              ? "DELETE FROM registry_versions WHERE subject = ? AND version = ?"
                              : "UPDATE registry_versions SET deleted = 1 WHERE subject = ? AND version = ?";
  for (int32_t v : versions) {
    auto q = db_->prepare(sql);
    if (!q.ok()) {
      st = q.take_error();
      break;
    }
    st = (*q)->bind_text(1, subject);
    if (st.ok()) st = (*q)->bind_int(2, v);
    if (st.ok()) st = (*q)->run();
    if (!st.ok()) break;
  }
  if (st.ok()) st = db_->exec("COMMIT");
  if (!st.ok()) (void)db_->exec("ROLLBACK");
  return st;
}

Status SqliteMetadataStore::registry_set_setting(const std::string& subject, const std::string& key,
                                                 const std::optional<std::string>& value) {
  std::lock_guard lock(mu_);
  auto q =
      db_->prepare(value ? "INSERT OR REPLACE INTO registry_settings (subject, key, value) VALUES (?, ?, ?)"
                         : "DELETE FROM registry_settings WHERE subject = ? AND key = ?");
  if (!q.ok()) return q.take_error();
  CARELOG_RETURN_IF_ERROR((*q)->bind_text(1, subject));
  CARELOG_RETURN_IF_ERROR((*q)->bind_text(2, key));
  if (value) CARELOG_RETURN_IF_ERROR((*q)->bind_text(3, *value));
  return (*q)->run();
}

Result<std::vector<RegistrySettingRecord>> SqliteMetadataStore::registry_settings() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT subject, key, value FROM registry_settings ORDER BY subject, key");
  if (!q.ok()) return q.take_error();
  std::vector<RegistrySettingRecord> out;
  for (;;) {
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    out.push_back({(*q)->column_text(0), (*q)->column_text(1), (*q)->column_text(2)});
  }
  (*q)->reset();
  return out;
}

}  // namespace carelog::metadata
