#include "security/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace carelog::security {
namespace {

constexpr int32_t kUnacceptableCredential = 93;
constexpr int32_t kUnsupportedSaslMechanism = 33;

const EVP_MD* digest(ScramMechanism m) { return m == ScramMechanism::kSha512 ? EVP_sha512() : EVP_sha256(); }

}  // namespace

ScramMechanism scram_mechanism_from_code(int8_t code) {
  if (code == 1) return ScramMechanism::kSha256;
  if (code == 2) return ScramMechanism::kSha512;
  return ScramMechanism::kUnknown;
}

ScramMechanism scram_mechanism_from_name(std::string_view name) {
  if (name == "SCRAM-SHA-256") return ScramMechanism::kSha256;
  if (name == "SCRAM-SHA-512") return ScramMechanism::kSha512;
  return ScramMechanism::kUnknown;
}

std::string_view scram_mechanism_name(ScramMechanism m) {
  switch (m) {
    case ScramMechanism::kSha256:
      return "SCRAM-SHA-256";
    case ScramMechanism::kSha512:
      return "SCRAM-SHA-512";
    default:
      return "UNKNOWN";
  }
}

size_t scram_digest_size(ScramMechanism m) {
  switch (m) {
    case ScramMechanism::kSha256:
      return 32;
    case ScramMechanism::kSha512:
      return 64;
    default:
      return 0;
  }
}

Bytes scram_salted_password(ScramMechanism m, std::string_view password, std::span<const uint8_t> salt,
                            int32_t iterations) {
  Bytes out(scram_digest_size(m));
  // Only fails on allocation failure or absurd arguments, which callers
  // never pass (iterations are validated, sizes are small).
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                    static_cast<int>(salt.size()), iterations, digest(m), static_cast<int>(out.size()),
                    out.data());
  return out;
}

Bytes scram_hmac(ScramMechanism m, std::span<const uint8_t> key, std::string_view data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  HMAC(digest(m), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  out.resize(len);
  return out;
}

Bytes scram_hash(ScramMechanism m, std::span<const uint8_t> data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, digest(m), nullptr);
  out.resize(len);
  return out;
}

ScramKeys scram_keys_from_salted_password(ScramMechanism m, std::span<const uint8_t> salted_password) {
  ScramKeys k;
  Bytes client_key = scram_hmac(m, salted_password, "Client Key");
  k.stored_key = scram_hash(m, client_key);
  k.server_key = scram_hmac(m, salted_password, "Server Key");
  OPENSSL_cleanse(client_key.data(), client_key.size());
  return k;
}

Result<Bytes> random_bytes(size_t n) {
  Bytes out(n);
  if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    return make_error("the random number generator failed");
  }
  return out;
}

Result<metadata::ScramCredentialRecord> make_scram_credential(const std::string& user, int8_t mechanism,
                                                              int32_t iterations,
                                                              std::span<const uint8_t> salt,
                                                              std::span<const uint8_t> salted_password) {
  if (user.empty()) return Error{kUnacceptableCredential, "Username must not be empty"};
  ScramMechanism m = scram_mechanism_from_code(mechanism);
  if (m == ScramMechanism::kUnknown) return Error{kUnsupportedSaslMechanism, "Unknown SCRAM mechanism"};
  if (iterations < kScramMinIterations) return Error{kUnacceptableCredential, "Too few iterations"};
  if (iterations > kScramMaxIterations) return Error{kUnacceptableCredential, "Too many iterations"};
  if (salt.empty()) return Error{kUnacceptableCredential, "Salt must not be empty"};
  if (salted_password.size() != scram_digest_size(m)) {
    return Error{kUnacceptableCredential, "Salted password length does not match the SCRAM mechanism"};
  }
  metadata::ScramCredentialRecord r;
  r.user = user;
  r.mechanism = mechanism;
  r.salt.assign(salt.begin(), salt.end());
  ScramKeys keys = scram_keys_from_salted_password(m, salted_password);
  r.stored_key = std::move(keys.stored_key);
  r.server_key = std::move(keys.server_key);
  r.iterations = iterations;
  return r;
}

Result<SaltedPassword> salt_password(ScramMechanism m, std::string_view password, int32_t iterations) {
  if (m == ScramMechanism::kUnknown) return Error{kUnsupportedSaslMechanism, "Unknown SCRAM mechanism"};
  auto salt = random_bytes(32);
  if (!salt.ok()) return salt.take_error();
  SaltedPassword out;
  out.salted_password = scram_salted_password(m, password, *salt, iterations);
  out.salt = std::move(*salt);
  return out;
}

bool constant_time_equal(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  // Lengths are not secret (they follow from the mechanism).
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace carelog::security
