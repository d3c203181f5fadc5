#include "cli/tcp_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

#include "protocol/error_codes.h"

namespace carelog::cli {

namespace {

using protocol::ErrorCode;
using protocol::to_int;

Error net_error(const std::string& what, int err) {
  return make_error(what + ": " + std::strerror(err), to_int(ErrorCode::kNetworkException));
}

// The first queued OpenSSL error, or a generic text.
std::string tls_error_text() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
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

TcpSocket::TcpSocket(TcpSocket&& other) noexcept : fd_(other.fd_), ssl_(other.ssl_) {
  other.fd_ = -1;
  other.ssl_ = nullptr;
}

TcpSocket& TcpSocket::operator=(TcpSocket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    ssl_ = other.ssl_;
    other.fd_ = -1;
    other.ssl_ = nullptr;
  }
  return *this;
}

void TcpSocket::close() {
  if (ssl_ != nullptr) SSL_free(ssl_);  // no close_notify: the CLI is done with the connection
  ssl_ = nullptr;
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

Result<size_t> TcpSocket::send_some(const uint8_t* data, size_t n, Clock::time_point deadline) {
  for (;;) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      int r = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(n, INT32_MAX)));
      if (r > 0) return static_cast<size_t>(r);
      CARELOG_RETURN_IF_ERROR(wait_tls(r, deadline, "sending request"));
      continue;
    }
    ssize_t r = ::send(fd_, data, n, MSG_NOSIGNAL);
    if (r > 0) return static_cast<size_t>(r);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      CARELOG_RETURN_IF_ERROR(wait(POLLOUT, deadline, "sending request"));
      continue;
    }
    return net_error("send", errno);
  }
}

Result<size_t> TcpSocket::recv_some(uint8_t* out, size_t n, Clock::time_point deadline) {
  for (;;) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      int r = SSL_read(ssl_, out, static_cast<int>(std::min<size_t>(n, INT32_MAX)));
      if (r > 0) return static_cast<size_t>(r);
      if (SSL_get_error(ssl_, r) == SSL_ERROR_ZERO_RETURN) return size_t{0};
      CARELOG_RETURN_IF_ERROR(wait_tls(r, deadline, "waiting for response"));
      continue;
    }
    ssize_t r = ::recv(fd_, out, n, 0);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      CARELOG_RETURN_IF_ERROR(wait(POLLIN, deadline, "waiting for response"));
      continue;
    }
    return net_error("recv", errno);
  }
}

Status TcpSocket::write_all(std::span<const uint8_t> data, Clock::time_point deadline) {
  size_t done = 0;
  while (done < data.size()) {
    auto n = send_some(data.data() + done, data.size() - done, deadline);
    if (!n.ok()) return n.error();
    done += *n;
  }
  return Status::OK();
}

Status TcpSocket::read_exact(uint8_t* out, size_t n, Clock::time_point deadline) {
  size_t done = 0;
  while (done < n) {
    auto r = recv_some(out + done, n - done, deadline);
    if (!r.ok()) return r.error();
    if (*r == 0) return make_error("connection closed by broker", to_int(ErrorCode::kNetworkException));
    done += *r;
  }
  return Status::OK();
}

Result<std::string> TcpSocket::read_to_end(Clock::time_point deadline, size_t max_bytes) {
  std::string out;
  uint8_t buf[16384];
  for (;;) {
    auto r = recv_some(buf, sizeof(buf), deadline);
    if (!r.ok()) return r.take_error();
    if (*r == 0) return out;
    out.append(reinterpret_cast<const char*>(buf), *r);
    if (out.size() > max_bytes) return make_error(fmt::format("reply larger than {} bytes", max_bytes));
  }
}

// --- TLS ---

Status TcpSocket::wait_tls(int ret, Clock::time_point deadline, const char* what) {
  int e = SSL_get_error(ssl_, ret);
  if (e == SSL_ERROR_WANT_READ) return wait(POLLIN, deadline, what);
  if (e == SSL_ERROR_WANT_WRITE) return wait(POLLOUT, deadline, what);
  if (e == SSL_ERROR_ZERO_RETURN)
    return make_error("connection closed by broker", to_int(ErrorCode::kNetworkException));
  if (e == SSL_ERROR_SYSCALL && errno != 0) return net_error(std::string("TLS while ") + what, errno);
  return make_error(fmt::format("TLS error while {}: {}", what, tls_error_text()),
                    to_int(ErrorCode::kNetworkException));
}

Status TcpSocket::start_tls(const TlsClientConfig& config, const std::string& server_name,
                            Clock::time_point deadline) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return make_error("cannot create a TLS context: " + tls_error_text());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (!config.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), config.ca_file.c_str(), nullptr) != 1)
      return make_error(fmt::format("ssl.ca.location {}: {}", config.ca_file, tls_error_text()));
  } else if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
    return make_error("cannot load the system CA store: " + tls_error_text());
  }
  if (!config.cert_file.empty()) {
    if (!config.key_password.empty()) {
      SSL_CTX_set_default_passwd_cb_userdata(ctx.get(), const_cast<char*>(config.key_password.c_str()));
    }
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), config.cert_file.c_str()) != 1)
      return make_error(fmt::format("ssl.certificate.location {}: {}", config.cert_file, tls_error_text()));
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), config.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      return make_error(fmt::format("ssl.key.location {}: {}", config.key_file, tls_error_text()));
    if (SSL_CTX_check_private_key(ctx.get()) != 1)
      return make_error("ssl.key.location does not match ssl.certificate.location");
  }
  ssl_ = SSL_new(ctx.get());  // holds its own reference to ctx
  if (ssl_ == nullptr) return make_error("cannot create a TLS session: " + tls_error_text());
  SSL_set_fd(ssl_, fd_);
  in6_addr v6{};
  in_addr v4{};
  const bool literal =
      inet_pton(AF_INET, server_name.c_str(), &v4) == 1 || inet_pton(AF_INET6, server_name.c_str(), &v6) == 1;
  if (!literal) SSL_set_tlsext_host_name(ssl_, server_name.c_str());  // SNI is for names only
  if (config.verify_hostname) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    int ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str())
                     : X509_VERIFY_PARAM_set1_host(param, server_name.c_str(), 0);
    if (ok != 1) return make_error("cannot set the expected TLS host name: " + tls_error_text());
  }
  for (;;) {
    ERR_clear_error();
    int r = SSL_connect(ssl_);
    if (r == 1) return Status::OK();
    long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
      return make_error(fmt::format("TLS handshake with {}: certificate not trusted: {}", server_name,
                                    X509_verify_cert_error_string(verify)),
                        to_int(ErrorCode::kNetworkException));
    }
    int e = SSL_get_error(ssl_, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      return make_error(fmt::format("TLS handshake with {}: {}", server_name, tls_error_text()),
                        to_int(ErrorCode::kNetworkException));
    }
    CARELOG_RETURN_IF_ERROR(
        wait(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, "in the TLS handshake"));
  }
}

}  // namespace carelog::cli
