#include "server/connection.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include "common/log.h"
#include "protocol/error_codes.h"
#include "security/login_limiter.h"
#include "security/ssl_principal_mapper.h"
#include "server/dispatch.h"
#include "server/sasl_session.h"
#include "server/tls_context.h"

namespace carelog::server {
namespace {

constexpr int16_t kApiVersionsKey = 18;
constexpr int16_t kSaslHandshakeKey = 17;
constexpr int16_t kSaslAuthenticateKey = 36;
// A client that connects to a TLS port and says nothing is dropped.
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, BrokerContext& broker, const ListenerRuntime& listener)
    : broker_(broker),
      listener_(listener),
      writer_signal_(socket.get_executor()),
      reader_signal_(socket.get_executor()) {
  asio::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  session_.client_host = ec ? "unknown" : ep.address().to_string();
  session_.peer = ec ? "unknown" : session_.client_host + ":" + std::to_string(ep.port());
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  const ListenerSpec& spec = listener.spec;
  session_.listener_name = spec.name;
  session_.protocol = spec.protocol;
  session_.advertised_host = spec.advertised_host;
  session_.advertised_port = spec.advertised_port != 0 ? spec.advertised_port : listener.bound_port;
  if (uses_tls(spec.protocol) && listener.tls) {
    stream_ = make_tls_stream(std::move(socket), listener.tls->current());
  } else {
    stream_ = make_tcp_stream(std::move(socket));
  }
  if (uses_sasl(spec.protocol)) {
    metadata::MetadataStore* store = broker.metadata;
    sasl_ = std::make_unique<SaslSession>(
        broker.options.sasl_enabled_mechanisms, broker.options.connections_max_reauth_ms,
        [store](std::string_view mechanism) -> std::unique_ptr<security::SaslServer> {
          return store ? security::make_sasl_server(mechanism, *store) : nullptr;
        },
        listener.limiter);
    session_.sasl = sasl_.get();
    session_.authenticated = false;
  }
  writer_signal_.expires_at(asio::steady_timer::time_point::max());
  reader_signal_.expires_at(asio::steady_timer::time_point::max());
}

Connection::~Connection() = default;

void Connection::start() {
  auto self = shared_from_this();
  asio::co_spawn(
      stream_->socket().get_executor(), [self]() { return self->run(); }, asio::detached);
}

void Connection::wake_writer() { writer_signal_.cancel(); }
void Connection::wake_reader() { reader_signal_.cancel(); }

void Connection::close(const char* why) {
  if (closed_) return;
  closed_ = true;
  log::debug("closing connection from {}: {}", peer_, why);
  stream_->close();
  wake_writer();
  wake_reader();
}

asio::awaitable<void> Connection::run() {
  auto self = shared_from_this();
  if (uses_tls(listener_.spec.protocol) && !co_await tls_handshake()) co_return;
  asio::co_spawn(
      stream_->socket().get_executor(), [self]() { return self->write_loop(); }, asio::detached);
  co_await read_loop();
}

asio::awaitable<bool> Connection::tls_handshake() {
  asio::steady_timer deadline(stream_->socket().get_executor());
  deadline.expires_after(kHandshakeTimeout);
  auto self = shared_from_this();
  deadline.async_wait([self](asio::error_code ec) {
    if (!ec) self->close("TLS handshake timed out");
  });
  asio::error_code ec = co_await stream_->handshake();
  deadline.cancel();
  const bool sasl = uses_sasl(listener_.spec.protocol);
  if (ec || closed_) {
    // Plaintext clients, untrusted or expired certificates and protocol
    // mismatches all end here; OpenSSL's reason is in `ec`.
    std::string reason = closed_ ? "timed out" : ec.message();
    log::info("TLS handshake with {} on listener {} failed: {}", peer_, listener_.spec.name, reason);
    audit_authentication(broker_.audit, session_, "TLS", std::nullopt, false,
                         "SSL handshake failed: " + reason);
    close("TLS handshake failed");
    co_return false;
  }
  std::optional<std::string> subject = stream_->peer_subject();
  if (subject && !sasl && listener_.principal_mapper) {
    auto name = listener_.principal_mapper->map(*subject);
    if (!name.ok()) {
      log::info("TLS client {} on listener {} rejected: {}", peer_, listener_.spec.name,
                name.error().message);
      audit_authentication(broker_.audit, session_, "TLS", std::nullopt, false, name.error().message);
      close("no principal mapping rule");
      co_return false;
    }
    session_.principal = security::Principal{"User", *name};
  }
  log::debug("TLS connection from {} on {} ({}), principal {}", peer_, listener_.spec.name,
             stream_->tls_summary(), session_.principal.to_string());
  if (!sasl) {
    audit_authentication(broker_.audit, session_, "TLS", std::nullopt, true,
                         subject ? "client certificate" : "no client certificate");
  }
  co_return true;
}

Connection::Gate Connection::gate(int16_t api_key, std::string& why) const {
  if (!sasl_) return Gate::kPipeline;
  const bool sasl_api = api_key == kSaslHandshakeKey || api_key == kSaslAuthenticateKey;
  if (sasl_->state() != SaslSession::State::kComplete) {
    // Kafka closes connections that send anything else mid-exchange.
    if (sasl_api || api_key == kApiVersionsKey) return Gate::kSerial;
    why = "request (API key " + std::to_string(api_key) + ") before SASL authentication completed";
    return Gate::kReject;
  }
  if (sasl_->expired(SaslSession::Clock::now()) && api_key != kSaslHandshakeKey) {
    why = "SASL session expired (connections.max.reauth.ms) without re-authentication";
    return Gate::kReject;
  }
  return sasl_api ? Gate::kSerial : Gate::kPipeline;
}

bool Connection::may_read_more() const {
  if (slots_.empty()) return true;
  return static_cast<int>(slots_.size()) < broker_.options.max_inflight_per_connection &&
         inflight_bytes_ < broker_.options.max_inflight_bytes_per_connection;
}

asio::awaitable<void> Connection::read_loop() {
  auto self = shared_from_this();
  const int32_t max_size = broker_.options.socket_request_max_bytes;
  while (!closed_) {
    // Back-pressure: stop reading while too many requests are in flight.
    while (!closed_ && !may_read_more()) {
      asio::error_code ec;
      co_await reader_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      reader_signal_.expires_at(asio::steady_timer::time_point::max());
    }
    if (closed_) break;
    uint8_t size_buf[4];
    asio::error_code ec = co_await stream_->read(asio::buffer(size_buf, 4));
    if (ec) break;  // EOF or reset: normal end of a connection
    int32_t size = static_cast<int32_t>((uint32_t(size_buf[0]) << 24) | (uint32_t(size_buf[1]) << 16) |
                                        (uint32_t(size_buf[2]) << 8) | uint32_t(size_buf[3]));
    const bool raw_token = sasl_ && sasl_->state() == SaslSession::State::kRawTokens;
    if (size < (raw_token ? 0 : 8) || size > max_size) {
      // Kafka closes connections whose size prefix is invalid or larger than
      // socket.request.max.bytes, without reading the body.
      log::warn("closing connection from {}: invalid request size {} (socket.request.max.bytes={})", peer_,
                size, max_size);
      close("invalid size");
      break;
    }
    std::shared_ptr<uint8_t[]> buf(new uint8_t[static_cast<size_t>(std::max(size, 1))]);
    ec = co_await stream_->read(asio::buffer(buf.get(), static_cast<size_t>(size)));
    if (ec) break;
    const uint8_t* data = buf.get();
    SharedBytes frame(std::shared_ptr<const uint8_t[]>(std::move(buf)), data, static_cast<size_t>(size));
    if (raw_token) {
      if (!co_await serve_raw_token(std::move(frame))) break;
      continue;
    }
    std::string why;
    const int16_t api_key = static_cast<int16_t>((uint16_t(data[0]) << 8) | data[1]);
    Gate g = gate(api_key, why);
    if (g == Gate::kReject) {
      log::info("closing connection from {} on {}: {}", peer_, session_.listener_name, why);
      close("rejected by SASL state");
      break;
    }
    auto slot = std::make_shared<Slot>();
    slot->request_bytes = static_cast<size_t>(size);
    inflight_bytes_ += size;
    slots_.push_back(slot);
    if (g == Gate::kSerial) {
      // SASL requests run alone: the next frame's meaning (request or raw
      // token, allowed or not) depends on this one's outcome.
      co_await serve(slot, std::move(frame));
      if (sasl_->close_requested()) break;  // the writer flushes the answer, then closes
      continue;
    }
    // Started in order on this thread; each handler runs synchronously until
    // its first suspension, so per-partition appends keep request order.
    asio::co_spawn(stream_->socket().get_executor(), serve(slot, std::move(frame)), asio::detached);
  }
  reading_done_ = true;
  wake_writer();
}

asio::awaitable<bool> Connection::serve_raw_token(SharedBytes frame) {
  auto r = sasl_->authenticate(frame.span(), SaslSession::Clock::now());
  if (r.error_code != 0) {
    log::info("SASL authentication (raw tokens) from {} on {} failed: {}", peer_, session_.listener_name,
              r.error_message.value_or(""));
    audit_authentication(broker_.audit, session_, "SaslAuthenticate", std::nullopt, false,
                         std::string(protocol::error_name(static_cast<protocol::ErrorCode>(r.error_code))));
    if (listener_.limiter) {
      asio::steady_timer timer(stream_->socket().get_executor());
      timer.expires_after(listener_.limiter->on_failure(session_.client_host));
      asio::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    // Raw-token clients have no error frame: Kafka just closes.
    close("SASL authentication failed");
    co_return false;
  }
  if (r.completed) {
    session_.principal = r.principal;
    session_.authenticated = true;
    log::debug("authenticated {} as {} from {} on {} (SaslHandshake v0)", sasl_->mechanism(),
               r.principal.to_string(), peer_, session_.listener_name);
    audit_authentication(broker_.audit, session_, "SaslAuthenticate", std::nullopt, true, sasl_->mechanism());
  }
  auto slot = std::make_shared<Slot>();
  slot->done = true;
  slot->send = true;
  const uint32_t n = static_cast<uint32_t>(r.token.size());
  slot->frame = {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8),
                 static_cast<uint8_t>(n)};
  slot->frame.insert(slot->frame.end(), r.token.begin(), r.token.end());
  slots_.push_back(std::move(slot));
  wake_writer();
  co_return true;
}

asio::awaitable<void> Connection::serve(std::shared_ptr<Slot> slot, SharedBytes frame) {
  auto self = shared_from_this();
  DispatchOutcome out;
  try {
    out = co_await dispatch(broker_, session_, std::move(frame));
  } catch (const std::exception& e) {
    log::error("handler failed for {}: {}", peer_, e.what());
    out.action = DispatchOutcome::Action::kClose;
    out.reason = "internal error";
  }
  if (out.action == DispatchOutcome::Action::kClose) {
    log::warn("closing connection from {}: {}", peer_, out.reason);
    close("request rejected");
  }
  slot->done = true;
  slot->send = out.action == DispatchOutcome::Action::kRespond;
  slot->frame = std::move(out.frame);
  slot->splices = std::move(out.splices);
  wake_writer();
}

asio::awaitable<void> Connection::write_loop() {
  auto self = shared_from_this();
  std::vector<asio::const_buffer> buffers;
  std::vector<std::shared_ptr<Slot>> batch;
  while (true) {
    // Gather every completed response at the head of the queue.
    batch.clear();
    buffers.clear();
    while (!slots_.empty() && slots_.front()->done) {
      auto slot = slots_.front();
      slots_.pop_front();
      inflight_bytes_ -= static_cast<int64_t>(slot->request_bytes);
      if (slot->send && !closed_) {
        // Scatter-gather: the frame's pieces and the spliced batches in
        // between (kept alive by `batch` until the write completes).
        size_t from = 0;
        for (const auto& sp : slot->splices) {
          if (sp.pos > from) buffers.emplace_back(asio::buffer(slot->frame.data() + from, sp.pos - from));
          buffers.emplace_back(asio::buffer(sp.bytes.data(), sp.bytes.size()));
          from = sp.pos;
        }
        buffers.emplace_back(asio::buffer(slot->frame.data() + from, slot->frame.size() - from));
        batch.push_back(std::move(slot));
      }
    }
    if (!batch.empty() || may_read_more()) wake_reader();
    if (!buffers.empty()) {
      asio::error_code ec = co_await stream_->write(buffers);
      if (ec) close("write failed");
      continue;
    }
    if ((closed_ || reading_done_) && slots_.empty()) break;
    asio::error_code ec;
    co_await writer_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    writer_signal_.expires_at(asio::steady_timer::time_point::max());
  }
  if (!closed_) close("client closed");
}

}  // namespace carelog::server
