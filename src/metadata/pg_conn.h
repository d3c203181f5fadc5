// Thin RAII wrapper over libpq, private to the metadata module.
//
// Ownership: Connection owns one PGconn and reconnects it on demand; Rows
// owns one PGresult. Threading: none. A Connection is used by one thread at
// a time; the owner (PgMetadataStore) serialises access with its mutex.
//
// Round trips: every exec() is one statement sent and answered (one network
// round trip) and is counted in round_trips(). The store keeps each public
// call to one statement: mutations are PL/pgSQL functions (pg_schema.cpp)
// that run as one autocommit transaction on the server.
//
// Errors: the SQLSTATEs our functions raise are "CL" + a three-digit Kafka
// error code (CL036 = TOPIC_ALREADY_EXISTS) and come back as Error{that
// code}. Everything else is Error{56 KAFKA_STORAGE_ERROR}, which Kafka
// clients retry. A lost connection (server restart, network) is also 56 and
// marks the connection for reconnecting before the next statement; such an
// error on a mutation is ambiguous (the commit may or may not have
// happened), so callers that retry must be idempotent or check, as the
// uploader does. Serialization failures and deadlocks (40001, 40P01) abort
// the whole statement's transaction on the server, so exec() retries them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

struct pg_conn;
struct pg_result;

namespace carelog::metadata::pg {

inline constexpr int32_t kStorageError = 56;

// The result rows of one statement, text format.
class Rows {
 public:
  explicit Rows(pg_result* res) : res_(res) {}
  ~Rows();
  Rows(Rows&& o) noexcept : res_(o.res_) { o.res_ = nullptr; }
  Rows& operator=(Rows&&) = delete;
  Rows(const Rows&) = delete;

  int size() const;
  bool is_null(int row, int col) const;
  std::string text(int row, int col) const;
  int64_t integer(int row, int col) const;  // 0 when NULL or not a number
  bool boolean(int row, int col) const;     // 't' / 'f'
  // A bytea column in PostgreSQL's hex output form ("\x0a1b..."); nullopt
  // when it is not.
  std::optional<std::vector<uint8_t>> bytes(int row, int col) const;

 private:
  pg_result* res_;
};

// One parameter: text, or NULL.
using Param = std::optional<std::string>;

class Connection {
 public:
  // Connects to `uri` (a libpq connection URI). Carelog's defaults
  // (connect_timeout=5, TCP keepalives, application_name=carelogd) apply
  // unless the URI sets them.
  static Result<std::unique_ptr<Connection>> open(const std::string& uri);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement with text parameters ($1, $2, ...). Reconnects first
  // when the connection is known to be down. `read_only` statements are
  // also retried once on a fresh connection when the connection breaks
  // while they run (nothing to be ambiguous about).
  Result<Rows> exec(const std::string& sql, const std::vector<Param>& params = {}, bool read_only = false);
  // Runs a multi-statement script (migrations) in one round trip.
  Status exec_script(const std::string& sql);

  uint64_t round_trips() const { return round_trips_; }
  uint64_t reconnects() const { return reconnects_; }
  // The URI without its password, for messages.
  const std::string& display_uri() const { return display_uri_; }

 private:
  Connection() = default;
  Status connect();
  // True when the connection is unusable (closed by the server, broken).
  bool dead();

  pg_conn* conn_ = nullptr;
  std::string uri_;
  std::string display_uri_;
  uint64_t round_trips_ = 0;
  uint64_t reconnects_ = 0;
};

// "\x" + hex: a bytea literal for a text parameter.
std::string bytea_param(const void* data, size_t size);
// Lowercase hex without prefix (for JSON arguments; decode(x, 'hex')).
std::string hex(const void* data, size_t size);
// The URI with any password replaced by "***".
std::string redact_uri(const std::string& uri);

}  // namespace carelog::metadata::pg
