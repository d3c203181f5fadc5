#include "security/sasl_messages.h"

namespace carelog::security {
namespace {

Error malformed(std::string what) { return Error{kSaslAuthenticationFailed, std::move(what)}; }

// Splits at ',' (SCRAM attributes never contain a raw comma).
std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t comma = s.find(',', start);
    if (comma == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
}

// RFC 5802 nonce: printable ASCII except ','.
bool valid_nonce(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

// "x=value" with the expected single-letter key.
std::optional<std::string_view> attribute(std::string_view part, char key) {
  if (part.size() < 2 || part[0] != key || part[1] != '=') return std::nullopt;
  return part.substr(2);
}

}  // namespace

std::optional<std::string> decode_saslname(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ',') return std::nullopt;
    if (text[i] != '=') {
      out.push_back(text[i]);
      continue;
    }
    std::string_view esc = text.substr(i + 1, 2);
    if (esc == "2C") {
      out.push_back(',');
    } else if (esc == "3D") {
      out.push_back('=');
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return out;
}

std::string encode_saslname(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<ScramClientFirst> parse_scram_client_first(std::string_view message) {
  ScramClientFirst out;
  // gs2-header: cbind-flag "," [ "a=" authzid ] ","
  if (message.empty()) return malformed("Invalid SCRAM client first message: empty");
  if (message[0] == 'p') return malformed("SCRAM channel binding is not supported");
  if ((message[0] != 'n' && message[0] != 'y') || message.size() < 2 || message[1] != ',') {
    return malformed("Invalid SCRAM client first message: bad GS2 header");
  }
  const size_t authz_end = message.find(',', 2);
  if (authz_end == std::string_view::npos)
    return malformed("Invalid SCRAM client first message: bad GS2 header");
  std::string_view authz = message.substr(2, authz_end - 2);
  if (!authz.empty()) {
    auto v = attribute(authz, 'a');
    auto decoded = v ? decode_saslname(*v) : std::nullopt;
    if (!decoded) return malformed("Invalid SCRAM client first message: bad authorization id");
    out.authzid = std::move(*decoded);
  }
  out.gs2_header = std::string(message.substr(0, authz_end + 1));
  out.bare = std::string(message.substr(authz_end + 1));

  auto parts = split_commas(out.bare);
  if (!parts.empty() && attribute(parts[0], 'm')) {
    return malformed("SCRAM mandatory extensions are not supported");
  }
  if (parts.size() < 2) return malformed("Invalid SCRAM client first message: missing user name or nonce");
  auto user = attribute(parts[0], 'n');
  auto name = user ? decode_saslname(*user) : std::nullopt;
  if (!name || name->empty()) return malformed("Invalid SCRAM client first message: bad user name");
  out.username = std::move(*name);
  auto nonce = attribute(parts[1], 'r');
  if (!nonce || !valid_nonce(*nonce)) return malformed("Invalid SCRAM client first message: bad nonce");
  out.nonce = std::string(*nonce);
  for (size_t i = 2; i < parts.size(); ++i) {
    const size_t eq = parts[i].find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return malformed("Invalid SCRAM client first message: bad extension");
    }
    out.extensions[std::string(parts[i].substr(0, eq))] = std::string(parts[i].substr(eq + 1));
  }
  return out;
}

Result<ScramClientFinal> parse_scram_client_final(std::string_view message) {
  ScramClientFinal out;
  const size_t proof_at = message.rfind(",p=");
  if (proof_at == std::string_view::npos)
    return malformed("Invalid SCRAM client final message: missing proof");
  out.without_proof = std::string(message.substr(0, proof_at));
  auto proof = base64_decode(message.substr(proof_at + 3));
  if (!proof || proof->empty()) return malformed("Invalid SCRAM client final message: bad proof");
  out.proof = std::move(*proof);

  auto parts = split_commas(out.without_proof);
  if (parts.size() < 2)
    return malformed("Invalid SCRAM client final message: missing channel binding or nonce");
  auto cb = attribute(parts[0], 'c');
  auto cb_bytes = cb ? base64_decode(*cb) : std::nullopt;
  if (!cb_bytes) return malformed("Invalid SCRAM client final message: bad channel binding");
  out.channel_binding.assign(cb_bytes->begin(), cb_bytes->end());
  auto nonce = attribute(parts[1], 'r');
  if (!nonce || !valid_nonce(*nonce)) return malformed("Invalid SCRAM client final message: bad nonce");
  out.nonce = std::string(*nonce);
  // Extensions between the nonce and the proof are allowed and ignored.
  return out;
}

Result<PlainCredentials> parse_plain(std::string_view message) {
  const size_t first = message.find('\0');
  const size_t second = first == std::string_view::npos ? first : message.find('\0', first + 1);
  if (second == std::string_view::npos || message.find('\0', second + 1) != std::string_view::npos) {
    size_t tokens = 1;
    for (char c : message) tokens += c == '\0';
    return malformed("Invalid SASL/PLAIN response: expected 3 tokens, got " + std::to_string(tokens));
  }
  PlainCredentials out;
  out.authzid = std::string(message.substr(0, first));
  out.username = std::string(message.substr(first + 1, second - first - 1));
  out.password = std::string(message.substr(second + 1));
  if (out.username.empty()) return malformed("Authentication failed: username not specified");
  if (out.password.empty()) return malformed("Authentication failed: password not specified");
  return out;
}

}  // namespace carelog::security
