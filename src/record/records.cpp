#include "record/records.h"

#include <fmt/core.h>

#include "record/compression.h"

namespace carelog::record {

namespace {

bool read_raw_varint(std::span<const uint8_t> d, size_t* pos, int max_bytes, uint64_t* out) {
  uint64_t v = 0;
  for (int i = 0; i < max_bytes; ++i) {
    if (*pos >= d.size()) return false;
    uint8_t b = d[(*pos)++];
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;  // too many continuation bytes
}

void write_raw_varint(std::vector<uint8_t>* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<uint8_t>(v));
}

Error invalid(const char* what, int32_t index) {
  return make_error(fmt::format("record {}: {}", index, what), kErrInvalidRecord);
}

// Reads a varint length then that many bytes; -1 means null.
bool read_bytes(std::span<const uint8_t> d, size_t* pos, size_t end, std::optional<std::string_view>* out) {
  int32_t len;
  if (!read_varint(d.first(end), pos, &len)) return false;
  if (len < -1) return false;
  if (len == -1) {
    *out = std::nullopt;
    return true;
  }
  if (static_cast<size_t>(len) > end - *pos) return false;
  *out = std::string_view(reinterpret_cast<const char*>(d.data() + *pos), static_cast<size_t>(len));
  *pos += static_cast<size_t>(len);
  return true;
}

}  // namespace

bool read_varint(std::span<const uint8_t> d, size_t* pos, int32_t* out) {
  uint64_t raw;
  if (!read_raw_varint(d, pos, 5, &raw) || raw > 0xffffffffull) return false;
  uint32_t u = static_cast<uint32_t>(raw);
  *out = static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

bool read_varlong(std::span<const uint8_t> d, size_t* pos, int64_t* out) {
  uint64_t u;
  if (!read_raw_varint(d, pos, 10, &u)) return false;
  *out = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

void write_varint(std::vector<uint8_t>* out, int32_t v) {
  write_raw_varint(out,
                   static_cast<uint32_t>((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31)));
}

void write_varlong(std::vector<uint8_t>* out, int64_t v) {
  write_raw_varint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

Result<std::vector<RecordView>> parse_records(std::span<const uint8_t> d, int32_t count) {
  std::vector<RecordView> out;
  if (count < 0) return make_error("negative record count", kErrInvalidRecord);
  // Each record takes at least 7 bytes; don't let a lying count allocate.
  if (static_cast<size_t>(count) > d.size() / 7 + 1) {
    return make_error("record count larger than the data can hold", kErrInvalidRecord);
  }
  out.reserve(static_cast<size_t>(count));
  size_t pos = 0;
  for (int32_t i = 0; i < count; ++i) {
    int32_t length;
    if (!read_varint(d, &pos, &length)) return invalid("bad length varint", i);
    if (length < 0 || static_cast<size_t>(length) > d.size() - pos) return invalid("length out of bounds", i);
    size_t end = pos + static_cast<size_t>(length);
    auto rec = d.first(end);
    RecordView r;
    if (pos >= end) return invalid("empty record", i);
    r.attributes = static_cast<int8_t>(rec[pos++]);
    if (!read_varlong(rec, &pos, &r.timestamp_delta)) return invalid("bad timestamp delta", i);
    if (!read_varint(rec, &pos, &r.offset_delta)) return invalid("bad offset delta", i);
    if (!read_bytes(rec, &pos, end, &r.key)) return invalid("bad key", i);
    if (!read_bytes(rec, &pos, end, &r.value)) return invalid("bad value", i);
    int32_t nheaders;
    if (!read_varint(rec, &pos, &nheaders) || nheaders < 0) return invalid("bad header count", i);
    if (static_cast<size_t>(nheaders) > (end - pos) / 2) return invalid("header count out of bounds", i);
    for (int32_t h = 0; h < nheaders; ++h) {
      std::optional<std::string_view> key, value;
      if (!read_bytes(rec, &pos, end, &key) || !key) return invalid("bad header key", i);
      if (!read_bytes(rec, &pos, end, &value)) return invalid("bad header value", i);
      r.headers.push_back(RecordHeader{*key, value});
    }
    if (pos != end) return invalid("record length does not match its contents", i);
    out.push_back(std::move(r));
  }
  if (pos != d.size()) return make_error("bytes left after the last record", kErrInvalidRecord);
  return out;
}

Result<DecodedBatch> decode_batch(SharedBytes batch, size_t max_decompressed) {
  auto h = parse_header(batch.span());
  if (!h.ok()) return h.take_error();
  if (h->magic != 2) return make_error("not a v2 record batch", kErrInvalidRecord);
  if (h->batch_length < 0 || h->total_size() > batch.size() || h->total_size() < kBatchHeaderSize) {
    return make_error("record batch length out of bounds", kErrCorruptMessage);
  }
  DecodedBatch out;
  out.header = *h;
  SharedBytes body = batch.slice(kBatchHeaderSize, h->total_size() - kBatchHeaderSize);
  if (h->compression() == Compression::kNone) {
    out.records_data = body;
  } else {
    auto raw = decompress(h->compression(), body.span(), max_decompressed);
    if (!raw.ok()) return raw.take_error();
    out.records_data = SharedBytes::from_vector(std::move(raw).value());
  }
  auto recs = parse_records(out.records_data.span(), h->records_count);
  if (!recs.ok()) return recs.take_error();
  out.records = std::move(recs).value();
  return out;
}

}  // namespace carelog::record
