// Record-level view of a v2 batch: varint decoding with bounds checks, and
// iteration over the records of uncompressed or compressed batches.
// Decompression happens only in decode_batch, never on the produce path.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "record/batch.h"
#include "record/record_view.h"

namespace carelog::record {

// Zig-zag varints as Kafka encodes them. Return false on overrun/overlong.
bool read_varint(std::span<const uint8_t> data, size_t* pos, int32_t* out);
bool read_varlong(std::span<const uint8_t> data, size_t* pos, int64_t* out);
void write_varint(std::vector<uint8_t>* out, int32_t v);
void write_varlong(std::vector<uint8_t>* out, int64_t v);

// Parses exactly `count` records filling `data` completely; any overrun,
// negative length or leftover byte is INVALID_RECORD (87).
Result<std::vector<RecordView>> parse_records(std::span<const uint8_t> data, int32_t count);

// A batch with its records decoded (decompressed if needed). Owns the
// buffer the RecordViews point into.
struct DecodedBatch {
  BatchHeader header;
  SharedBytes records_data;  // uncompressed record bytes
  std::vector<RecordView> records;

  int64_t offset_of(const RecordView& r) const { return header.base_offset + r.offset_delta; }
  int64_t timestamp_of(const RecordView& r) const {
    return header.log_append_time() ? header.max_timestamp : header.base_timestamp + r.timestamp_delta;
  }
};

// Decodes a whole v2 batch (header must be intact; CRC is not re-checked).
// `max_decompressed` bounds the inflated size (decompression bombs).
Result<DecodedBatch> decode_batch(SharedBytes batch, size_t max_decompressed = 256u << 20);

}  // namespace carelog::record
