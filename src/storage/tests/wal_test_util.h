// Test data shared by the WAL tests (file and object WAL).
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/uuid.h"
#include "storage/wal.h"

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

// A WAL batch holding a copy of `bytes` (arbitrary bytes: not a Kafka batch).
inline WalBatch wal_batch(const std::vector<uint8_t>& bytes) {
  return WalBatch{SharedBytes::copy_of(bytes.data(), bytes.size())};
}

}  // namespace carelog::storage::test_util
