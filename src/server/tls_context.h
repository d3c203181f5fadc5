// TLS server configuration: Kafka's ssl.* keys turned into an OpenSSL
// context, and a provider that re-reads the keystore/truststore files when
// they change (certificate rotation without restart).
//
// Threading: TlsContextProvider::current() and check_reload() may be called
// from any thread (a mutex guards the current context). A reload builds a
// new context; connections keep the one they started with (shared_ptr).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"

namespace asio::ssl {
class context;
}
namespace carelog::config {
struct BrokerConfig;
}

namespace carelog::server {

enum class ClientAuth { kNone, kRequested, kRequired };

struct TlsSettings {
  std::string keystore_type = "PEM";  // PEM or PKCS12
  std::string keystore_location;
  std::string keystore_password;           // secret
  std::string key_password;                // secret
  std::string keystore_certificate_chain;  // inline PEM
  std::string keystore_key;                // inline PEM, secret
  std::string truststore_location;
  std::string truststore_certificates;  // inline PEM
  ClientAuth client_auth = ClientAuth::kNone;
  std::vector<std::string> enabled_protocols = {"TLSv1.2", "TLSv1.3"};
  std::vector<std::string> cipher_suites;  // empty = OpenSSL defaults
  int64_t reload_check_interval_ms = 5000;
};

// Reads the ssl.* keys (listener.name.<lower-case name>.ssl.* overrides are
// not supported yet: one TLS setup serves every TLS listener).
TlsSettings tls_settings_from_config(const config::BrokerConfig& config);

// Builds a server context; the Error says which file or setting is wrong.
Result<std::shared_ptr<asio::ssl::context>> build_tls_context(const TlsSettings& settings);

class TlsContextProvider {
 public:
  static Result<std::unique_ptr<TlsContextProvider>> create(TlsSettings settings);

  std::shared_ptr<asio::ssl::context> current() const;
  const TlsSettings& settings() const { return settings_; }

  // Rebuilds the context when a keystore or truststore file changed since
  // the last attempt. Returns true after a successful reload; a failed one
  // logs an error and keeps the previous context.
  bool check_reload();

 private:
  explicit TlsContextProvider(TlsSettings settings) : settings_(std::move(settings)) {}
  std::string file_stamps() const;

  const TlsSettings settings_;
  mutable std::mutex mu_;
  std::shared_ptr<asio::ssl::context> current_;  // guarded by mu_
  std::string stamps_;                           // guarded by mu_; last attempted files
};

}  // namespace carelog::server
