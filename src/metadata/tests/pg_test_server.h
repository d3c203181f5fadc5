// A throwaway PostgreSQL server for C++ tests, started through
// scripts/pg-test-server.sh (Debian's `postgresql` package: initdb into a
// temp dir, pg_ctl on a free 127.0.0.1 port; as root the server runs as
// the `postgres` user). PostgreSQL is REQUIRED: shared() reports why it
// could not start and tests must fail, never skip.
//
// A watchdog child process stops the server and removes its directory if
// the test process dies without running destructors.
//
// Threading: shared() is thread-safe; the server object itself is used from
// the test's main thread.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"

namespace carelog::metadata::testing {

class PgTestServer {
 public:
  // Starts a server in a fresh temp dir.
  static Result<std::unique_ptr<PgTestServer>> start();
  // One server per test process, started on first use; nullptr with
  // *error set when it cannot start.
  static PgTestServer* shared(std::string* error);
  ~PgTestServer();

  // Creates a new, empty database and returns its URI.
  Result<std::string> create_database();
  // postgresql://carelog:...@127.0.0.1:PORT/<db>
  std::string uri(const std::string& db) const;
  int port() const { return port_; }
  // pg_ctl stop (mode "fast" or "immediate") then start on the same port.
  Status restart(const std::string& mode = "fast");
  Status stop(const std::string& mode = "fast");
  Status start_again();

 private:
  PgTestServer() = default;
  std::string dir_;
  int port_ = 0;
  int databases_ = 0;
  int watchdog_fd_ = -1;
};

}  // namespace carelog::metadata::testing
