// SASL PLAIN (RFC 4616) verified against stored SCRAM credentials: the
// password is salted with the stored salt and iteration count, turned into
// a StoredKey and compared in constant time. So PLAIN needs no password
// store of its own and passwords are never stored in a reversible form.
#include <openssl/crypto.h>

#include "security/sasl_messages.h"
#include "security/sasl_servers.h"

namespace carelog::security {
namespace {

constexpr int32_t kIllegalSaslState = 34;

Error invalid_credentials() {
  return Error{kSaslAuthenticationFailed, "Authentication failed: Invalid username or password"};
}

class PlainServer final : public SaslServer {
 public:
  explicit PlainServer(ScramCredentialLookup lookup) : lookup_(std::move(lookup)) {}

  Result<std::vector<uint8_t>> evaluate(std::span<const uint8_t> token) override {
    if (done_) return Error{kIllegalSaslState, "SASL/PLAIN exchange already finished"};
    done_ = true;
    std::string_view message(reinterpret_cast<const char*>(token.data()), token.size());
    auto creds = parse_plain(message);
    if (!creds.ok()) return creds.take_error();
    Status st = verify(*creds);
    OPENSSL_cleanse(creds->password.data(), creds->password.size());
    if (!st.ok()) return st.error();
    username_ = creds->username;
    complete_ = true;
    return std::vector<uint8_t>{};
  }

  bool complete() const override { return complete_; }
  std::string authorization_id() const override { return complete_ ? username_ : std::string(); }

 private:
  Status verify(const PlainCredentials& creds) {
    if (!creds.authzid.empty() && creds.authzid != creds.username) {
      return Error{
          kSaslAuthenticationFailed,
          "Authentication failed: Client requested an authorization id that is different from username"};
    }
    std::optional<metadata::ScramCredentialRecord> cred;
    for (ScramMechanism m : {ScramMechanism::kSha512, ScramMechanism::kSha256}) {
      auto found = lookup_(creds.username, static_cast<int8_t>(m));
      if (!found.ok()) {
        return Error{kSaslAuthenticationFailed, "Authentication failed: the credential store is unavailable"};
      }
      if (found->has_value()) {
        cred = std::move(*found);
        break;
      }
    }
    if (!cred) {
      // Same work as a real check, so response time does not reveal the user.
      static const Bytes kDummySalt(32, 0x5a);
      (void)scram_salted_password(ScramMechanism::kSha512, creds.password, kDummySalt, kScramMinIterations);
      return invalid_credentials();
    }
    const ScramMechanism m = scram_mechanism_from_code(cred->mechanism);
    if (m == ScramMechanism::kUnknown || cred->iterations < 1) return invalid_credentials();
    Bytes salted = scram_salted_password(m, creds.password, cred->salt, cred->iterations);
    ScramKeys keys = scram_keys_from_salted_password(m, salted);
    OPENSSL_cleanse(salted.data(), salted.size());
    if (!constant_time_equal(keys.stored_key, cred->stored_key)) return invalid_credentials();
    return Status::OK();
  }

  ScramCredentialLookup lookup_;
  bool done_ = false;
  bool complete_ = false;
  std::string username_;
};

}  // namespace

std::unique_ptr<SaslServer> make_plain_server(ScramCredentialLookup lookup) {
  return std::make_unique<PlainServer>(std::move(lookup));
}

}  // namespace carelog::security
