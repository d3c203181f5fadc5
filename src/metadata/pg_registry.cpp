// PgMetadataStore: the schema registry's tables (PostgreSQL schema v2,
// docs/formats/registry-metadata.md). As in SQLite, the store keeps what the
// registry decided. A registration is one call of carelog_registry_register
// (pg_schema.cpp), which serialises registry writers of every broker on an
// advisory lock, so ids and versions are allocated once.
#include <fmt/core.h>

#include "metadata/pg_json.h"
#include "metadata/pg_metadata_store.h"

namespace carelog::metadata {
namespace {

constexpr int32_t kOperationNotPermitted = 42205;

pg::Param int_param(int64_t v) { return std::to_string(v); }

}  // namespace

Result<RegistryRegistered> PgMetadataStore::registry_register(const RegistryRegistration& r) {
  auto rows = exec(
      "SELECT o_code, o_id, o_version, o_created FROM carelog_registry_register($1, $2, $3, $4, "
      "$5, $6, $7)",
      {r.subject, r.schema.schema_type, r.schema.schema, r.schema.references, int_param(r.schema.id),
       int_param(r.version), int_param(r.expected_latest)},
      false);
  if (!rows.ok()) return rows.take_error();
  if (rows->size() != 1) return pg::malformed("registry_versions");
  const int64_t code = rows->integer(0, 0);
  RegistryRegistered out;
  out.id = static_cast<int32_t>(rows->integer(0, 1));
  out.version = static_cast<int32_t>(rows->integer(0, 2));
  out.created = rows->boolean(0, 3);
  switch (code) {
    case 0:
      return out;
    case 1:
      return Error{kRegistryConflict, "the subject changed concurrently"};
    case 2:
      return Error{kOperationNotPermitted,
                   fmt::format("Overwrite new schema with id {} is not permitted.", out.id)};
    case 3:
      return Error{kOperationNotPermitted,
                   fmt::format("Version {} of subject '{}' already exists with another schema.", out.version,
                               r.subject)};
    default:
      return pg::malformed("registry_versions");
  }
}

namespace {

constexpr const char* kSchemaColumns =
    "SELECT id, schema_type, schema_text, references_json FROM registry_schemas ";

RegistrySchemaRecord read_schema(const pg::Rows& rows, int i) {
  RegistrySchemaRecord s;
  s.id = static_cast<int32_t>(rows.integer(i, 0));
  s.schema_type = rows.text(i, 1);
  s.schema = rows.text(i, 2);
  s.references = rows.text(i, 3);
  return s;
}

}  // namespace

Result<std::optional<RegistrySchemaRecord>> PgMetadataStore::registry_schema(int32_t id) {
  auto rows = exec(std::string(kSchemaColumns) + "WHERE id = $1", {int_param(id)}, true);
  if (!rows.ok()) return rows.take_error();
  if (rows->size() == 0) return std::optional<RegistrySchemaRecord>();
  return std::optional<RegistrySchemaRecord>(read_schema(*rows, 0));
}

Result<std::vector<RegistrySchemaRecord>> PgMetadataStore::registry_schemas() {
  auto rows = exec(std::string(kSchemaColumns) + "ORDER BY id", {}, true);
  if (!rows.ok()) return rows.take_error();
  std::vector<RegistrySchemaRecord> out;
  out.reserve(static_cast<size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) out.push_back(read_schema(*rows, i));
  return out;
}

Result<std::vector<RegistryVersionRecord>> PgMetadataStore::registry_versions(const std::string& subject) {
  const std::string select = "SELECT subject, version, schema_id, deleted FROM registry_versions ";
  auto rows = subject.empty() ? exec(select + "ORDER BY subject, version", {}, true)
                              : exec(select + "WHERE subject = $1 ORDER BY version", {subject}, true);
  if (!rows.ok()) return rows.take_error();
  std::vector<RegistryVersionRecord> out;
  out.reserve(static_cast<size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    RegistryVersionRecord v;
    v.subject = rows->text(i, 0);
    v.version = static_cast<int32_t>(rows->integer(i, 1));
    v.schema_id = static_cast<int32_t>(rows->integer(i, 2));
    v.deleted = rows->boolean(i, 3);
    out.push_back(std::move(v));
  }
  return out;
}

Status PgMetadataStore::registry_delete_versions(const std::string& subject,
                                                 const std::vector<int32_t>& versions, bool permanent) {
  if (versions.empty()) return Status::OK();
  std::string list = "{";
  for (size_t i = 0; i < versions.size(); ++i) list += (i ? "," : "") + std::to_string(versions[i]);
  list += "}";
  const std::string sql =
      permanent ? "DELETE FROM registry_versions WHERE subject = $1 AND version = ANY($2::integer[])"
                : "UPDATE registry_versions SET deleted = true WHERE subject = $1 AND version = "
                  "ANY($2::integer[])";
  auto rows = exec(sql, {subject, list}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Status PgMetadataStore::registry_set_setting(const std::string& subject, const std::string& key,
                                             const std::optional<std::string>& value) {
  auto rows =
      value ? exec(
                  "INSERT INTO registry_settings (subject, key, value) VALUES ($1, $2, $3) "
                  "ON CONFLICT (subject, key) DO UPDATE SET value = EXCLUDED.value",
                  {subject, key, *value}, false)
            : exec("DELETE FROM registry_settings WHERE subject = $1 AND key = $2", {subject, key}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Result<std::vector<RegistrySettingRecord>> PgMetadataStore::registry_settings() {
  auto rows = exec("SELECT subject, key, value FROM registry_settings ORDER BY subject, key", {}, true);
  if (!rows.ok()) return rows.take_error();
  std::vector<RegistrySettingRecord> out;
  out.reserve(static_cast<size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i)
    out.push_back({rows->text(i, 0), rows->text(i, 1), rows->text(i, 2)});
  return out;
}

}  // namespace carelog::metadata
