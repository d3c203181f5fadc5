// SaslSession: the server side of Kafka's SASL framing on one connection
// (SaslHandshake v0-1, SaslAuthenticate v0-2, raw tokens after a v0
// handshake, KIP-368 re-authentication), independent of the mechanism.
//
// States, as Kafka's SaslServerAuthenticator:
//   kHandshake     only ApiVersions and SaslHandshake are accepted
//   kAuthenticate  after SaslHandshake v1: SaslAuthenticate requests
//   kRawTokens     after SaslHandshake v0: size-prefixed raw SASL tokens
//   kComplete      authenticated; a SaslHandshake starts re-authentication
// Any failure sets close_requested(): the connection sends the pending
// response (if any) and closes, as Kafka does.
//
// Ownership and threading: owned by its Connection and used only on the
// connection's thread. Session::sasl points at it on SASL listeners.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "security/principal.h"
#include "security/sasl.h"

namespace carelog::audit {
class AuditSink;
}
namespace carelog::security {
class LoginLimiter;
}

namespace carelog::server {

struct Session;

class SaslSession {
 public:
  enum class State { kHandshake, kAuthenticate, kRawTokens, kComplete };
  using Clock = std::chrono::steady_clock;
  using ServerFactory = std::function<std::unique_ptr<security::SaslServer>(std::string_view mechanism)>;

  // `mechanisms`: sasl.enabled.mechanisms. `max_reauth_ms`:
  // connections.max.reauth.ms (0 = sessions never expire).
  SaslSession(std::vector<std::string> mechanisms, int64_t max_reauth_ms, ServerFactory factory,
              security::LoginLimiter* limiter = nullptr);

  struct HandshakeResult {
    int16_t error_code = 0;
    std::vector<std::string> mechanisms;  // what the response lists
  };
  HandshakeResult handshake(std::string_view mechanism, int16_t version);

  struct AuthResult {
    int16_t error_code = 0;
    std::optional<std::string> error_message;
    std::vector<uint8_t> token;       // server reply
    bool completed = false;           // this step finished the exchange
    security::Principal principal;    // when completed
    int64_t session_lifetime_ms = 0;  // when completed (0 = no expiry)
  };
  // One SaslAuthenticate request (state kAuthenticate) or one raw token
  // (state kRawTokens).
  AuthResult authenticate(std::span<const uint8_t> token, Clock::time_point now);

  State state() const { return state_; }
  bool close_requested() const { return close_requested_; }
  // True once the session lifetime has passed; Kafka then closes the
  // connection on any request but a SaslHandshake (re-authentication).
  bool expired(Clock::time_point now) const { return expiry_ && now >= *expiry_; }
  bool reauthenticating() const { return !previous_mechanism_.empty() && state_ != State::kComplete; }
  const std::string& mechanism() const { return mechanism_; }
  // Shared failed-login limiter (owned by the Server); may be null.
  security::LoginLimiter* limiter() const { return limiter_; }

 private:
  AuthResult fail(int16_t code, std::string message);

  const std::vector<std::string> mechanisms_;
  const int64_t max_reauth_ms_;
  const ServerFactory factory_;
  security::LoginLimiter* const limiter_;
  State state_ = State::kHandshake;
  bool close_requested_ = false;
  std::string mechanism_;
  std::unique_ptr<security::SaslServer> server_;
  std::optional<Clock::time_point> expiry_;
  // Set after the first success: re-authentication must keep both.
  std::string previous_mechanism_;
  std::optional<security::Principal> previous_principal_;
};

// Reports one authentication attempt to the audit stream (no-op when `sink`
// is null). `api` is "SaslAuthenticate", "SaslHandshake" or "TLS";
// `detail` is an error name or reason and never contains secrets.
void audit_authentication(audit::AuditSink* sink, const Session& session, std::string_view api,
                          const std::optional<std::string>& client_id, bool success, std::string detail);

}  // namespace carelog::server
