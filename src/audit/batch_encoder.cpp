#include "audit/batch_encoder.h"

#include <algorithm>

#include "record/batch.h"
#include "record/byte_order.h"
#include "record/records.h"

namespace carelog::audit {
namespace {

void put_bytes(std::vector<uint8_t>* out, const std::string& s) {
  record::write_varint(out, static_cast<int32_t>(s.size()));
  out->insert(out->end(), s.begin(), s.end());
}

}  // namespace

std::vector<uint8_t> encode_batch(const std::vector<PlainRecord>& records) {
  int64_t base_ts = records.empty() ? 0 : records.front().timestamp_ms;
  int64_t max_ts = base_ts;
  std::vector<uint8_t> body;
  std::vector<uint8_t> rec;
  for (size_t i = 0; i < records.size(); ++i) {
    const PlainRecord& r = records[i];
    max_ts = std::max(max_ts, r.timestamp_ms);
    rec.clear();
    rec.push_back(0);  // record attributes
    record::write_varlong(&rec, r.timestamp_ms - base_ts);
    record::write_varint(&rec, static_cast<int32_t>(i));
    put_bytes(&rec, r.key);
    put_bytes(&rec, r.value);
    record::write_varint(&rec, 0);  // no headers
    record::write_varint(&body, static_cast<int32_t>(rec.size()));
    body.insert(body.end(), rec.begin(), rec.end());
  }
  std::vector<uint8_t> out(record::kBatchHeaderSize + body.size());
  uint8_t* p = out.data();
  record::store_be64(p + 0, 0);                                                         // base offset
  record::store_be32(p + 8, static_cast<uint32_t>(out.size() - record::kLogOverhead));  // batch length
  record::store_be32(p + 12, static_cast<uint32_t>(-1));                                // leader epoch
  p[16] = 2;                                                                            // magic
  record::store_be16(p + 21, 0);                                                        // attributes
  record::store_be32(p + 23, static_cast<uint32_t>(records.empty() ? 0 : records.size() - 1));
  record::store_be64(p + 27, static_cast<uint64_t>(base_ts));
  record::store_be64(p + 35, static_cast<uint64_t>(max_ts));
  record::store_be64(p + 43, static_cast<uint64_t>(int64_t{-1}));  // producer id
  record::store_be16(p + 51, static_cast<uint16_t>(-1));           // producer epoch
  record::store_be32(p + 53, static_cast<uint32_t>(-1));           // base sequence
  record::store_be32(p + 57, static_cast<uint32_t>(records.size()));
  std::copy(body.begin(), body.end(), out.begin() + record::kBatchHeaderSize);
  record::update_crc(out.data(), out.size());
  return out;
}

}  // namespace carelog::audit
