// Test-only builder of v2 record batches (optionally compressed), used by
// record/, storage/ and partition/ tests. Not part of any library.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "record/batch.h"
#include "record/byte_order.h"
#include "record/compression.h"
#include "record/records.h"

namespace carelog::record::testing {

struct TestRecord {
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp_delta = 0;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

struct BatchSpec {
  std::vector<TestRecord> records;
  Compression compression = Compression::kNone;
  int64_t base_offset = 0;
  int64_t base_timestamp = 1000;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int16_t extra_attributes = 0;
};

inline std::vector<uint8_t> encode_records(const std::vector<TestRecord>& recs) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < recs.size(); ++i) {
    const TestRecord& r = recs[i];
    std::vector<uint8_t> body;
    body.push_back(0);
    write_varlong(&body, r.timestamp_delta);
    write_varint(&body, static_cast<int32_t>(i));
    auto put = [&](const std::optional<std::string>& s) {
      if (!s) {
        write_varint(&body, -1);
        return;
      }
      write_varint(&body, static_cast<int32_t>(s->size()));
      body.insert(body.end(), s->begin(), s->end());
    };
    put(r.key);
    put(r.value);
    write_varint(&body, static_cast<int32_t>(r.headers.size()));
    for (auto& [k, v] : r.headers) {
      put(k);
      put(v);
    }
    write_varint(&out, static_cast<int32_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
  }
  return out;
}

inline std::vector<uint8_t> build_batch(const BatchSpec& spec) {
  std::vector<uint8_t> records = encode_records(spec.records);
  if (spec.compression != Compression::kNone) records = compress(spec.compression, records).value();
  std::vector<uint8_t> b(kBatchHeaderSize + records.size());
  int64_t max_ts = spec.base_timestamp;
  for (auto& r : spec.records) max_ts = std::max(max_ts, spec.base_timestamp + r.timestamp_delta);
  store_be64(&b[0], static_cast<uint64_t>(spec.base_offset));
  store_be32(&b[8], static_cast<uint32_t>(b.size() - kLogOverhead));
  store_be32(&b[12], 0xffffffffu);
  b[16] = 2;
  store_be16(&b[21], static_cast<uint16_t>(static_cast<uint16_t>(spec.compression) | spec.extra_attributes));
  store_be32(&b[23], static_cast<uint32_t>(spec.records.empty() ? 0 : spec.records.size() - 1));
  store_be64(&b[27], static_cast<uint64_t>(spec.base_timestamp));
  store_be64(&b[35], static_cast<uint64_t>(max_ts));
  store_be64(&b[43], static_cast<uint64_t>(spec.producer_id));
  store_be16(&b[51], static_cast<uint16_t>(spec.producer_epoch));
  store_be32(&b[53], static_cast<uint32_t>(spec.base_sequence));
  store_be32(&b[57], static_cast<uint32_t>(spec.records.size()));
  std::copy(records.begin(), records.end(), b.begin() + kBatchHeaderSize);
  update_crc(b.data(), b.size());
  return b;
}

// `n` records with values "<prefix><i>".
inline BatchSpec simple_spec(int n, const std::string& prefix = "v") {
  BatchSpec s;
  for (int i = 0; i < n; ++i)
    s.records.push_back(TestRecord{std::nullopt, prefix + std::to_string(i), i, {}});
  return s;
}

inline SharedBytes simple_batch(int n, const std::string& prefix = "v") {
  return SharedBytes::from_vector(build_batch(simple_spec(n, prefix)));
}

}  // namespace carelog::record::testing
