// Test data shared by the WAL tests (file and object WAL).
#pragma once

#include <cstdint>
#include <vector>

#include "common/uuid.h"

namespace carelog::storage::test_util {

inline Uuid topic(uint8_t n) {
  Uuid u;
  u.bytes[0] = n;
  u.bytes[15] = 1;
  return u;
}

// Deterministic bytes that differ per `i`.
inline std::vector<uint8_t> payload(int i, size_t size = 100) {
  std::vector<uint8_t> v(size);
  for (size_t k = 0; k < size; ++k) v[k] = static_cast<uint8_t>(i * 31 + k);
  return v;
}

}  // namespace carelog::storage::test_util
