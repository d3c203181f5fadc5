// Views of one record of a v2 batch (records.h parses them). Separate so
// batch.h can hand out the records validate_batches already decoded.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace carelog::record {

struct RecordHeader {
  std::string_view key;
  std::optional<std::string_view> value;  // nullopt = null
};

// Views point into the buffer that was parsed; valid while it lives.
struct RecordView {
  int8_t attributes = 0;
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  std::optional<std::string_view> key;    // nullopt = null key
  std::optional<std::string_view> value;  // nullopt = null value (tombstone)
  std::vector<RecordHeader> headers;
};

}  // namespace carelog::record
