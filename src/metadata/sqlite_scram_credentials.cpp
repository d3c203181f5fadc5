// SqliteMetadataStore: SCRAM credentials (table scram_credentials, schema
// v4). The store only persists what it is given; validating credentials
// (mechanism, iterations, key sizes) is the security module's job.
//
// No cache: a login does one primary-key lookup, which SQLite answers from
// its page cache in microseconds, and a cache would have to be invalidated
// across brokers sharing the database.
#include <sqlite3.h>

#include "fmt/core.h"
#include "metadata/sqlite_metadata_store.h"

namespace carelog::metadata {
namespace {

constexpr int32_t kResourceNotFound = 91;

constexpr const char* kColumns =
    "SELECT user_name, mechanism, salt, stored_key, server_key, iterations FROM scram_credentials ";

ScramCredentialRecord read_row(const sqlite::Stmt& s) {
  ScramCredentialRecord r;
  r.user = s.column_text(0);
  r.mechanism = static_cast<int8_t>(s.column_int(1));
  r.salt = s.column_bytes(2);
  r.stored_key = s.column_bytes(3);
  r.server_key = s.column_bytes(4);
  r.iterations = static_cast<int32_t>(s.column_int(5));
  return r;
}

// One credential change inside the caller's transaction.
Status delete_one(sqlite::Db& db, const std::string& user, int8_t mechanism) {
  auto del = db.prepare("DELETE FROM scram_credentials WHERE user_name = ? AND mechanism = ?");
  if (!del.ok()) return del.take_error();
  CARELOG_RETURN_IF_ERROR((*del)->bind_text(1, user));
  CARELOG_RETURN_IF_ERROR((*del)->bind_int(2, mechanism));
  CARELOG_RETURN_IF_ERROR((*del)->run());
  if (sqlite3_changes(db.raw()) == 0) {
    return Error{kResourceNotFound, "Attempt to delete a user credential that does not exist"};
  }
  return Status::OK();
}

Status upsert_one(sqlite::Db& db, const ScramCredentialRecord& c) {
  auto ins = db.prepare(
      "INSERT OR REPLACE INTO scram_credentials (user_name, mechanism, salt, stored_key, server_key, "
      "iterations) VALUES (?, ?, ?, ?, ?, ?)");
  if (!ins.ok()) return ins.take_error();
  CARELOG_RETURN_IF_ERROR((*ins)->bind_text(1, c.user));
  CARELOG_RETURN_IF_ERROR((*ins)->bind_int(2, c.mechanism));
  CARELOG_RETURN_IF_ERROR((*ins)->bind_blob(3, c.salt.data(), c.salt.size()));
  CARELOG_RETURN_IF_ERROR((*ins)->bind_blob(4, c.stored_key.data(), c.stored_key.size()));
  CARELOG_RETURN_IF_ERROR((*ins)->bind_blob(5, c.server_key.data(), c.server_key.size()));
  CARELOG_RETURN_IF_ERROR((*ins)->bind_int(6, c.iterations));
  return (*ins)->run();
}

}  // namespace

Result<std::optional<ScramCredentialRecord>> SqliteMetadataStore::scram_credential(const std::string& user,
                                                                                   int8_t mechanism) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(std::string(kColumns) + "WHERE user_name = ? AND mechanism = ?");
  if (!q.ok()) return q.take_error();
  CARELOG_RETURN_IF_ERROR((*q)->bind_text(1, user));
  CARELOG_RETURN_IF_ERROR((*q)->bind_int(2, mechanism));
  auto row = (*q)->step();
  if (!row.ok()) return row.take_error();
  std::optional<ScramCredentialRecord> out;
  if (*row) out = read_row(**q);
  (*q)->reset();
  return out;
}

Result<std::vector<ScramCredentialRecord>> SqliteMetadataStore::scram_credentials() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(std::string(kColumns) + "ORDER BY user_name, mechanism");
  if (!q.ok()) return q.take_error();
  std::vector<ScramCredentialRecord> out;
  for (;;) {
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    out.push_back(read_row(**q));
  }
  (*q)->reset();
  return out;
}

Status SqliteMetadataStore::alter_scram_credentials(
    const std::vector<std::pair<std::string, int8_t>>& deletions,
    const std::vector<ScramCredentialRecord>& upserts) {
  std::lock_guard lock(mu_);
  CARELOG_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  Status st;
  for (const auto& [user, mechanism] : deletions) {
    st = delete_one(*db_, user, mechanism);
    if (!st.ok()) break;
  }
  for (size_t i = 0; st.ok() && i < upserts.size(); ++i) st = upsert_one(*db_, upserts[i]);
  if (st.ok()) st = db_->exec("COMMIT");
  if (!st.ok()) (void)db_->exec("ROLLBACK");
  return st;
}

}  // namespace carelog::metadata
