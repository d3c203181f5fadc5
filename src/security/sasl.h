// SaslServer: the server side of one SASL exchange (one mechanism, one
// client), independent of the Kafka framing that carries the tokens
// (SaslHandshake/SaslAuthenticate, or raw tokens after SaslHandshake v0).
//
// Threading: one instance per exchange, used from the connection's thread
// only. Credential lookups go through the metadata store (thread-safe).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace carelog::metadata {
class MetadataStore;
}

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

}  // namespace carelog::security
