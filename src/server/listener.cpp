#include "server/listener.h"

#include "config/broker_config.h"

namespace carelog::server {

std::string_view protocol_name(SecurityProtocol p) {
  switch (p) {
    case SecurityProtocol::kPlaintext:
      return "PLAINTEXT";
    case SecurityProtocol::kSsl:
      return "SSL";
    case SecurityProtocol::kSaslPlaintext:
      return "SASL_PLAINTEXT";
    case SecurityProtocol::kSaslSsl:
      return "SASL_SSL";
  }
  return "UNKNOWN";
}

std::vector<ListenerSpec> listener_specs(const config::BrokerConfig& config) {
  std::vector<ListenerSpec> out;
  for (const auto& l : config.listeners) {
    ListenerSpec s;
    s.name = l.name;
    s.protocol = static_cast<SecurityProtocol>(static_cast<int>(l.protocol));
    s.host = l.host;
    s.port = l.port;
    s.advertised_host = l.host;
    s.advertised_port = l.port;
    for (const auto& a : config.advertised_listeners) {
      if (a.name != l.name) continue;
      s.advertised_host = a.host;
      s.advertised_port = a.port;
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace carelog::server
