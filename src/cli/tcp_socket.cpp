#include "cli/tcp_socket.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "protocol/error_codes.h"

namespace carelog::cli {

namespace {

using protocol::ErrorCode;
using protocol::to_int;

Error net_error(const std::string& what, int err) {
  return make_error(what + ": " + std::strerror(err), to_int(ErrorCode::kNetworkException));
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return left > INT32_MAX ? INT32_MAX : static_cast<int>(left);
}

}  // namespace

Result<HostPort> parse_host_port(std::string_view text) {
  HostPort out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos)
      return make_error("missing ']' in address '" + std::string(text) + "'");
    out.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return make_error("expected ':' after ']' in '" + std::string(text) + "'");
      port_text = rest.substr(1);
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') != colon) {
      return make_error("IPv6 addresses must be written as [addr]:port: '" + std::string(text) + "'");
    }
    out.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = text.substr(colon + 1);
      if (port_text.empty()) return make_error("missing port in '" + std::string(text) + "'");
    }
  }
  if (out.host.empty()) return make_error("missing host in '" + std::string(text) + "'");
  if (port_text.empty()) {
    out.port = 9092;
    return out;
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || value == 0 || value > 65535) {
    return make_error("invalid port '" + std::string(port_text) + "'");
  }
  out.port = static_cast<uint16_t>(value);
  return out;
}

TcpSocket::~TcpSocket() { close(); }

TcpSocket::TcpSocket(TcpSocket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

TcpSocket& TcpSocket::operator=(TcpSocket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

void TcpSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status TcpSocket::wait(short events, Clock::time_point deadline, const char* what) {
  for (;;) {
    pollfd p{fd_, events, 0};
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return Status::OK();
    if (n == 0) return make_error(std::string("timed out ") + what, to_int(ErrorCode::kRequestTimedOut));
    if (errno != EINTR) return net_error(std::string("poll while ") + what, errno);
  }
}

Result<TcpSocket> TcpSocket::connect(const HostPort& addr, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  std::string port = std::to_string(addr.port);
  int rc = ::getaddrinfo(addr.host.c_str(), port.c_str(), &hints, &list);
  if (rc != 0) {
    return make_error("cannot resolve '" + addr.host + "': " + ::gai_strerror(rc),
                      to_int(ErrorCode::kNetworkException));
  }
  Error last = make_error("no address for '" + addr.host + "'", to_int(ErrorCode::kNetworkException));
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
      last = net_error("socket", errno);
      continue;
    }
    TcpSocket sock(fd);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = net_error("connect to " + addr.host + ":" + port, errno);
        continue;
      }
      Status st = sock.wait(POLLOUT, deadline, "connecting");
      if (!st.ok()) {
        last = st.error();
        continue;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last = net_error("connect to " + addr.host + ":" + port, err);
        continue;
      }
    }
    ::freeaddrinfo(list);
    return sock;
  }
  ::freeaddrinfo(list);
  return last;
}

Status TcpSocket::write_all(std::span<const uint8_t> data, Clock::time_point deadline) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      CARELOG_RETURN_IF_ERROR(wait(POLLOUT, deadline, "sending request"));
      continue;
    }
    return net_error("send", errno);
  }
  return Status::OK();
}

Status TcpSocket::read_exact(uint8_t* out, size_t n, Clock::time_point deadline) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::recv(fd_, out + done, n - done, 0);
    if (r > 0) {
      done += static_cast<size_t>(r);
      continue;
    }
    if (r == 0) {
      return make_error("connection closed by broker", to_int(ErrorCode::kNetworkException));
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      CARELOG_RETURN_IF_ERROR(wait(POLLIN, deadline, "waiting for response"));
      continue;
    }
    return net_error("recv", errno);
  }
  return Status::OK();
}

Result<std::string> TcpSocket::read_to_end(Clock::time_point deadline, size_t max_bytes) {
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t r = ::recv(fd_, buf, sizeof(buf), 0);
    if (r > 0) {
      out.append(buf, static_cast<size_t>(r));
      if (out.size() > max_bytes) return make_error(fmt::format("reply larger than {} bytes", max_bytes));
      continue;
    }
    if (r == 0) return out;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      CARELOG_RETURN_IF_ERROR(wait(POLLIN, deadline, "waiting for reply"));
      continue;
    }
    return net_error("recv", errno);
  }
}

}  // namespace carelog::cli
