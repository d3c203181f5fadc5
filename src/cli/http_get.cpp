#include "cli/http_get.h"

#include <fmt/core.h>

#include "cli/tcp_socket.h"

namespace carelog::cli {

Result<HttpReply> http_get(const std::string& url, const std::string& default_path, int timeout_ms) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  if (rest.rfind("https://", 0) == 0) return make_error(url + ": only plain http:// is supported");
  std::string path = default_path;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    path = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  auto hp = parse_host_port(rest);
  if (!hp.ok()) return make_error(fmt::format("{}: {}", url, hp.error().message));
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  auto sock = TcpSocket::connect(*hp, deadline);
  if (!sock.ok()) return make_error(fmt::format("GET {}: {}", url, sock.error().message));
  std::string req =
      fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: */*\r\n\r\n", path, rest);
  Status st = sock->write_all({reinterpret_cast<const uint8_t*>(req.data()), req.size()}, deadline);
  if (!st.ok()) return make_error(fmt::format("GET {}: {}", url, st.error().message));
  constexpr size_t kMax = 16u << 20;
  auto all = sock->read_to_end(deadline, kMax);
  if (!all.ok()) return make_error(fmt::format("GET {}: {}", url, all.error().message));
  const std::string& text = *all;
  HttpReply reply;
  if (text.rfind("HTTP/1.", 0) != 0 || text.size() < 12)
    return make_error(fmt::format("GET {}: the reply is not HTTP", url));
  try {
    reply.status = std::stoi(text.substr(9, 3));
  } catch (...) {
    return make_error(fmt::format("GET {}: bad HTTP status line", url));
  }
  auto end = text.find("\r\n\r\n");
  if (end == std::string::npos) return make_error(fmt::format("GET {}: reply head not terminated", url));
  reply.body = text.substr(end + 4);
  return reply;
}

}  // namespace carelog::cli
