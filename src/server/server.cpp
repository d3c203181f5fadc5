#include "server/server.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <condition_variable>
#include <mutex>

#include "common/log.h"
#include "server/connection.h"

namespace carelog::server {

struct Server::Impl {
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>>> guards;
  std::vector<std::thread> threads;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor;
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;
};

Server::Server(BrokerContext& broker) : broker_(broker), impl_(std::make_unique<Impl>()) {}
Server::~Server() { stop(); }

Status Server::start() {
  int n = std::max(1, broker_.options.io_threads);
  for (int i = 0; i < n; ++i) {
    impl_->contexts.push_back(std::make_unique<asio::io_context>(1));
    impl_->guards.push_back(std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
        impl_->contexts.back()->get_executor()));
  }
  asio::error_code ec;
  auto addr = asio::ip::make_address(broker_.options.listen_host, ec);
  if (ec) {
    // Host names (e.g. "localhost") are resolved once at start-up.
    asio::ip::tcp::resolver resolver(*impl_->contexts[0]);
    auto results =
        resolver.resolve(broker_.options.listen_host, std::to_string(broker_.options.listen_port), ec);
    if (ec || results.empty()) {
      return make_error("cannot resolve listener host '" + broker_.options.listen_host +
                        "': " + ec.message());
    }
    addr = results.begin()->endpoint().address();
  }
  asio::ip::tcp::endpoint ep(addr, broker_.options.listen_port);
  auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(*impl_->contexts[0]);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error("cannot listen on " + broker_.options.listen_host + ":" +
                      std::to_string(broker_.options.listen_port) + ": " + ec.message());
  }
  bound_port_ = acceptor->local_endpoint().port();
  impl_->acceptor = std::move(acceptor);

  Impl* impl = impl_.get();
  BrokerContext* broker = &broker_;
  asio::co_spawn(
      *impl_->contexts[0],
      [impl, broker]() -> asio::awaitable<void> {
        while (true) {
          size_t idx = impl->next.fetch_add(1) % impl->contexts.size();
          asio::ip::tcp::socket socket(*impl->contexts[idx]);
          asio::error_code ec;
          co_await impl->acceptor->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
          if (ec) {
            if (ec == asio::error::operation_aborted || !impl->acceptor->is_open()) co_return;
            log::warn("accept failed: {}", ec.message());
            continue;
          }
          auto conn = std::make_shared<Connection>(std::move(socket), *broker);
          // Start on the connection's own thread.
          asio::post(*impl->contexts[idx], [conn]() { conn->start(); });
        }
      },
      asio::detached);

  for (int i = 0; i < n; ++i) {
    impl_->threads.emplace_back([ctx = impl_->contexts[i].get()]() { ctx->run(); });
  }
  log::info("listening on {}:{} ({} I/O threads)", broker_.options.listen_host, bound_port_, n);
  return Status::OK();
}

void Server::wait() {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait(lock, [this] { return impl_->stopped; });
}

void Server::stop() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->cv.notify_all();
  if (impl_->acceptor && !impl_->contexts.empty()) {
    asio::post(*impl_->contexts[0], [impl = impl_.get()]() {
      asio::error_code ec;
      impl->acceptor->close(ec);
    });
  }
  for (auto& ctx : impl_->contexts) ctx->stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->guards.clear();
}

}  // namespace carelog::server
