// Thin RAII wrapper over the sqlite3 C API, private to the metadata module.
//
// Ownership: Db owns one sqlite3 connection and a cache of prepared
// statements (keyed by SQL text) that live as long as the connection.
// Threading: none. A Db must be used by one thread at a time; the owner
// (SqliteMetadataStore) serialises access with its own mutex.
//
// Every sqlite failure is turned into Error{56 KAFKA_STORAGE_ERROR, "<what>:
// <sqlite message>"} because, to a Kafka client, a broken metadata database
// is a storage failure on the broker.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace carelog::metadata::sqlite {

inline constexpr int32_t kStorageError = 56;

class Stmt;

class Db {
 public:
  // Opens (creating if absent) the database file at `path`.
  static Result<std::unique_ptr<Db>> open(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without results (DDL, PRAGMAs, BEGIN...).
  Status exec(std::string_view sql);
  // Returns the cached prepared statement for `sql`, reset and with bindings
  // cleared. The reference stays valid until the Db is destroyed.
  Result<Stmt*> prepare(const std::string& sql);
  // Returns the first column of the first row of a query as text.
  Result<std::string> query_text(const std::string& sql);

  Error error(std::string_view what) const;
  sqlite3* raw() const { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Stmt>> cache_;
};

// A cached prepared statement. Bind indexes are 1-based (sqlite convention),
// column indexes 0-based.
class Stmt {
 public:
  Stmt(Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  void reset();
  Status bind_int(int index, int64_t value);
  Status bind_text(int index, std::string_view value);
  Status bind_blob(int index, const void* data, size_t size);
  // Advances one row: true = a row is available, false = done.
  Result<bool> step();
  // Runs a statement that returns no rows.
  Status run();

  int64_t column_int(int col) const;
  std::string column_text(int col) const;
  // Copies a blob column into `out` when its size matches exactly.
  bool column_blob(int col, void* out, size_t size) const;
  // A blob column of any size (empty for NULL).
  std::vector<uint8_t> column_bytes(int col) const;

 private:
  Db* db_;
  sqlite3_stmt* stmt_;
};

}  // namespace carelog::metadata::sqlite
