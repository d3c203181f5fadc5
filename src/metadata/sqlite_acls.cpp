// SqliteMetadataStore: Kafka ACL bindings (table `acls`, schema v5).
//
// The table's primary key is the whole binding, so adding a binding twice
// is a no-op (INSERT OR IGNORE) and removing one is an exact-match DELETE.
// Matching, validation and filters live in the security module; this file
// only stores rows.
#include "metadata/sqlite_metadata_store.h"

namespace carelog::metadata {
namespace {

constexpr const char* kInsertAcl =
    "INSERT OR IGNORE INTO acls (resource_type, resource_name, pattern_type, principal, host, operation, "
    "permission_type) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* kDeleteAcl =
    "DELETE FROM acls WHERE resource_type = ?1 AND resource_name = ?2 AND pattern_type = ?3 AND principal = "
    "?4 "
    "AND host = ?5 AND operation = ?6 AND permission_type = ?7";

Status bind_acl(sqlite::Stmt& s, const AclRecord& a) {
  CARELOG_RETURN_IF_ERROR(s.bind_int(1, a.resource_type));
  CARELOG_RETURN_IF_ERROR(s.bind_text(2, a.resource_name));
  CARELOG_RETURN_IF_ERROR(s.bind_int(3, a.pattern_type));
  CARELOG_RETURN_IF_ERROR(s.bind_text(4, a.principal));
  CARELOG_RETURN_IF_ERROR(s.bind_text(5, a.host));
  CARELOG_RETURN_IF_ERROR(s.bind_int(6, a.operation));
  return s.bind_int(7, a.permission_type);
}

// Runs `sql` once per binding inside one BEGIN IMMEDIATE transaction: all
// rows change, or (on any failure) none.
Status apply_each(sqlite::Db& db, const std::string& sql, const std::vector<AclRecord>& acls) {
  if (acls.empty()) return Status::OK();
  CARELOG_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
  for (const auto& a : acls) {
    Status st = [&]() -> Status {
      auto stmt = db.prepare(sql);
      if (!stmt.ok()) return stmt.take_error();
      CARELOG_RETURN_IF_ERROR(bind_acl(**stmt, a));
      return (*stmt)->run();
    }();
    if (!st.ok()) {
      (void)db.exec("ROLLBACK");
      return st;
    }
  }
  Status commit = db.exec("COMMIT");
  if (!commit.ok()) (void)db.exec("ROLLBACK");
  return commit;
}

}  // namespace

Status SqliteMetadataStore::add_acls(const std::vector<AclRecord>& acls) {
  std::lock_guard lock(mu_);
  return apply_each(*db_, kInsertAcl, acls);
}

Status SqliteMetadataStore::remove_acls(const std::vector<AclRecord>& acls) {
  std::lock_guard lock(mu_);
  return apply_each(*db_, kDeleteAcl, acls);
}

Result<std::vector<AclRecord>> SqliteMetadataStore::list_acls() {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare(
      "SELECT resource_type, resource_name, pattern_type, principal, host, operation, permission_type "
      "FROM acls ORDER BY resource_type, resource_name, pattern_type, principal, host, operation, "
      "permission_type");
  if (!stmt.ok()) return stmt.take_error();
  sqlite::Stmt& s = **stmt;
  std::vector<AclRecord> out;
  for (;;) {
    auto row = s.step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    AclRecord a;
    a.resource_type = static_cast<int8_t>(s.column_int(0));
    a.resource_name = s.column_text(1);
    a.pattern_type = static_cast<int8_t>(s.column_int(2));
    a.principal = s.column_text(3);
    a.host = s.column_text(4);
    a.operation = static_cast<int8_t>(s.column_int(5));
    a.permission_type = static_cast<int8_t>(s.column_int(6));
    out.push_back(std::move(a));
  }
  s.reset();
  return out;
}

}  // namespace carelog::metadata
