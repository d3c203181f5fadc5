#include "metadata/tests/pg_test_server.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

#include "fmt/core.h"

#ifndef CARELOG_SOURCE_DIR
#error "CARELOG_SOURCE_DIR must name the source tree (for scripts/pg-test-server.sh)"
#endif

namespace carelog::metadata::testing {
namespace {

constexpr const char* kPassword = "carelog-test";

std::string script() { return std::string(CARELOG_SOURCE_DIR) + "/scripts/pg-test-server.sh"; }

// Runs the harness script with `args`; returns its stdout, or an error with
// its exit status (its stderr goes to ours, so the reason is in the log).
Result<std::string> run_script(const std::vector<std::string>& args) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return make_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) return make_error("fork failed");
  if (pid == 0) {
    dup2(out[1], 1);
    std::vector<std::string> all{"bash", script()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp("bash", argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return make_error(
        fmt::format("{} {} failed (status {}); PostgreSQL is required for these tests "
                    "(Debian package postgresql, scripts/deps-test.txt)",
                    script(), args.empty() ? "" : args[0], status));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) close(fd);
  return port;
}

}  // namespace

Result<std::unique_ptr<PgTestServer>> PgTestServer::start() {
  char tmpl[] = "/tmp/carelog-pg-XXXXXX";
  if (!mkdtemp(tmpl)) return make_error("mkdtemp failed");
  auto s = std::unique_ptr<PgTestServer>(new PgTestServer());
  s->dir_ = tmpl;
  s->port_ = free_port();
  if (s->port_ == 0) return make_error("no free port");
  // The watchdog: a shell in its own session that waits for EOF on a pipe
  // only we hold, then stops the server and removes the directory.
  int wd[2];
  if (pipe2(wd, O_CLOEXEC) != 0) return make_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) return make_error("fork failed");
  if (pid == 0) {
    setsid();
    dup2(wd[0], 0);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 1);
    std::string cmd =
        fmt::format("cat >/dev/null; bash '{}' stop '{}' immediate; rm -rf '{}'", script(), s->dir_, s->dir_);
    execlp("bash", "bash", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(wd[0]);
  s->watchdog_fd_ = wd[1];
  auto uri = run_script({"start", s->dir_, std::to_string(s->port_)});
  if (!uri.ok()) return uri.take_error();
  return s;
}

PgTestServer* PgTestServer::shared(std::string* error) {
  static std::mutex mu;
  static std::unique_ptr<PgTestServer> server;
  static std::string failure;
  std::lock_guard lock(mu);
  if (!server && failure.empty()) {
    auto s = start();
    if (s.ok())
      server = std::move(*s);
    else
      failure = s.error().message;
  }
  if (!server && error) *error = failure;
  return server.get();
}

PgTestServer::~PgTestServer() {
  (void)run_script({"stop", dir_, "immediate"});
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  if (watchdog_fd_ >= 0) close(watchdog_fd_);
}

std::string PgTestServer::uri(const std::string& db) const {
  return fmt::format("postgresql://carelog:{}@127.0.0.1:{}/{}", kPassword, port_, db);
}

Result<std::string> PgTestServer::create_database() {
  std::string name = fmt::format("t{}_{}", getpid(), ++databases_);
  PGconn* c = PQconnectdb(uri("postgres").c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    return make_error("cannot connect to the test PostgreSQL: " + msg);
  }
  PGresult* r = PQexec(c, fmt::format("CREATE DATABASE {}", name).c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string msg = ok ? "" : PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  if (!ok) return make_error("CREATE DATABASE failed: " + msg);
  return uri(name);
}

Status PgTestServer::stop(const std::string& mode) {
  auto r = run_script({"stop", dir_, mode});
  if (!r.ok()) return r.take_error();
  return Status::OK();
}

Status PgTestServer::start_again() {
  auto r = run_script({"resume", dir_});
  if (!r.ok()) return r.take_error();
  return Status::OK();
}

Status PgTestServer::restart(const std::string& mode) {
  auto r = run_script({"restart", dir_, mode});
  if (!r.ok()) return r.take_error();
  return Status::OK();
}

}  // namespace carelog::metadata::testing
