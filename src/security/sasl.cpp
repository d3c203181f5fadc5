#include "security/sasl.h"

#include "security/sasl_servers.h"

namespace carelog::security {

std::vector<std::string> supported_sasl_mechanisms() { return {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}; }

std::unique_ptr<SaslServer> make_sasl_server(std::string_view mechanism, ScramCredentialLookup lookup) {
  if (mechanism == "PLAIN") return make_plain_server(std::move(lookup));
  return make_scram_server(scram_mechanism_from_name(mechanism), std::move(lookup));
}

std::unique_ptr<SaslServer> make_sasl_server(std::string_view mechanism, metadata::MetadataStore& store) {
  metadata::MetadataStore* s = &store;
  return make_sasl_server(mechanism,
                          [s](const std::string& user, int8_t m) { return s->scram_credential(user, m); });
}

}  // namespace carelog::security
