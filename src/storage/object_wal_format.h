// WAL object byte format (docs/formats/object-wal.md). All integers
// big-endian. One object = header + body + trailer:
//
//   header (40 bytes)
//    0 magic            uint32 = 0x43574F31 ("CWO1")
//    4 version          uint8  = 1
//    5 flags            uint8  = 0
//    6 reserved         uint16 = 0
//    8 sequence         uint64 (equals the number in the key)
//   16 created_ms       int64  (wall clock, informational)
//   24 record_count     uint32
//   28 cancelled_count  uint32
//   32 body_length      uint64
//   body: record_count WAL records, exactly as in a WAL segment
//         (docs/formats/wal.md: 16-byte header with its own CRC + payload)
//   trailer
//    cancelled sequences  uint64 x cancelled_count (WAL objects whose PUT
//                         failed or timed out: recovery ignores them)
//    crc                  uint32 = CRC-32C of every byte before it
//
// Keys: "<prefix><20-digit zero-padded sequence>.cwo".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "storage/wal_format.h"

namespace carelog::storage::object_wal_format {

inline constexpr uint32_t kMagic = 0x43574F31;
inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderSize = 40;
inline constexpr size_t kCrcSize = 4;

std::string object_key(const std::string& prefix, uint64_t sequence);
// The sequence of a key under `prefix`; nullopt for other keys.
std::optional<uint64_t> parse_object_key(const std::string& prefix, const std::string& key);

// Builds a whole object around `body` (concatenated WAL records).
std::vector<uint8_t> encode(uint64_t sequence, int64_t created_ms, uint32_t record_count,
                            std::span<const uint8_t> body, const std::vector<uint64_t>& cancelled);

struct DecodedObject {
  uint64_t sequence = 0;
  int64_t created_ms = 0;
  std::vector<uint64_t> cancelled;
  std::vector<wal_format::DecodedRecord> records;  // positions are object offsets
};

// Checks magic, version, lengths, the object CRC and every record (count,
// CRCs, exact fit of the body). Any failure is an error naming what.
Result<DecodedObject> decode(const SharedBytes& object);

}  // namespace carelog::storage::object_wal_format
