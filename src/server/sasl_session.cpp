#include "server/sasl_session.h"

#include <algorithm>

#include "audit/audit_sink.h"
#include "protocol/error_codes.h"
#include "server/session.h"

namespace carelog::server {
namespace {

int16_t code(protocol::ErrorCode c) { return static_cast<int16_t>(c); }

}  // namespace

SaslSession::SaslSession(std::vector<std::string> mechanisms, int64_t max_reauth_ms, ServerFactory factory,
                         security::LoginLimiter* limiter)
    : mechanisms_(std::move(mechanisms)),
      max_reauth_ms_(max_reauth_ms),
      factory_(std::move(factory)),
      limiter_(limiter) {}

SaslSession::HandshakeResult SaslSession::handshake(std::string_view mechanism, int16_t version) {
  HandshakeResult r;
  r.mechanisms = mechanisms_;
  const bool reauth = state_ == State::kComplete;
  if (state_ != State::kHandshake && !reauth) {
    r.error_code = code(protocol::ErrorCode::kIllegalSaslState);
    close_requested_ = true;
    return r;
  }
  const bool enabled = std::find(mechanisms_.begin(), mechanisms_.end(), mechanism) != mechanisms_.end();
  std::unique_ptr<security::SaslServer> server = enabled ? factory_(mechanism) : nullptr;
  // KIP-368: re-authentication uses SaslAuthenticate (handshake v1+) and the
  // mechanism of the first authentication.
  if (!server || (reauth && (version < 1 || mechanism != previous_mechanism_))) {
    r.error_code = code(protocol::ErrorCode::kUnsupportedSaslMechanism);
    close_requested_ = true;
    return r;
  }
  mechanism_ = std::string(mechanism);
  server_ = std::move(server);
  state_ = version == 0 ? State::kRawTokens : State::kAuthenticate;
  return r;
}

SaslSession::AuthResult SaslSession::fail(int16_t error, std::string message) {
  AuthResult r;
  r.error_code = error;
  r.error_message = std::move(message);
  close_requested_ = true;
  server_.reset();
  return r;
}

SaslSession::AuthResult SaslSession::authenticate(std::span<const uint8_t> token, Clock::time_point now) {
  if ((state_ != State::kAuthenticate && state_ != State::kRawTokens) || !server_) {
    return fail(code(protocol::ErrorCode::kIllegalSaslState),
                "SaslAuthenticate request received while not expecting one (send SaslHandshake first)");
  }
  auto reply = server_->evaluate(token);
  if (!reply.ok()) {
    return fail(
        code(protocol::ErrorCode::kSaslAuthenticationFailed),
        "Authentication failed during authentication due to invalid credentials with SASL mechanism " +
            mechanism_ + ": " + reply.error().message);
  }
  AuthResult r;
  r.token = std::move(*reply);
  if (!server_->complete()) return r;

  security::Principal principal;
  principal.type = "User";
  principal.name = server_->authorization_id();
  if (previous_principal_ && !(*previous_principal_ == principal)) {
    return fail(code(protocol::ErrorCode::kSaslAuthenticationFailed),
                "Cannot change principals during re-authentication from " + previous_principal_->to_string() +
                    " to " + principal.to_string());
  }
  r.completed = true;
  r.principal = principal;
  r.session_lifetime_ms = max_reauth_ms_;
  if (max_reauth_ms_ > 0) {
    expiry_ = now + std::chrono::milliseconds(max_reauth_ms_);
  } else {
    expiry_.reset();
  }
  previous_mechanism_ = mechanism_;
  previous_principal_ = principal;
  server_.reset();
  state_ = State::kComplete;
  return r;
}

void audit_authentication(audit::AuditSink* sink, const Session& session, std::string_view api,
                          const std::optional<std::string>& client_id, bool success, std::string detail) {
  if (!sink) return;
  audit::AuditEvent e;
  e.category = audit::Category::kAuthentication;
  e.api = std::string(api);
  e.action = audit::Action::kExecute;
  e.outcome = success ? audit::Outcome::kSuccess : audit::Outcome::kMinorFailure;
  e.outcome_detail = std::move(detail);
  e.principal = session.principal.to_string();
  e.client_id = client_id.value_or("");
  e.client_address = session.peer;
  e.listener = session.listener_name;
  sink->record(std::move(e));
}

}  // namespace carelog::server
