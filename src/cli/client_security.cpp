#include "cli/client_security.h"

#include <fmt/core.h>

#include <set>

#include "config/properties.h"

namespace carelog::cli {

Result<ClientSecurity> parse_client_security(const std::map<std::string, std::string>& props) {
  static const std::set<std::string> kKnown = {
      "security.protocol", "ssl.ca.location",  "ssl.certificate.location",
      "ssl.key.location",  "ssl.key.password", "ssl.endpoint.identification.algorithm",
      "sasl.mechanism",    "sasl.mechanisms",  "sasl.username",
      "sasl.password"};
  ClientSecurity s;
  s.properties = props;
  for (const auto& [k, v] : props)
    if (!kKnown.count(k)) return make_error(fmt::format("unknown client property '{}'", k));
  auto get = [&](const std::string& k) {
    auto it = props.find(k);
    return it == props.end() ? std::string() : it->second;
  };
  std::string protocol = get("security.protocol");
  for (auto& c : protocol) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (protocol.empty() || protocol == "PLAINTEXT") {
  } else if (protocol == "SSL") {
    s.tls = true;
  } else if (protocol == "SASL_PLAINTEXT") {
    s.sasl = true;
  } else if (protocol == "SASL_SSL") {
    s.tls = s.sasl = true;
  } else {
    return make_error(fmt::format(
        "security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, not '{}'", protocol));
  }
  s.tls_config.ca_file = get("ssl.ca.location");
  s.tls_config.cert_file = get("ssl.certificate.location");
  s.tls_config.key_file = get("ssl.key.location");
  s.tls_config.key_password = get("ssl.key.password");
  std::string ident = get("ssl.endpoint.identification.algorithm");
  if (!ident.empty() && ident != "https" && ident != "none")
    return make_error(
        fmt::format("ssl.endpoint.identification.algorithm must be https or none, not '{}'", ident));
  s.tls_config.verify_hostname = ident != "none";
  if (s.tls_config.cert_file.empty() != s.tls_config.key_file.empty())
    return make_error("ssl.certificate.location and ssl.key.location go together");
  std::string mech = get("sasl.mechanism").empty() ? get("sasl.mechanisms") : get("sasl.mechanism");
  if (!mech.empty()) s.sasl_mechanism = mech;
  if (s.sasl_mechanism != "PLAIN" && s.sasl_mechanism != "SCRAM-SHA-256" &&
      s.sasl_mechanism != "SCRAM-SHA-512")
    return make_error(fmt::format("sasl.mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, not '{}'",
                                  s.sasl_mechanism));
  s.sasl_username = get("sasl.username");
  s.sasl_password = get("sasl.password");
  if (s.sasl && s.sasl_username.empty())
    return make_error(fmt::format("security.protocol={} needs sasl.username and sasl.password", protocol));
  if (!s.sasl && (!s.sasl_username.empty() || !mech.empty()))
    return make_error("sasl.* settings need security.protocol=SASL_PLAINTEXT or SASL_SSL");
  if (!s.tls && (!s.tls_config.ca_file.empty() || !s.tls_config.cert_file.empty()))
    return make_error("ssl.* settings need security.protocol=SSL or SASL_SSL");
  return s;
}

Result<std::map<std::string, std::string>> load_client_properties(
    const std::string& file, const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::map<std::string, std::string> out;
  if (!file.empty()) {
    auto props = config::load_properties_file(file);
    if (!props.ok()) return make_error(props.error().message);
    for (const auto& [k, v] : *props) out[k] = v.value;
  }
  for (const auto& [k, v] : overrides) out[k] = v;
  return out;
}

}  // namespace carelog::cli
