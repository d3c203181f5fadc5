#include "metadata/pg_conn.h"

#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "common/log.h"
#include "fmt/core.h"

namespace carelog::metadata::pg {
namespace {

constexpr int kMaxConflictRetries = 20;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void ignore_notice(void*, const char*) {}

// Kafka code carried by one of our SQLSTATEs ("CL" + three digits), or -1.
int32_t carelog_code(const char* sqlstate) {
  if (!sqlstate || std::strlen(sqlstate) != 5 || sqlstate[0] != 'C' || sqlstate[1] != 'L') return -1;
  int32_t code = 0;
  for (int i = 2; i < 5; ++i) {
    if (sqlstate[i] < '0' || sqlstate[i] > '9') return -1;
    code = code * 10 + (sqlstate[i] - '0');
  }
  return code;
}

}  // namespace

Rows::~Rows() {
  if (res_) PQclear(res_);
}

int Rows::size() const { return PQntuples(res_); }

bool Rows::is_null(int row, int col) const { return PQgetisnull(res_, row, col) != 0; }

std::string Rows::text(int row, int col) const {
  return std::string(PQgetvalue(res_, row, col), static_cast<size_t>(PQgetlength(res_, row, col)));
}

int64_t Rows::integer(int row, int col) const {
  if (is_null(row, col)) return 0;
  return std::strtoll(PQgetvalue(res_, row, col), nullptr, 10);
}

bool Rows::boolean(int row, int col) const {
  const char* v = PQgetvalue(res_, row, col);
  return v && v[0] == 't';
}

std::optional<std::vector<uint8_t>> Rows::bytes(int row, int col) const {
  const char* v = PQgetvalue(res_, row, col);
  size_t n = static_cast<size_t>(PQgetlength(res_, row, col));
  if (n < 2 || v[0] != '\\' || v[1] != 'x' || n % 2 != 0) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve((n - 2) / 2);
  for (size_t i = 2; i < n; i += 2) {
    int hi = hex_digit(v[i]), lo = hex_digit(v[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  return out;
}

std::string hex(const void* data, size_t size) {
  static const char* kDigits = "0123456789abcdef";
  const auto* p = static_cast<const uint8_t*>(data);
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
  return out;
}

std::string bytea_param(const void* data, size_t size) { return "\\x" + hex(data, size); }

std::string redact_uri(const std::string& uri) {
  std::string out = uri;
  size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t end = out.find_first_of("/?", start);
    if (end == std::string::npos) end = out.size();
    size_t at = out.rfind('@', end);
    if (at != std::string::npos && at >= start) {
      size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  for (size_t pos = out.find("password="); pos != std::string::npos; pos = out.find("password=", pos + 1)) {
    size_t v = pos + 9;
    size_t e = out.find('&', v);
    if (e == std::string::npos) e = out.size();
    out.replace(v, e - v, "***");
  }
  return out;
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& uri) {
  auto c = std::unique_ptr<Connection>(new Connection());
  c->uri_ = uri;
  c->display_uri_ = redact_uri(uri);
  CARELOG_RETURN_IF_ERROR(c->connect());
  return c;
}

Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

Status Connection::connect() {
  if (conn_) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  // Keywords before dbname are defaults the URI (expanded from dbname,
  // processed last) may override.
  const char* keys[] = {"connect_timeout",     "keepalives",       "keepalives_idle",
                        "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                        "application_name",    "dbname",           nullptr};
  const char* values[] = {"5", "1", "10", "5", "3", "20000", "carelogd", uri_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = conn_ ? PQerrorMessage(conn_) : "out of memory";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    return Error{kStorageError, fmt::format("metadata store {} is unreachable: {}", display_uri_, msg)};
  }
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
  return Status::OK();
}

bool Connection::dead() {
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) return true;
  // Reads whatever the server sent while we were idle: a restarted server
  // has closed the socket (after a FATAL notice), which shows up here
  // rather than as an ambiguous failure of the next statement.
  if (PQconsumeInput(conn_) == 0) return true;
  return PQstatus(conn_) != CONNECTION_OK;
}

Result<Rows> Connection::exec(const std::string& sql, const std::vector<Param>& params, bool read_only) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) {
    if (p && p->find('\0') != std::string::npos)
      return Error{42, "metadata store: a value contains a NUL byte, which PostgreSQL text cannot hold"};
    values.push_back(p ? p->c_str() : nullptr);
  }
  bool retried_broken = false;
  for (int attempt = 0;; ++attempt) {
    if (dead()) {
      ++reconnects_;
      CARELOG_RETURN_IF_ERROR(connect());
      log::info("metadata store: reconnected to {}", display_uri_);
    }
    ++round_trips_;
    PGresult* res = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                 nullptr, nullptr, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return Rows(res);
    std::string sqlstate =
        res && PQresultErrorField(res, PG_DIAG_SQLSTATE) ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : "";
    std::string msg = res && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                          ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                          : PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    if (res) PQclear(res);
    if (PQstatus(conn_) != CONNECTION_OK || sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0) {
      if (PQstatus(conn_) == CONNECTION_OK) PQreset(conn_);  // shut down server-side: start afresh
      if (read_only && !retried_broken) {
        retried_broken = true;
        continue;
      }
      return Error{kStorageError, fmt::format("metadata store {}: connection lost: {}", display_uri_, msg)};
    }
    if ((sqlstate == "40001" || sqlstate == "40P01") && attempt < kMaxConflictRetries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1 + attempt * 2));
      continue;
    }
    int32_t code = carelog_code(sqlstate.c_str());
    if (code >= 0) return Error{code, msg};
    return Error{kStorageError, fmt::format("metadata store: {} (SQLSTATE {})", msg, sqlstate)};
  }
}

Status Connection::exec_script(const std::string& sql) {
  if (dead()) {
    ++reconnects_;
    CARELOG_RETURN_IF_ERROR(connect());
  }
  ++round_trips_;
  PGresult* res = PQexec(conn_, sql.c_str());
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
    PQclear(res);
    return Status::OK();
  }
  std::string msg = res && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                        ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                        : PQerrorMessage(conn_);
  int32_t code = carelog_code(res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr);
  if (res) PQclear(res);
  if (PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_INERROR) {
    PGresult* rb = PQexec(conn_, "ROLLBACK");
    if (rb) PQclear(rb);
  }
  return Error{code >= 0 ? code : kStorageError, fmt::format("metadata store: {}", msg)};
}

}  // namespace carelog::metadata::pg
