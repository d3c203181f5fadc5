// ListenerSpec: one configured listener (Kafka's `listeners` entry joined
// with its `advertised.listeners` entry and security protocol).
//
// Plain values built once at start-up from the broker config; the Server
// keeps them for its lifetime and connections point at them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "server/session.h"

namespace carelog::config {
struct BrokerConfig;
}
namespace carelog::security {
class LoginLimiter;
class SslPrincipalMapper;
}  // namespace carelog::security

namespace carelog::server {

struct ListenerSpec {
  std::string name;  // e.g. "PLAINTEXT", "SASL_SSL", or a custom name
  SecurityProtocol protocol = SecurityProtocol::kPlaintext;
  std::string host;  // bind address; empty = all interfaces
  uint16_t port = 0;
  std::string advertised_host;
  uint16_t advertised_port = 0;  // 0 = the bound port
};

inline bool uses_tls(SecurityProtocol p) {
  return p == SecurityProtocol::kSsl || p == SecurityProtocol::kSaslSsl;
}
inline bool uses_sasl(SecurityProtocol p) {
  return p == SecurityProtocol::kSaslPlaintext || p == SecurityProtocol::kSaslSsl;
}
std::string_view protocol_name(SecurityProtocol p);

class TlsContextProvider;

// What a connection needs from its listener. Owned by the Server, which
// outlives its connections' use of it (connections are closed first).
struct ListenerRuntime {
  ListenerSpec spec;
  uint16_t bound_port = 0;
  TlsContextProvider* tls = nullptr;                               // TLS listeners only
  const security::SslPrincipalMapper* principal_mapper = nullptr;  // TLS listeners only
  security::LoginLimiter* limiter = nullptr;                       // SASL listeners only
};

// Pairs each configured listener with its advertised address (the listener
// of the same name in advertised.listeners, else its own address).
std::vector<ListenerSpec> listener_specs(const config::BrokerConfig& config);

}  // namespace carelog::server
