// The transport every HTTP endpoint of carelogd shares (the operator
// endpoint, admin_http.h, and the schema registry, registry_http.h): a TCP
// acceptor on its own thread and io_context that hands each connection to
// the endpoint's coroutine, plus the response line and headers they write.
// What a connection reads and answers (one request or keep-alive, TLS,
// authentication) is the endpoint's.
//
// Threading: `serve` runs on the listener's thread, one coroutine per
// connection. The destructor stops the io_context and joins the thread;
// connections still open are dropped. Declare the listener after the state
// `serve` uses, so it is destroyed (and its thread joined) first.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/result.h"

namespace carelog::server {

class HttpListener {
 public:
  using Serve = std::function<asio::awaitable<void>(asio::ip::tcp::socket)>;

  // Binds host:port (port 0: any free port) and starts accepting. `what`
  // names the setting in errors ("admin.http.listener").
  static Result<std::unique_ptr<HttpListener>> start(std::string_view what, const std::string& host,
                                                     uint16_t port, Serve serve);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  uint16_t port() const;

 private:
  HttpListener() = default;
  asio::awaitable<void> accept_loop();

  asio::io_context io_{1};
  asio::ip::tcp::acceptor acceptor_{io_};
  Serve serve_;
  std::thread thread_;
};

// "OK", "Not Found", ... ("Error" for statuses without a phrase here).
const char* http_reason_phrase(int status);

// Status line and headers (Content-Type, Content-Length, Cache-Control:
// no-store, `extra_headers` as given, each ending in CRLF, then
// Connection), then the body unless `head_only`.
std::string render_http_response(int status, std::string_view content_type, std::string_view body,
                                 bool keep_alive, bool head_only, std::string_view extra_headers = {});

}  // namespace carelog::server
