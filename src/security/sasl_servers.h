// The concrete SASL servers behind make_sasl_server (sasl.h). Internal to the
// security module; other modules go through make_sasl_server.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "security/sasl.h"
#include "security/scram.h"

namespace carelog::security {

// The server's part of the SCRAM nonce (printable ASCII except ',').
using ScramNonceFn = std::function<Result<std::string>()>;

// nullptr for ScramMechanism::kUnknown. `server_nonce` is for tests (RFC
// vectors); by default 18 random bytes, base64-encoded.
std::unique_ptr<SaslServer> make_scram_server(ScramMechanism mechanism, ScramCredentialLookup lookup,
                                              ScramNonceFn server_nonce = nullptr);

// PLAIN checked against stored SCRAM credentials. Runs PBKDF2 with the
// stored iteration count inside evaluate() (a few milliseconds at 4096
// SHA-512 iterations), also for unknown users so timing does not reveal them.
std::unique_ptr<SaslServer> make_plain_server(ScramCredentialLookup lookup);

}  // namespace carelog::security
