// Principal: the identity a request runs as, in Kafka's "Type:Name" form
// (e.g. "User:alice", "User:ANONYMOUS"). Set on the connection's Session by
// the transport (TLS client certificate via ssl.principal.mapping.rules, or
// a completed SASL exchange) and read by the authorizer and the audit log.
#pragma once

#include <string>
#include <string_view>

namespace carelog::security {

struct Principal {
  std::string type = "User";
  std::string name = "ANONYMOUS";

  std::string to_string() const { return type + ":" + name; }
  bool is_anonymous() const { return type == "User" && name == "ANONYMOUS"; }
  friend bool operator==(const Principal&, const Principal&) = default;
};

// Parses "Type:Name" (the name may itself contain ':'); false when there is
// no ':' or either side is empty.
bool parse_principal(std::string_view text, Principal& out);

}  // namespace carelog::security
