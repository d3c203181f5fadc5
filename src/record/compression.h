// Compression codecs of Kafka record batches (attributes bits 0-2).
//   gzip   - RFC 1952 stream (zlib).
//   snappy - raw snappy, or the "xerial" framing Java clients write
//            (8-byte magic, two int32 versions, then [int32 len][block]...).
//   lz4    - LZ4 frame format.
//   zstd   - zstd frames (content size may be absent).
// Stateless, thread-safe functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "record/batch.h"

namespace carelog::record {

// Inflates `data`; fails with CORRUPT_MESSAGE (2) on malformed input or when
// the output would exceed `max_output` bytes.
Result<std::vector<uint8_t>> decompress(Compression codec, std::span<const uint8_t> data, size_t max_output);

// Compresses `data` (snappy uses the xerial framing, as Java clients do).
Result<std::vector<uint8_t>> compress(Compression codec, std::span<const uint8_t> data);

}  // namespace carelog::record
