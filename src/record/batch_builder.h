// Re-encoding records into a new v2 batch: the produce path uses it when
// validation with carelog.validation.action=dlq splits a batch into the
// records the topic keeps and the ones that go to the dead-letter topic.
// Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "record/batch.h"
#include "record/records.h"

namespace carelog::record {

// One uncompressed batch with `records` in order, each keeping its own
// offset_delta, timestamp_delta, key, value and headers. From `tmpl` it keeps
// producer id/epoch, base sequence, base/max timestamp, last_offset_delta
// and the timestamp-type bit; records_count becomes records.size() (offset
// gaps are allowed, as in compacted batches, so an idempotent producer's
// sequence numbers stay consistent). Base offset 0; the CRC is filled in.
std::vector<uint8_t> encode_batch(const BatchHeader& tmpl, std::span<const RecordView> records);

}  // namespace carelog::record
