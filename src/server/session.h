// Session: the security state of one client connection: which listener it
// came in on, its address, and the principal its requests run as.
//
// Ownership and threading: owned by the Connection and used only on the
// connection's thread; handlers see it through RequestContext::session.
// The transport sets the principal (TLS client certificate) and SASL
// replaces it when an exchange completes; the authorizer and the audit log
// only read it.
#pragma once

#include <cstdint>
#include <string>

#include "security/principal.h"

namespace carelog::server {

class SaslSession;

enum class SecurityProtocol { kPlaintext, kSsl, kSaslPlaintext, kSaslSsl };

struct Session {
  std::string listener_name = "PLAINTEXT";
  SecurityProtocol protocol = SecurityProtocol::kPlaintext;
  std::string peer;               // "ip:port" of the client, for logs and audit
  std::string client_host;        // "ip" only, what ACL host patterns match
  security::Principal principal;  // User:ANONYMOUS until authenticated
  // False on SASL listeners until an exchange completes; until then only
  // ApiVersions, SaslHandshake and SaslAuthenticate are served.
  bool authenticated = true;
  // This listener's advertised endpoint: Metadata, DescribeCluster and
  // FindCoordinator answer with the address of the listener the client used.
  std::string advertised_host = "127.0.0.1";
  int32_t advertised_port = 9092;
  // SASL exchange state on SASL_* listeners (owned by the Connection), null
  // on PLAINTEXT and SSL listeners.
  SaslSession* sasl = nullptr;
};

}  // namespace carelog::server
