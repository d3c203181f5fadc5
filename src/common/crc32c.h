// CRC-32C (Castagnoli), as used by Kafka record batches v2 and by Carelog's
// WAL and object formats. Uses SSE4.2 when the CPU has it, a slicing-by-8
// table otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace carelog {

// Extends `crc` (0 for a fresh checksum) over `data`.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t size);
inline uint32_t crc32c(const void* data, size_t size) { return crc32c_extend(0, data, size); }

// The checksum of A followed by B, from crc32c(A), crc32c(B) and B's length,
// without reading either. Costs O(log len_b) polynomial multiplications
// (about a microsecond at most), so it pays off for B of a few KiB and up:
// e.g. deriving a checksum over a header plus a Kafka batch from the batch's
// own, already verified CRC.
uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);
// Below this many bytes of B, reading B costs no more than combining.
inline constexpr size_t kCrc32cCombineMinBytes = 1024;

}  // namespace carelog
