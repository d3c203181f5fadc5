#include "server/http_listener.h"

#include <fmt/core.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

namespace carelog::server {

Result<std::unique_ptr<HttpListener>> HttpListener::start(std::string_view what, const std::string& host,
                                                          uint16_t port, Serve serve) {
  std::unique_ptr<HttpListener> l(new HttpListener());
  l->serve_ = std::move(serve);
  asio::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return make_error(fmt::format("{}: bad address '{}'", what, host));
  asio::ip::tcp::endpoint endpoint(address, port);
  l->acceptor_.open(endpoint.protocol(), ec);
  if (!ec) l->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) l->acceptor_.bind(endpoint, ec);
  if (!ec) l->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error(fmt::format("{} {}:{}: {}", what, host, port, ec.message()));
  HttpListener* raw = l.get();
  asio::co_spawn(raw->io_, raw->accept_loop(), asio::detached);
  raw->thread_ = std::thread([raw] { raw->io_.run(); });
  return l;
}

HttpListener::~HttpListener() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

uint16_t HttpListener::port() const {
  asio::error_code ec;
  auto ep = acceptor_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

asio::awaitable<void> HttpListener::accept_loop() {
  for (;;) {
    asio::error_code ec;
    asio::ip::tcp::socket socket =
        co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      continue;
    }
    asio::co_spawn(io_, serve_(std::move(socket)), asio::detached);
  }
}

const char* http_reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 422:
      return "Unprocessable Entity";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

std::string render_http_response(int status, std::string_view content_type, std::string_view body,
                                 bool keep_alive, bool head_only, std::string_view extra_headers) {
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n{}"
      "Connection: {}\r\n\r\n",
      status, http_reason_phrase(status), content_type, body.size(), extra_headers,
      keep_alive ? "keep-alive" : "close");
  if (!head_only) out.append(body);
  return out;
}

}  // namespace carelog::server
