#include "cli/sasl_client.h"

#include <fmt/core.h>

#include <charconv>
#include <optional>
#include <vector>

#include "cli/kafka_client.h"
#include "common/base64.h"
#include "protocol/error_codes.h"
#include "protocol/messages/sasl_authenticate.h"
#include "protocol/messages/sasl_handshake.h"

namespace carelog::cli {
namespace {

using protocol::ErrorCode;
using protocol::to_int;

Error auth_error(const std::string& what) {
  return make_error("SCRAM: " + what, to_int(ErrorCode::kSaslAuthenticationFailed));
}

// The value of attribute `name` ("r", "s", ...) in a comma-separated SCRAM message.
std::optional<std::string_view> attribute(std::string_view msg, char name) {
  while (!msg.empty()) {
    size_t comma = msg.find(',');
    std::string_view part = msg.substr(0, comma);
    if (part.size() >= 2 && part[0] == name && part[1] == '=') return part.substr(2);
    if (comma == std::string_view::npos) break;
    msg.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

std::string escape_username(std::string_view user) {
  std::string out;
  for (char c : user) {
    if (c == ',')
      out += "=2C";
    else if (c == '=')
      out += "=3D";
    else
      out += c;
  }
  return out;
}

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::string plain_initial_response(std::string_view user, std::string_view password) {
  std::string out;
  out.reserve(user.size() + password.size() + 2);
  out += '\0';
  out += user;
  out += '\0';
  out += password;
  return out;
}

ScramClient::ScramClient(security::ScramMechanism mechanism, std::string user, std::string password,
                         std::string nonce)
    : mechanism_(mechanism),
      user_(std::move(user)),
      password_(std::move(password)),
      nonce_(std::move(nonce)) {}

std::string ScramClient::client_first() const { return "n,,n=" + escape_username(user_) + ",r=" + nonce_; }

Result<std::string> ScramClient::client_final(std::string_view server_first) {
  if (auto e = attribute(server_first, 'e')) return auth_error(fmt::format("server refused: {}", *e));
  auto r = attribute(server_first, 'r');
  auto s = attribute(server_first, 's');
  auto i = attribute(server_first, 'i');
  if (!r || !s || !i) return auth_error("server-first-message lacks r, s or i");
  if (r->size() <= nonce_.size() || r->substr(0, nonce_.size()) != nonce_)
    return auth_error("the server's nonce does not extend the client's");
  auto salt = base64_decode(*s);
  if (!salt || salt->empty()) return auth_error("the salt is not base64");
  int32_t iterations = 0;
  auto [p, ec] = std::from_chars(i->data(), i->data() + i->size(), iterations);
  if (ec != std::errc() || p != i->data() + i->size() || iterations < 1)
    return auth_error(fmt::format("invalid iteration count '{}'", *i));
  // A client that accepted any count could be made to spin (or to use a
  // weak one); Kafka's own bounds.
  if (iterations < security::kScramMinIterations || iterations > security::kScramMaxIterations)
    return auth_error(fmt::format("iteration count {} outside Kafka's {}-{}", iterations,
                                  security::kScramMinIterations, security::kScramMaxIterations));

  const std::string without_proof = "c=biws,r=" + std::string(*r);
  const std::string client_first_bare = client_first().substr(3);
  const std::string auth_message = client_first_bare + "," + std::string(server_first) + "," + without_proof;
  auto salted = security::scram_salted_password(mechanism_, password_, *salt, iterations);
  auto client_key = security::scram_hmac(mechanism_, salted, "Client Key");
  auto keys = security::scram_keys_from_salted_password(mechanism_, salted);
  auto client_signature = security::scram_hmac(mechanism_, keys.stored_key, auth_message);
  std::vector<uint8_t> proof(client_key.size());
  for (size_t k = 0; k < proof.size(); ++k) proof[k] = client_key[k] ^ client_signature[k];
  expected_server_signature_ = base64_encode(security::scram_hmac(mechanism_, keys.server_key, auth_message));
  return without_proof + ",p=" + base64_encode(proof);
}

Status ScramClient::verify_server_final(std::string_view server_final) const {
  if (auto e = attribute(server_final, 'e')) return auth_error(fmt::format("server refused: {}", *e));
  auto v = attribute(server_final, 'v');
  if (!v) return auth_error("server-final-message lacks v");
  if (expected_server_signature_.empty()) return auth_error("server-final-message before client-final");
  if (!security::constant_time_equal(bytes_of(*v), bytes_of(expected_server_signature_)))
    return auth_error("the server's signature is wrong: it does not know this user's credential");
  return Status::OK();
}

}  // namespace carelog::cli

// --- the exchange over a KafkaClient ---

namespace carelog::cli {

Status KafkaClient::authenticate() {
  const ClientSecurity& s = options_.security;
  auto hv = version_for(protocol::SaslHandshakeRequest::kApiKey);
  if (!hv.ok()) return hv.error();
  if (*hv < 1)  // v0 frames tokens outside SaslAuthenticate; Kafka clients have used v1 since 1.0
    return make_error("broker supports only SaslHandshake v0", to_int(ErrorCode::kUnsupportedVersion));
  protocol::SaslHandshakeRequest hs;
  hs.mechanism = s.sasl_mechanism;
  auto hr = send<protocol::SaslHandshakeResponse>(hs);
  if (!hr.ok()) return hr.error();
  if (hr->error_code != 0) {
    std::string enabled;
    for (const auto& m : hr->mechanisms) enabled += (enabled.empty() ? "" : ", ") + m;
    return make_error(fmt::format("broker refused SASL mechanism {} (it enables: {})", s.sasl_mechanism,
                                  enabled.empty() ? "none" : enabled),
                      hr->error_code);
  }
  auto exchange = [&](const std::string& token) -> Result<std::string> {
    protocol::SaslAuthenticateRequest req;
    req.auth_bytes = SharedBytes::copy_of(token);
    auto resp = send<protocol::SaslAuthenticateResponse>(req);
    if (!resp.ok()) return resp.take_error();
    if (resp->error_code != 0)
      return make_error(fmt::format("SASL {} as {}: {}", s.sasl_mechanism, s.sasl_username,
                                    resp->error_message.value_or("authentication failed")),
                        resp->error_code);
    return std::string(reinterpret_cast<const char*>(resp->auth_bytes.data()), resp->auth_bytes.size());
  };
  if (s.sasl_mechanism == "PLAIN") {
    auto r = exchange(plain_initial_response(s.sasl_username, s.sasl_password));
    if (!r.ok()) return r.error();
    return Status::OK();
  }
  auto nonce = security::random_bytes(24);
  if (!nonce.ok()) return nonce.error();
  ScramClient scram(security::scram_mechanism_from_name(s.sasl_mechanism), s.sasl_username, s.sasl_password,
                    base64_encode(*nonce));
  auto server_first = exchange(scram.client_first());
  if (!server_first.ok()) return server_first.error();
  auto final_msg = scram.client_final(*server_first);
  if (!final_msg.ok()) return final_msg.error();
  auto server_final = exchange(*final_msg);
  if (!server_final.ok()) return server_final.error();
  return scram.verify_server_final(*server_final);
}

}  // namespace carelog::cli
