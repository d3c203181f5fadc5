#include "protocol/wire.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace carelog::protocol {

namespace {
constexpr int32_t kInvalidRequest = 42;  // ErrorCode::kInvalidRequest
}

size_t Records::size() const {
  size_t n = 0;
  for (const auto& c : chunks) n += c.size();
  return n;
}

SharedBytes Records::flatten() const {
  if (chunks.empty()) return SharedBytes();
  if (chunks.size() == 1) return chunks[0];
  std::vector<uint8_t> out;
  out.reserve(size());
  for (const auto& c : chunks) out.insert(out.end(), c.data(), c.data() + c.size());
  return SharedBytes::from_vector(std::move(out));
}

bool operator==(const Records& a, const Records& b) {
  if (a.size() != b.size()) return false;
  // Walk both chunk lists in lockstep without flattening.
  size_t ai = 0, ao = 0, bi = 0, bo = 0;
  while (true) {
    while (ai < a.chunks.size() && ao == a.chunks[ai].size()) ++ai, ao = 0;
    while (bi < b.chunks.size() && bo == b.chunks[bi].size()) ++bi, bo = 0;
    if (ai == a.chunks.size() || bi == b.chunks.size()) return true;
    size_t n = std::min(a.chunks[ai].size() - ao, b.chunks[bi].size() - bo);
    if (std::memcmp(a.chunks[ai].data() + ao, b.chunks[bi].data() + bo, n) != 0) return false;
    ao += n;
    bo += n;
  }
}

// ---------------------------------------------------------------- Reader

Status Reader::status() const {
  if (ok()) return Status::OK();
  return make_error(
      std::string("malformed message: ") + error_ + " at offset " + std::to_string(error_offset_),
      kInvalidRequest);
}

void Reader::fail(const char* what) {
  if (error_ != nullptr) return;
  error_ = what;
  error_offset_ = pos_;
}

bool Reader::need(size_t n, const char* what) {
  if (!ok()) return false;
  if (buf_.size() - pos_ < n) {
    fail(what);
    return false;
  }
  return true;
}

namespace {
uint64_t load_be(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}
}  // namespace

bool Reader::read_bool() { return read_int8() != 0; }

int8_t Reader::read_int8() {
  if (!need(1, "truncated int8")) return 0;
  return static_cast<int8_t>(buf_.data()[pos_++]);
}
int16_t Reader::read_int16() {
  if (!need(2, "truncated int16")) return 0;
  auto v = static_cast<int16_t>(load_be(p(), 2));
  pos_ += 2;
  return v;
}
int32_t Reader::read_int32() {
  if (!need(4, "truncated int32")) return 0;
  auto v = static_cast<int32_t>(load_be(p(), 4));
  pos_ += 4;
  return v;
}
int64_t Reader::read_int64() {
  if (!need(8, "truncated int64")) return 0;
  auto v = static_cast<int64_t>(load_be(p(), 8));
  pos_ += 8;
  return v;
}
uint16_t Reader::read_uint16() { return static_cast<uint16_t>(read_int16()); }
uint32_t Reader::read_uint32() { return static_cast<uint32_t>(read_int32()); }

double Reader::read_float64() {
  uint64_t bits = static_cast<uint64_t>(read_int64());
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

Uuid Reader::read_uuid() {
  Uuid u;
  if (!need(16, "truncated uuid")) return u;
  std::memcpy(u.bytes.data(), p(), 16);
  pos_ += 16;
  return u;
}

uint64_t Reader::read_uvarlong() {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (!need(1, "truncated varint")) return 0;
    uint8_t b = buf_.data()[pos_++];
    if (shift == 63 && (b & 0x7e) != 0) {
      fail("varlong overflow");
      return 0;
    }
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  fail("varlong too long");
  return 0;
}

uint32_t Reader::read_uvarint() {
  uint32_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (!need(1, "truncated varint")) return 0;
    uint8_t b = buf_.data()[pos_++];
    if (shift == 28 && (b & 0x70) != 0) {
      fail("varint overflow");
      return 0;
    }
    v |= static_cast<uint32_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  fail("varint too long");
  return 0;
}

int32_t Reader::read_varint() {
  uint32_t u = read_uvarint();
  return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

int64_t Reader::read_varlong() {
  uint64_t u = read_uvarlong();
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

SharedBytes Reader::read_raw(size_t n) {
  if (!need(n, "truncated bytes")) return SharedBytes();
  SharedBytes s = buf_.slice(pos_, n);
  pos_ += n;
  return s;
}

std::optional<std::string> Reader::read_nullable_string() {
  int16_t n = read_int16();
  if (!ok()) return std::string();
  if (n < -1) {
    fail("negative string length");
    return std::string();
  }
  if (n == -1) return std::nullopt;
  if (!need(static_cast<size_t>(n), "truncated string")) return std::string();
  std::string s(reinterpret_cast<const char*>(p()), static_cast<size_t>(n));
  pos_ += static_cast<size_t>(n);
  return s;
}

std::string Reader::read_string() {
  auto s = read_nullable_string();
  if (!s) {
    fail("null in non-nullable string");
    return std::string();
  }
  return std::move(*s);
}

std::optional<std::string> Reader::read_compact_nullable_string() {
  uint32_t n = read_uvarint();
  if (!ok()) return std::string();
  if (n == 0) return std::nullopt;
  size_t len = n - 1;
  if (!need(len, "truncated compact string")) return std::string();
  std::string s(reinterpret_cast<const char*>(p()), len);
  pos_ += len;
  return s;
}

std::string Reader::read_compact_string() {
  auto s = read_compact_nullable_string();
  if (!s) {
    fail("null in non-nullable compact string");
    return std::string();
  }
  return std::move(*s);
}

std::optional<SharedBytes> Reader::read_nullable_bytes() {
  int32_t n = read_int32();
  if (!ok()) return SharedBytes();
  if (n < -1) {
    fail("negative bytes length");
    return SharedBytes();
  }
  if (n == -1) return std::nullopt;
  return read_raw(static_cast<size_t>(n));
}

SharedBytes Reader::read_bytes() {
  auto b = read_nullable_bytes();
  if (!b) {
    fail("null in non-nullable bytes");
    return SharedBytes();
  }
  return std::move(*b);
}

std::optional<SharedBytes> Reader::read_compact_nullable_bytes() {
  uint32_t n = read_uvarint();
  if (!ok()) return SharedBytes();
  if (n == 0) return std::nullopt;
  return read_raw(n - 1);
}

SharedBytes Reader::read_compact_bytes() {
  auto b = read_compact_nullable_bytes();
  if (!b) {
    fail("null in non-nullable compact bytes");
    return SharedBytes();
  }
  return std::move(*b);
}

int32_t Reader::read_array_length(size_t min_element_size) {
  int32_t n = read_int32();
  if (!ok()) return 0;
  if (n < -1) {
    fail("negative array length");
    return 0;
  }
  if (n > 0 && static_cast<uint64_t>(n) * std::max<size_t>(min_element_size, 1) > remaining()) {
    fail("array length exceeds message");
    return 0;
  }
  return n;
}

int32_t Reader::read_compact_array_length(size_t min_element_size) {
  uint32_t n = read_uvarint();
  if (!ok()) return 0;
  if (n == 0) return -1;
  uint64_t len = n - 1;
  if (len > static_cast<uint64_t>(INT32_MAX) || len * std::max<size_t>(min_element_size, 1) > remaining()) {
    fail("compact array length exceeds message");
    return 0;
  }
  return static_cast<int32_t>(len);
}

uint32_t Reader::read_tagged_field_count() {
  uint32_t n = read_uvarint();
  if (!ok()) return 0;
  if (static_cast<uint64_t>(n) * 2 > remaining()) {
    fail("tagged field count exceeds message");
    return 0;
  }
  return n;
}

void Reader::read_unknown_tagged_fields(std::vector<TaggedField>& out) {
  uint32_t n = read_tagged_field_count();
  for (uint32_t i = 0; i < n && ok(); ++i) {
    uint32_t tag = read_uvarint();
    uint32_t size = read_uvarint();
    SharedBytes data = read_raw(size);
    if (ok()) out.push_back(TaggedField{tag, std::move(data)});
  }
}

// ---------------------------------------------------------------- Writer

void Writer::write_float64(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  write_be(bits, 8);
}

void Writer::write_uvarlong(uint64_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<uint8_t>(v));
}

void Writer::write_varint(int32_t v) {
  uint32_t u = (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
  write_uvarint(u);
}

void Writer::write_varlong(int64_t v) {
  uint64_t u = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  write_uvarlong(u);
}

void Writer::write_raw(const void* data, size_t n) {
  if (n == 0) return;
  const auto* b = static_cast<const uint8_t*>(data);
  buf_.insert(buf_.end(), b, b + n);
}

// Strings longer than the int16 limit cannot be encoded in the classic form;
// they are truncated rather than producing a corrupt frame (callers validate
// lengths before this point, so this never happens for well-formed input).
void Writer::write_string(std::string_view s) {
  size_t n = std::min<size_t>(s.size(), INT16_MAX);
  write_int16(static_cast<int16_t>(n));
  write_raw(s.data(), n);
}

void Writer::write_nullable_string(const std::optional<std::string>& s) {
  if (!s) {
    write_int16(-1);
    return;
  }
  write_string(*s);
}

void Writer::write_compact_string(std::string_view s) {
  write_uvarint(static_cast<uint32_t>(s.size() + 1));
  write_raw(s.data(), s.size());
}

void Writer::write_compact_nullable_string(const std::optional<std::string>& s) {
  if (!s) {
    write_uvarint(0);
    return;
  }
  write_compact_string(*s);
}

void Writer::write_bytes(std::span<const uint8_t> b) {
  write_int32(static_cast<int32_t>(b.size()));
  write_raw(b);
}

void Writer::write_nullable_bytes(const std::optional<SharedBytes>& b) {
  if (!b) {
    write_int32(-1);
    return;
  }
  write_bytes(b->span());
}

void Writer::write_compact_bytes(std::span<const uint8_t> b) {
  write_uvarint(static_cast<uint32_t>(b.size() + 1));
  write_raw(b);
}

void Writer::write_compact_nullable_bytes(const std::optional<SharedBytes>& b) {
  if (!b) {
    write_uvarint(0);
    return;
  }
  write_compact_bytes(b->span());
}

void Writer::write_records(const Records& r, bool compact) {
  size_t n = r.size();
  if (compact) {
    write_uvarint(static_cast<uint32_t>(n + 1));
  } else {
    write_int32(static_cast<int32_t>(n));
  }
  // Geometric growth: reserving exactly per field would reallocate (and
  // copy everything so far) for every partition of a fetch response.
  if (splice_min_ == SIZE_MAX && buf_.capacity() < buf_.size() + n)
    buf_.reserve(std::max(buf_.size() + n, 2 * buf_.capacity()));
  for (const auto& c : r.chunks) {
    if (c.size() >= splice_min_) {
      splices_.push_back(Splice{buf_.size(), c});
      spliced_bytes_ += c.size();
    } else {
      write_raw(c.data(), c.size());
    }
  }
}

void Writer::write_nullable_records(const std::optional<Records>& r, bool compact) {
  if (!r) {
    compact ? write_uvarint(0) : write_int32(-1);
    return;
  }
  write_records(*r, compact);
}

void Writer::write_tagged_fields(const std::vector<TaggedField>& known,
                                 const std::vector<TaggedField>& unknown) {
  write_uvarint(static_cast<uint32_t>(known.size() + unknown.size()));
  size_t k = 0, u = 0;
  while (k < known.size() || u < unknown.size()) {
    const TaggedField* f;
    if (u == unknown.size() || (k < known.size() && known[k].tag <= unknown[u].tag)) {
      f = &known[k++];
    } else {
      f = &unknown[u++];
    }
    write_uvarint(f->tag);
    write_uvarint(static_cast<uint32_t>(f->data.size()));
    write_raw(f->data.data(), f->data.size());
  }
}

void Writer::patch_int32(size_t pos, int32_t v) {
  auto u = static_cast<uint32_t>(v);
  buf_[pos] = static_cast<uint8_t>(u >> 24);
  buf_[pos + 1] = static_cast<uint8_t>(u >> 16);
  buf_[pos + 2] = static_cast<uint8_t>(u >> 8);
  buf_[pos + 3] = static_cast<uint8_t>(u);
}

size_t uvarint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

}  // namespace carelog::protocol
