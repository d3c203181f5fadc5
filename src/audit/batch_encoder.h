// Builds the Kafka record batches the audit writer appends: magic v2,
// uncompressed, no producer id (the writer is the only appender of the
// audit topic, so idempotence adds nothing), base offset 0 (the partition
// log assigns offsets), CRC-32C filled in.
//
// Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace carelog::audit {

struct PlainRecord {
  std::string key;  // never empty for audit records (the category)
  std::string value;
  int64_t timestamp_ms = 0;
};

// One batch holding `records` in order (must not be empty).
std::vector<uint8_t> encode_batch(const std::vector<PlainRecord>& records);

}  // namespace carelog::audit
