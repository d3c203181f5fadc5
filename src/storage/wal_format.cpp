#include "storage/wal_format.h"

#include <fmt/core.h>

#include <cstring>

#include "common/crc32c.h"
#include "record/batch.h"

namespace carelog::storage::wal_format {

std::string segment_name(uint64_t id) { return fmt::format("{:020}.wal", id); }

std::optional<uint64_t> parse_segment_name(const std::string& name) {
  if (name.size() != 24 || name.compare(20, 4, ".wal") != 0) return std::nullopt;
  uint64_t id = 0;
  for (int i = 0; i < 20; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (id > (UINT64_MAX - digit) / 10) return std::nullopt;  // overflow
    id = id * 10 + digit;
  }
  return id;
}

void encode_header(uint8_t* out, const Uuid& topic_id, int32_t partition, int64_t base_offset,
                   std::span<const uint8_t> batch, bool kafka_crc_verified) {
  store32(out, kMagic);
  out[4] = kVersion;
  out[5] = kTypeBatch;
  out[6] = 0;
  out[7] = 0;
  store32(out + 8, static_cast<uint32_t>(kPrefixSize + batch.size()));
  uint8_t* prefix = out + kHeaderSize;
  std::memcpy(prefix, topic_id.bytes.data(), 16);
  store32(prefix + 16, static_cast<uint32_t>(partition));
  store64(prefix + 20, static_cast<uint64_t>(base_offset));
  uint32_t crc = crc32c(out, 12);
  crc = crc32c_extend(crc, prefix, kPrefixSize);
  if (kafka_crc_verified && batch.size() >= kCrc32cCombineMinBytes) {
    crc = crc32c_combine(crc, record::whole_crc_from_batch_crc(batch.data(), batch.size()), batch.size());
  } else {
    crc = crc32c_extend(crc, batch.data(), batch.size());
  }
  store32(out + 12, crc);
}

Result<DecodedRecord> decode_record(const SharedBytes& segment, uint64_t pos) {
  const uint8_t* base = segment.data();
  uint64_t size = segment.size();
  if (pos > size || size - pos < kHeaderSize) return make_error("truncated record header");
  const uint8_t* h = base + pos;
  if (load32(h) != kMagic) return make_error("bad record magic");
  if (h[4] != kVersion) return make_error(fmt::format("unsupported record version {}", h[4]));
  if (h[5] != kTypeBatch) return make_error(fmt::format("unknown record type {}", h[5]));
  uint32_t length = load32(h + 8);
  if (length < kPrefixSize) return make_error("record length smaller than its prefix");
  if (length > size - pos - kHeaderSize) return make_error("record length exceeds segment");
  uint32_t crc = crc32c(h, 12);
  crc = crc32c_extend(crc, h + kHeaderSize, length);
  if (crc != load32(h + 12)) return make_error("record CRC mismatch");
  const uint8_t* p = h + kHeaderSize;
  DecodedRecord r;
  std::memcpy(r.topic_id.bytes.data(), p, 16);
  r.partition = static_cast<int32_t>(load32(p + 16));
  r.base_offset = static_cast<int64_t>(load64(p + 20));
  r.batch_position = pos + kHeaderSize + kPrefixSize;
  r.batch_length = length - kPrefixSize;
  r.next_position = pos + kHeaderSize + length;
  return r;
}

}  // namespace carelog::storage::wal_format
