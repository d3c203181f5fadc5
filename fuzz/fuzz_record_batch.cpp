// fuzz_record_batch: arbitrary bytes as a Produce `records` blob.
//
// The first input byte selects options: bit 0 recomputes each batch's CRC
// before validation (otherwise nearly every mutation dies at the CRC check
// and the record parser behind it is never reached). Then:
//  - validate_batches must not crash; every batch it accepts must decode with
//    decode_batch into exactly records_count records with consecutive offset
//    deltas, and the records must stay inside the decoded buffer;
//  - decode_batch and parse_records are also run on the raw bytes.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "record/batch.h"
#include "record/records.h"

namespace {

using namespace carelog;
using namespace carelog::record;

constexpr size_t kMaxInflate = 4u << 20;  // keeps each run small

// Recomputes the CRC of every complete batch, walking by batchLength.
void fix_crcs(std::vector<uint8_t>& buf) {
  size_t pos = 0;
  while (buf.size() - pos >= kBatchHeaderSize) {
    auto h = parse_header(std::span<const uint8_t>(buf).subspan(pos));
    if (!h.ok() || h->batch_length < static_cast<int32_t>(kBatchHeaderSize - kLogOverhead)) return;
    size_t total = h->total_size();
    if (total > buf.size() - pos) return;
    update_crc(buf.data() + pos, total);
    pos += total;
  }
}

bool inside(std::string_view view, const SharedBytes& buf) {
  if (view.empty()) return true;
  const char* begin = reinterpret_cast<const char*>(buf.data());
  return view.data() >= begin && view.data() + view.size() <= begin + buf.size();
}

void check_decoded(const DecodedBatch& d) {
  for (const auto& rec : d.records) {
    if (rec.key) FUZZ_CHECK(inside(*rec.key, d.records_data), "key outside the record buffer");
    if (rec.value) FUZZ_CHECK(inside(*rec.value, d.records_data), "value outside the record buffer");
    for (const auto& h : rec.headers) {
      FUZZ_CHECK(inside(h.key, d.records_data), "header key outside the record buffer");
      if (h.value) FUZZ_CHECK(inside(*h.value, d.records_data), "header value outside the record buffer");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t options = data[0];
  std::vector<uint8_t> buf(data + 1, data + size);
  if (options & 1) fix_crcs(buf);
  SharedBytes blob = SharedBytes::from_vector(std::move(buf));

  auto batches = validate_batches(blob, 1 << 20);
  if (batches.ok()) {
    size_t total = 0;
    for (const auto& b : *batches) {
      total += b.bytes.size();
      auto d = decode_batch(b.bytes, kMaxInflate * 64);
      FUZZ_CHECK(d.ok(), "validated batch does not decode");
      FUZZ_CHECK(d->records.size() == static_cast<size_t>(b.header.records_count),
                 "decoded record count differs from the header");
      for (size_t i = 0; i < d->records.size(); ++i) {
        FUZZ_CHECK(d->records[i].offset_delta == static_cast<int32_t>(i), "offset deltas not consecutive");
      }
      check_decoded(*d);
    }
    FUZZ_CHECK(total == blob.size(), "validated batches do not cover the input");
  }

  // Raw decoders on unvalidated bytes: errors are fine, crashes are not.
  auto raw = decode_batch(blob, kMaxInflate);
  if (raw.ok()) check_decoded(*raw);
  if (blob.size() >= 2) {
    int32_t count = blob.data()[0] & 0x3f;
    auto recs = parse_records(blob.span().subspan(1), count);
    if (recs.ok()) FUZZ_CHECK(recs->size() == static_cast<size_t>(count), "parse_records count mismatch");
  }
  return 0;
}
