#include "metadata/sqlite_db.h"

#include <sqlite3.h>

#include <cstring>

#include "fmt/core.h"

namespace carelog::metadata::sqlite {

Result<std::unique_ptr<Db>> Db::open(const std::string& path) {
  sqlite3* raw = nullptr;
  // FULLMUTEX is not needed (the store serialises access); NOMUTEX avoids
  // paying for sqlite's own locking on top of ours.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return Error{kStorageError, fmt::format("cannot open metadata database '{}': {}", path, msg)};
  }
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<Db>(new Db(raw));
}

Db::~Db() {
  cache_.clear();  // statements must be finalized before the connection closes
  sqlite3_close(db_);
}

Error Db::error(std::string_view what) const {
  return Error{kStorageError, fmt::format("metadata store: {}: {}", what, sqlite3_errmsg(db_))};
}

Status Db::exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    // Only the first word(s) of the SQL identify the step; never log values.
    std::string head = text.substr(0, text.find_first_of("(;\n"));
    return Error{kStorageError, fmt::format("metadata store: '{}' failed: {}", head, msg)};
  }
  return Status::OK();
}

Result<Stmt*> Db::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second->reset();
    return it->second.get();
  }
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw,
                              nullptr);
  if (rc != SQLITE_OK) return error("prepare");
  auto stmt = std::make_unique<Stmt>(this, raw);
  Stmt* out = stmt.get();
  cache_.emplace(sql, std::move(stmt));
  return out;
}

Result<std::string> Db::query_text(const std::string& sql) {
  auto st = prepare(sql);
  if (!st.ok()) return st.take_error();
  auto row = (*st)->step();
  if (!row.ok()) return row.take_error();
  std::string out = *row ? (*st)->column_text(0) : std::string();
  (*st)->reset();
  return out;
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Status Stmt::bind_int(int index, int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) return db_->error("bind");
  return Status::OK();
}

Status Stmt::bind_text(int index, std::string_view value) {
  if (sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT) !=
      SQLITE_OK)
    return db_->error("bind");
  return Status::OK();
}

Status Stmt::bind_blob(int index, const void* data, size_t size) {
  if (sqlite3_bind_blob(stmt_, index, data, static_cast<int>(size), SQLITE_TRANSIENT) != SQLITE_OK)
    return db_->error("bind");
  return Status::OK();
}

Result<bool> Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error e = db_->error("step");
  sqlite3_reset(stmt_);
  return e;
}

Status Stmt::run() {
  auto r = step();
  sqlite3_reset(stmt_);
  if (!r.ok()) return r.take_error();
  return Status::OK();
}

int64_t Stmt::column_int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Stmt::column_text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

bool Stmt::column_blob(int col, void* out, size_t size) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (!p || n < 0 || static_cast<size_t>(n) != size) return false;
  std::memcpy(out, p, size);
  return true;
}

std::vector<uint8_t> Stmt::column_bytes(int col) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
  int n = sqlite3_column_bytes(stmt_, col);
  if (!p || n <= 0) return {};
  return std::vector<uint8_t>(p, p + n);
}

}  // namespace carelog::metadata::sqlite
