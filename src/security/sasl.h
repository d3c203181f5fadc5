// SaslServer: the server side of one SASL exchange (one mechanism, one
// client), independent of the Kafka framing that carries the tokens
// (SaslHandshake/SaslAuthenticate, or raw tokens after SaslHandshake v0).
//
// Threading: one instance per exchange, used from the connection's thread
// only. Credential lookups go through the metadata store (thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "metadata/metadata_store.h"

namespace carelog::security {

class SaslServer {
 public:
  virtual ~SaslServer() = default;
  // Consumes one client token and returns the server's reply (possibly
  // empty). An Error means authentication failed: its message is safe to
  // send to the client and to log (never contains secrets).
  virtual Result<std::vector<uint8_t>> evaluate(std::span<const uint8_t> client_token) = 0;
  // True once the exchange succeeded; then authorization_id() is the user.
  virtual bool complete() const = 0;
  virtual std::string authorization_id() const = 0;
};

// Mechanisms this build implements, in Kafka's spelling ("PLAIN",
// "SCRAM-SHA-256", "SCRAM-SHA-512").
std::vector<std::string> supported_sasl_mechanisms();

// Creates the server side of `mechanism`; nullptr when unsupported. `store`
// must outlive the returned object.
std::unique_ptr<SaslServer> make_sasl_server(std::string_view mechanism, metadata::MetadataStore& store);

// Where the servers find stored SCRAM credentials: the credential of `user`
// for Kafka mechanism code `mechanism` (1 SHA-256, 2 SHA-512), nullopt when
// the user has none. make_sasl_server(mechanism, store) uses the metadata
// store; tests and the fuzzer pass their own.
using ScramCredentialLookup = std::function<Result<std::optional<metadata::ScramCredentialRecord>>(
    const std::string& user, int8_t mechanism)>;

// As above with an explicit credential source. PLAIN verifies the password
// against the user's SCRAM-SHA-512 credential, else its SCRAM-SHA-256 one.
std::unique_ptr<SaslServer> make_sasl_server(std::string_view mechanism, ScramCredentialLookup lookup);

}  // namespace carelog::security
