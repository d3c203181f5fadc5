#include "common/uuid.h"

#include <random>

namespace carelog {
namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-' || c == '+') return 62;
  if (c == '_' || c == '/') return 63;
  return -1;
}
}  // namespace

Uuid Uuid::random_v4() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  Uuid u;
  do {
    uint64_t a = rng(), b = rng();
    __builtin_memcpy(u.bytes.data(), &a, 8);
    __builtin_memcpy(u.bytes.data() + 8, &b, 8);
    u.bytes[6] = static_cast<uint8_t>((u.bytes[6] & 0x0f) | 0x40);
    u.bytes[8] = static_cast<uint8_t>((u.bytes[8] & 0x3f) | 0x80);
  } while (u.is_zero());
  return u;
}

bool Uuid::is_zero() const {
  for (auto b : bytes)
    if (b) return false;
  return true;
}

std::string Uuid::to_base64() const {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      out.push_back(kB64[(acc >> (bits - 6)) & 0x3f]);
      bits -= 6;
    }
  }
  if (bits > 0) out.push_back(kB64[(acc << (6 - bits)) & 0x3f]);
  return out;
}

Result<Uuid> Uuid::from_base64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() != 22) return make_error("topic id must be 22 base64 characters");
  Uuid u;
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : text) {
    int v = b64_value(c);
    if (v < 0) return make_error("invalid base64 character in topic id");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      if (n < 16) u.bytes[n++] = static_cast<uint8_t>(acc >> (bits - 8));
      bits -= 8;
    }
  }
  return u;
}

std::string Uuid::to_string() const {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(hex[bytes[i] >> 4]);
    out.push_back(hex[bytes[i] & 0xf]);
  }
  return out;
}

}  // namespace carelog
