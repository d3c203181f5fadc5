#include "server/server.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <condition_variable>
#include <mutex>

#include "common/log.h"
#include "governance/governance.h"
#include "security/login_limiter.h"
#include "security/ssl_principal_mapper.h"
#include "server/connection.h"
#include "server/tls_context.h"

namespace carelog::server {

struct Server::Impl {
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>>> guards;
  std::vector<std::thread> threads;
  // Parallel vectors, one entry per listener; runtimes are stable (deque-like
  // unique_ptrs) because connections keep references to them.
  std::vector<std::unique_ptr<ListenerRuntime>> listeners;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors;
  // SSL listeners use ssl.client.auth; SASL_SSL listeners never ask for a
  // client certificate (Kafka applies ssl.client.auth to SASL_SSL only
  // through a listener-prefixed key, KIP-684), so they get their own context.
  std::unique_ptr<TlsContextProvider> tls;
  std::unique_ptr<TlsContextProvider> sasl_tls;
  std::unique_ptr<security::SslPrincipalMapper> principal_mapper;
  security::LoginLimiter limiter;  // failed SASL logins, shared by all SASL listeners
  std::unique_ptr<asio::steady_timer> reload_timer;
  std::unique_ptr<asio::steady_timer> policy_timer;  // governance.policy.file checks
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;
};

namespace {

Result<asio::ip::address> resolve_host(asio::io_context& io, const ListenerSpec& l) {
  asio::error_code ec;
  const std::string host = l.host.empty() ? "0.0.0.0" : l.host;
  auto addr = asio::ip::make_address(host, ec);
  if (!ec) return addr;
  // Host names (e.g. "localhost") are resolved once at start-up.
  asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(host, std::to_string(l.port), ec);
  if (ec || results.empty())
    return make_error("cannot resolve host '" + host + "' of listener " + l.name + ": " + ec.message());
  return results.begin()->endpoint().address();
}

asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor,
                                  std::vector<std::unique_ptr<asio::io_context>>& contexts,
                                  std::atomic<size_t>& next, BrokerContext& broker,
                                  const ListenerRuntime& listener) {
  while (true) {
    size_t idx = next.fetch_add(1) % contexts.size();
    asio::ip::tcp::socket socket(*contexts[idx]);
    asio::error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      log::warn("accept failed on listener {}: {}", listener.spec.name, ec.message());
      continue;
    }
    auto conn = std::make_shared<Connection>(std::move(socket), broker, listener);
    // Start on the connection's own thread.
    asio::post(*contexts[idx], [conn]() { conn->start(); });
  }
}

asio::awaitable<void> reload_loop(asio::steady_timer& timer, std::vector<TlsContextProvider*> providers,
                                  std::chrono::milliseconds interval) {
  while (true) {
    timer.expires_after(interval);
    asio::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    for (TlsContextProvider* p : providers) p->check_reload();
  }
}

// The governance policy file is checked the way TLS files are: its stamp
// (mtime, size) on a timer, a reload only when it changed.
asio::awaitable<void> policy_reload_loop(asio::steady_timer& timer, governance::Governance* g,
                                         std::chrono::milliseconds interval) {
  while (true) {
    timer.expires_after(interval);
    asio::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    g->check_reload();
  }
}

}  // namespace

Server::Server(BrokerContext& broker) : broker_(broker), impl_(std::make_unique<Impl>()) {}
Server::~Server() { stop(); }

uint16_t Server::bound_port() const {
  return impl_->listeners.empty() ? 0 : impl_->listeners.front()->bound_port;
}

uint16_t Server::bound_port(std::string_view listener) const {
  for (const auto& l : impl_->listeners)
    if (l->spec.name == listener) return l->bound_port;
  return 0;
}

Status Server::start() {
  const ServerOptions& o = broker_.options;
  std::vector<ListenerSpec> specs = o.listeners;
  if (specs.empty()) {
    specs.push_back(ListenerSpec{"PLAINTEXT", SecurityProtocol::kPlaintext, o.listen_host, o.listen_port,
                                 o.advertised_host, o.advertised_port});
  }
  int n = std::max(1, o.io_threads);
  for (int i = 0; i < n; ++i) {
    impl_->contexts.push_back(std::make_unique<asio::io_context>(1));
    impl_->guards.push_back(std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
        impl_->contexts.back()->get_executor()));
  }

  // One TLS setup for every SSL listener, one for every SASL_SSL listener.
  auto any = [&](SecurityProtocol p) {
    return std::any_of(specs.begin(), specs.end(), [p](const ListenerSpec& l) { return l.protocol == p; });
  };
  if (any(SecurityProtocol::kSsl) || any(SecurityProtocol::kSaslSsl)) {
    if (!broker_.config) return make_error("TLS listeners need the broker configuration (ssl.* keys)");
    TlsSettings settings = tls_settings_from_config(*broker_.config);
    if (any(SecurityProtocol::kSsl)) {
      auto tls = TlsContextProvider::create(settings);
      if (!tls.ok()) return make_error("TLS: " + tls.error().message);
      impl_->tls = std::move(*tls);
    }
    if (any(SecurityProtocol::kSaslSsl)) {
      settings.client_auth = ClientAuth::kNone;
      auto tls = TlsContextProvider::create(settings);
      if (!tls.ok()) return make_error("TLS: " + tls.error().message);
      impl_->sasl_tls = std::move(*tls);
    }
    auto rules = broker_.config->raw.count("ssl.principal.mapping.rules")
                     ? broker_.config->raw.at("ssl.principal.mapping.rules")
                     : std::string("DEFAULT");
    auto mapper = security::SslPrincipalMapper::parse(rules);
    if (!mapper.ok()) return mapper.take_error();
    impl_->principal_mapper = std::make_unique<security::SslPrincipalMapper>(std::move(*mapper));
  }

  for (const ListenerSpec& spec : specs) {
    auto addr = resolve_host(*impl_->contexts[0], spec);
    if (!addr.ok()) return addr.take_error();
    asio::ip::tcp::endpoint ep(*addr, spec.port);
    auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(*impl_->contexts[0]);
    asio::error_code ec;
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return make_error("cannot listen on " + spec.host + ":" + std::to_string(spec.port) + " (listener " +
                        spec.name + "): " + ec.message());
    }
    auto rt = std::make_unique<ListenerRuntime>();
    rt->spec = spec;
    rt->bound_port = acceptor->local_endpoint().port();
    if (uses_tls(spec.protocol)) {
      rt->tls = spec.protocol == SecurityProtocol::kSsl ? impl_->tls.get() : impl_->sasl_tls.get();
      rt->principal_mapper = impl_->principal_mapper.get();
    }
    if (uses_sasl(spec.protocol)) rt->limiter = &impl_->limiter;
    impl_->listeners.push_back(std::move(rt));
    impl_->acceptors.push_back(std::move(acceptor));
  }

  for (size_t i = 0; i < impl_->acceptors.size(); ++i) {
    asio::co_spawn(
        *impl_->contexts[0],
        accept_loop(*impl_->acceptors[i], impl_->contexts, impl_->next, broker_, *impl_->listeners[i]),
        asio::detached);
  }
  std::vector<TlsContextProvider*> providers;
  for (auto* p : {impl_->tls.get(), impl_->sasl_tls.get()})
    if (p) providers.push_back(p);
  if (!providers.empty() && providers.front()->settings().reload_check_interval_ms > 0) {
    impl_->reload_timer = std::make_unique<asio::steady_timer>(*impl_->contexts[0]);
    auto interval = std::chrono::milliseconds(providers.front()->settings().reload_check_interval_ms);
    asio::co_spawn(*impl_->contexts[0], reload_loop(*impl_->reload_timer, std::move(providers), interval),
                   asio::detached);
  }

  if (governance::Governance* g = broker_.governance;
      g && !g->options().policy_file.empty() && g->options().check_interval_ms > 0) {
    impl_->policy_timer = std::make_unique<asio::steady_timer>(*impl_->contexts[0]);
    asio::co_spawn(*impl_->contexts[0],
                   policy_reload_loop(*impl_->policy_timer, g,
                                      std::chrono::milliseconds(g->options().check_interval_ms)),
                   asio::detached);
  }

  for (int i = 0; i < n; ++i) {
    impl_->threads.emplace_back([ctx = impl_->contexts[i].get()]() { ctx->run(); });
  }
  for (const auto& l : impl_->listeners) {
    log::info("listening on {}:{} (listener {}, {}), advertised as {}:{}", l->spec.host, l->bound_port,
              l->spec.name, protocol_name(l->spec.protocol), l->spec.advertised_host,
              l->spec.advertised_port ? l->spec.advertised_port : l->bound_port);
  }
  log::info("{} I/O threads", n);
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
  if (!impl_->contexts.empty()) {
    asio::post(*impl_->contexts[0], [impl = impl_.get()]() {
      asio::error_code ec;
      for (auto& a : impl->acceptors) a->close(ec);
      if (impl->reload_timer) impl->reload_timer->cancel();
      if (impl->policy_timer) impl->policy_timer->cancel();
    });
  }
  for (auto& ctx : impl_->contexts) ctx->stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->guards.clear();
}

}  // namespace carelog::server
