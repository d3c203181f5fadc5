// fuzz_sasl: arbitrary bytes as SASL client tokens (PLAIN and SCRAM).
//
// The first input byte selects the target; the rest is split at the first
// 0xFF byte into up to two client tokens:
//  0: parse_plain, parse_scram_client_first, parse_scram_client_final and
//     decode_saslname on the whole rest; parsed fields must satisfy the
//     grammar (non-empty user and nonce, no ',' in the nonce, the bare
//     message a suffix of the input);
//  1: base64: decode(encode(bytes)) == bytes, and decode never crashes;
//  2: a SCRAM-SHA-256 / -512 server fed both tokens, user "alice" known;
//  3: a PLAIN server fed the first token.
// A server must never report completion for input that cannot hold the
// right proof or password.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "security/sasl.h"
#include "security/sasl_messages.h"
#include "security/scram.h"

namespace {

using namespace carelog;
using namespace carelog::security;

// Few iterations keep PLAIN's PBKDF2 cheap so the fuzzer stays fast (the
// stored-credential bounds are make_scram_credential's business, tested in
// security_tests).
constexpr int32_t kFuzzIterations = 16;

const metadata::ScramCredentialRecord& alice(int8_t mechanism) {
  static const auto make = [](int8_t m) {
    metadata::ScramCredentialRecord r;
    r.user = "alice";
    r.mechanism = m;
    r.salt = {1, 2, 3, 4, 5, 6, 7, 8};
    r.iterations = kFuzzIterations;
    // A password the fuzzer cannot plausibly produce.
    Bytes salted = scram_salted_password(scram_mechanism_from_code(m), "0123456789abcdef0123456789abcdef",
                                         r.salt, r.iterations);
    ScramKeys keys = scram_keys_from_salted_password(scram_mechanism_from_code(m), salted);
    r.stored_key = keys.stored_key;
    r.server_key = keys.server_key;
    return r;
  };
  static const metadata::ScramCredentialRecord sha256 = make(1), sha512 = make(2);
  return mechanism == 2 ? sha512 : sha256;
}

Result<std::optional<metadata::ScramCredentialRecord>> lookup(const std::string& user, int8_t mechanism) {
  if (user == "alice" && (mechanism == 1 || mechanism == 2)) return std::optional(alice(mechanism));
  return std::optional<metadata::ScramCredentialRecord>();
}

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void check_parsers(std::string_view in) {
  (void)parse_plain(in);
  (void)decode_saslname(in);
  auto first = parse_scram_client_first(in);
  if (first.ok()) {
    FUZZ_CHECK(!first->username.empty() && !first->nonce.empty(), "empty user or nonce accepted");
    FUZZ_CHECK(first->nonce.find(',') == std::string::npos, "nonce with a comma");
    FUZZ_CHECK(in.size() >= first->bare.size() && in.substr(in.size() - first->bare.size()) == first->bare,
               "bare message is not the end of the input");
    FUZZ_CHECK(first->gs2_header + first->bare == in, "header and bare do not make up the input");
  }
  auto final_msg = parse_scram_client_final(in);
  if (final_msg.ok()) {
    FUZZ_CHECK(!final_msg->proof.empty(), "empty proof accepted");
    FUZZ_CHECK(in.substr(0, final_msg->without_proof.size()) == final_msg->without_proof,
               "without_proof is not a prefix");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0] % 4;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t sep = rest.find('\xff');
  std::string_view tok1 = rest.substr(0, sep);
  std::string_view tok2 = sep == std::string_view::npos ? std::string_view() : rest.substr(sep + 1);

  switch (mode) {
    case 0:
      check_parsers(rest);
      break;
    case 1: {
      auto decoded = base64_decode(base64_encode(bytes_of(rest)));
      FUZZ_CHECK(decoded && std::string_view(reinterpret_cast<const char*>(decoded->data()),
                                             decoded->size()) == rest,
                 "base64 round trip");
      (void)base64_decode(rest);
      break;
    }
    case 2: {
      auto server = make_sasl_server((data[0] & 4) ? "SCRAM-SHA-512" : "SCRAM-SHA-256", lookup);
      auto r1 = server->evaluate(bytes_of(tok1));
      if (r1.ok()) (void)server->evaluate(bytes_of(tok2));
      FUZZ_CHECK(!server->complete(), "SCRAM exchange completed without the password");
      break;
    }
    case 3: {
      auto server = make_sasl_server("PLAIN", lookup);
      (void)server->evaluate(bytes_of(tok1));
      FUZZ_CHECK(!server->complete(), "PLAIN login without the password");
      break;
    }
  }
  return 0;
}
