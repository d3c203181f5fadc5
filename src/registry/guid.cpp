#include "registry/guid.h"

#include <openssl/evp.h>

namespace carelog::registry {

Guid schema_guid(std::string_view cluster_id, int32_t id) {
  static constexpr std::string_view kTag = "carelog-schema-guid";
  const auto u = static_cast<uint32_t>(id);
  const uint8_t id_bytes[4] = {static_cast<uint8_t>(u >> 24), static_cast<uint8_t>(u >> 16),
                               static_cast<uint8_t>(u >> 8), static_cast<uint8_t>(u)};
  const uint8_t zero = 0;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, kTag.data(), kTag.size());
  EVP_DigestUpdate(ctx, &zero, 1);
  EVP_DigestUpdate(ctx, cluster_id.data(), cluster_id.size());
  EVP_DigestUpdate(ctx, &zero, 1);
  EVP_DigestUpdate(ctx, id_bytes, 4);
  EVP_DigestFinal_ex(ctx, digest, &n);
  EVP_MD_CTX_free(ctx);
  Guid g{};
  for (int i = 0; i < 12; ++i) g[i] = digest[i];
  g[6] = static_cast<uint8_t>((g[6] & 0x0f) | 0x80);  // version 8
  g[8] = static_cast<uint8_t>((g[8] & 0x3f) | 0x80);  // variant 10
  for (int i = 0; i < 4; ++i) g[12 + i] = id_bytes[i];
  return g;
}

std::string guid_string(const Guid& g) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += kHex[g[i] >> 4];
    s += kHex[g[i] & 0xf];
  }
  return s;
}

std::optional<Guid> parse_guid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  Guid g{};
  size_t j = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      continue;
    }
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (i + 1 >= text.size()) return std::nullopt;
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    g[j++] = static_cast<uint8_t>(hi * 16 + lo);
    ++i;
  }
  if (j != 16) return std::nullopt;
  return g;
}

std::optional<Guid> guid_from_bytes(std::string_view bytes) {
  if (bytes.size() < 16) return std::nullopt;
  Guid g{};
  for (int i = 0; i < 16; ++i) g[i] = static_cast<uint8_t>(bytes[i]);
  return g;
}

std::optional<int32_t> guid_schema_id(std::string_view cluster_id, const Guid& g) {
  const auto id =
      static_cast<int32_t>((static_cast<uint32_t>(g[12]) << 24) | (static_cast<uint32_t>(g[13]) << 16) |
                           (static_cast<uint32_t>(g[14]) << 8) | static_cast<uint32_t>(g[15]));
  if (id <= 0 || schema_guid(cluster_id, id) != g) return std::nullopt;
  return id;
}

}  // namespace carelog::registry
