// Parsers for the client messages of SASL PLAIN (RFC 4616) and SCRAM
// (RFC 5802), plus the base64 and saslname codecs SCRAM uses. Pure functions
// with no crypto and no I/O, so they can be fuzzed on their own
// (fuzz/fuzz_sasl.cpp).
//
// Every parse error is an Error{58 SASL_AUTHENTICATION_FAILED, message}
// whose message is safe to send to the client: it names what is malformed,
// never echoes secrets.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/base64.h"
#include "common/result.h"

namespace carelog::security {

inline constexpr int32_t kSaslAuthenticationFailed = 58;

// base64 (common/base64.h), under the names SCRAM code uses.
using carelog::base64_decode;
using carelog::base64_encode;

// SCRAM saslname: ',' is sent as "=2C" and '=' as "=3D"; any other '='
// sequence is malformed (nullopt).
std::optional<std::string> decode_saslname(std::string_view text);
std::string encode_saslname(std::string_view name);

struct ScramClientFirst {
  std::string gs2_header;  // "n,," or "n,a=<authzid>," (also "y,...")
  std::string authzid;     // decoded; empty when absent
  std::string username;    // decoded saslname
  std::string nonce;
  // Kafka's SCRAM extensions after the nonce (e.g. tokenauth=true).
  std::map<std::string, std::string> extensions;
  std::string bare;  // client-first-message-bare, as sent (for AuthMessage)
};

// Rejects channel binding ('p='), mandatory extensions ("m="), an empty
// user name or nonce, and characters SCRAM does not allow in a nonce.
Result<ScramClientFirst> parse_scram_client_first(std::string_view message);

struct ScramClientFinal {
  std::string channel_binding;  // decoded c= value (must equal the gs2 header)
  std::string nonce;
  std::vector<uint8_t> proof;  // decoded p= value
  std::string without_proof;   // client-final-message-without-proof, as sent
};

Result<ScramClientFinal> parse_scram_client_final(std::string_view message);

struct PlainCredentials {
  std::string authzid;
  std::string username;
  std::string password;
};

// "authzid NUL authcid NUL passwd" with a non-empty user and password.
Result<PlainCredentials> parse_plain(std::string_view message);

}  // namespace carelog::security
