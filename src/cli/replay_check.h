// The verifier behind `carelog replay-check`: re-reads a topic's history the
// way a replaying consumer would need it, from object storage (the object
// index in the metadata store and the stream-set objects) plus the
// un-uploaded tail in the file WAL, and checks it (docs/replay-check.md):
//
//   * every offset from the start (log start, or --from-offset/timestamp)
//     to the end (the high watermark when known, else the last stored
//     offset) is present, or below the log start offset (retention or
//     DeleteRecords);
//   * every object range's checksum and every batch's CRC32C hold, and
//     batches inside a range are contiguous;
//   * offsets strictly increase (so every key's records keep their order)
//     and each idempotent producer's sequence numbers continue without a
//     gap or repeat;
//   * the records decoded per range match the count the index claims;
//   * every record is valid under the topic's carelog.{key,value}.validation
//     (schema-id, schema, fhir-r4, hl7v2), with the validators produce uses;
//   * the audit hash chain verifies, for the audit topic.
//
// The tail above the uploaded offset comes from the file WAL, or with the
// object WAL (wal.type=object) from the WAL objects under wal/ (every
// broker incarnation's prefix in a cluster), read as recovery reads them.
//
// Each partition gets a SHA-256 digest over its records' offsets,
// timestamps, keys, values and headers (not batch bytes, so re-batching or
// recompression by a migration does not change it); `compare` checks a run
// against an earlier report.
//
// Reads only (never writes the store or the index); safe while a broker
// runs. Not thread-safe; one verifier per run.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "metadata/metadata_store.h"
#include "objstore/object_store.h"

struct evp_md_ctx_st;

namespace carelog::schema {
struct TopicValidation;
}

namespace carelog::cli::replay {

// SHA-256 over records' offsets, timestamps, keys, values and headers, in
// the byte layout docs/replay-check.md specifies, so digests computed from
// storage and from what a consumer received are comparable.
class RecordDigest {
 public:
  RecordDigest();
  ~RecordDigest();
  RecordDigest(const RecordDigest&) = delete;
  RecordDigest& operator=(const RecordDigest&) = delete;
  void add(int64_t offset, int64_t timestamp, std::optional<std::string_view> key,
           std::optional<std::string_view> value,
           const std::vector<std::pair<std::string_view, std::optional<std::string_view>>>& headers);
  std::string hex();  // once, at the end

 private:
  void u64(uint64_t v);
  void u32(uint32_t v);
  void bytes(std::optional<std::string_view> s);
  ::evp_md_ctx_st* ctx_;  // OpenSSL EVP_MD_CTX, owned
};

struct Options {
  std::string topic;
  std::optional<int64_t> from_offset;
  std::optional<int64_t> from_timestamp_ms;
  std::string wal_dir;  // file WAL to read the tail above the uploaded offset from ("" = skip)
  bool audit_topic = false;
  // wal.type=object: the tail above the uploaded offset is read from the WAL
  // objects in the object store instead of wal_dir.
  bool object_wal = false;
  // Validate records against the topic's validation configs (--no-validate: false).
  bool validate = true;
  // Per partition, from the broker when online.
  std::map<int32_t, int64_t> high_watermarks;
  std::map<int32_t, int64_t> log_start_offsets;
  // Per partition, the [first, last] range of an earlier report to digest again for --compare.
  std::map<int32_t, std::pair<int64_t, int64_t>> compare_ranges;
};

struct Problem {
  std::string kind;  // missing-offsets, missing-object, corrupt-object, crc-mismatch, count-mismatch,
                     // order, audit-chain, lost-acknowledged, changed, ...
  std::string message;
};

struct PartitionResult {
  int32_t partition = 0;
  int64_t log_start = 0;
  int64_t start = 0;  // first offset checked
  std::optional<int64_t> high_watermark;
  int64_t first = -1, last = -1;  // first and last offset read
  uint64_t records = 0;           // records read from start
  uint64_t bytes = 0;             // batch bytes read
  uint64_t index_records = 0;     // what the index ranges claim, from start
  uint64_t object_ranges = 0;
  uint64_t wal_records = 0;        // batches read from the WAL tail
  uint64_t validated_records = 0;  // records checked against the topic's validation
  uint64_t invalid_records = 0;
  int64_t uploaded_offset = -1;
  std::string digest;                         // over [first, last]
  std::optional<std::string> compare_digest;  // over the compare range, if fully read
  std::vector<std::string> explained;         // gaps with a reason
  std::vector<Problem> problems;
  std::string audit;  // "" or the chain summary
};

struct Report {
  std::string topic;
  std::string topic_id;
  std::string validation;  // e.g. "value=schema key=none", "none", "not checked (--no-validate)"
  std::vector<PartitionResult> partitions;
  double seconds = 0;
  uint64_t bytes = 0, records = 0;
  bool ok() const;
};

Result<Report> check_topic(metadata::MetadataStore& md, objstore::ObjectStore& store, const Options& options);

// Adds "changed" / "missing" problems for each partition whose history
// differs from `previous` (a report written by render_json).
Status compare(Report& current, const std::string& previous_json);
// The [first, last] ranges of an earlier report, for Options::compare_ranges.
Result<std::map<int32_t, std::pair<int64_t, int64_t>>> compare_ranges(const std::string& previous_json,
                                                                      const std::string& topic);

std::string render_text(const std::vector<Report>& reports);
std::string render_json(const std::vector<Report>& reports);

}  // namespace carelog::cli::replay
