// 128-bit UUID as Kafka uses it for topic ids (random v4, never all-zero).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace carelog {

struct Uuid {
  std::array<uint8_t, 16> bytes{};

  static Uuid random_v4();
  bool is_zero() const;
  // Kafka renders topic ids as URL-safe base64 without padding (22 chars).
  std::string to_base64() const;
  static Result<Uuid> from_base64(std::string_view text);
  // Lower-case hex with dashes (8-4-4-4-12).
  std::string to_string() const;

  friend bool operator==(const Uuid&, const Uuid&) = default;
  friend auto operator<=>(const Uuid&, const Uuid&) = default;
};

struct UuidHash {
  size_t operator()(const Uuid& u) const {
    uint64_t a, b;
    __builtin_memcpy(&a, u.bytes.data(), 8);
    __builtin_memcpy(&b, u.bytes.data() + 8, 8);
    return static_cast<size_t>(a ^ (b * 0x9E3779B97F4A7C15ull));
  }
};

}  // namespace carelog
