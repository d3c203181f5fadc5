#include "record/control.h"

#include "record/batch.h"
#include "record/byte_order.h"
#include "record/records.h"

namespace carelog::record {

std::optional<ControlType> control_type(std::span<const uint8_t> batch) {
  if (batch.size() < kBatchHeaderSize) return std::nullopt;
  const uint16_t attributes = load_be16(batch.data() + kAttributesOffset);
  if ((attributes & 0x20) == 0 || (attributes & 0x07) != 0) return std::nullopt;
  size_t pos = kBatchHeaderSize;
  int32_t length = 0, offset_delta = 0, key_length = 0;
  int64_t timestamp_delta = 0;
  if (!read_varint(batch, &pos, &length)) return std::nullopt;
  if (pos >= batch.size()) return std::nullopt;
  pos++;  // record attributes
  if (!read_varlong(batch, &pos, &timestamp_delta) || !read_varint(batch, &pos, &offset_delta) ||
      !read_varint(batch, &pos, &key_length))
    return std::nullopt;
  if (key_length < 4 || pos + 4 > batch.size()) return std::nullopt;
  const uint16_t type = load_be16(batch.data() + pos + 2);
  if (type > 1) return std::nullopt;
  return static_cast<ControlType>(type);
}

std::vector<uint8_t> make_control_batch(int64_t producer_id, int16_t producer_epoch, ControlType type,
                                        int32_t coordinator_epoch, int64_t timestamp_ms) {
  std::vector<uint8_t> record;
  record.push_back(0);        // record attributes
  write_varlong(&record, 0);  // timestamp delta
  write_varint(&record, 0);   // offset delta
  write_varint(&record, 4);   // key length
  record.push_back(0);        // key version
  record.push_back(0);
  record.push_back(0);  // key type
  record.push_back(static_cast<uint8_t>(type));
  write_varint(&record, 6);  // value length
  record.push_back(0);       // value version
  record.push_back(0);
  for (int i = 3; i >= 0; --i)
    record.push_back(static_cast<uint8_t>(static_cast<uint32_t>(coordinator_epoch) >> (8 * i)));
  write_varint(&record, 0);  // header count
  std::vector<uint8_t> len;
  write_varint(&len, static_cast<int32_t>(record.size()));

  std::vector<uint8_t> out(kBatchHeaderSize, 0);
  out.insert(out.end(), len.begin(), len.end());
  out.insert(out.end(), record.begin(), record.end());
  uint8_t* p = out.data();
  store_be64(p, 0);
  store_be32(p + 8, static_cast<uint32_t>(out.size() - kLogOverhead));
  store_be32(p + 12, static_cast<uint32_t>(-1));
  p[16] = 2;                 // magic
  store_be16(p + 21, 0x30);  // transactional | control
  store_be32(p + 23, 0);     // last offset delta
  store_be64(p + 27, static_cast<uint64_t>(timestamp_ms));
  store_be64(p + 35, static_cast<uint64_t>(timestamp_ms));
  store_be64(p + 43, static_cast<uint64_t>(producer_id));
  store_be16(p + 51, static_cast<uint16_t>(producer_epoch));
  store_be32(p + 53, static_cast<uint32_t>(-1));  // base sequence
  store_be32(p + 57, 1);                          // one record
  update_crc(p, out.size());
  return out;
}

}  // namespace carelog::record
