// WAL byte format (see docs/formats/wal.md). All integers big-endian.
//
// Record = header (16 bytes) + payload:
//   0 magic   uint32 = 0x43574C31 ("CWL1")
//   4 version uint8  = 1
//   5 type    uint8  = 1 (record batch)
//   6 flags   uint16 = 0
//   8 length  uint32 = payload length (>= 28)
//  12 crc     uint32 = CRC-32C over header bytes [0, 12) then the payload
// Payload: topic id (16 bytes) | partition int32 | base offset int64 | batch.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/bytes.h"
#include "common/result.h"
#include "common/uuid.h"

namespace carelog::storage::wal_format {

inline constexpr uint32_t kMagic = 0x43574C31;
inline constexpr uint8_t kVersion = 1;
inline constexpr uint8_t kTypeBatch = 1;
inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kPrefixSize = 28;  // topic id + partition + base offset

// Big-endian helpers shared by the WAL record and WAL object codecs.
inline uint32_t load32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
inline uint64_t load64(const uint8_t* p) { return (uint64_t{load32(p)} << 32) | load32(p + 4); }
inline void store32(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}
inline void store64(uint8_t* p, uint64_t v) {
  store32(p, static_cast<uint32_t>(v >> 32));
  store32(p + 4, static_cast<uint32_t>(v));
}

// "<20-digit zero-padded id>.wal"
std::string segment_name(uint64_t id);
std::optional<uint64_t> parse_segment_name(const std::string& name);

// Fills `out` (kHeaderSize + kPrefixSize bytes): header incl. CRC over the
// prefix and `batch`, then the payload prefix.
// With `kafka_crc_verified`, `batch` is a Kafka v2 record batch whose own
// CRC field (crc32c of bytes 21..end) the caller has checked: the record CRC
// is then derived from it (crc32c_combine) instead of reading the batch
// again. The bytes written are identical either way.
void encode_header(uint8_t* out, const Uuid& topic_id, int32_t partition, int64_t base_offset,
                   std::span<const uint8_t> batch, bool kafka_crc_verified = false);

struct DecodedRecord {
  Uuid topic_id;
  int32_t partition = 0;
  int64_t base_offset = 0;
  uint64_t batch_position = 0;  // offset of the batch bytes in the segment
  uint64_t batch_length = 0;
  uint64_t next_position = 0;
};

// Decodes and CRC-checks the record at `pos`; error says what is wrong.
Result<DecodedRecord> decode_record(const SharedBytes& segment, uint64_t pos);

}  // namespace carelog::storage::wal_format
