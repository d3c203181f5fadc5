#include "storage/object_wal_format.h"

#include <fmt/core.h>

#include "common/crc32c.h"
#include "objstore/object_store.h"

namespace carelog::storage::object_wal_format {

using wal_format::load32;
using wal_format::load64;
using wal_format::store32;
using wal_format::store64;

namespace {
constexpr std::string_view kSuffix = ".cwo";
constexpr size_t kDigits = 20;
}  // namespace

std::string object_key(const std::string& prefix, uint64_t sequence) {
  return fmt::format("{}{:020}{}", prefix, sequence, kSuffix);
}

std::optional<uint64_t> parse_object_key(const std::string& prefix, const std::string& key) {
  if (key.size() != prefix.size() + kDigits + kSuffix.size() || key.compare(0, prefix.size(), prefix) != 0 ||
      key.compare(prefix.size() + kDigits, kSuffix.size(), kSuffix) != 0) {
    return std::nullopt;
  }
  uint64_t seq = 0;
  for (size_t i = prefix.size(); i < prefix.size() + kDigits; ++i) {
    const char c = key[i];
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (seq > (UINT64_MAX - digit) / 10) return std::nullopt;
    seq = seq * 10 + digit;
  }
  return seq;
}

std::vector<uint8_t> encode(uint64_t sequence, int64_t created_ms, uint32_t record_count,
                            std::span<const uint8_t> body, const std::vector<uint64_t>& cancelled) {
  std::vector<uint8_t> out(kHeaderSize + body.size() + 8 * cancelled.size() + kCrcSize);
  uint8_t* p = out.data();
  store32(p, kMagic);
  p[4] = kVersion;
  p[5] = 0;
  p[6] = p[7] = 0;
  store64(p + 8, sequence);
  store64(p + 16, static_cast<uint64_t>(created_ms));
  store32(p + 24, record_count);
  store32(p + 28, static_cast<uint32_t>(cancelled.size()));
  store64(p + 32, body.size());
  std::copy(body.begin(), body.end(), out.begin() + kHeaderSize);
  uint8_t* t = p + kHeaderSize + body.size();
  for (uint64_t c : cancelled) {
    store64(t, c);
    t += 8;
  }
  store32(t, crc32c(p, static_cast<size_t>(t - p)));
  return out;
}

Result<DecodedObject> decode(const SharedBytes& object) {
  auto bad = [](const std::string& what) { return make_error("wal object: " + what, objstore::kErrCorrupt); };
  const uint8_t* p = object.data();
  const size_t n = object.size();
  if (n < kHeaderSize + kCrcSize) return bad(fmt::format("{} bytes is shorter than header and trailer", n));
  if (load32(p) != kMagic) return bad("bad magic");
  if (p[4] != kVersion) return bad(fmt::format("unknown version {}", p[4]));
  DecodedObject out;
  out.sequence = load64(p + 8);
  out.created_ms = static_cast<int64_t>(load64(p + 16));
  const uint32_t count = load32(p + 24);
  const uint64_t cancelled = load32(p + 28);
  const uint64_t body = load64(p + 32);
  if (body > n || cancelled > n / 8 || kHeaderSize + body + 8 * cancelled + kCrcSize != n) {
    return bad(
        fmt::format("lengths (body {}, {} cancelled) do not match the object size {}", body, cancelled, n));
  }
  const size_t crc_at = n - kCrcSize;
  if (crc32c(p, crc_at) != load32(p + crc_at)) return bad("object CRC mismatch");
  for (uint64_t i = 0; i < cancelled; ++i) out.cancelled.push_back(load64(p + kHeaderSize + body + 8 * i));
  // Records are decoded from a view that ends at the body, so none can run
  // into the trailer.
  SharedBytes records = object.slice(0, kHeaderSize + body);
  uint64_t pos = kHeaderSize;
  while (pos < kHeaderSize + body) {
    auto rec = wal_format::decode_record(records, pos);
    if (!rec.ok()) return bad(fmt::format("record at {}: {}", pos, rec.error().message));
    pos = rec->next_position;
    out.records.push_back(*rec);
  }
  if (out.records.size() != count) {
    return bad(fmt::format("{} records, header says {}", out.records.size(), count));
  }
  return out;
}

}  // namespace carelog::storage::object_wal_format
