// A blocking TCP connection with per-call deadlines, for the admin CLI,
// optionally wrapped in TLS (OpenSSL) after connecting.
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

#include "cli/client_security.h"
#include "common/result.h"

struct ssl_st;

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

  // Starts TLS as a client: the broker's certificate must chain to
  // config.ca_file (else the system store) and, with verify_hostname, name
  // `server_name` (a DNS name or an IP literal). Sends SNI for names.
  // Errors: NETWORK_EXCEPTION naming the reason for an untrusted
  // certificate or a failed handshake, REQUEST_TIMED_OUT past the deadline.
  Status start_tls(const TlsClientConfig& config, const std::string& server_name, Clock::time_point deadline);

  bool is_open() const { return fd_ >= 0; }
  bool is_tls() const { return ssl_ != nullptr; }
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
  // After an SSL_read/SSL_write result `ret` <= 0: waits for what OpenSSL
  // needs, or turns the failure into an error.
  Status wait_tls(int ret, Clock::time_point deadline, const char* what);
  // At least one byte (0 only for recv at end of stream), through TLS when on.
  Result<size_t> send_some(const uint8_t* data, size_t n, Clock::time_point deadline);
  Result<size_t> recv_some(uint8_t* out, size_t n, Clock::time_point deadline);

  int fd_ = -1;
  ssl_st* ssl_ = nullptr;  // owned; null for plain TCP
};

}  // namespace carelog::cli
