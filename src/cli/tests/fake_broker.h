// A scripted single-connection-at-a-time Kafka broker for CLI tests.
//
// Listens on 127.0.0.1 (ephemeral port) and serves connections on its own
// thread; for each request frame it decodes the header and calls the handler,
// which returns the response body (or nullopt to drop the connection). The
// response header is written by the fake (v0/v1 as headers.h says, unless
// `response_header_override` is set). Every header it saw is recorded.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "protocol/headers.h"
#include "protocol/wire.h"

namespace carelog::cli::testing {

class FakeBroker {
 public:
  using Handler =
      std::function<std::optional<std::vector<uint8_t>>(const protocol::RequestHeader&, protocol::Reader&)>;

  explicit FakeBroker(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 8);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~FakeBroker() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  std::vector<protocol::RequestHeader> headers() {
    std::lock_guard<std::mutex> lock(mu_);
    return headers_;
  }

  // Correlation id added to the real one in responses (to test mismatches).
  std::atomic<int32_t> correlation_skew{0};

 private:
  static bool read_all(int fd, uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t r = ::recv(fd, p, n, 0);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }

  void serve() {
    while (!stop_) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      handle(fd);
      ::close(fd);
    }
  }

  void handle(int fd) {
    for (;;) {
      uint8_t size_bytes[4];
      if (!read_all(fd, size_bytes, 4)) return;
      uint32_t size = (uint32_t{size_bytes[0]} << 24) | (uint32_t{size_bytes[1]} << 16) |
                      (uint32_t{size_bytes[2]} << 8) | size_bytes[3];
      std::vector<uint8_t> frame(size);
      if (!read_all(fd, frame.data(), size)) return;
      protocol::Reader r(SharedBytes::from_vector(std::move(frame)));
      auto header = protocol::decode_request_header(r);
      if (!header.ok()) return;
      {
        std::lock_guard<std::mutex> lock(mu_);
        headers_.push_back(*header);
      }
      auto body = handler_(*header, r);
      if (!body) return;
      protocol::Writer w;
      size_t pos = w.reserve_int32();
      protocol::ResponseHeader rh;
      rh.correlation_id = header->correlation_id + correlation_skew.load();
      rh.encode(w, protocol::response_header_version(header->api_key, header->api_version));
      w.write_raw(body->data(), body->size());
      w.patch_int32(pos, static_cast<int32_t>(w.size() - 4));
      const auto& buf = w.buffer();
      if (::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(buf.size())) return;
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<protocol::RequestHeader> headers_;
};

// Encodes `msg` at `version`.
template <typename Msg>
std::vector<uint8_t> encode(const Msg& msg, int16_t version) {
  protocol::Writer w;
  msg.encode(w, version);
  return w.take();
}

}  // namespace carelog::cli::testing
