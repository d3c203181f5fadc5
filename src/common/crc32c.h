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

}  // namespace carelog
