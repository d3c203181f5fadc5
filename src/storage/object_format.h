// Stream-set object format, version 1 (see docs/formats/object.md).
//
// One immutable object holds record batches of many partitions:
//
//   [partition data 0][partition data 1]...[index][footer]
//
// Partition data ranges are sorted by (topic id bytes, partition), each
// partition's batches contiguous and in offset order, exactly as they will
// be served in a Fetch response. The index has one fixed-size entry per
// range (offsets, max timestamp, position, length, batch count, CRC-32C of
// the range). The fixed-size footer at the very end locates the index and
// carries its CRC, so a reader needs one ranged GET of the object's tail
// (footer + index) and then one ranged GET per partition range.
//
// All integers big-endian. Object keys: make_object_key().
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/uuid.h"
#include "objstore/object_store.h"

namespace carelog::storage::object_format {

inline constexpr uint32_t kMagic = 0x43534F31;  // "CSO1"
inline constexpr uint16_t kVersion = 1;
inline constexpr size_t kFooterSize = 44;
inline constexpr size_t kEntrySize = 72;
// A tail read of this size covers the index of an object with up to ~900
// partition ranges, so most opens need a single GET.
inline constexpr uint64_t kDefaultTailRead = 64 * 1024;

// Corrupt or truncated objects fail with objstore::kErrCorrupt.
using objstore::kErrCorrupt;

struct IndexEntry {
  Uuid topic_id;
  int32_t partition = 0;
  int64_t base_offset = 0;     // first offset of the first batch
  int64_t last_offset = 0;     // last offset of the last batch
  int64_t max_timestamp = -1;  // max over the batches' max timestamps (-1 = none)
  uint64_t position = 0;       // byte position of the range in the object
  uint64_t length = 0;         // byte length of the range
  uint32_t batch_count = 0;
  uint32_t crc = 0;  // CRC-32C of the range bytes
  friend bool operator==(const IndexEntry&, const IndexEntry&) = default;
};

struct Footer {
  uint64_t index_position = 0;
  uint64_t index_length = 0;
  uint64_t object_length = 0;
  uint32_t entry_count = 0;
  uint32_t index_crc = 0;
  uint16_t version = kVersion;
  // Bytes from the index start to the end of the object.
  uint64_t tail_length() const { return object_length - index_position; }
};

struct BuiltObject {
  SharedBytes bytes;
  std::vector<IndexEntry> entries;  // sorted as in the object
};

// Accumulates batches (any interleaving of partitions) and lays them out.
// Keeps references to the appended bytes until finish(), copying once.
// Ownership: owns its pending batch list. Threading: not thread-safe; one
// builder per upload.
class ObjectBuilder {
 public:
  // With `derive_batch_crcs`, every appended batch is a Kafka v2 batch whose
  // own CRC was verified on the produce path (the uploader's case): each
  // range checksum is then derived from those CRCs (crc32c_combine) instead
  // of reading every byte again. Anything that does not frame as v2
  // batches is checksummed byte by byte, so the result is the same.
  explicit ObjectBuilder(bool derive_batch_crcs = false) : derive_batch_crcs_(derive_batch_crcs) {}

  // `batch` is one or more complete Kafka record batches covering offsets
  // [base_offset, last_offset]. Within a partition, base_offset must exceed
  // the previous append's last_offset (gaps are allowed).
  Status append(const Uuid& topic_id, int32_t partition, int64_t base_offset, int64_t last_offset,
                int64_t max_timestamp, SharedBytes batch, uint32_t batch_count = 1);

  bool empty() const { return ranges_.empty(); }
  // Size of the object finish() would produce.
  uint64_t size_bytes() const;
  // Produces the object; the builder is empty afterwards. Fails when empty.
  Result<BuiltObject> finish();

 private:
  struct Range {
    std::vector<SharedBytes> batches;
    IndexEntry entry;  // offsets, timestamp, length, count; position set on finish
  };
  struct Key {
    Uuid topic_id;
    int32_t partition;
    friend auto operator<=>(const Key&, const Key&) = default;
  };
  std::map<Key, Range> ranges_;
  uint64_t data_bytes_ = 0;
  bool derive_batch_crcs_ = false;
};

// Decodes and validates a footer from the last kFooterSize bytes of `tail`.
Result<Footer> parse_footer(std::span<const uint8_t> tail);

// A validated index. Cheap to copy (entries are a small vector).
class ObjectReader {
 public:
  // `tail` = the last N bytes of the object, N >= footer.tail_length() (the
  // whole object works too). Validates footer, index CRC and the layout.
  static Result<ObjectReader> open(const SharedBytes& tail);
  // Reads the tail with one ranged GET (a second when the index is larger
  // than `tail_read`) and opens it.
  static Result<ObjectReader> open(objstore::ObjectStore& store, const std::string& key,
                                   uint64_t tail_read = kDefaultTailRead);

  const Footer& footer() const { return footer_; }
  const std::vector<IndexEntry>& entries() const { return entries_; }
  // The range of one partition, or nullptr.
  const IndexEntry* find(const Uuid& topic_id, int32_t partition) const;

  // Checks that `data` is exactly the range's bytes (length and CRC).
  static Status verify_range(const IndexEntry& entry, std::span<const uint8_t> data);
  // One ranged GET of the entry's bytes, verified.
  static Result<SharedBytes> read_range(objstore::ObjectStore& store, const std::string& key,
                                        const IndexEntry& entry);
  // Verifies every range of a whole object held in memory.
  Status verify_all(const SharedBytes& whole_object) const;

 private:
  Footer footer_;
  std::vector<IndexEntry> entries_;
};

// Key for object `object_id`: "<2 hex digits>/sso/<20-digit decimal id>".
// The first component is a hash of the id so consecutive ids spread over
// 256 prefixes (S3 scales request rates per prefix).
std::string make_object_key(uint64_t object_id);
// Inverse of make_object_key; error for other keys.
Result<uint64_t> parse_object_key(std::string_view key);

}  // namespace carelog::storage::object_format
