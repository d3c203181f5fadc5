#include "partition/wal_partition_log.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>

#include "common/clock.h"
#include "common/log.h"
#include "objstore/object_store.h"
#include "record/records.h"

namespace carelog::partition {

namespace {

LogError to_log_error(const Error& e) {
  switch (e.code) {
    case storage::kErrRequestTimedOut:
      return LogError::kRequestTimedOut;
    default:
      return LogError::kKafkaStorageError;
  }
}

AppendResult fail(LogError error, std::string message) {
  AppendResult r;
  r.error = error;
  r.error_message = std::move(message);
  return r;
}

struct Prepared {
  record::BatchHeader header;
  std::vector<uint8_t> bytes;
};

}  // namespace

// An append between WAL reservation and offset assignment.
struct WalPartitionLog::PreparedAppend {
  std::vector<Prepared> batches;
  uint64_t reserve_bytes = 0;
  int64_t append_time = -1;
  AppendCallback done;
};

WalPartitionLog::WalPartitionLog(Uuid topic_id, int32_t partition, uint64_t uid,
                                 std::shared_ptr<BatchCache> cache, metadata::MetadataStore& store,
                                 int32_t leader_epoch)
    : topic_id_(topic_id),
      partition_(partition),
      uid_(uid),
      cache_(std::move(cache)),
      store_(store),
      leader_epoch_(leader_epoch) {}

void WalPartitionLog::recover_batch(const record::BatchHeader& h, const storage::WalLocation& location) {
  std::lock_guard lk(mu_);
  if (!index_.empty() && h.base_offset <= index_.back().last_offset) {
    log::warn("partition {}-{}: ignoring recovered batch at offset {} (not after {})", topic_id_.to_string(),
              partition_, h.base_offset, index_.back().last_offset);
    return;
  }
  IndexEntry e;
  e.base_offset = h.base_offset;
  e.last_offset = h.last_offset();
  e.max_timestamp = h.max_timestamp;
  e.location = location;
  push_index_locked(e);
  if (h.base_offset >= upload_next_) pending_bytes_ += location.length;
  if (h.producer_id >= 0 && h.base_offset > producers_upto_) producers_.update(h, h.base_offset);
  producers_upto_ = std::max(producers_upto_, h.last_offset());
  next_offset_ = high_watermark_ = h.last_offset() + 1;
}

void WalPartitionLog::recover_object_range(const metadata::ObjectRange& r,
                                           std::shared_ptr<const ObjectRef> object) {
  std::lock_guard lk(mu_);
  if (r.last_offset < r.base_offset || r.length <= 0 ||
      (!index_.empty() && r.base_offset <= index_.back().last_offset)) {
    log::warn("partition {}-{}: ignoring object range {}..{} of {}", topic_id_.to_string(), partition_,
              r.base_offset, r.last_offset, r.object_key);
    return;
  }
  IndexEntry e;
  e.base_offset = r.base_offset;
  e.last_offset = r.last_offset;
  e.max_timestamp = r.max_timestamp;
  e.kind = IndexEntry::Kind::kObjectRange;
  e.object = std::move(object);
  e.position = static_cast<uint64_t>(r.position);
  e.length = static_cast<uint64_t>(r.length);
  push_index_locked(e);
  next_offset_ = high_watermark_ = std::max(high_watermark_, r.last_offset + 1);
  upload_next_ = std::max(upload_next_, r.last_offset + 1);
}

void WalPartitionLog::recover_uploaded(int64_t last_offset) {
  std::lock_guard lk(mu_);
  upload_next_ = std::max(upload_next_, last_offset + 1);
  next_offset_ = high_watermark_ = std::max(high_watermark_, last_offset + 1);
}

void WalPartitionLog::recover_uploaded_batch(const record::BatchHeader& h) {
  std::lock_guard lk(mu_);
  if (h.producer_id >= 0 && h.base_offset > producers_upto_) {
    producers_.update(h, h.base_offset);
    uploaded_producers_.update(h, h.base_offset);
  }
  producers_upto_ = std::max(producers_upto_, h.last_offset());
}

int64_t WalPartitionLog::uploaded_offset() const {
  std::lock_guard lk(mu_);
  return upload_next_ - 1;
}

void WalPartitionLog::recover_producer_snapshot(int64_t snapshot_offset, ProducerStateTable state) {
  std::lock_guard lk(mu_);
  producers_ = state;
  snapshot_aborted_.clear();
  for (const auto& a : state.aborted()) snapshot_aborted_.push_back(a.last_offset);
  uploaded_producers_ = std::move(state);
  producers_upto_ = snapshot_offset;
}

std::vector<IndexEntry> WalPartitionLog::producer_replay_ranges() const {
  std::lock_guard lk(mu_);
  std::vector<IndexEntry> out;
  for (const auto& e : index_) {
    if (e.kind == IndexEntry::Kind::kObjectRange && e.last_offset > producers_upto_) out.push_back(e);
  }
  return out;
}

Result<std::vector<record::BatchHeader>> WalPartitionLog::read_range_headers(const IndexEntry& range) {
  std::vector<record::BatchHeader> headers;
  CARELOG_RETURN_IF_ERROR(expand(range, &headers));
  return headers;
}

void WalPartitionLog::recover_uploaded_producers(const std::vector<record::BatchHeader>& headers) {
  for (const auto& h : headers) recover_uploaded_batch(h);
}

void WalPartitionLog::recover_log_start(int64_t offset) {
  std::lock_guard lk(mu_);
  log_start_ = std::max<int64_t>(offset, 0);
  if (next_offset_ < log_start_) next_offset_ = high_watermark_ = log_start_;
  auto keep = std::find_if(index_.begin(), index_.end(),
                           [&](const IndexEntry& e) { return e.last_offset >= log_start_; });
  erase_index_prefix_locked(keep);
}

void WalPartitionLog::push_index_locked(const IndexEntry& e) {
  // Strictly greater: the first batch with the largest timestamp wins, as
  // in Kafka.
  if (index_.empty() || max_ts_entry_ >= index_.size() ||
      e.max_timestamp > index_[max_ts_entry_].max_timestamp) {
    max_ts_entry_ = index_.size();
  }
  index_.push_back(e);
}

void WalPartitionLog::erase_index_prefix_locked(std::vector<IndexEntry>::iterator keep) {
  for (auto it = index_.begin(); it != keep; ++it) {
    if (it->kind == IndexEntry::Kind::kWal && it->base_offset >= upload_next_) {
      pending_bytes_ -= std::min<uint64_t>(pending_bytes_, it->bytes());
    }
  }
  // Skipped by the uploader from now on: the log start passed them.
  if (keep != index_.begin()) upload_next_ = std::max(upload_next_, std::prev(keep)->last_offset + 1);
  index_.erase(index_.begin(), keep);
  recompute_max_ts_locked();
}

void WalPartitionLog::recompute_max_ts_locked() {
  max_ts_entry_ = 0;
  for (size_t i = 1; i < index_.size(); ++i) {
    if (index_[i].max_timestamp > index_[max_ts_entry_].max_timestamp) max_ts_entry_ = i;
  }
}

void WalPartitionLog::attach(std::shared_ptr<storage::WriteAheadLog> wal) {
  std::lock_guard lk(mu_);
  wal_ = std::move(wal);
  durable_producers_ = producers_;  // recovery is over: all of it is durable
}

void WalPartitionLog::attach_objects(ObjectTier tier) { tier_ = tier; }

bool WalPartitionLog::dropped() const {
  std::lock_guard lk(mu_);
  return dropped_;
}

void WalPartitionLog::mark_dropped() {
  std::lock_guard lk(mu_);
  dropped_ = true;
}

void WalPartitionLog::mark_moved(bool moved) {
  std::lock_guard lk(mu_);
  moved_ = moved;
}

bool WalPartitionLog::settled() const {
  std::lock_guard lk(mu_);
  return next_offset_ == high_watermark_;
}

size_t WalPartitionLog::index_size() const {
  std::lock_guard lk(mu_);
  return index_.size();
}

void WalPartitionLog::append(AppendRequest request, AppendCallback done) {
  // Split (the handler validated; re-check framing only) and copy each batch
  // into its own buffer, patched except for the base offset.
  std::vector<Prepared> batches;
  uint64_t reserve_bytes = 0;
  const bool log_append_time = request.timestamp_type == TimestampType::kLogAppendTime;
  const int64_t append_time = log_append_time ? wall_clock_ms() : -1;
  size_t pos = 0;
  const SharedBytes& data = request.batches;
  while (pos < data.size()) {
    auto h = record::parse_header(data.span().subspan(pos));
    if (!h.ok() || h->batch_length < 0 || h->total_size() > data.size() - pos ||
        h->total_size() < record::kBatchHeaderSize) {
      return done(fail(LogError::kCorruptMessage, "malformed record batch framing"));
    }
    Prepared p;
    p.header = *h;
    p.bytes.assign(data.data() + pos, data.data() + pos + h->total_size());
    record::set_partition_leader_epoch(p.bytes.data(), leader_epoch_);
    if (log_append_time) {
      record::set_log_append_time(p.bytes.data(), p.bytes.size(), append_time);
      p.header.max_timestamp = append_time;
      p.header.attributes = static_cast<int16_t>(p.header.attributes | 0x08);
    }
    reserve_bytes += storage::Wal::record_size(p.bytes.size());
    pos += h->total_size();
    batches.push_back(std::move(p));
  }
  if (batches.empty()) return done(fail(LogError::kCorruptMessage, "no record batches"));
  if (!wal_) return done(fail(LogError::kKafkaStorageError, "partition not attached to a WAL"));

  auto work = std::make_shared<PreparedAppend>();
  work->batches = std::move(batches);
  work->reserve_bytes = reserve_bytes;
  work->append_time = append_time;
  work->done = std::move(done);
  // Runs inline when the WAL has space; when it is full, later (when space
  // is freed, or failing after wal max_wait). No lock held here.
  wal_->reserve_async(reserve_bytes, [self = shared_from_this(), work](const Status& st) {
    if (!st.ok()) return work->done(fail(to_log_error(st.error()), st.error().message));
    self->append_reserved(work);
  });
}

void WalPartitionLog::append_reserved(const std::shared_ptr<PreparedAppend>& work) {
  std::vector<Prepared>& batches = work->batches;
  const uint64_t reserve_bytes = work->reserve_bytes;
  const int64_t append_time = work->append_time;
  AppendCallback done = std::move(work->done);
  std::unique_lock lk(mu_);
  auto reject = [&](AppendResult r) {
    lk.unlock();
    wal_->release_reservation(reserve_bytes);
    done(std::move(r));
  };
  if (dropped_) return reject(fail(LogError::kUnknownTopicOrPartition, "partition was deleted"));
  if (moved_) return reject(fail(LogError::kNotLeaderOrFollower, "partition moved to another broker"));

  // Idempotent producers: check every batch against state updated by the
  // earlier batches of this request (on a scratch copy).
  if (std::any_of(batches.begin(), batches.end(),
                  [](const Prepared& b) { return b.header.producer_id >= 0; })) {
    ProducerStateTable scratch;
    for (const auto& b : batches) {
      if (b.header.producer_id >= 0 && !scratch.find(b.header.producer_id)) {
        scratch.copy_entry_from(producers_, b.header.producer_id);
      }
    }
    int64_t offset = next_offset_;
    for (size_t i = 0; i < batches.size(); ++i) {
      const auto& h = batches[i].header;
      if (h.producer_id < 0) continue;
      if (h.control()) {
        // A transaction marker (written by the coordinator): epoch only.
        auto c = scratch.check_marker(h);
        if (c.error != LogError::kNone) return reject(fail(c.error, c.message));
        scratch.update(h, offset);
        offset += h.last_offset_delta + 1;
        continue;
      }
      auto c = scratch.check(h);
      if (c.error != LogError::kNone) return reject(fail(c.error, c.message));
      if (c.duplicate) {
        if (batches.size() != 1) {
          return reject(fail(LogError::kInvalidRecord, "duplicate batch inside a multi-batch request"));
        }
        AppendResult r;
        r.base_offset = c.duplicate->base_offset;
        r.log_start_offset = log_start_;
        r.log_append_time = -1;
        if (c.duplicate->last_offset < high_watermark_) return reject(std::move(r));
        // The original is still in flight: answer once it is durable.
        deferred_.push_back(Deferred{c.duplicate->last_offset, [r, done](bool ok) mutable {
                                       if (!ok) r = fail(LogError::kKafkaStorageError, "WAL write failed");
                                       done(std::move(r));
                                     }});
        lk.unlock();
        wal_->release_reservation(reserve_bytes);
        return;
      }
      scratch.update(h, offset);
      offset += h.last_offset_delta + 1;
    }
    std::move(scratch).merge_into(producers_);
  }

  // Assign offsets and enqueue in offset order. `done` is shared so it can
  // still be answered here if the WAL refuses (closed) after the reservation.
  auto shared_done = std::make_shared<AppendCallback>(std::move(done));
  const int64_t first_offset = next_offset_;
  for (size_t i = 0; i < batches.size(); ++i) {
    Prepared& p = batches[i];
    p.header.base_offset = next_offset_;
    record::set_base_offset(p.bytes.data(), next_offset_);
    SharedBytes bytes = SharedBytes::from_vector(std::move(p.bytes));
    AppendCallback cb;
    if (i + 1 == batches.size()) {
      // Later WAL callbacks imply earlier ones: the last batch answers.
      cb = [shared_done, first_offset, append_time](AppendResult r) {
        if (r.error == LogError::kNone) r.base_offset = first_offset;
        r.log_append_time = append_time;
        (*shared_done)(std::move(r));
      };
    }
    auto self = shared_from_this();
    Status queued = wal_->append(
        // The handler verified each batch's CRC (and set_log_append_time
        // recomputes it): the WAL may derive its checksum from it.
        topic_id_, partition_, p.header.base_offset, storage::WalBatch{bytes, true},
        [self, h = p.header, bytes, cb = std::move(cb)](const Status& st, const storage::WalLocation& loc) {
          self->on_durable(st, loc, h, bytes, cb);
        });
    if (!queued.ok()) {
      // Nothing from this batch on was queued: the WAL is closed, or (object
      // WAL) it is failing every write in flight, which includes this
      // request's earlier batches and this partition's other undone ones.
      producers_ = durable_producers_;
      uint64_t unused = 0;
      for (size_t j = i; j < batches.size(); ++j)
        unused += storage::Wal::record_size(batches[j].header.total_size());
      lk.unlock();
      wal_->release_reservation(unused);
      (*shared_done)(fail(to_log_error(queued.error()), queued.error().message));
      return;
    }
    next_offset_ += static_cast<int64_t>(p.header.last_offset_delta) + 1;
  }
}

void WalPartitionLog::on_durable(const Status& st, const storage::WalLocation& loc,
                                 const record::BatchHeader& h, SharedBytes bytes, AppendCallback done) {
  std::vector<std::function<void()>> listeners;
  std::vector<Deferred> ready;
  AppendResult result;
  {
    std::lock_guard lk(mu_);
    if (st.ok()) {
      IndexEntry e;
      e.base_offset = h.base_offset;
      e.last_offset = h.last_offset();
      e.max_timestamp = h.max_timestamp;
      e.location = loc;
      push_index_locked(e);
      pending_bytes_ += loc.length;
      high_watermark_ = h.last_offset() + 1;
      if (h.producer_id >= 0) durable_producers_.update(h, h.base_offset);
      for (auto& [id, fn] : listeners_) listeners.push_back(std::move(fn));
      listeners_.clear();
      auto split = std::partition(deferred_.begin(), deferred_.end(),
                                  [&](const Deferred& d) { return d.last_offset >= high_watermark_; });
      ready.assign(std::make_move_iterator(split), std::make_move_iterator(deferred_.end()));
      deferred_.erase(split, deferred_.end());
    } else {
      // Every batch of this partition that is not durable yet fails with
      // this one (the file WAL is poisoned; the object WAL fails all writes
      // in flight): offsets and producer state roll back to the durable
      // prefix, so a retry gets the same offsets and sequence checks.
      next_offset_ = std::min(next_offset_, h.base_offset);
      producers_ = durable_producers_;
      ready = std::move(deferred_);
      deferred_.clear();
      result = fail(to_log_error(st.error()), st.error().message);
    }
    result.log_start_offset = log_start_;
  }
  if (st.ok()) cache_->put(uid_, h.base_offset, bytes);
  for (auto& fn : listeners) fn();
  for (auto& d : ready) d.fn(st.ok());
  if (done) done(std::move(result));
}

namespace {

// How far ahead of a read of uploaded data the partition's next batches are
// prefetched into the block cache. A partition's data is spread over many
// stream-set objects (about 1-2 MiB of it per object, among other
// partitions'), so the block cache's per-object sequential detection rarely
// sees a run; the partition index knows exactly what comes next.
constexpr uint64_t kReadaheadBytes = 4ull << 20;

// Never hand out bytes that are not the indexed batch.
Result<SharedBytes> check_object_batch(const IndexEntry& e, SharedBytes bytes) {
  auto h = record::parse_header(bytes.span());
  if (bytes.size() != e.length || !h.ok() || h->base_offset != e.base_offset || h->total_size() != e.length) {
    return make_error(
        fmt::format("object {}: batch at {} does not match the index", e.object->key, e.position),
        objstore::kErrCorrupt);
  }
  return bytes;
}

}  // namespace

Result<SharedBytes> WalPartitionLog::fetch_once(const IndexEntry& e) {
  if (auto hit = cache_->get(uid_, e.base_offset)) return *hit;
  switch (e.kind) {
    case IndexEntry::Kind::kWal:
      return wal_->read(e.location);
    case IndexEntry::Kind::kObject: {
      if (!tier_.blocks) return make_error("no object store configured", storage::kErrKafkaStorageError);
      auto bytes = tier_.blocks->read(e.object->key, e.position, e.length, e.object->size);
      if (!bytes.ok()) return bytes.take_error();
      return check_object_batch(e, std::move(bytes).value());
    }
    case IndexEntry::Kind::kObjectRange:
      break;
  }
  return make_error("internal: unexpanded object range", storage::kErrKafkaStorageError);
}

Result<SharedBytes> WalPartitionLog::fetch(const IndexEntry& e, bool allow_object_io) {
  IndexEntry current = e;
  for (int attempt = 0;; ++attempt) {
    Result<SharedBytes> r = current.kind == IndexEntry::Kind::kObjectRange
                                ? Result<SharedBytes>(make_error("range", storage::kErrKafkaStorageError))
                                : fetch_once(current);
    if (r.ok() || attempt >= 3) return r;
    // The entry may have moved meanwhile (uploaded and WAL reclaimed, or
    // compacted): look it up again and retry at its new location.
    std::optional<IndexEntry> now;
    {
      std::lock_guard lk(mu_);
      auto it = std::lower_bound(index_.begin(), index_.end(), current.base_offset,
                                 [](const IndexEntry& x, int64_t off) { return x.last_offset < off; });
      if (it != index_.end() && it->base_offset <= current.base_offset) now = *it;
    }
    bool moved = now && (now->kind != current.kind || now->object != current.object ||
                         now->position != current.position);
    if (!moved || !allow_object_io) return r;
    if (now->kind == IndexEntry::Kind::kObjectRange) {
      Status st = expand(*now);
      if (!st.ok()) return st.error();
      continue;  // re-resolve the batch entry
    }
    if (now->base_offset != current.base_offset) return r;
    current = *now;
  }
}

Status WalPartitionLog::expand(const IndexEntry& range, std::vector<record::BatchHeader>* out, bool io) {
  if (!tier_.blocks) return make_error("no object store configured", storage::kErrKafkaStorageError);
  const std::string& key = range.object->key;
  std::vector<IndexEntry> parts;
  std::vector<record::BatchHeader> headers;
  uint64_t pos = range.position;
  const uint64_t end = range.position + range.length;
  while (pos < end) {
    Result<SharedBytes> hb = make_error("would block", storage::kErrKafkaStorageError);
    if (io) {
      hb = tier_.blocks->read(key, pos, record::kBatchHeaderSize, range.object->size);
    } else if (auto cached = tier_.blocks->try_read(key, pos, record::kBatchHeaderSize, range.object->size)) {
      hb = std::move(*cached);
    }
    if (!hb.ok()) return hb.error();
    auto h = record::parse_header(hb->span());
    if (h.ok() && h->control() && h->batch_length > 0 && h->total_size() <= end - pos) {
      // Markers are tiny: read the whole batch for its commit/abort type
      // (producer state recovery needs it).
      Result<SharedBytes> whole = make_error("would block", storage::kErrKafkaStorageError);
      if (io) {
        whole = tier_.blocks->read(key, pos, h->total_size(), range.object->size);
      } else if (auto cached = tier_.blocks->try_read(key, pos, h->total_size(), range.object->size)) {
        whole = std::move(*cached);
      }
      if (!whole.ok()) return whole.error();
      h = record::parse_header(whole->span());
    }
    if (!h.ok() || h->batch_length <= 0 || h->total_size() > end - pos ||
        (!parts.empty() && h->base_offset <= parts.back().last_offset)) {
      return make_error(fmt::format("object {}: bad batch header at {}", key, pos), objstore::kErrCorrupt);
    }
    IndexEntry e;
    e.base_offset = h->base_offset;
    e.last_offset = h->last_offset();
    e.max_timestamp = h->max_timestamp;
    e.kind = IndexEntry::Kind::kObject;
    e.object = range.object;
    e.position = pos;
    e.length = h->total_size();
    parts.push_back(std::move(e));
    headers.push_back(*h);
    pos += h->total_size();
  }
  if (parts.empty() || parts.front().base_offset != range.base_offset ||
      parts.back().last_offset != range.last_offset) {
    return make_error(fmt::format("object {}: range {}..{} does not match its batches", key,
                                  range.base_offset, range.last_offset),
                      objstore::kErrCorrupt);
  }
  std::lock_guard lk(mu_);
  auto it = std::find_if(index_.begin(), index_.end(), [&](const IndexEntry& x) {
    return x.kind == IndexEntry::Kind::kObjectRange && x.base_offset == range.base_offset &&
           x.object == range.object;
  });
  if (it != index_.end()) {
    it = index_.erase(it);
    index_.insert(it, parts.begin(), parts.end());
    recompute_max_ts_locked();
  }
  if (out) *out = std::move(headers);
  return Status::OK();
}

std::optional<SharedBytes> WalPartitionLog::fetch_cached(const IndexEntry& e) {
  if (auto hit = cache_->get(uid_, e.base_offset)) return *hit;
  if (e.kind != IndexEntry::Kind::kObject || !tier_.blocks) return std::nullopt;
  auto bytes = tier_.blocks->try_read(e.object->key, e.position, e.length, e.object->size);
  if (!bytes) return std::nullopt;
  auto checked = check_object_batch(e, std::move(*bytes));
  if (!checked.ok()) return std::nullopt;  // the blocking path reports it
  return std::move(checked).value();
}

void WalPartitionLog::collect_readahead_locked(std::vector<IndexEntry>::const_iterator it,
                                               std::vector<IndexEntry>& out) const {
  uint64_t bytes = 0;
  for (; it != index_.end() && bytes < kReadaheadBytes && it->kind != IndexEntry::Kind::kWal; ++it) {
    const uint64_t len = std::min(it->length, kReadaheadBytes - bytes);
    // Adjacent batches of one object become one range.
    if (!out.empty() && out.back().object == it->object &&
        out.back().position + out.back().length == it->position) {
      out.back().length += len;
    } else {
      IndexEntry r;
      r.object = it->object;
      r.position = it->position;
      r.length = len;
      out.push_back(std::move(r));
    }
    bytes += len;
  }
}

std::optional<ReadResult> WalPartitionLog::read_impl(const ReadRequest& req, bool io) {
  for (int attempt = 0;; ++attempt) {
    ReadResult out;
    std::vector<IndexEntry> picked;
    std::vector<IndexEntry> ahead;  // object ranges to prefetch
    std::optional<IndexEntry> range;
    {
      std::lock_guard lk(mu_);
      out.high_watermark = high_watermark_;
      out.log_start_offset = log_start_;
      out.last_stable_offset = last_stable_offset_locked();
      if (dropped_) {
        out.error = LogError::kUnknownTopicOrPartition;
        return out;
      }
      if (req.offset < log_start_ || req.offset > high_watermark_) {
        out.error = LogError::kOffsetOutOfRange;
        return out;
      }
      int64_t bound = req.read_committed ? out.last_stable_offset : high_watermark_;
      if (req.max_offset) bound = std::min(bound, *req.max_offset);
      auto it = std::lower_bound(index_.begin(), index_.end(), req.offset,
                                 [](const IndexEntry& e, int64_t off) { return e.last_offset < off; });
      size_t total = 0;
      const size_t max_bytes = static_cast<size_t>(std::max(req.max_bytes, 0));
      for (; it != index_.end() && it->base_offset < bound; ++it) {
        if (it->kind == IndexEntry::Kind::kObjectRange) {
          range = *it;
          break;
        }
        size_t size = it->bytes();
        bool first = picked.empty();
        if (total + size > max_bytes && !(first && req.min_one_message)) break;
        picked.push_back(*it);
        total += size;
      }
      if (tier_.blocks && !range) collect_readahead_locked(it, ahead);
      if (req.read_committed && !picked.empty()) {
        for (const auto& a : durable_producers_.aborted_between(req.offset, picked.back().last_offset + 1))
          out.aborted.push_back(AbortedTransaction{a.producer_id, a.first_offset});
      }
    }
    for (const auto& a : ahead) tier_.blocks->prefetch(a.object->key, a.position, a.length, a.object->size);
    if (range && attempt < 4) {
      // Without I/O only when the range's blocks are loaded already.
      Status st = expand(*range, nullptr, io);
      if (st.ok()) continue;
      if (!io) return std::nullopt;
      log::error("partition {}-{}: reading object {} failed: {}", topic_id_.to_string(), partition_,
                 range->object->key, st.error().message);
      if (picked.empty()) {
        out.error = LogError::kKafkaStorageError;
        return out;
      }
    }
    for (const auto& e : picked) {
      Result<SharedBytes> bytes = make_error("unread");
      if (!io) {
        if (e.kind != IndexEntry::Kind::kWal) {
          // Recent-data cache or blocks already loaded: no I/O, so the
          // caller's thread serves it without a trip through the read pool.
          auto hit = fetch_cached(e);
          if (!hit) return std::nullopt;
          bytes = std::move(*hit);
        } else {
          bytes = fetch_once(e);
          if (!bytes.ok()) return std::nullopt;  // moved: retry where blocking is fine
        }
      } else {
        bytes = fetch(e);
      }
      if (!bytes.ok()) {
        log::error("partition {}-{}: read of offset {} failed: {}", topic_id_.to_string(), partition_,
                   e.base_offset, bytes.error().message);
        if (out.batches.empty()) out.error = LogError::kKafkaStorageError;
        break;
      }
      out.total_bytes += bytes->size();
      out.batches.push_back(std::move(bytes).value());
    }
    return out;
  }
}

ReadResult WalPartitionLog::read(const ReadRequest& req) { return *read_impl(req, true); }

void WalPartitionLog::read_async(const ReadRequest& req, std::function<void(ReadResult)> done) {
  if (!tier_.pool) return done(read(req));
  if (auto r = read_impl(req, false)) return done(std::move(*r));
  tier_.pool->post([self = shared_from_this(), req, done = std::move(done)]() { done(self->read(req)); });
}

std::vector<IndexEntry> WalPartitionLog::pending_upload(uint64_t max_bytes) const {
  std::lock_guard lk(mu_);
  std::vector<IndexEntry> out;
  auto it = std::lower_bound(index_.begin(), index_.end(), upload_next_,
                             [](const IndexEntry& e, int64_t off) { return e.base_offset < off; });
  uint64_t total = 0;
  for (; it != index_.end() && it->kind == IndexEntry::Kind::kWal; ++it) {
    if (!out.empty() && total + it->bytes() > max_bytes) break;
    out.push_back(*it);
    total += it->bytes();
  }
  return out;
}

uint64_t WalPartitionLog::pending_upload_bytes() const {
  std::lock_guard lk(mu_);
  return pending_bytes_;
}

Result<SharedBytes> WalPartitionLog::read_for_upload(const IndexEntry& e) {
  if (auto hit = cache_->get(uid_, e.base_offset)) return *hit;
  return wal_->read(e.location);
}

void WalPartitionLog::mark_uploaded(const std::vector<std::pair<int64_t, uint64_t>>& positions,
                                    std::shared_ptr<const ObjectRef> object, int64_t last_offset) {
  std::lock_guard lk(mu_);
  for (const auto& [base, pos] : positions) {
    auto it = std::lower_bound(index_.begin(), index_.end(), base,
                               [](const IndexEntry& e, int64_t off) { return e.base_offset < off; });
    if (it == index_.end() || it->base_offset != base || it->kind != IndexEntry::Kind::kWal) continue;
    if (base >= upload_next_) pending_bytes_ -= std::min<uint64_t>(pending_bytes_, it->bytes());
    it->kind = IndexEntry::Kind::kObject;
    it->object = object;
    it->position = pos;
    it->length = it->location.length;
  }
  upload_next_ = std::max(upload_next_, last_offset + 1);
}

ProducerStateTable WalPartitionLog::uploaded_producers_after(const std::vector<record::BatchHeader>& uploaded,
                                                             int64_t now_ms, int64_t expiration_ms) const {
  ProducerStateTable t;
  {
    std::lock_guard lk(mu_);
    t = uploaded_producers_;
  }
  for (const auto& h : uploaded) {
    if (h.producer_id >= 0) t.update(h, h.base_offset);
  }
  t.expire(now_ms, expiration_ms);
  return t;
}

void WalPartitionLog::set_uploaded_producers(ProducerStateTable state, int64_t now_ms,
                                             int64_t expiration_ms) {
  std::lock_guard lk(mu_);
  snapshot_aborted_.clear();
  for (const auto& a : state.aborted()) snapshot_aborted_.push_back(a.last_offset);
  uploaded_producers_ = std::move(state);
  producers_.expire(now_ms, expiration_ms);
}

uint64_t WalPartitionLog::wal_floor() const {
  std::lock_guard lk(mu_);
  auto it = std::lower_bound(index_.begin(), index_.end(), upload_next_,
                             [](const IndexEntry& e, int64_t off) { return e.base_offset < off; });
  for (; it != index_.end(); ++it) {
    if (it->kind == IndexEntry::Kind::kWal) return it->location.segment;
  }
  return UINT64_MAX;
}

void WalPartitionLog::relocate(const metadata::ObjectRange& r, std::shared_ptr<const ObjectRef> object) {
  std::lock_guard lk(mu_);
  auto first = std::lower_bound(index_.begin(), index_.end(), r.base_offset,
                                [](const IndexEntry& e, int64_t off) { return e.last_offset < off; });
  auto last = first;
  while (last != index_.end() && last->base_offset <= r.last_offset) {
    if (last->kind == IndexEntry::Kind::kWal) {
      log::warn("partition {}-{}: not relocating {}..{}: offset {} is not uploaded", topic_id_.to_string(),
                partition_, r.base_offset, r.last_offset, last->base_offset);
      return;
    }
    ++last;
  }
  if (first != index_.end() && first->base_offset < r.base_offset) return;  // boundary mismatch
  IndexEntry e;
  e.base_offset = r.base_offset;
  e.last_offset = r.last_offset;
  e.max_timestamp = r.max_timestamp;
  e.kind = IndexEntry::Kind::kObjectRange;
  e.object = std::move(object);
  e.position = static_cast<uint64_t>(r.position);
  e.length = static_cast<uint64_t>(r.length);
  auto at = index_.erase(first, last);
  index_.insert(at, e);
  recompute_max_ts_locked();
}

std::optional<int64_t> WalPartitionLog::retention_target(int64_t now_ms, int64_t retention_ms,
                                                         int64_t retention_bytes) const {
  std::lock_guard lk(mu_);
  if (dropped_) return std::nullopt;
  // Only uploaded data expires (the WAL tail plays the part of Kafka's
  // active segment, which is never deleted).
  int64_t target = log_start_;
  if (retention_ms >= 0) {
    const int64_t cutoff = now_ms - retention_ms;
    for (const auto& e : index_) {
      if (e.kind == IndexEntry::Kind::kWal || e.max_timestamp < 0 || e.max_timestamp >= cutoff) break;
      target = std::max(target, e.last_offset + 1);
    }
  }
  if (retention_bytes >= 0) {
    uint64_t total = 0;
    for (const auto& e : index_) total += e.bytes();
    for (const auto& e : index_) {
      if (e.kind == IndexEntry::Kind::kWal) break;
      if (total - e.bytes() < static_cast<uint64_t>(retention_bytes)) break;
      total -= e.bytes();
      target = std::max(target, e.last_offset + 1);
    }
  }
  target = std::min(target, high_watermark_);
  if (target <= log_start_) return std::nullopt;
  return target;
}

int64_t WalPartitionLog::high_watermark() const {
  std::lock_guard lk(mu_);
  return high_watermark_;
}

int64_t WalPartitionLog::log_start_offset() const {
  std::lock_guard lk(mu_);
  return log_start_;
}

uint64_t WalPartitionLog::size_bytes() const {
  std::lock_guard lk(mu_);
  uint64_t total = 0;
  for (const auto& e : index_) total += e.bytes();
  return total;
}

int64_t WalPartitionLog::last_stable_offset() const {
  std::lock_guard lk(mu_);
  return last_stable_offset_locked();
}

int64_t WalPartitionLog::last_stable_offset_locked() const {
  // Durable state only: a transaction's first batch counts once it is
  // below the high watermark (before that the high watermark bounds reads).
  auto first = durable_producers_.first_unstable_offset();
  return first ? std::min(*first, high_watermark_) : high_watermark_;
}

std::vector<ActiveProducer> WalPartitionLog::active_producers() const {
  std::lock_guard lk(mu_);
  std::vector<ActiveProducer> out;
  for (const auto& [id, e] : durable_producers_.entries()) {
    ActiveProducer p;
    p.producer_id = id;
    p.epoch = e.epoch;
    p.last_sequence = e.batches.empty() ? -1 : e.batches.back().last_seq;
    p.last_timestamp = e.last_timestamp;
    p.txn_start_offset = e.txn_first_offset;
    out.push_back(p);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.producer_id < b.producer_id; });
  return out;
}

std::optional<OffsetForTimestamp> WalPartitionLog::find_in_batch(const IndexEntry& e, int64_t timestamp,
                                                                 bool exact, bool io) {
  OffsetForTimestamp out;
  Result<SharedBytes> bytes = make_error("unread");
  if (io) {
    bytes = fetch(e);
  } else if (e.kind == IndexEntry::Kind::kWal) {
    bytes = fetch_once(e);
    if (!bytes.ok()) return std::nullopt;  // moved: retry where blocking is fine
  } else if (auto hit = cache_->get(uid_, e.base_offset)) {
    bytes = *hit;
  } else {
    return std::nullopt;
  }
  if (!bytes.ok()) return out;
  auto decoded = record::decode_batch(*bytes);
  if (!decoded.ok()) {
    log::error("partition {}-{}: cannot decode batch at {}: {}", topic_id_.to_string(), partition_,
               e.base_offset, decoded.error().message);
    return out;
  }
  int64_t log_start = log_start_offset();
  for (const auto& r : decoded->records) {
    int64_t off = decoded->offset_of(r);
    int64_t ts = decoded->timestamp_of(r);
    if (off < log_start) continue;
    if (exact ? ts == timestamp : ts >= timestamp) {
      out.offset = off;
      out.timestamp = ts;
      out.leader_epoch = decoded->header.partition_leader_epoch;
      return out;
    }
  }
  return out;
}

OffsetForTimestamp WalPartitionLog::offset_for_timestamp(int64_t timestamp) {
  return *offset_for_timestamp_impl(timestamp, true);
}

OffsetForTimestamp WalPartitionLog::max_timestamp() { return *max_timestamp_impl(true); }

void WalPartitionLog::offset_for_timestamp_async(int64_t timestamp,
                                                 std::function<void(OffsetForTimestamp)> done) {
  if (!tier_.pool) return done(offset_for_timestamp(timestamp));
  if (auto r = offset_for_timestamp_impl(timestamp, false)) return done(*r);
  tier_.pool->post([self = shared_from_this(), timestamp, done = std::move(done)]() {
    done(self->offset_for_timestamp(timestamp));
  });
}

std::optional<OffsetForTimestamp> WalPartitionLog::offset_for_timestamp_impl(int64_t timestamp, bool io) {
  // Kafka's special ListOffsets timestamps.
  if (timestamp == -2) return OffsetForTimestamp{log_start_offset(), -1, leader_epoch_};
  if (timestamp == -1) return OffsetForTimestamp{high_watermark(), -1, leader_epoch_};
  if (timestamp == -3) return max_timestamp_impl(io);
  // Batches before the first one whose max timestamp reaches `timestamp`
  // hold only older records. Normally the first candidate holds the answer;
  // the loop only continues past batches whose matching records all lie
  // below the log start offset.
  int64_t from = 0;
  for (;;) {
    std::optional<IndexEntry> candidate;
    {
      std::lock_guard lk(mu_);
      auto it = std::lower_bound(index_.begin(), index_.end(), from,
                                 [](const IndexEntry& e, int64_t off) { return e.last_offset < off; });
      for (; it != index_.end(); ++it) {
        if (it->max_timestamp >= timestamp) {
          candidate = *it;
          break;
        }
      }
    }
    if (!candidate) return OffsetForTimestamp{};
    if (candidate->kind == IndexEntry::Kind::kObjectRange) {
      if (!io) return std::nullopt;
      if (!expand(*candidate).ok()) return OffsetForTimestamp{};
      continue;
    }
    auto r = find_in_batch(*candidate, timestamp, false, io);
    if (!r || r->offset >= 0) return r;
    from = candidate->last_offset + 1;
  }
}

std::optional<OffsetForTimestamp> WalPartitionLog::max_timestamp_impl(bool io) {
  std::optional<IndexEntry> best;
  for (int attempt = 0; attempt < 4; ++attempt) {
    {
      std::lock_guard lk(mu_);
      best.reset();
      if (max_ts_entry_ < index_.size()) best = index_[max_ts_entry_];
    }
    if (!best || best->kind != IndexEntry::Kind::kObjectRange) break;
    if (!io) return std::nullopt;
    if (!expand(*best).ok()) return OffsetForTimestamp{};
  }
  if (!best || best->kind == IndexEntry::Kind::kObjectRange) return OffsetForTimestamp{};
  auto r = find_in_batch(*best, best->max_timestamp, true, io);
  if (!r) return r;
  if (r->offset < 0) {
    // Record timestamps did not reach the header's max (unusual): report the
    // batch's last offset, as Kafka's shallow index would.
    r = OffsetForTimestamp{best->last_offset, best->max_timestamp, leader_epoch_};
  }
  return r;
}

void WalPartitionLog::delete_records_before(int64_t offset, std::function<void(LogError, int64_t)> done) {
  int64_t now_start = -1;
  LogError err = advance_log_start(offset, &now_start);
  done(err, now_start);
}

LogError WalPartitionLog::advance_log_start(int64_t offset, int64_t* now_start) {
  std::lock_guard serial(delete_mu_);
  {
    std::lock_guard lk(mu_);
    *now_start = log_start_;
    if (dropped_) return LogError::kUnknownTopicOrPartition;
    if (offset < 0 || offset > high_watermark_) return LogError::kOffsetOutOfRange;
    if (offset <= log_start_) return LogError::kNone;
  }
  Status st = store_.set_log_start_offset(metadata::PartitionKey{topic_id_, partition_}, offset);
  if (!st.ok()) {
    log::error("partition {}-{}: persisting log start offset failed: {}", topic_id_.to_string(), partition_,
               st.error().message);
    *now_start = log_start_offset();
    return LogError::kKafkaStorageError;
  }
  std::lock_guard lk(mu_);
  log_start_ = std::max(log_start_, offset);
  auto keep = std::find_if(index_.begin(), index_.end(),
                           [&](const IndexEntry& e) { return e.last_offset >= log_start_; });
  erase_index_prefix_locked(keep);
  producers_.prune_aborted(log_start_);
  durable_producers_.prune_aborted(log_start_);
  uploaded_producers_.prune_aborted(log_start_);
  *now_start = log_start_;
  return LogError::kNone;
}

uint64_t WalPartitionLog::add_listener(std::function<void()> fn) {
  std::lock_guard lk(mu_);
  uint64_t id = next_listener_id_++;
  listeners_.emplace(id, std::move(fn));
  return id;
}

void WalPartitionLog::cancel_listener(uint64_t id) {
  std::lock_guard lk(mu_);
  listeners_.erase(id);
}

}  // namespace carelog::partition
