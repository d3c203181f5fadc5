// Server side of SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802, RFC 7677) in the
// two rounds Kafka uses: client-first -> server-first, client-final ->
// server-final. No channel binding (Kafka has none); Kafka's delegation
// token extension is refused.
//
// An unknown user is not revealed at the first step: the exchange goes on
// with a made-up credential (a salt derived from the user name with a
// per-process secret, so repeated attempts see the same salt) and fails at
// the proof check with the same message as a wrong password.
#include <openssl/crypto.h>

#include <mutex>

#include "security/sasl.h"
#include "security/sasl_messages.h"
#include "security/sasl_servers.h"
#include "security/scram.h"

namespace carelog::security {
namespace {

constexpr int32_t kIllegalSaslState = 34;
constexpr size_t kServerNonceBytes = 18;  // 24 base64 characters, no padding
constexpr int32_t kFakeIterations = kScramMinIterations;

Error auth_failed(std::string message) { return Error{kSaslAuthenticationFailed, std::move(message)}; }

// Per-process secret for made-up salts. If the RNG fails the secret stays
// zero, which only makes fake salts predictable, not credentials weaker.
const Bytes& fake_salt_secret() {
  static const Bytes secret = [] {
    auto r = random_bytes(32);
    return r.ok() ? std::move(*r) : Bytes(32, 0);
  }();
  return secret;
}

class ScramServer final : public SaslServer {
 public:
  ScramServer(ScramMechanism mechanism, ScramCredentialLookup lookup, ScramNonceFn server_nonce)
      : mechanism_(mechanism), lookup_(std::move(lookup)), server_nonce_(std::move(server_nonce)) {}
  ~ScramServer() override {
    OPENSSL_cleanse(credential_.stored_key.data(), credential_.stored_key.size());
    OPENSSL_cleanse(credential_.server_key.data(), credential_.server_key.size());
  }

  Result<std::vector<uint8_t>> evaluate(std::span<const uint8_t> token) override {
    std::string_view message(reinterpret_cast<const char*>(token.data()), token.size());
    Result<std::vector<uint8_t>> out = Error{kIllegalSaslState, "SCRAM exchange already finished"};
    switch (state_) {
      case State::kExpectClientFirst:
        out = on_client_first(message);
        break;
      case State::kExpectClientFinal:
        out = on_client_final(message);
        break;
      case State::kComplete:
      case State::kFailed:
        break;
    }
    state_ = out.ok() ? state_ : State::kFailed;
    return out;
  }

  bool complete() const override { return state_ == State::kComplete; }
  std::string authorization_id() const override { return complete() ? username_ : std::string(); }

 private:
  enum class State { kExpectClientFirst, kExpectClientFinal, kComplete, kFailed };

  Error invalid_credentials() const {
    return auth_failed(
        "Authentication failed during authentication due to invalid credentials with SASL mechanism " +
        std::string(scram_mechanism_name(mechanism_)));
  }

  Result<std::vector<uint8_t>> on_client_first(std::string_view message) {
    auto first = parse_scram_client_first(message);
    if (!first.ok()) return first.take_error();
    if (!first->authzid.empty() && first->authzid != first->username) {
      return auth_failed(
          "Authentication failed: Client requested an authorization id that is different from username");
    }
    auto token = first->extensions.find("tokenauth");
    if (token != first->extensions.end() && token->second == "true") {
      return auth_failed("Authentication failed: delegation tokens are not supported");
    }
    auto cred = lookup_(first->username, static_cast<int8_t>(mechanism_));
    if (!cred.ok()) return auth_failed("Authentication failed: the credential store is unavailable");
    if (cred->has_value()) {
      credential_ = std::move(**cred);
      known_user_ = true;
    } else {
      make_fake_credential(first->username);
    }
    auto server_nonce = server_nonce_();
    if (!server_nonce.ok()) return auth_failed("Authentication failed: internal error");

    username_ = first->username;
    gs2_header_ = first->gs2_header;
    client_first_bare_ = first->bare;
    nonce_ = first->nonce + *server_nonce;
    server_first_ = "r=" + nonce_ + ",s=" + base64_encode(credential_.salt) +
                    ",i=" + std::to_string(credential_.iterations);
    state_ = State::kExpectClientFinal;
    return std::vector<uint8_t>(server_first_.begin(), server_first_.end());
  }

  Result<std::vector<uint8_t>> on_client_final(std::string_view message) {
    auto final_msg = parse_scram_client_final(message);
    if (!final_msg.ok()) return final_msg.take_error();
    if (final_msg->channel_binding != gs2_header_) {
      return auth_failed("Invalid SCRAM client final message: channel binding does not match");
    }
    // Kafka accepts a final nonce that merely ends with the combined nonce:
    // librdkafka before 2.1 sends the client nonce twice. The proof still
    // covers the message exactly as sent, so this weakens nothing.
    const std::string_view got = final_msg->nonce;
    const bool nonce_ok = got.size() >= nonce_.size() && got.substr(got.size() - nonce_.size()) == nonce_;
    if (!nonce_ok) return auth_failed("Invalid SCRAM client final message: nonce mismatch");
    const std::string auth_message =
        client_first_bare_ + "," + server_first_ + "," + final_msg->without_proof;
    Bytes signature = scram_hmac(mechanism_, credential_.stored_key, auth_message);
    if (final_msg->proof.size() != signature.size()) return invalid_credentials();
    Bytes client_key(signature.size());
    for (size_t i = 0; i < signature.size(); ++i) client_key[i] = final_msg->proof[i] ^ signature[i];
    Bytes computed = scram_hash(mechanism_, client_key);
    OPENSSL_cleanse(client_key.data(), client_key.size());
    const bool proof_ok = constant_time_equal(computed, credential_.stored_key);
    if (!proof_ok || !known_user_) return invalid_credentials();
    Bytes server_signature = scram_hmac(mechanism_, credential_.server_key, auth_message);
    std::string reply = "v=" + base64_encode(server_signature);
    state_ = State::kComplete;
    return std::vector<uint8_t>(reply.begin(), reply.end());
  }

  void make_fake_credential(const std::string& user) {
    const std::string salt_input = std::string(scram_mechanism_name(mechanism_)) + '\0' + user;
    credential_.salt = scram_hmac(ScramMechanism::kSha256, fake_salt_secret(), salt_input);
    credential_.iterations = kFakeIterations;
    // Random keys: no proof can match them.
    auto keys = random_bytes(2 * scram_digest_size(mechanism_));
    Bytes k = keys.ok() ? std::move(*keys) : Bytes(2 * scram_digest_size(mechanism_), 0);
    credential_.stored_key.assign(k.begin(), k.begin() + static_cast<long>(k.size() / 2));
    credential_.server_key.assign(k.begin() + static_cast<long>(k.size() / 2), k.end());
    known_user_ = false;
  }

  const ScramMechanism mechanism_;
  ScramCredentialLookup lookup_;
  ScramNonceFn server_nonce_;
  State state_ = State::kExpectClientFirst;
  metadata::ScramCredentialRecord credential_;
  bool known_user_ = false;
  std::string username_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string nonce_;
  std::string server_first_;
};

}  // namespace

std::unique_ptr<SaslServer> make_scram_server(ScramMechanism mechanism, ScramCredentialLookup lookup,
                                              ScramNonceFn server_nonce) {
  if (mechanism == ScramMechanism::kUnknown) return nullptr;
  if (!server_nonce) {
    server_nonce = []() -> Result<std::string> {
      auto bytes = random_bytes(kServerNonceBytes);
      if (!bytes.ok()) return bytes.take_error();
      return base64_encode(*bytes);
    };
  }
  return std::make_unique<ScramServer>(mechanism, std::move(lookup), std::move(server_nonce));
}

}  // namespace carelog::security
