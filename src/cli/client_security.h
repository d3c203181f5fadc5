// How the admin CLI connects to brokers: TLS and SASL settings, given as
// librdkafka-style properties (`--command-config FILE` and `-X key=value`;
// docs/cli.md). The same keys pass through unchanged to the librdkafka
// consumer of `replay-check --group`.
//
//   security.protocol                     PLAINTEXT (default), SSL, SASL_PLAINTEXT, SASL_SSL
//   ssl.ca.location                       PEM CA bundle to verify the broker (default: the system store)
//   ssl.certificate.location              PEM client certificate (mTLS)
//   ssl.key.location, ssl.key.password    PEM private key of that certificate
//   ssl.endpoint.identification.algorithm https (default: the certificate must name the host) or none
//   sasl.mechanism                        PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (default PLAIN)
//   sasl.username, sasl.password
//
// Unknown keys are usage errors, so a typo never silently connects in clear.
// Value type, no I/O except reading the properties file.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace carelog::cli {

struct TlsClientConfig {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string key_password;
  bool verify_hostname = true;
};

struct ClientSecurity {
  bool tls = false;
  bool sasl = false;
  TlsClientConfig tls_config;
  std::string sasl_mechanism = "PLAIN";
  std::string sasl_username;
  std::string sasl_password;
  // Every key as given, for librdkafka.
  std::map<std::string, std::string> properties;
};

// Validates `props` (see the header comment); errors have code -1.
Result<ClientSecurity> parse_client_security(const std::map<std::string, std::string>& props);

// The keys of a properties file (none if `file` is empty), then `overrides` on top.
Result<std::map<std::string, std::string>> load_client_properties(
    const std::string& file, const std::vector<std::pair<std::string, std::string>>& overrides);

}  // namespace carelog::cli
