#include "record/batch_builder.h"

#include "record/byte_order.h"

namespace carelog::record {
namespace {

void put_bytes(std::vector<uint8_t>* out, std::optional<std::string_view> s) {
  if (!s) {
    write_varint(out, -1);
    return;
  }
  write_varint(out, static_cast<int32_t>(s->size()));
  out->insert(out->end(), s->begin(), s->end());
}

}  // namespace

std::vector<uint8_t> encode_batch(const BatchHeader& tmpl, std::span<const RecordView> records) {
  std::vector<uint8_t> out(kBatchHeaderSize, 0);
  std::vector<uint8_t> body;
  for (const RecordView& r : records) {
    body.clear();
    body.push_back(static_cast<uint8_t>(r.attributes));
    write_varlong(&body, r.timestamp_delta);
    write_varint(&body, r.offset_delta);
    put_bytes(&body, r.key);
    put_bytes(&body, r.value);
    write_varint(&body, static_cast<int32_t>(r.headers.size()));
    for (const RecordHeader& h : r.headers) {
      put_bytes(&body, h.key);
      put_bytes(&body, h.value);
    }
    write_varint(&out, static_cast<int32_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
  }
  uint8_t* p = out.data();
  store_be64(p + 0, 0);
  store_be32(p + 8, static_cast<uint32_t>(out.size() - kLogOverhead));
  store_be32(p + kPartitionLeaderEpochOffset, static_cast<uint32_t>(-1));
  p[kMagicOffset] = 2;
  // Uncompressed; keep the timestamp type; never transactional or control.
  store_be16(p + kAttributesOffset, static_cast<uint16_t>(tmpl.attributes & 0x08));
  store_be32(p + 23, static_cast<uint32_t>(tmpl.last_offset_delta));
  store_be64(p + 27, static_cast<uint64_t>(tmpl.base_timestamp));
  store_be64(p + kMaxTimestampOffset, static_cast<uint64_t>(tmpl.max_timestamp));
  store_be64(p + 43, static_cast<uint64_t>(tmpl.producer_id));
  store_be16(p + 51, static_cast<uint16_t>(tmpl.producer_epoch));
  store_be32(p + 53, static_cast<uint32_t>(tmpl.base_sequence));
  store_be32(p + 57, static_cast<uint32_t>(records.size()));
  update_crc(p, out.size());
  return out;
}

}  // namespace carelog::record
