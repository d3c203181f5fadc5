#include "record/batch.h"

#include <fmt/core.h>

#include <limits>

#include "common/crc32c.h"
#include "record/byte_order.h"
#include "record/compression.h"
#include "record/control.h"
#include "record/records.h"

namespace carelog::record {

int32_t BatchHeader::last_sequence() const {
  if (base_sequence < 0) return base_sequence;
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  if (base_sequence > kMax - last_offset_delta) return last_offset_delta - (kMax - base_sequence) - 1;
  return base_sequence + last_offset_delta;
}

Result<BatchHeader> parse_header(std::span<const uint8_t> d) {
  if (d.size() < kBatchHeaderSize) {
    return make_error(fmt::format("record batch header truncated ({} bytes)", d.size()), kErrCorruptMessage);
  }
  const uint8_t* p = d.data();
  BatchHeader h;
  h.base_offset = static_cast<int64_t>(load_be64(p));
  h.batch_length = static_cast<int32_t>(load_be32(p + 8));
  h.partition_leader_epoch = static_cast<int32_t>(load_be32(p + 12));
  h.magic = static_cast<int8_t>(p[16]);
  h.crc = load_be32(p + 17);
  h.attributes = static_cast<int16_t>(load_be16(p + 21));
  h.last_offset_delta = static_cast<int32_t>(load_be32(p + 23));
  h.base_timestamp = static_cast<int64_t>(load_be64(p + 27));
  h.max_timestamp = static_cast<int64_t>(load_be64(p + 35));
  h.producer_id = static_cast<int64_t>(load_be64(p + 43));
  h.producer_epoch = static_cast<int16_t>(load_be16(p + 51));
  h.base_sequence = static_cast<int32_t>(load_be32(p + 53));
  h.records_count = static_cast<int32_t>(load_be32(p + 57));
  if (h.control() && d.size() > kBatchHeaderSize) {
    if (auto t = control_type(d)) h.control_type = static_cast<int8_t>(*t);
  }
  return h;
}

uint32_t compute_crc(const uint8_t* batch, size_t size) {
  return crc32c(batch + kAttributesOffset, size - kAttributesOffset);
}

uint32_t whole_crc_from_batch_crc(const uint8_t* batch, size_t size) {
  return crc32c_combine(crc32c(batch, kAttributesOffset), load_be32(batch + kCrcOffset),
                        size - kAttributesOffset);
}

void update_crc(uint8_t* batch, size_t size) { store_be32(batch + kCrcOffset, compute_crc(batch, size)); }

void set_base_offset(uint8_t* batch, int64_t base_offset) {
  store_be64(batch, static_cast<uint64_t>(base_offset));
}

void set_partition_leader_epoch(uint8_t* batch, int32_t epoch) {
  store_be32(batch + kPartitionLeaderEpochOffset, static_cast<uint32_t>(epoch));
}

void set_log_append_time(uint8_t* batch, size_t size, int64_t timestamp) {
  uint16_t attrs = load_be16(batch + kAttributesOffset);
  store_be16(batch + kAttributesOffset, static_cast<uint16_t>(attrs | 0x08));
  store_be64(batch + kMaxTimestampOffset, static_cast<uint64_t>(timestamp));
  update_crc(batch, size);
}

namespace {

Status validate_one(const BatchHeader& h, const SharedBytes& batch, BatchInfo* info) {
  std::span<const uint8_t> bytes = batch.span();
  if (h.magic != 2) {
    return make_error(fmt::format("record batch magic {} not supported (only v2)", h.magic),
                      kErrInvalidRecord);
  }
  uint32_t crc = compute_crc(bytes.data(), bytes.size());
  if (crc != h.crc) return make_error("record batch CRC mismatch", kErrCorruptMessage);
  if ((h.attributes & 0x07) > 4) {
    return make_error(fmt::format("unknown compression codec {}", h.attributes & 0x07), kErrCorruptMessage);
  }
  if (h.control()) return make_error("clients may not write control batches", kErrInvalidRecord);
  if (h.records_count <= 0) return make_error("record batch has no records", kErrInvalidRecord);
  if (h.last_offset_delta < 0) return make_error("negative lastOffsetDelta", kErrInvalidRecord);
  if (h.last_offset_delta != h.records_count - 1) {
    return make_error("lastOffsetDelta inconsistent with record count", kErrInvalidRecord);
  }
  // Walk the records (decompressing if needed, as Kafka's validator does):
  // framing, varints and offset deltas must be exact, so consumers never
  // receive a batch they cannot parse.
  std::vector<RecordView> records;
  SharedBytes inflated;
  if (h.compression() == Compression::kNone) {
    inflated = batch.slice(kBatchHeaderSize, bytes.size() - kBatchHeaderSize);
    auto r = parse_records(inflated.span(), h.records_count);
    if (!r.ok()) return r.take_error();
    records = std::move(r).value();
  } else {
    auto d = decompress(h.compression(), bytes.subspan(kBatchHeaderSize), kMaxDecompressedBatch);
    if (!d.ok()) return make_error(d.error().message, kErrCorruptMessage);
    inflated = SharedBytes::from_vector(std::move(d).value());
    auto r = parse_records(inflated.span(), h.records_count);
    if (!r.ok()) return r.take_error();
    records = std::move(r).value();
  }
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].offset_delta != static_cast<int32_t>(i)) {
      return make_error("record offset deltas are not consecutive", kErrInvalidRecord);
    }
  }
  info->records_data = std::move(inflated);
  info->records = std::move(records);
  return Status::OK();
}

}  // namespace

Result<std::vector<BatchInfo>> validate_batches(SharedBytes data, int32_t max_message_bytes) {
  std::vector<BatchInfo> out;
  size_t pos = 0;
  if (data.empty()) return make_error("no record batches", kErrInvalidRecord);
  while (pos < data.size()) {
    size_t remaining = data.size() - pos;
    if (remaining < kBatchHeaderSize) {
      return make_error("trailing partial record batch", kErrCorruptMessage);
    }
    // The magic byte sits at offset 16 in every format version.
    int8_t magic = static_cast<int8_t>(data.data()[pos + kMagicOffset]);
    auto h = parse_header(data.span().subspan(pos));
    if (!h.ok()) return h.take_error();
    if (magic != 2) {
      return make_error(fmt::format("record batch magic {} not supported (only v2)", magic),
                        kErrInvalidRecord);
    }
    if (h->batch_length < static_cast<int32_t>(kBatchHeaderSize - kLogOverhead)) {
      return make_error("record batch length smaller than its header", kErrCorruptMessage);
    }
    size_t total = h->total_size();
    if (total > remaining) return make_error("record batch length exceeds data", kErrCorruptMessage);
    if (max_message_bytes >= 0 && total > static_cast<size_t>(max_message_bytes)) {
      return make_error(
          fmt::format("record batch of {} bytes exceeds max.message.bytes {}", total, max_message_bytes),
          kErrMessageTooLarge);
    }
    SharedBytes slice = data.slice(pos, total);
    BatchInfo info{*h, slice, {}, {}};
    CARELOG_RETURN_IF_ERROR(validate_one(*h, slice, &info));
    out.push_back(std::move(info));
    pos += total;
  }
  return out;
}

}  // namespace carelog::record
