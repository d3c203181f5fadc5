// Kafka wire primitives: a bounds-checked Reader over a request frame and a
// Writer that appends to a growable buffer.
//
// Reader uses a sticky failure flag: the first failed read records why and
// where, and every later read returns a zero value without touching memory.
// Generated decoders therefore read straight through and check status() once.
// Lengths taken from the wire are checked against the remaining bytes before
// anything is allocated, so hostile input cannot trigger huge allocations.
//
// Neither class is thread-safe; each is used by one codec call at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/uuid.h"

namespace carelog::protocol {

// A tagged field this build does not know, kept verbatim so that decoding
// and re-encoding a message is lossless.
struct TaggedField {
  uint32_t tag = 0;
  SharedBytes data;
  friend bool operator==(const TaggedField&, const TaggedField&) = default;
};

// A records field (record batches). Decoding yields one zero-copy chunk of the
// frame; encoders may supply several chunks (e.g. batches read from different
// log segments), written back to back. Equality compares the concatenation.
struct Records {
  std::vector<SharedBytes> chunks;

  size_t size() const;
  // Concatenation of all chunks (no copy when there is at most one chunk).
  SharedBytes flatten() const;
  friend bool operator==(const Records& a, const Records& b);
};

class Reader {
 public:
  explicit Reader(SharedBytes buf) : buf_(std::move(buf)) {}

  bool ok() const { return error_ == nullptr; }
  size_t offset() const { return pos_; }
  size_t remaining() const { return ok() ? buf_.size() - pos_ : 0; }
  // OK, or an INVALID_REQUEST (42) error naming the first failure and its offset.
  Status status() const;
  // Marks the reader failed (keeps the first reason). `what` must be a literal.
  void fail(const char* what);

  bool read_bool();
  int8_t read_int8();
  int16_t read_int16();
  int32_t read_int32();
  int64_t read_int64();
  uint16_t read_uint16();
  uint32_t read_uint32();
  double read_float64();
  Uuid read_uuid();

  uint32_t read_uvarint();
  uint64_t read_uvarlong();
  int32_t read_varint();   // zigzag
  int64_t read_varlong();  // zigzag

  // Strings: classic = int16 length (-1 null); compact = uvarint length+1 (0 null).
  std::string read_string();
  std::optional<std::string> read_nullable_string();
  std::string read_compact_string();
  std::optional<std::string> read_compact_nullable_string();
  // Picks the compact or classic encoding.
  std::string read_string(bool compact) { return compact ? read_compact_string() : read_string(); }
  std::optional<std::string> read_nullable_string(bool compact) {
    return compact ? read_compact_nullable_string() : read_nullable_string();
  }

  // Bytes: classic = int32 length (-1 null); compact = uvarint length+1.
  // The result is a slice of the frame (zero-copy).
  SharedBytes read_bytes();
  std::optional<SharedBytes> read_nullable_bytes();
  SharedBytes read_compact_bytes();
  std::optional<SharedBytes> read_compact_nullable_bytes();
  std::optional<SharedBytes> read_nullable_bytes(bool compact) {
    return compact ? read_compact_nullable_bytes() : read_nullable_bytes();
  }
  SharedBytes read_bytes(bool compact) { return compact ? read_compact_bytes() : read_bytes(); }

  // The next n bytes as a slice.
  SharedBytes read_raw(size_t n);

  // Array lengths; -1 means null. Fails unless length * min_element_size fits
  // in the remaining bytes (elements always take at least one byte).
  int32_t read_array_length(size_t min_element_size = 1);
  int32_t read_compact_array_length(size_t min_element_size = 1);
  int32_t read_array_length(bool compact, size_t min_element_size) {
    return compact ? read_compact_array_length(min_element_size) : read_array_length(min_element_size);
  }

  // Tagged-field section header: the field count (each field needs >= 2 bytes).
  uint32_t read_tagged_field_count();
  // Reads a whole tagged-field section, keeping every field as unknown.
  void read_unknown_tagged_fields(std::vector<TaggedField>& out);

 private:
  bool need(size_t n, const char* what);
  const uint8_t* p() const { return buf_.data() + pos_; }

  SharedBytes buf_;
  size_t pos_ = 0;
  const char* error_ = nullptr;
  size_t error_offset_ = 0;
};

// A chunk sent after buffer()[0, pos) instead of being copied into the
// buffer (scatter-gather output; see Writer::splice_records_from).
struct Splice {
  size_t pos = 0;
  SharedBytes bytes;
};

class Writer {
 public:
  Writer() = default;
  // Continues appending to an existing buffer.
  explicit Writer(std::vector<uint8_t> initial) : buf_(std::move(initial)) {}

  // Encoded size, spliced chunks included.
  size_t size() const { return buf_.size() + spliced_bytes_; }
  const std::vector<uint8_t>& buffer() const { return buf_; }
  // The buffer only: with splicing on, take_splices() holds the rest.
  std::vector<uint8_t> take() { return std::move(buf_); }

  void write_bool(bool v) { write_int8(v ? 1 : 0); }
  void write_int8(int8_t v) { buf_.push_back(static_cast<uint8_t>(v)); }
  void write_int16(int16_t v) { write_be(static_cast<uint16_t>(v), 2); }
  void write_int32(int32_t v) { write_be(static_cast<uint32_t>(v), 4); }
  void write_int64(int64_t v) { write_be(static_cast<uint64_t>(v), 8); }
  void write_uint16(uint16_t v) { write_be(v, 2); }
  void write_uint32(uint32_t v) { write_be(v, 4); }
  void write_float64(double v);
  void write_uuid(const Uuid& u) { write_raw(u.bytes.data(), u.bytes.size()); }

  void write_uvarint(uint32_t v) { write_uvarlong(v); }
  void write_uvarlong(uint64_t v);
  void write_varint(int32_t v);
  void write_varlong(int64_t v);

  void write_string(std::string_view s);
  void write_nullable_string(const std::optional<std::string>& s);
  void write_compact_string(std::string_view s);
  void write_compact_nullable_string(const std::optional<std::string>& s);
  void write_string(std::string_view s, bool compact) { compact ? write_compact_string(s) : write_string(s); }
  void write_nullable_string(const std::optional<std::string>& s, bool compact) {
    compact ? write_compact_nullable_string(s) : write_nullable_string(s);
  }

  void write_bytes(std::span<const uint8_t> b);
  void write_nullable_bytes(const std::optional<SharedBytes>& b);
  void write_compact_bytes(std::span<const uint8_t> b);
  void write_compact_nullable_bytes(const std::optional<SharedBytes>& b);
  void write_bytes(std::span<const uint8_t> b, bool compact) {
    compact ? write_compact_bytes(b) : write_bytes(b);
  }
  void write_nullable_bytes(const std::optional<SharedBytes>& b, bool compact) {
    compact ? write_compact_nullable_bytes(b) : write_nullable_bytes(b);
  }

  // Records chunks of at least `min_bytes` are not copied from now on but
  // recorded as splices: the output is then buffer() interleaved with
  // take_splices(), and the chunks' owners stay referenced (no copy of
  // fetched batches into a response buffer). Off by default.
  void splice_records_from(size_t min_bytes) { splice_min_ = min_bytes; }
  std::vector<Splice> take_splices() {
    spliced_bytes_ = 0;
    return std::move(splices_);
  }

  // Records: the chunks back to back, with a bytes-style length prefix.
  void write_records(const Records& r, bool compact);
  void write_nullable_records(const std::optional<Records>& r, bool compact);

  // Array length; pass -1 for null.
  void write_array_length(int32_t n) { write_int32(n); }
  void write_compact_array_length(int32_t n) { write_uvarint(static_cast<uint32_t>(n + 1)); }
  void write_array_length(int32_t n, bool compact) {
    compact ? write_compact_array_length(n) : write_array_length(n);
  }

  // Writes a tagged-field section: `known` (sorted by tag) and `unknown`
  // merged in ascending tag order.
  void write_tagged_fields(const std::vector<TaggedField>& known, const std::vector<TaggedField>& unknown);

  void write_raw(const void* data, size_t n);
  void write_raw(std::span<const uint8_t> b) { write_raw(b.data(), b.size()); }

  // Reserves a big-endian int32 (e.g. a frame length) and patches it later.
  size_t reserve_int32() {
    size_t pos = buf_.size();
    buf_.resize(pos + 4);
    return pos;
  }
  void patch_int32(size_t pos, int32_t v);

 private:
  void write_be(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }

  std::vector<uint8_t> buf_;
  size_t splice_min_ = SIZE_MAX;
  size_t spliced_bytes_ = 0;
  std::vector<Splice> splices_;
};

// Size in bytes of an unsigned varint encoding of v.
size_t uvarint_size(uint64_t v);

}  // namespace carelog::protocol
