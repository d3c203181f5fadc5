#include "server/admin_http.h"

#include <fmt/core.h>

#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "common/log.h"
#include "server/http_listener.h"
#include "server/http_request_head.h"

namespace carelog::server {
namespace {

constexpr auto kReadTimeout = std::chrono::seconds(10);

std::string render(const HttpResponse& r, bool head_only) {
  return render_http_response(r.status, r.content_type, r.body, /*keep_alive=*/false, head_only);
}

}  // namespace

struct AdminHttpServer::Impl {
  std::map<std::string, Handler> routes;
  std::unique_ptr<HttpListener> listener;  // last: stopped first

  HttpResponse respond(const Result<HttpRequestHead>& req) {
    if (!req.ok()) return HttpResponse{400, "text/plain; charset=utf-8", req.error().message + "\n"};
    if (req->method != "GET" && req->method != "HEAD")
      return HttpResponse{405, "text/plain; charset=utf-8", "only GET\n"};
    auto it = routes.find(req->path);
    if (it == routes.end()) return HttpResponse{404, "text/plain; charset=utf-8", "not found\n"};
    return it->second();
  }

  asio::awaitable<void> serve(asio::ip::tcp::socket socket) {
    asio::steady_timer deadline(socket.get_executor());
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
};

AdminHttpServer::AdminHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<AdminHttpServer>> AdminHttpServer::start(const std::string& host, uint16_t port,
                                                                std::map<std::string, Handler> routes) {
  auto impl = std::make_unique<Impl>();
  impl->routes = std::move(routes);
  Impl* raw = impl.get();
  auto listener = HttpListener::start("admin.http.listener", host, port,
                                      [raw](asio::ip::tcp::socket s) { return raw->serve(std::move(s)); });
  if (!listener.ok()) return listener.take_error();
  impl->listener = std::move(*listener);
  return std::unique_ptr<AdminHttpServer>(new AdminHttpServer(std::move(impl)));
}

AdminHttpServer::~AdminHttpServer() = default;

uint16_t AdminHttpServer::port() const { return impl_->listener->port(); }

}  // namespace carelog::server
