// Kafka RecordBatch (magic v2) header: parsing, validation of Produce data,
// and in-place header patches used when the broker appends a batch.
//
// Layout (big-endian; offsets in bytes from the start of the batch):
//   0 baseOffset int64 | 8 batchLength int32 (bytes after this field)
//  12 partitionLeaderEpoch int32 | 16 magic int8 | 17 crc uint32
//  21 attributes int16 | 23 lastOffsetDelta int32 | 27 baseTimestamp int64
//  35 maxTimestamp int64 | 43 producerId int64 | 51 producerEpoch int16
//  53 baseSequence int32 | 57 recordsCount int32 | 61 records...
// The CRC-32C covers bytes [21, end): base offset, length and leader epoch
// can be rewritten without recomputing it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "record/record_view.h"

namespace carelog::record {

inline constexpr size_t kLogOverhead = 12;      // baseOffset + batchLength
inline constexpr size_t kBatchHeaderSize = 61;  // fixed v2 header
inline constexpr size_t kCrcOffset = 17;
inline constexpr size_t kAttributesOffset = 21;
inline constexpr size_t kMaxTimestampOffset = 35;
inline constexpr size_t kPartitionLeaderEpochOffset = 12;
inline constexpr size_t kMagicOffset = 16;
// Bound on a batch's inflated size during validation (decompression bombs).
inline constexpr size_t kMaxDecompressedBatch = 64u << 20;

// Kafka error codes produced by this module.
inline constexpr int32_t kErrCorruptMessage = 2;
inline constexpr int32_t kErrMessageTooLarge = 10;
inline constexpr int32_t kErrInvalidRecord = 87;

enum class Compression : uint8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = -1;
  int8_t magic = 2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t records_count = 0;
  // Control batches only: the marker type (0 abort, 1 commit) when
  // parse_header saw the first record; -1 otherwise (record/control.h).
  int8_t control_type = -1;

  Compression compression() const { return static_cast<Compression>(attributes & 0x07); }
  bool log_append_time() const { return (attributes & 0x08) != 0; }
  bool transactional() const { return (attributes & 0x10) != 0; }
  bool control() const { return (attributes & 0x20) != 0; }
  size_t total_size() const { return kLogOverhead + static_cast<size_t>(batch_length); }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  // Sequence of the last record, wrapping at INT32_MAX as Kafka does.
  int32_t last_sequence() const;
};

// Decodes the fixed header fields without any validation beyond size
// (needs at least kBatchHeaderSize bytes). For a control batch given with
// its record, also the marker type.
Result<BatchHeader> parse_header(std::span<const uint8_t> data);

struct BatchInfo {
  BatchHeader header;
  SharedBytes bytes;  // the whole batch, a slice of the input
  // The records validation decoded (decompressed once), kept so produce-path
  // record validation reads them without inflating the batch again. Views
  // into `records_data` (a slice of `bytes` when uncompressed).
  SharedBytes records_data;
  std::vector<RecordView> records;
};

// Splits a Produce `records` blob into v2 batches and validates each:
// lengths (no lying length, no trailing partial batch), magic, CRC, codec,
// record count, and the record framing itself (compressed batches are
// inflated for this, as Kafka does).
// Error codes follow Kafka: corrupt framing/CRC -> CORRUPT_MESSAGE (2);
// magic 0/1 or bad record contents -> INVALID_RECORD (87) (what Kafka 3.x
// answers for old formats on Produce v3+); too big -> MESSAGE_TOO_LARGE (10).
Result<std::vector<BatchInfo>> validate_batches(SharedBytes data, int32_t max_message_bytes);

// Header patches on a mutable copy of one batch (`size` = whole batch).
void set_base_offset(uint8_t* batch, int64_t base_offset);
void set_partition_leader_epoch(uint8_t* batch, int32_t epoch);
// Marks the batch LogAppendTime with maxTimestamp = `timestamp` and
// recomputes the CRC.
void set_log_append_time(uint8_t* batch, size_t size, int64_t timestamp);
// Recomputes and stores the CRC over [attributes, end).
void update_crc(uint8_t* batch, size_t size);
uint32_t compute_crc(const uint8_t* batch, size_t size);
// crc32c of all `size` bytes of a batch whose CRC field is right (checked by
// validate_batches, or set by update_crc), derived from that field: reads
// only the bytes before the CRC's coverage. For checksums over whole
// batches (WAL records, object ranges) without a second pass.
uint32_t whole_crc_from_batch_crc(const uint8_t* batch, size_t size);

}  // namespace carelog::record
