// SCRAM building blocks (RFC 5802, RFC 7677) shared by the SASL servers, the
// AlterUserScramCredentials handler and the `carelog user` CLI: mechanism
// codes, the key derivations (SaltedPassword, StoredKey, ServerKey) and the
// bounds Kafka puts on stored credentials.
//
// Only salted credentials are ever stored: a credential is (salt, iterations,
// StoredKey, ServerKey); the password and SaltedPassword are never persisted.
//
// Stateless functions over OpenSSL; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "metadata/metadata_store.h"

namespace carelog::security {

// Kafka's ScramMechanism wire codes (DescribeUserScramCredentials and
// AlterUserScramCredentials) and the stored `mechanism` column.
enum class ScramMechanism : int8_t { kUnknown = 0, kSha256 = 1, kSha512 = 2 };

// Kafka's iteration bounds for stored credentials.
inline constexpr int32_t kScramMinIterations = 4096;
inline constexpr int32_t kScramMaxIterations = 16384;

// kUnknown for anything but 1 and 2.
ScramMechanism scram_mechanism_from_code(int8_t code);
// "SCRAM-SHA-256" / "SCRAM-SHA-512" <-> mechanism; kUnknown when not a SCRAM name.
ScramMechanism scram_mechanism_from_name(std::string_view name);
std::string_view scram_mechanism_name(ScramMechanism m);
// Digest length in bytes (32 or 64); 0 for kUnknown.
size_t scram_digest_size(ScramMechanism m);

using Bytes = std::vector<uint8_t>;

// Hi(password, salt, iterations) = PBKDF2-HMAC-<hash>.
Bytes scram_salted_password(ScramMechanism m, std::string_view password, std::span<const uint8_t> salt,
                            int32_t iterations);
Bytes scram_hmac(ScramMechanism m, std::span<const uint8_t> key, std::string_view data);
Bytes scram_hash(ScramMechanism m, std::span<const uint8_t> data);

// StoredKey = H(HMAC(SaltedPassword, "Client Key")); ServerKey =
// HMAC(SaltedPassword, "Server Key").
struct ScramKeys {
  Bytes stored_key;
  Bytes server_key;
};
ScramKeys scram_keys_from_salted_password(ScramMechanism m, std::span<const uint8_t> salted_password);

// `n` cryptographically random bytes (RAND_bytes); an error if the RNG fails.
Result<Bytes> random_bytes(size_t n);

// Validates a credential upsertion the way Kafka does and builds the stored
// record. Errors (Kafka codes): 93 UNACCEPTABLE_CREDENTIAL for an empty user,
// iterations outside [4096, 16384], an empty salt or a salted password whose
// length is not the digest size; 33 UNSUPPORTED_SASL_MECHANISM for an unknown
// mechanism.
Result<metadata::ScramCredentialRecord> make_scram_credential(const std::string& user, int8_t mechanism,
                                                              int32_t iterations,
                                                              std::span<const uint8_t> salt,
                                                              std::span<const uint8_t> salted_password);

// Client-side convenience (CLI, tests): a random 32-byte salt, then the
// SaltedPassword for `password`.
struct SaltedPassword {
  Bytes salt;
  Bytes salted_password;
};
Result<SaltedPassword> salt_password(ScramMechanism m, std::string_view password, int32_t iterations);

// True when a and b are equal, in time independent of where they differ.
bool constant_time_equal(std::span<const uint8_t> a, std::span<const uint8_t> b);

}  // namespace carelog::security
