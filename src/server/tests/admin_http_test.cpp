#include "server/admin_http.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace carelog::server {
namespace {

TEST(HttpRequestHead, ParsesRequestLineAndHeaders) {
  auto r = parse_http_request_head("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->path, "/metrics");
  EXPECT_TRUE(parse_http_request_head("GET / HTTP/1.0\r\n\r\n").ok());
}

TEST(HttpRequestHead, RejectsMalformedHeads) {
  for (const char* bad :
       {"", "GET / HTTP/1.1", "GET / HTTP/1.1\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/2\r\n\r\n",
        "GET http://x/ HTTP/1.1\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n", "GET /a\x01 HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon\r\n\r\n", "GET / HTTP/1.1\r\n: v\r\n\r\n", "GET /\r\n\r\n"}) {
    EXPECT_FALSE(parse_http_request_head(bad).ok()) << bad;
  }
  EXPECT_FALSE(parse_http_request_head("GET / HTTP/1.1\r\n" + std::string(9000, 'a') + ": b\r\n\r\n").ok());
}

std::string http_exchange(uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "connect failed";
  }
  ::send(fd, request.data(), request.size(), 0);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST(AdminHttpServer, ServesRoutesAndRefusesTheRest) {
  int calls = 0;
  auto server = AdminHttpServer::start(
      "127.0.0.1", 0, {{"/health", [&] {
                          ++calls;
                          return HttpResponse{503, "application/json", "{\"status\":\"failing\"}"};
                        }}});
  ASSERT_TRUE(server.ok()) << server.error().message;
  const uint16_t port = (*server)->port();
  ASSERT_NE(port, 0);

  std::string r = http_exchange(port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Length: 20\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("\r\n\r\n{\"status\":\"failing\"}"), std::string::npos) << r;
  EXPECT_EQ(calls, 1);

  EXPECT_EQ(http_exchange(port, "GET /nope HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(http_exchange(port, "POST /health HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(http_exchange(port, "garbage\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  // Too large a head: answered with 400, never buffered without bound.
  EXPECT_EQ(http_exchange(port, "GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n")
                .rfind("HTTP/1.1 400", 0),
            0u);
  EXPECT_EQ(calls, 1);
  server->reset();  // stops and joins
}

}  // namespace
}  // namespace carelog::server
