// SaslHandshake and SaslAuthenticate. The exchange logic is SaslSession's;
// these handlers add the Kafka framing, the principal switch, audit events
// and the failed-login delay. On PLAINTEXT and SSL listeners both APIs
// answer ILLEGAL_SASL_STATE, as Kafka does once a connection is
// authenticated.
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "common/log.h"
#include "protocol/error_codes.h"
#include "protocol/messages/sasl_authenticate.h"
#include "protocol/messages/sasl_handshake.h"
#include "security/login_limiter.h"
#include "server/handlers/handlers.h"
#include "server/sasl_session.h"

namespace carelog::server {
namespace {

int16_t error_code(protocol::ErrorCode c) { return static_cast<int16_t>(c); }

}  // namespace

asio::awaitable<protocol::SaslHandshakeResponse> handle_sasl_handshake(RequestContext& ctx,
                                                                       protocol::SaslHandshakeRequest& req) {
  protocol::SaslHandshakeResponse resp;
  SaslSession* sasl = ctx.session.sasl;
  if (!sasl) {
    resp.error_code = error_code(protocol::ErrorCode::kIllegalSaslState);
    co_return resp;
  }
  auto r = sasl->handshake(req.mechanism, ctx.api_version);
  resp.error_code = r.error_code;
  resp.mechanisms = std::move(r.mechanisms);
  if (r.error_code != 0) {
    log::info("SASL handshake from {} on {} rejected: mechanism '{}' ({})", ctx.session.peer,
              ctx.session.listener_name, req.mechanism,
              protocol::error_name(static_cast<protocol::ErrorCode>(r.error_code)));
    audit_authentication(ctx.broker.audit, ctx.session, "SaslHandshake", ctx.client_id, false,
                         std::string(protocol::error_name(static_cast<protocol::ErrorCode>(r.error_code))));
  }
  co_return resp;
}

asio::awaitable<protocol::SaslAuthenticateResponse> handle_sasl_authenticate(
    RequestContext& ctx, protocol::SaslAuthenticateRequest& req) {
  protocol::SaslAuthenticateResponse resp;
  SaslSession* sasl = ctx.session.sasl;
  if (!sasl) {
    resp.error_code = error_code(protocol::ErrorCode::kIllegalSaslState);
    resp.error_message = "SaslAuthenticate request received after successful authentication";
    co_return resp;
  }
  auto r = sasl->authenticate(req.auth_bytes.span(), SaslSession::Clock::now());
  resp.error_code = r.error_code;
  resp.error_message = r.error_message;
  resp.auth_bytes = SharedBytes::from_vector(std::move(r.token));
  if (r.completed) {
    const bool reauth = ctx.session.authenticated;
    ctx.session.principal = r.principal;
    ctx.session.authenticated = true;
    resp.session_lifetime_ms = r.session_lifetime_ms;
    log::debug("{} {} as {} from {} on {} ({})", reauth ? "re-authenticated" : "authenticated",
               sasl->mechanism(), r.principal.to_string(), ctx.session.peer, ctx.session.listener_name,
               r.session_lifetime_ms > 0 ? "session " + std::to_string(r.session_lifetime_ms) + " ms"
                                         : std::string("no session expiry"));
    audit_authentication(ctx.broker.audit, ctx.session, "SaslAuthenticate", ctx.client_id, true,
                         sasl->mechanism());
    co_return resp;
  }
  if (r.error_code == 0) co_return resp;  // challenge; the exchange continues

  log::info("SASL authentication from {} on {} failed: {}", ctx.session.peer, ctx.session.listener_name,
            r.error_message.value_or(""));
  audit_authentication(ctx.broker.audit, ctx.session, "SaslAuthenticate", ctx.client_id, false,
                       std::string(protocol::error_name(static_cast<protocol::ErrorCode>(r.error_code))));
  if (sasl->limiter() && r.error_code == error_code(protocol::ErrorCode::kSaslAuthenticationFailed)) {
    // Delay the answer (the connection reads nothing meanwhile; the I/O
    // thread keeps serving everyone else).
    auto delay = sasl->limiter()->on_failure(ctx.session.client_host);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(delay);
    asio::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return resp;
}

}  // namespace carelog::server
