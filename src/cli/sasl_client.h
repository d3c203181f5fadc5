// The client side of SASL for the admin CLI: PLAIN (RFC 4616) and
// SCRAM-SHA-256/512 (RFC 5802, RFC 7677) as Kafka runs them inside
// SaslAuthenticate (KafkaClient::connect drives the exchange; KIP-152).
//
// ScramClient is pure (nonce injected) so the RFC test vectors can check it.
// Single use, not thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "security/scram.h"

namespace carelog::cli {

// "\0user\0password": authzid empty, so the principal is the user.
std::string plain_initial_response(std::string_view user, std::string_view password);

class ScramClient {
 public:
  ScramClient(security::ScramMechanism mechanism, std::string user, std::string password, std::string nonce);

  // "n,,n=<user>,r=<nonce>" (',' and '=' in the user escaped as =2C / =3D).
  std::string client_first() const;
  // From the server's "r=...,s=...,i=..." (the nonce must extend ours):
  // "c=biws,r=<nonce>,p=<proof>". Errors (SASL_AUTHENTICATION_FAILED) say what is wrong.
  Result<std::string> client_final(std::string_view server_first);
  // The server's "v=<signature>" must match; "e=<error>" is its refusal.
  Status verify_server_final(std::string_view server_final) const;

 private:
  security::ScramMechanism mechanism_;
  std::string user_;
  std::string password_;
  std::string nonce_;
  std::string expected_server_signature_;  // base64, set by client_final
};

}  // namespace carelog::cli
