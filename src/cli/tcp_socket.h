// A blocking TCP connection with per-call deadlines, for the admin CLI.
//
// Every operation takes an absolute deadline and waits with poll(2), so a
// silent or slow broker turns into a REQUEST_TIMED_OUT error instead of a
// hang. Owns its file descriptor (closed on destruction); move-only. Not
// thread-safe: the CLI uses one connection from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace carelog::cli {

using Clock = std::chrono::steady_clock;

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

// Parses "host:port", "[v6addr]:port" or a bare "host" (port 9092).
// Errors have code -1; callers report them as usage errors.
Result<HostPort> parse_host_port(std::string_view text);

class TcpSocket {
 public:
  TcpSocket() = default;
  ~TcpSocket();
  TcpSocket(TcpSocket&& other) noexcept;
  TcpSocket& operator=(TcpSocket&& other) noexcept;
  TcpSocket(const TcpSocket&) = delete;
  TcpSocket& operator=(const TcpSocket&) = delete;

  // Resolves and connects, trying each address until one succeeds.
  static Result<TcpSocket> connect(const HostPort& addr, Clock::time_point deadline);

  bool is_open() const { return fd_ >= 0; }
  Status write_all(std::span<const uint8_t> data, Clock::time_point deadline);
  Status read_exact(uint8_t* out, size_t n, Clock::time_point deadline);
  // Reads until the peer closes the connection (HTTP with Connection: close);
  // an error past `max_bytes` or the deadline.
  Result<std::string> read_to_end(Clock::time_point deadline, size_t max_bytes);
  void close();

 private:
  explicit TcpSocket(int fd) : fd_(fd) {}
  // Waits for `events` on the socket; REQUEST_TIMED_OUT past the deadline.
  Status wait(short events, Clock::time_point deadline, const char* what);

  int fd_ = -1;
};

}  // namespace carelog::cli
