#include "server/admin_http.h"

#include <fmt/core.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <thread>

#include "common/log.h"
#include "server/http_request_head.h"

namespace carelog::server {
namespace {

constexpr auto kReadTimeout = std::chrono::seconds(10);

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

std::string render(const HttpResponse& r, bool head_only) {
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n"
      "Connection: close\r\n\r\n",
      r.status, reason_phrase(r.status), r.content_type, r.body.size());
  if (!head_only) out += r.body;
  return out;
}

}  // namespace

struct AdminHttpServer::Impl {
  asio::io_context io{1};
  asio::ip::tcp::acceptor acceptor{io};
  std::map<std::string, Handler> routes;
  std::thread thread;

  HttpResponse respond(const Result<HttpRequestHead>& req) {
    if (!req.ok()) return HttpResponse{400, "text/plain; charset=utf-8", req.error().message + "\n"};
    if (req->method != "GET" && req->method != "HEAD")
      return HttpResponse{405, "text/plain; charset=utf-8", "only GET\n"};
    auto it = routes.find(req->path);
    if (it == routes.end()) return HttpResponse{404, "text/plain; charset=utf-8", "not found\n"};
    return it->second();
  }

  asio::awaitable<void> serve(asio::ip::tcp::socket socket) {
    asio::steady_timer deadline(io);
    deadline.expires_after(kReadTimeout);
    deadline.async_wait([&socket](const asio::error_code& ec) {
      if (!ec) {
        asio::error_code ignored;
        socket.close(ignored);
      }
    });
    asio::streambuf buf(kMaxHttpHeadBytes);
    asio::error_code ec;
    size_t n = co_await asio::async_read_until(socket, buf, "\r\n\r\n",
                                               asio::redirect_error(asio::use_awaitable, ec));
    deadline.cancel();
    Result<HttpRequestHead> req = make_error("request head too large or incomplete");
    if (!ec) {
      std::string_view head(static_cast<const char*>(buf.data().data()), n);
      req = parse_http_request_head(head);
    } else if (ec != asio::error::not_found) {
      co_return;  // closed, reset or timed out: nothing to answer
    }
    const bool head_only = req.ok() && req->method == "HEAD";
    std::string out = render(respond(req), head_only);
    co_await asio::async_write(socket, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
    socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      asio::error_code ec;
      asio::ip::tcp::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        continue;
      }
      asio::co_spawn(io, serve(std::move(socket)), asio::detached);
    }
  }
};

AdminHttpServer::AdminHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<AdminHttpServer>> AdminHttpServer::start(const std::string& host, uint16_t port,
                                                                std::map<std::string, Handler> routes) {
  auto impl = std::make_unique<Impl>();
  impl->routes = std::move(routes);
  asio::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return make_error(fmt::format("admin.http.listener: bad address '{}'", host));
  asio::ip::tcp::endpoint endpoint(address, port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error(fmt::format("admin.http.listener {}:{}: {}", host, port, ec.message()));
  Impl* raw = impl.get();
  asio::co_spawn(raw->io, raw->accept_loop(), asio::detached);
  raw->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<AdminHttpServer>(new AdminHttpServer(std::move(impl)));
}

AdminHttpServer::~AdminHttpServer() {
  if (!impl_) return;
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t AdminHttpServer::port() const {
  asio::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

}  // namespace carelog::server
