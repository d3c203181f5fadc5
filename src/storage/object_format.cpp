#include "storage/object_format.h"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "common/crc32c.h"
#include "fmt/core.h"
#include "record/batch.h"

namespace carelog::storage::object_format {
namespace {

uint16_t load16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t load32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
uint64_t load64(const uint8_t* p) { return (uint64_t{load32(p)} << 32) | load32(p + 4); }
void store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void store32(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}
void store64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

Error corrupt(std::string what) { return Error{kErrCorrupt, "stream-set object: " + std::move(what)}; }

void encode_entry(uint8_t* p, const IndexEntry& e) {
  std::memcpy(p, e.topic_id.bytes.data(), 16);
  store32(p + 16, static_cast<uint32_t>(e.partition));
  store32(p + 20, e.batch_count);
  store64(p + 24, static_cast<uint64_t>(e.base_offset));
  store64(p + 32, static_cast<uint64_t>(e.last_offset));
  store64(p + 40, static_cast<uint64_t>(e.max_timestamp));
  store64(p + 48, e.position);
  store64(p + 56, e.length);
  store32(p + 64, e.crc);
  store32(p + 68, 0);
}

IndexEntry decode_entry(const uint8_t* p) {
  IndexEntry e;
  std::memcpy(e.topic_id.bytes.data(), p, 16);
  e.partition = static_cast<int32_t>(load32(p + 16));
  e.batch_count = load32(p + 20);
  e.base_offset = static_cast<int64_t>(load64(p + 24));
  e.last_offset = static_cast<int64_t>(load64(p + 32));
  e.max_timestamp = static_cast<int64_t>(load64(p + 40));
  e.position = load64(p + 48);
  e.length = load64(p + 56);
  e.crc = load32(p + 64);
  return e;
}

void encode_footer(uint8_t* p, const Footer& f) {
  store64(p, f.index_position);
  store64(p + 8, f.index_length);
  store64(p + 16, f.object_length);
  store32(p + 24, f.entry_count);
  store32(p + 28, f.index_crc);
  store16(p + 32, f.version);
  store16(p + 34, 0);
  store32(p + 36, crc32c(p, 36));
  store32(p + 40, kMagic);
}

// splitmix64 finalizer: spreads consecutive ids over all prefixes.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

Status ObjectBuilder::append(const Uuid& topic_id, int32_t partition, int64_t base_offset,
                             int64_t last_offset, int64_t max_timestamp, SharedBytes batch,
                             uint32_t batch_count) {
  if (partition < 0) return Error{objstore::kErrInvalidArgument, "object builder: negative partition"};
  if (base_offset < 0 || last_offset < base_offset)
    return Error{objstore::kErrInvalidArgument,
                 fmt::format("object builder: bad offset range [{}, {}]", base_offset, last_offset)};
  if (batch.empty() || batch_count == 0)
    return Error{objstore::kErrInvalidArgument, "object builder: empty batch"};
  Range& r = ranges_[Key{topic_id, partition}];
  if (!r.batches.empty() && base_offset <= r.entry.last_offset)
    return Error{objstore::kErrInvalidArgument,
                 fmt::format("object builder: {}-{} base offset {} does not follow last offset {}",
                             topic_id.to_base64(), partition, base_offset, r.entry.last_offset)};
  if (r.batches.empty()) {
    r.entry.topic_id = topic_id;
    r.entry.partition = partition;
    r.entry.base_offset = base_offset;
    r.entry.max_timestamp = max_timestamp;
  }
  r.entry.last_offset = last_offset;
  r.entry.max_timestamp = std::max(r.entry.max_timestamp, max_timestamp);
  r.entry.length += batch.size();
  r.entry.batch_count += batch_count;
  data_bytes_ += batch.size();
  r.batches.push_back(std::move(batch));
  return Status::OK();
}

uint64_t ObjectBuilder::size_bytes() const { return data_bytes_ + ranges_.size() * kEntrySize + kFooterSize; }

namespace {

// crc32c of `bytes`, derived from the CRCs of the Kafka v2 batches they
// hold (bytes 17..20 cover 21..end of each batch) when `derive`, else (or
// when they do not frame as v2 batches) computed over every byte.
uint32_t batches_crc(std::span<const uint8_t> bytes, bool derive) {
  if (!derive || bytes.size() < kCrc32cCombineMinBytes) return crc32c(bytes.data(), bytes.size());
  uint32_t crc = 0;
  for (size_t pos = 0; pos < bytes.size();) {
    const uint8_t* b = bytes.data() + pos;
    const size_t left = bytes.size() - pos;
    if (left < record::kBatchHeaderSize || b[record::kMagicOffset] != 2)
      return crc32c(bytes.data(), bytes.size());
    const uint64_t len = record::kLogOverhead + uint64_t{load32(b + 8)};
    if (len < record::kBatchHeaderSize || len > left) return crc32c(bytes.data(), bytes.size());
    crc = crc32c_combine(crc, record::whole_crc_from_batch_crc(b, len), len);
    pos += len;
  }
  return crc;
}

}  // namespace

Result<BuiltObject> ObjectBuilder::finish() {
  if (ranges_.empty()) return Error{objstore::kErrInvalidArgument, "object builder: no batches to write"};
  // Every byte is written below: no zero-fill first.
  const size_t total = size_bytes();
  std::shared_ptr<uint8_t[]> buffer(new uint8_t[std::max<size_t>(total, 1)]);
  std::span<uint8_t> out(buffer.get(), total);
  BuiltObject built;
  built.entries.reserve(ranges_.size());
  uint64_t pos = 0;
  for (auto& [key, range] : ranges_) {  // std::map: sorted by (topic id, partition)
    IndexEntry e = range.entry;
    e.position = pos;
    uint32_t crc = 0;
    for (const auto& b : range.batches) {
      std::memcpy(out.data() + pos, b.data(), b.size());
      crc = crc32c_combine(crc, batches_crc(b.span(), derive_batch_crcs_), b.size());
      pos += b.size();
    }
    e.crc = crc;
    built.entries.push_back(e);
  }
  Footer f;
  f.index_position = pos;
  f.index_length = built.entries.size() * kEntrySize;
  f.object_length = out.size();
  f.entry_count = static_cast<uint32_t>(built.entries.size());
  for (const auto& e : built.entries) {
    encode_entry(out.data() + pos, e);
    pos += kEntrySize;
  }
  f.index_crc = crc32c(out.data() + f.index_position, f.index_length);
  encode_footer(out.data() + pos, f);
  const uint8_t* data = buffer.get();
  built.bytes = SharedBytes(std::shared_ptr<const uint8_t[]>(std::move(buffer)), data, total);
  ranges_.clear();
  data_bytes_ = 0;
  return built;
}

Result<Footer> parse_footer(std::span<const uint8_t> tail) {
  if (tail.size() < kFooterSize)
    return corrupt(
        fmt::format("{} bytes cannot hold the {}-byte footer (truncated object)", tail.size(), kFooterSize));
  const uint8_t* p = tail.data() + tail.size() - kFooterSize;
  if (load32(p + 40) != kMagic) return corrupt("bad footer magic (truncated or not a stream-set object)");
  if (load32(p + 36) != crc32c(p, 36)) return corrupt("footer CRC mismatch");
  Footer f;
  f.index_position = load64(p);
  f.index_length = load64(p + 8);
  f.object_length = load64(p + 16);
  f.entry_count = load32(p + 24);
  f.index_crc = load32(p + 28);
  f.version = load16(p + 32);
  if (f.version != kVersion) return corrupt(fmt::format("unsupported format version {}", f.version));
  if (load16(p + 34) != 0) return corrupt("unknown footer flags");
  if (f.index_length != uint64_t{f.entry_count} * kEntrySize)
    return corrupt("index length does not match count");
  if (f.object_length < kFooterSize || f.object_length - kFooterSize < f.index_length ||
      f.index_position != f.object_length - kFooterSize - f.index_length)
    return corrupt("footer positions are inconsistent");
  if (tail.size() > f.object_length) return corrupt("object is longer than its footer says");
  return f;
}

Result<ObjectReader> ObjectReader::open(const SharedBytes& tail) {
  auto footer = parse_footer(tail.span());
  if (!footer.ok()) return footer.take_error();
  const Footer& f = *footer;
  if (tail.size() < f.tail_length())
    return Error{objstore::kErrInvalidArgument,
                 fmt::format("stream-set object: tail read of {} bytes does not cover the index (need {})",
                             tail.size(), f.tail_length())};
  const uint8_t* index = tail.data() + (tail.size() - f.tail_length());
  if (crc32c(index, f.index_length) != f.index_crc) return corrupt("index CRC mismatch");
  ObjectReader r;
  r.footer_ = f;
  r.entries_.reserve(f.entry_count);
  uint64_t expect_pos = 0;
  for (uint32_t i = 0; i < f.entry_count; ++i) {
    const uint8_t* p = index + uint64_t{i} * kEntrySize;
    IndexEntry e = decode_entry(p);
    if (load32(p + 68) != 0) return corrupt("index entry has non-zero reserved bytes");
    if (e.partition < 0 || e.base_offset < 0 || e.last_offset < e.base_offset || e.batch_count == 0 ||
        e.length == 0)
      return corrupt(fmt::format("index entry {} has invalid fields", i));
    if (e.position != expect_pos || e.length > f.index_position - e.position)
      return corrupt(fmt::format("index entry {} range is not contiguous within the data", i));
    if (!r.entries_.empty()) {
      const IndexEntry& prev = r.entries_.back();
      if (std::tie(prev.topic_id, prev.partition) >= std::tie(e.topic_id, e.partition))
        return corrupt("index entries are not sorted by (topic, partition)");
    }
    expect_pos = e.position + e.length;
    r.entries_.push_back(e);
  }
  if (expect_pos != f.index_position) return corrupt("index does not cover the data section");
  return r;
}

Result<ObjectReader> ObjectReader::open(objstore::ObjectStore& store, const std::string& key,
                                        uint64_t tail_read) {
  auto tail = store.get(key, objstore::ByteRange::last(std::max<uint64_t>(tail_read, kFooterSize)));
  if (!tail.ok()) return tail.take_error();
  auto footer = parse_footer(tail->span());
  if (!footer.ok()) return footer.take_error();
  if (tail->size() < footer->tail_length()) {
    tail = store.get(key, objstore::ByteRange::last(footer->tail_length()));
    if (!tail.ok()) return tail.take_error();
  }
  return open(*tail);
}

const IndexEntry* ObjectReader::find(const Uuid& topic_id, int32_t partition) const {
  auto it = std::lower_bound(
      entries_.begin(), entries_.end(), std::tie(topic_id, partition),
      [](const IndexEntry& e, const auto& key) { return std::tie(e.topic_id, e.partition) < key; });
  if (it == entries_.end() || it->topic_id != topic_id || it->partition != partition) return nullptr;
  return &*it;
}

Status ObjectReader::verify_range(const IndexEntry& entry, std::span<const uint8_t> data) {
  if (data.size() != entry.length)
    return corrupt(fmt::format("range of {}-{} is {} bytes, index says {} (truncated object)",
                               entry.topic_id.to_base64(), entry.partition, data.size(), entry.length));
  if (crc32c(data.data(), data.size()) != entry.crc)
    return corrupt(fmt::format("data CRC mismatch for {}-{} offsets [{}, {}]", entry.topic_id.to_base64(),
                               entry.partition, entry.base_offset, entry.last_offset));
  return Status::OK();
}

Result<SharedBytes> ObjectReader::read_range(objstore::ObjectStore& store, const std::string& key,
                                             const IndexEntry& entry) {
  auto data = store.get(key, objstore::ByteRange::at(entry.position, entry.length));
  if (!data.ok()) return data.take_error();
  CARELOG_RETURN_IF_ERROR(verify_range(entry, data->span()));
  return data;
}

Status ObjectReader::verify_all(const SharedBytes& whole_object) const {
  if (whole_object.size() != footer_.object_length)
    return corrupt(
        fmt::format("object is {} bytes, footer says {}", whole_object.size(), footer_.object_length));
  for (const auto& e : entries_)
    CARELOG_RETURN_IF_ERROR(verify_range(e, whole_object.span().subspan(e.position, e.length)));
  return Status::OK();
}

std::string make_object_key(uint64_t object_id) {
  return fmt::format("{:02x}/sso/{:020d}", mix(object_id) & 0xff, object_id);
}

Result<uint64_t> parse_object_key(std::string_view key) {
  auto bad = [&] {
    return Error{objstore::kErrInvalidArgument, fmt::format("'{}' is not an object key", key)};
  };
  if (key.size() != 2 + 5 + 20 || key.substr(2, 5) != "/sso/") return bad();
  uint64_t id = 0;
  for (char c : key.substr(7)) {
    if (c < '0' || c > '9') return bad();
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (id > (UINT64_MAX - digit) / 10) return bad();  // overflow
    id = id * 10 + digit;
  }
  if (make_object_key(id) != key) return bad();
  return id;
}

}  // namespace carelog::storage::object_format
