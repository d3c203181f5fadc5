#include "cli/replay_check.h"

#include <fmt/core.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>

#include "audit/hash_chain.h"
#include "record/batch.h"
#include "record/records.h"
#include "registry/registry.h"
#include "registry/validators.h"
#include "schema/validator.h"
#include "storage/object_format.h"
#include "storage/object_wal.h"
#include "storage/object_wal_format.h"
#include "storage/wal_format.h"

namespace carelog::cli::replay {

RecordDigest::RecordDigest() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
RecordDigest::~RecordDigest() { EVP_MD_CTX_free(ctx_); }

void RecordDigest::add(
    int64_t offset, int64_t timestamp, std::optional<std::string_view> key,
    std::optional<std::string_view> value,
    const std::vector<std::pair<std::string_view, std::optional<std::string_view>>>& headers) {
  u64(static_cast<uint64_t>(offset));
  u64(static_cast<uint64_t>(timestamp));
  bytes(key);
  bytes(value);
  u32(static_cast<uint32_t>(headers.size()));
  for (const auto& [k, v] : headers) {
    bytes(k);
    bytes(v);
  }
}

std::string RecordDigest::hex() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_, out, &n);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) {
    s += kHex[out[i] >> 4];
    s += kHex[out[i] & 0xf];
  }
  return s;
}

void RecordDigest::u64(uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
  EVP_DigestUpdate(ctx_, b, 8);
}

void RecordDigest::u32(uint32_t v) {
  uint8_t b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
  EVP_DigestUpdate(ctx_, b, 4);
}

void RecordDigest::bytes(std::optional<std::string_view> s) {
  if (!s) {
    u32(0xffffffffu);  // null, distinct from empty
    return;
  }
  u32(static_cast<uint32_t>(s->size()));
  EVP_DigestUpdate(ctx_, s->data(), s->size());
}

namespace {

void add_record(RecordDigest& d, int64_t offset, int64_t ts, const record::RecordView& r) {
  std::vector<std::pair<std::string_view, std::optional<std::string_view>>> headers;
  headers.reserve(r.headers.size());
  for (const auto& h : r.headers) headers.emplace_back(h.key, h.value);
  d.add(offset, ts, r.key, r.value, headers);
}

using storage::object_format::ObjectReader;

struct ProducerSeq {
  int16_t epoch = -1;
  int32_t last_sequence = -1;
};

// State of one partition's scan.
class PartitionScan {
 public:
  PartitionScan(PartitionResult& out, const Options& opt, std::optional<std::pair<int64_t, int64_t>> compare,
                const schema::TopicValidation* validation)
      : out_(out), opt_(opt), compare_(compare), validation_(validation) {}

  void problem(std::string kind, std::string message) {
    out_.problems.push_back({std::move(kind), std::move(message)});
  }

  // Offsets [next_, base) are absent: explained below the log start, else a problem.
  // `compacted_`: set while reading object storage of a compacted topic,
  // where the cleaner removes superseded records and so leaves offset gaps.
  void gap_until(int64_t base, const char* where) {
    if (base <= next_) return;
    int64_t end = base - 1;
    if (compacted_ && next_ >= out_.log_start) {
      ++compaction_gaps_;
      compaction_offsets_ += static_cast<uint64_t>(end - next_ + 1);
    } else if (end < out_.log_start) {
      out_.explained.push_back(
          fmt::format("offsets {}..{} below the log start offset {} (retention or DeleteRecords)", next_, end,
                      out_.log_start));
    } else {
      problem("missing-offsets",
              fmt::format("offsets {}..{} are missing: {}", std::max(next_, out_.log_start), end, where));
      gap_ = true;
    }
    next_ = base;
  }

  // Checks and digests the batches in `data` (one index range or one WAL
  // batch); `expect_base`/`expect_last` are what the index claims (-1: no claim).
  void batches(const SharedBytes& data, int64_t expect_base, int64_t expect_last, const std::string& source) {
    size_t pos = 0;
    int64_t first = -1, last = -1;
    while (pos < data.size()) {
      auto h = record::parse_header(data.span().subspan(pos));
      if (!h.ok() || h->batch_length <= 0 || pos + h->total_size() > data.size()) {
        problem("corrupt-object", fmt::format("{}: bad batch header at byte {}", source, pos));
        return;
      }
      SharedBytes batch = data.slice(pos, h->total_size());
      pos += h->total_size();
      if (record::compute_crc(batch.data(), batch.size()) != h->crc) {
        problem("crc-mismatch",
                fmt::format("{}: batch at offset {} fails its CRC32C", source, h->base_offset));
        continue;
      }
      if (last >= 0 && h->base_offset != last + 1) {
        if (compacted_ && h->base_offset > last + 1) {
          next_ = last + 1;
          gap_until(h->base_offset, "");
        } else {
          problem("count-mismatch",
                  fmt::format("{}: batches jump from offset {} to {}", source, last, h->base_offset));
        }
      }
      if (first < 0) first = h->base_offset;
      last = h->last_offset();
      out_.bytes += batch.size();
      sequence(*h);
      auto decoded = record::decode_batch(batch);
      if (!decoded.ok()) {
        problem("corrupt-object",
                fmt::format("{}: offset {}: {}", source, h->base_offset, decoded.error().message));
        continue;
      }
      for (const auto& r : decoded->records) record(*decoded, r, source, !h->control());
    }
    // The cleaner's output ranges name the span they cover; the batches in
    // it may start later and end earlier (records removed at either end).
    const bool fits = compacted_ ? first >= expect_base && last <= expect_last && first >= 0
                                 : first == expect_base && last == expect_last;
    if (expect_base >= 0 && !fits) {
      problem("count-mismatch", fmt::format("{}: the index says offsets {}..{}, the batches hold {}..{}",
                                            source, expect_base, expect_last, first, last));
    }
  }

  void record(const record::DecodedBatch& b, const record::RecordView& r, const std::string& source,
              bool data) {
    int64_t offset = b.offset_of(r);
    if (offset < out_.start) return;
    int64_t ts = b.timestamp_of(r);
    if (opt_.from_timestamp_ms && out_.records == 0 && ts < *opt_.from_timestamp_ms) return;
    if (prev_offset_ >= 0 && offset <= prev_offset_) {
      problem("order", fmt::format("{}: offset {} after {}", source, offset, prev_offset_));
      return;
    }
    if (out_.first < 0) out_.first = offset;
    out_.last = offset;
    prev_offset_ = offset;
    ++out_.records;
    add_record(digest_, offset, ts, r);
    if (validation_ && data) validate(r, offset, source);
    if (compare_ && offset >= compare_->first && offset <= compare_->second) {
      if (offset == compare_->first) compare_started_ = !gap_;
      add_record(compare_digest_, offset, ts, r);
      if (offset == compare_->second && compare_started_ && !gap_)
        out_.compare_digest = compare_digest_.hex();
    }
    if (opt_.audit_topic) {
      if (!r.value) {
        if (audit_ok_) problem("audit-chain", fmt::format("offset {}: audit record has no value", offset));
        audit_ok_ = false;
      } else if (audit_ok_) {
        Status st = chain_.add(offset, *r.value);
        if (!st.ok()) {
          problem("audit-chain", st.error().message);
          audit_ok_ = false;
        }
      }
    }
  }

  // The same check produce makes (schema::validate_records), on one record.
  void validate(const record::RecordView& r, int64_t offset, const std::string& source) {
    ++out_.validated_records;
    auto errors = schema::validate_records(*validation_, opt_.topic, std::span(&r, 1));
    if (errors.empty()) return;
    if (++out_.invalid_records <= kInvalidListed)
      problem("invalid-record", fmt::format("{}: offset {}: {}", source, offset, errors.front().message));
  }

  void sequence(const record::BatchHeader& h) {
    // Compaction removes whole batches, so sequences legitimately jump there.
    if (h.producer_id < 0 || h.base_sequence < 0 || h.control() || compacted_) return;
    auto [it, fresh] = producers_.try_emplace(h.producer_id);
    ProducerSeq& s = it->second;
    if (!fresh && h.producer_epoch == s.epoch) {
      int32_t expected = s.last_sequence == INT32_MAX ? 0 : s.last_sequence + 1;
      if (h.base_sequence != expected)
        problem("order",
                fmt::format("producer {} epoch {}: sequence {} follows {} at offset {}", h.producer_id,
                            h.producer_epoch, h.base_sequence, s.last_sequence, h.base_offset));
    }
    s.epoch = h.producer_epoch;
    s.last_sequence = h.last_sequence();
  }

  void finish() {
    out_.digest = digest_.hex();
    if (compaction_gaps_ > 0)
      out_.explained.push_back(fmt::format(
          "{} offsets in {} gaps of object storage removed by compaction (cleanup.policy=compact)",
          compaction_offsets_, compaction_gaps_));
    if (out_.invalid_records > kInvalidListed)
      problem("invalid-record", fmt::format("{} more invalid records not listed ({} of {} records invalid)",
                                            out_.invalid_records - kInvalidListed, out_.invalid_records,
                                            out_.validated_records));
    if (opt_.audit_topic && audit_ok_) {
      out_.audit = chain_.records() == 0
                       ? "no audit records"
                       : fmt::format("audit chain OK: {} records, head {}{}", chain_.records(), chain_.head(),
                                     chain_.anchored() ? " (anchored after retention)" : "");
    }
  }

  int64_t next_ = 0;  // next offset expected
  bool compacted_ = false;

 private:
  static constexpr uint64_t kInvalidListed = 20;  // invalid records listed one by one per partition
  PartitionResult& out_;
  const Options& opt_;
  std::optional<std::pair<int64_t, int64_t>> compare_;
  const schema::TopicValidation* validation_;  // null: not validated
  RecordDigest digest_, compare_digest_;
  bool compare_started_ = false;
  bool gap_ = false;
  int64_t prev_offset_ = -1;
  std::map<int64_t, ProducerSeq> producers_;
  audit::ChainVerifier chain_;
  bool audit_ok_ = true;
  uint64_t compaction_gaps_ = 0, compaction_offsets_ = 0;
};

Result<SharedBytes> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot open " + path);
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return SharedBytes::from_vector(std::move(data));
}

struct WalBatch {
  int64_t base_offset;
  SharedBytes batch;
  std::string where;
};

// Every WAL batch of `topic` by partition, in segment order, plus notes
// about segments whose valid data ends before the file does.
Status read_wal(const std::string& dir, const Uuid& topic, std::map<int32_t, std::vector<WalBatch>>* out,
                std::vector<std::string>* notes) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return Status::OK();
  std::vector<std::pair<uint64_t, std::string>> segments;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    auto id = storage::wal_format::parse_segment_name(entry.path().filename().string());
    if (id) segments.emplace_back(*id, entry.path().string());
  }
  if (ec) return make_error("cannot list " + dir + ": " + ec.message());
  std::sort(segments.begin(), segments.end());
  for (const auto& [id, path] : segments) {
    auto data = read_file(path);
    if (!data.ok()) return data.error();
    uint64_t pos = 0;
    while (pos < data->size()) {
      auto r = storage::wal_format::decode_record(*data, pos);
      if (!r.ok()) {
        // Preallocated segments end in zeroes; anything else is a torn or cut record.
        bool zeros =
            std::all_of(data->data() + pos, data->data() + std::min<uint64_t>(data->size(), pos + 64),
                        [](uint8_t b) { return b == 0; });
        if (!zeros)
          notes->push_back(fmt::format("WAL segment {} stops at byte {} of {}: {}", id, pos, data->size(),
                                       r.error().message));
        break;
      }
      if (r->topic_id == topic)
        (*out)[r->partition].push_back({r->base_offset, data->slice(r->batch_position, r->batch_length),
                                        fmt::format("WAL segment {} @{}", id, pos)});
      pos = r->next_position;
    }
  }
  return Status::OK();
}

// The broker epoch of a cluster incarnation's WAL prefix "wal/<node>-<epoch>/"
// (0 for the single broker's "wal/").
int64_t prefix_epoch(const std::string& prefix) {
  auto dash = prefix.rfind('-');
  if (dash == std::string::npos) return 0;
  try {
    return std::stoll(prefix.substr(dash + 1));
  } catch (...) {
    return 0;
  }
}

// Every batch of `topic` in the object WAL, by partition: the WAL objects
// under "wal/" (a single broker) and under each "wal/<node>-<epoch>/" (a
// cluster's broker incarnations), each prefix replayed as recovery replays
// it (cancelled and superseded objects skipped, every object's CRC
// checked). A partition taken over holds the same batches under the old and
// the new incarnation; they sort by offset, the newest incarnation first, so
// the scan reads each offset once. Holds the WAL objects in memory, which
// wal.capacity.bytes bounds.
Status read_object_wal(objstore::ObjectStore& store, const Uuid& topic,
                       std::map<int32_t, std::vector<WalBatch>>* out) {
  std::set<std::string> prefixes{"wal/"};
  std::string continuation;
  for (;;) {
    auto page = store.list("wal/", continuation);
    if (!page.ok()) return make_error("listing the object WAL (wal/): " + page.error().message);
    for (const auto& o : page->objects) {
      auto slash = o.key.find('/', 4);
      if (slash != std::string::npos) prefixes.insert(o.key.substr(0, slash + 1));
    }
    if (!page->next_continuation) break;
    continuation = *page->next_continuation;
  }
  std::map<int32_t, std::vector<std::pair<int64_t, WalBatch>>> found;  // (epoch, batch)
  for (const auto& prefix : prefixes) {
    const int64_t epoch = prefix_epoch(prefix);
    Status st = storage::ObjectWal::replay_prefix(store, prefix, [&](const storage::WalRecord& r) {
      if (r.topic_id != topic) return;
      found[r.partition].emplace_back(
          epoch, WalBatch{r.base_offset, r.batch,
                          fmt::format("WAL object {} @{}",
                                      storage::object_wal_format::object_key(prefix, r.location.segment),
                                      r.location.position)});
    });
    if (!st.ok()) return make_error("reading the object WAL under " + prefix + ": " + st.error().message);
  }
  for (auto& [partition, batches] : found) {
    std::stable_sort(batches.begin(), batches.end(), [](const auto& a, const auto& b) {
      return a.second.base_offset != b.second.base_offset ? a.second.base_offset < b.second.base_offset
                                                          : a.first > b.first;
    });
    auto& dst = (*out)[partition];
    for (auto& [epoch, b] : batches) dst.push_back(std::move(b));
  }
  return Status::OK();
}

std::string describe_validation(const schema::TopicValidation* v) {
  if (!v) return "none";
  const auto& c = v->config;
  return fmt::format("value={} key={}", schema::mode_name(c.value), schema::mode_name(c.key));
}

}  // namespace

bool Report::ok() const {
  for (const auto& p : partitions)
    if (!p.problems.empty()) return false;
  return true;
}

Result<Report> check_topic(metadata::MetadataStore& md, objstore::ObjectStore& store, const Options& opt) {
  auto started = std::chrono::steady_clock::now();
  auto topic = md.topic_by_name(opt.topic);
  if (!topic.ok()) return topic.take_error();
  if (!topic->has_value())
    return make_error("topic " + opt.topic + " does not exist in the metadata store", 3);
  const metadata::TopicRecord& t = **topic;
  auto starts = md.log_start_offsets();
  if (!starts.ok()) return starts.take_error();
  std::map<int32_t, std::vector<WalBatch>> wal;
  std::vector<std::string> wal_notes;
  if (opt.object_wal)
    CARELOG_RETURN_IF_ERROR(read_object_wal(store, t.id, &wal));
  else if (!opt.wal_dir.empty())
    CARELOG_RETURN_IF_ERROR(read_wal(opt.wal_dir, t.id, &wal, &wal_notes));
  // The validators produce uses, over the same registry (it lives in the metadata store).
  std::shared_ptr<const schema::TopicValidation> validation;
  if (opt.validate) {
    registry::RegistryValidatorFactory factory(std::make_shared<registry::Registry>(md));
    validation = schema::make_topic_validation(factory, t.name, t.configs);
  }

  Report report;
  report.topic = t.name;
  report.topic_id = t.id.to_string();
  auto policy = t.configs.find("cleanup.policy");
  const bool compacted = policy != t.configs.end() && policy->second.find("compact") != std::string::npos;
  report.validation = opt.validate ? describe_validation(validation.get()) : "not checked (--no-validate)";
  std::map<std::string, ObjectReader> readers;
  for (int32_t p = 0; p < t.partitions; ++p) {
    PartitionResult& out = report.partitions.emplace_back();
    out.partition = p;
    metadata::PartitionKey key{t.id, p};
    if (auto it = starts->find(key); it != starts->end()) out.log_start = it->second;
    if (auto it = opt.log_start_offsets.find(p); it != opt.log_start_offsets.end())
      out.log_start = std::max(out.log_start, it->second);
    out.start = std::max(out.log_start, opt.from_offset.value_or(0));
    if (auto it = opt.high_watermarks.find(p); it != opt.high_watermarks.end())
      out.high_watermark = it->second;
    auto uploaded = md.uploaded_offset(key);
    if (!uploaded.ok()) return uploaded.take_error();
    out.uploaded_offset = uploaded->value_or(-1);
    std::optional<std::pair<int64_t, int64_t>> cmp;
    if (auto it = opt.compare_ranges.find(p); it != opt.compare_ranges.end()) cmp = it->second;
    PartitionScan scan(out, opt, cmp, validation.get());
    scan.next_ = out.start;

    // 1. Object storage, through the index. On a compacted topic its gaps
    // are the cleaner's (the WAL tail is never compacted).
    scan.compacted_ = compacted;
    for (int64_t query = out.start;;) {
      auto ranges = md.find_ranges(key, query, 256);
      if (!ranges.ok()) return ranges.take_error();
      if (ranges->empty()) break;
      for (const auto& r : *ranges) {
        query = r.last_offset + 1;
        if (opt.from_timestamp_ms && r.max_timestamp >= 0 && r.max_timestamp < *opt.from_timestamp_ms) {
          scan.next_ = std::max(scan.next_, r.last_offset + 1);  // entirely before the timestamp
          continue;
        }
        scan.gap_until(r.base_offset, "no object of the index holds them");
        ++out.object_ranges;
        out.index_records += static_cast<uint64_t>(r.last_offset - std::max(r.base_offset, out.start) + 1);
        std::string where =
            fmt::format("object {} offsets {}..{}", r.object_key, r.base_offset, r.last_offset);
        auto it = readers.find(r.object_key);
        if (it == readers.end()) {
          auto reader = ObjectReader::open(store, r.object_key);
          if (!reader.ok()) {
            bool missing = reader.error().code == objstore::kErrNotFound;
            scan.problem(
                missing ? "missing-object" : "corrupt-object",
                fmt::format("{}: {}", where,
                            missing ? "the object is not in the store (deleted?)" : reader.error().message));
            scan.next_ = std::max(scan.next_, r.last_offset + 1);
            continue;
          }
          it = readers.emplace(r.object_key, std::move(*reader)).first;
        }
        const auto* entry = it->second.find(t.id, p);
        if (!entry) {
          scan.problem("corrupt-object", where + ": the object's own index has no range for the partition");
          scan.next_ = std::max(scan.next_, r.last_offset + 1);
          continue;
        }
        auto data = ObjectReader::read_range(store, r.object_key, *entry);
        if (!data.ok()) {
          bool missing = data.error().code == objstore::kErrNotFound;
          scan.problem(missing ? "missing-object" : "crc-mismatch",
                       fmt::format("{}: {}", where, data.error().message));
          scan.next_ = std::max(scan.next_, r.last_offset + 1);
          continue;
        }
        scan.batches(*data, r.base_offset, r.last_offset, where);
        scan.next_ = std::max(scan.next_, r.last_offset + 1);
      }
    }
    // 2. The WAL tail above what was uploaded.
    scan.compacted_ = false;
    for (const auto& b : wal[p]) {
      auto h = record::parse_header(b.batch.span());
      if (!h.ok() || h->last_offset() < scan.next_) continue;  // uploaded already (not yet reclaimed)
      scan.gap_until(b.base_offset, "in neither object storage nor the WAL");
      ++out.wal_records;
      scan.batches(b.batch, -1, -1, b.where);
      scan.next_ = std::max(scan.next_, h->last_offset() + 1);
    }
    // 3. The end: the high watermark when the broker told us.
    if (out.high_watermark) {
      const int64_t hw = *out.high_watermark;
      if (scan.next_ < hw && hw > out.start) {
        scan.problem(
            "lost-acknowledged",
            fmt::format("offsets {}..{} are below the high watermark {} but in neither object storage nor "
                        "the WAL",
                        std::max(scan.next_, out.start), *out.high_watermark - 1, *out.high_watermark));
      }
    }
    for (const auto& n : wal_notes) out.explained.push_back(n);
    scan.finish();
    report.bytes += out.bytes;
    report.records += out.records;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace carelog::cli::replay
