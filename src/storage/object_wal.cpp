#include "storage/object_wal.h"

#include <fmt/core.h>

#include <algorithm>
#include <tuple>

#include "common/clock.h"
#include "common/log.h"
#include "storage/object_wal_format.h"
#include "storage/wal_format.h"

namespace carelog::storage {

namespace {

using Clock = std::chrono::steady_clock;

// Sequence numbers of one process start at max(last listed + 1, start time
// in ms << 20): a PUT of an earlier incarnation that lands after this one
// listed the prefix still sorts before everything this one writes.
uint64_t first_sequence(std::optional<uint64_t> last_listed) {
  uint64_t seq = static_cast<uint64_t>(wall_clock_ms()) << 20;
  if (last_listed) seq = std::max(seq, *last_listed + 1);
  return seq;
}

Error write_failed(const std::string& why) {
  return make_error("wal: object write failed (" + why + "); retry", kErrRequestTimedOut);
}

struct WalObject {
  uint64_t seq;
  SharedBytes bytes;
  object_wal_format::DecodedObject decoded;
};

struct LoadedWal {
  std::vector<uint64_t> seqs;  // every listed sequence, ascending
  std::vector<WalObject> loaded;
  std::set<uint64_t> cancelled;
  uint64_t superseded = 0;
  size_t replayed = 0;
};

// Lists and reads every WAL object under `prefix` and replays the records
// that count through `on_record` (docs/formats/object-wal.md).
Result<LoadedWal> load_wal_objects(objstore::ObjectStore& store, const std::string& prefix,
                                   const WriteAheadLog::RecoveryFn& on_record) {
  LoadedWal out;
  std::vector<uint64_t>& seqs = out.seqs;
  std::string continuation;
  for (;;) {
    auto page = store.list(prefix, continuation, 1000);
    if (!page.ok()) return make_error("wal: listing " + prefix + ": " + page.error().message);
    for (const auto& o : page->objects) {
      if (auto seq = object_wal_format::parse_object_key(prefix, o.key)) seqs.push_back(*seq);
    }
    if (!page->next_continuation) break;
    continuation = *page->next_continuation;
  }
  std::sort(seqs.begin(), seqs.end());

  std::vector<WalObject>& loaded = out.loaded;
  std::set<uint64_t>& cancelled = out.cancelled;
  for (uint64_t seq : seqs) {
    const std::string key = object_wal_format::object_key(prefix, seq);
    auto bytes = store.get(key);
    if (!bytes.ok()) {
      if (objstore::is_not_found(bytes.error())) continue;  // deleted since the listing
      return make_error("wal: reading " + key + ": " + bytes.error().message);
    }
    auto decoded = object_wal_format::decode(*bytes);
    if (!decoded.ok()) return make_error(key + ": " + decoded.error().message);
    if (decoded->sequence != seq) {
      return make_error(fmt::format("{}: header says sequence {}", key, decoded->sequence));
    }
    cancelled.insert(decoded->cancelled.begin(), decoded->cancelled.end());
    loaded.push_back(WalObject{seq, std::move(bytes).value(), std::move(decoded).value()});
  }

  // Per partition, a record supersedes every earlier-sequence record at or
  // above its base offset: those were failed back to their producers, and
  // the partition reassigned their offsets.
  struct Ref {
    size_t object;
    size_t record;
    int64_t base;
  };
  std::map<std::pair<Uuid, int32_t>, std::vector<Ref>> per_partition;
  uint64_t& superseded = out.superseded;
  for (size_t i = 0; i < loaded.size(); ++i) {
    if (cancelled.count(loaded[i].seq)) continue;
    const auto& records = loaded[i].decoded.records;
    for (size_t r = 0; r < records.size(); ++r) {
      auto& refs = per_partition[{records[r].topic_id, records[r].partition}];
      while (!refs.empty() && refs.back().base >= records[r].base_offset) {
        refs.pop_back();
        superseded++;
      }
      refs.push_back(Ref{i, r, records[r].base_offset});
    }
  }
  std::vector<Ref> replay;
  for (auto& [key, refs] : per_partition) replay.insert(replay.end(), refs.begin(), refs.end());
  std::sort(replay.begin(), replay.end(), [](const Ref& a, const Ref& b) {
    return std::tie(a.object, a.record) < std::tie(b.object, b.record);
  });
  for (const Ref& ref : replay) {
    const WalObject& l = loaded[ref.object];
    const auto& d = l.decoded.records[ref.record];
    WalRecord r;
    r.topic_id = d.topic_id;
    r.partition = d.partition;
    r.base_offset = d.base_offset;
    r.batch = l.bytes.slice(d.batch_position, d.batch_length);
    r.location = WalLocation{l.seq, d.batch_position, static_cast<uint32_t>(d.batch_length)};
    on_record(r);
  }
  out.replayed = replay.size();
  return out;
}

}  // namespace

ObjectWal::ObjectWal(objstore::ObjectStore& store, ObjectWalConfig config)
    : store_(store), config_(std::move(config)), space_(config_.capacity_bytes, config_.max_wait) {}

ObjectWal::~ObjectWal() { close(); }

Result<std::unique_ptr<ObjectWal>> ObjectWal::open(objstore::ObjectStore& store, ObjectWalConfig config,
                                                   const RecoveryFn& on_record) {
  if (config.batch_bytes == 0 || config.capacity_bytes == 0 || config.max_inflight == 0) {
    return make_error("wal: object batch size, capacity and in-flight limit must be positive");
  }
  if (!(config.max_puts_per_sec >= 0)) return make_error("wal: max PUTs per second must not be negative");
  std::unique_ptr<ObjectWal> wal(new ObjectWal(store, std::move(config)));
  CARELOG_RETURN_IF_ERROR(wal->recover(on_record));
  wal->open_.seq = wal->next_seq_++;
  wal->flusher_ = std::thread([w = wal.get()] { w->flusher_loop(); });
  for (size_t i = 0; i < wal->config_.max_inflight; ++i)
    wal->workers_.emplace_back([w = wal.get()] { w->worker_loop(); });
  return wal;
}

Status ObjectWal::replay_prefix(objstore::ObjectStore& store, const std::string& prefix,
                                const RecoveryFn& on_record) {
  auto wal = load_wal_objects(store, prefix, on_record);
  if (!wal.ok()) return wal.take_error();
  log::info("wal: read {} WAL objects under {} ({} records replayed, {} superseded, {} cancelled)",
            wal->loaded.size(), prefix, wal->replayed, wal->superseded, wal->cancelled.size());
  return Status::OK();
}

Status ObjectWal::recover(const RecoveryFn& on_record) {
  auto wal = load_wal_objects(store_, config_.prefix, on_record);
  if (!wal.ok()) return wal.take_error();
  std::vector<WalObject>& loaded = wal->loaded;
  const std::set<uint64_t>& cancelled = wal->cancelled;
  const std::vector<uint64_t>& seqs = wal->seqs;
  uint64_t used = 0;
  for (auto& l : loaded) {
    if (cancelled.count(l.seq)) continue;
    uint64_t bytes = 0;
    for (const auto& d : l.decoded.records) bytes += record_size(d.batch_length);
    objects_[l.seq] = Held{l.bytes, bytes};
    used += bytes;
  }
  space_.add_used(used);
  // Cancelled objects still present are deleted by the next reclaim and
  // stay listed in new objects until then.
  for (uint64_t s : seqs) {
    if (cancelled.count(s)) cancelled_.insert(s);
  }
  next_seq_ = first_sequence(seqs.empty() ? std::nullopt : std::optional<uint64_t>(seqs.back()));
  stats_.segments = objects_.size();
  log::info(
      "wal: recovered {} WAL objects ({} records replayed, {} superseded, {} cancelled objects ignored)",
      objects_.size(), wal->replayed, wal->superseded, cancelled_.size());
  return Status::OK();
}

void ObjectWal::reserve_async(uint64_t bytes, ReserveCallback done) {
  bool closed;
  {
    std::lock_guard lk(mu_);
    closed = stopping_;
  }
  // Outside the lock: done may re-enter.
  if (closed) return done(make_error("wal: closed", kErrKafkaStorageError));
  space_.reserve_async(bytes, std::move(done));
}

void ObjectWal::release_reservation(uint64_t bytes) { space_.release_reservation(bytes); }

Status ObjectWal::append(const Uuid& topic_id, int32_t partition, int64_t base_offset,
                         const WalBatch& wal_batch, WalCallback done) {
  const std::span<const uint8_t> batch = wal_batch.bytes.span();
  const uint64_t rs = record_size(batch.size());
  uint8_t head[wal_format::kHeaderSize + wal_format::kPrefixSize];
  wal_format::encode_header(head, topic_id, partition, base_offset, batch, wal_batch.kafka_crc_verified);

  std::unique_lock lk(mu_);
  if (stopped_ || stopping_) return make_error("wal: closed", kErrKafkaStorageError);
  if (failing_) return write_failed("an earlier WAL object failed");
  space_.consume(rs);
  const bool first = open_.records == 0;
  if (first) open_.deadline = Clock::now() + config_.batch_window;
  const uint64_t pos = object_wal_format::kHeaderSize + open_.body.size() + sizeof(head);
  open_.body.insert(open_.body.end(), head, head + sizeof(head));
  open_.body.insert(open_.body.end(), batch.begin(), batch.end());
  open_.records++;
  open_.record_bytes += rs;
  open_.pending.push_back(
      Pending{std::move(done), WalLocation{open_.seq, pos, static_cast<uint32_t>(batch.size())}, rs});
  stats_.appends++;
  const bool full = open_.body.size() >= config_.batch_bytes;
  lk.unlock();
  if (first || full) flusher_cv_.notify_one();
  return Status::OK();
}

void ObjectWal::seal_locked() {
  auto job = std::make_shared<Job>();
  job->seq = open_.seq;
  job->key = object_wal_format::object_key(config_.prefix, open_.seq);
  std::vector<uint64_t> cancelled(cancelled_.begin(), cancelled_.end());
  job->bytes = SharedBytes::from_vector(
      object_wal_format::encode(open_.seq, wall_clock_ms(), open_.records, open_.body, cancelled));
  job->pending = std::move(open_.pending);
  job->deadline = Clock::now() + config_.put_timeout;
  inflight_.push_back(job);
  queue_.push_back(job);
  open_ = Open{};
  open_.seq = next_seq_++;
  worker_cv_.notify_one();
}

void ObjectWal::worker_loop() {
  std::unique_lock lk(mu_);
  for (;;) {
    worker_cv_.wait(lk, [&] { return workers_stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    auto job = queue_.front();
    queue_.pop_front();
    if (job->cancelled) {
      // Failed before it started: never written, nothing to list or delete.
      cancelled_.erase(job->seq);
      job->finished = true;
      continue;
    }
    job->running = true;
    running_.insert(job->seq);
    ostats_.puts++;
    lk.unlock();
    Status st = store_.put(job->key, job->bytes);
    lk.lock();
    running_.erase(job->seq);
    job->running = false;
    job->finished = true;
    job->status = st;
    if (st.ok()) {
      ostats_.put_bytes += job->bytes.size();
    } else {
      ostats_.put_failures++;
      log::warn("wal: PUT {} ({} bytes) failed: {}", job->key, job->bytes.size(), st.error().message);
    }
    if (job->cancelled && st.ok()) {
      log::warn("wal: {} landed after it had been failed; it stays cancelled until deleted", job->key);
    }
    flusher_cv_.notify_one();
  }
}

void ObjectWal::complete_front(std::unique_lock<std::mutex>& lk) {
  auto job = inflight_.front();
  inflight_.pop_front();
  uint64_t record_bytes = 0;
  for (const auto& p : job->pending) record_bytes += p.bytes;
  objects_[job->seq] = Held{job->bytes, record_bytes};
  stats_.commits++;
  stats_.syncs++;
  stats_.segments = objects_.size();
  completing_ = job->seq;
  lk.unlock();
  for (auto& p : job->pending) p.done(Status::OK(), p.location);
  lk.lock();
  completing_.reset();
}

void ObjectWal::fail_all(std::unique_lock<std::mutex>& lk, const std::string& why, bool timed_out) {
  std::vector<Pending> failed;
  uint64_t freed = 0;
  for (auto& job : inflight_) {
    job->cancelled = true;
    // A PUT that ran (or runs) may have landed: list it until deleted.
    if (job->running || job->finished) cancelled_.insert(job->seq);
    for (auto& p : job->pending) {
      freed += p.bytes;
      failed.push_back(std::move(p));
    }
    job->pending.clear();
  }
  log::warn("wal: WAL object {} failed ({}); failing {} records in {} objects in flight and the open one",
            inflight_.front()->key, why, failed.size() + open_.pending.size(), inflight_.size());
  inflight_.clear();
  for (auto& p : open_.pending) {
    freed += p.bytes;
    failed.push_back(std::move(p));
  }
  open_ = Open{};
  open_.seq = next_seq_++;
  if (timed_out) ostats_.put_timeouts++;
  ostats_.failed_records += failed.size();
  failing_ = true;
  lk.unlock();
  space_.free(freed);
  const Status st = write_failed(why);
  for (auto& p : failed) p.done(st, p.location);
  lk.lock();
  failing_ = false;
}

void ObjectWal::flusher_loop() {
  std::unique_lock lk(mu_);
  for (;;) {
    const auto now = Clock::now();
    if (!inflight_.empty()) {
      auto& front = inflight_.front();
      if (front->finished && front->status.ok()) {
        complete_front(lk);
        continue;
      }
      if (front->finished) {
        fail_all(lk, front->status.error().message, false);
        continue;
      }
      if (now >= front->deadline) {
        fail_all(lk, fmt::format("PUT not done after {} ms", config_.put_timeout.count()), true);
        continue;
      }
    }
    const bool sealable = open_.records > 0 && inflight_.size() < config_.max_inflight;
    const bool adaptive = config_.max_puts_per_sec > 0;
    // Adaptive: group commit over PUTs, within the PUT budget.
    const bool budget_ok = !adaptive || now >= next_seal_;
    // Group commit ("the previous PUT returned") only while objects stay
    // small: once one reached half of batch_bytes the traffic is heavy, and
    // waiting for the size trigger keeps the PUTs per GiB of saturation.
    const bool light = last_sealed_bytes_ < config_.batch_bytes / 2;
    const bool trigger = open_.body.size() >= config_.batch_bytes || now >= open_.deadline ||
                         (adaptive && light && inflight_.empty());
    if (sealable && (stopping_ || (budget_ok && trigger))) {
      if (adaptive) {
        next_seal_ = now + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(1.0 / config_.max_puts_per_sec));
      }
      last_sealed_bytes_ = open_.body.size();
      seal_locked();
      continue;
    }
    if (stopping_ && open_.records == 0 && inflight_.empty()) {
      stopped_ = true;
      return;
    }
    std::optional<Clock::time_point> wake;
    if (!inflight_.empty()) wake = inflight_.front()->deadline;
    if (sealable) {
      // Triggered but over budget: wait for the budget; otherwise for the
      // window, and the budget (a finished PUT or a full object notifies).
      Clock::time_point at = trigger ? next_seal_ : std::max(open_.deadline, next_seal_);
      wake = wake ? std::min(*wake, at) : at;
    }
    if (wake) {
      flusher_cv_.wait_until(lk, *wake);
    } else {
      flusher_cv_.wait(lk);
    }
  }
}

Result<SharedBytes> ObjectWal::read(const WalLocation& loc) {
  std::lock_guard lk(mu_);
  auto it = objects_.find(loc.segment);
  if (it == objects_.end()) {
    return make_error(fmt::format("wal: object {} not held", loc.segment), kErrKafkaStorageError);
  }
  const SharedBytes& bytes = it->second.bytes;
  if (loc.position > bytes.size() || loc.length > bytes.size() - loc.position) {
    return make_error(fmt::format("wal: read past the end of object {}", loc.segment), kErrKafkaStorageError);
  }
  return bytes.slice(loc.position, loc.length);
}

uint64_t ObjectWal::lowest_incomplete_locked() const {
  uint64_t limit = open_.seq;
  if (!inflight_.empty()) limit = std::min(limit, inflight_.front()->seq);
  if (completing_) limit = std::min(limit, *completing_);
  return limit;
}

uint64_t ObjectWal::reclaim_horizon(bool /*seal*/) {
  std::lock_guard lk(mu_);
  return lowest_incomplete_locked();
}

Status ObjectWal::reclaim_before(uint64_t segment) {
  std::vector<uint64_t> victims;
  {
    std::lock_guard lk(mu_);
    const uint64_t limit = stopped_ ? segment : std::min(segment, lowest_incomplete_locked());
    for (auto& [seq, held] : objects_) {
      if (seq >= limit) break;
      victims.push_back(seq);
    }
    for (uint64_t seq : cancelled_) {
      if (!running_.count(seq)) victims.push_back(seq);
    }
  }
  if (victims.empty()) return Status::OK();
  std::vector<std::string> keys;
  for (uint64_t seq : victims) keys.push_back(object_wal_format::object_key(config_.prefix, seq));
  auto results = store_.remove_batch(keys);
  Status first_error = Status::OK();
  uint64_t freed = 0;
  {
    std::lock_guard lk(mu_);
    for (size_t i = 0; i < victims.size(); ++i) {
      if (i >= results.size() || !results[i].ok()) {
        if (first_error.ok()) {
          first_error = i < results.size() ? results[i] : Status(make_error("wal: delete not attempted"));
        }
        continue;
      }
      ostats_.deletes++;
      // Deleted: a cancelled sequence need no longer be listed.
      cancelled_.erase(victims[i]);
      auto it = objects_.find(victims[i]);
      if (it == objects_.end()) continue;
      freed += it->second.record_bytes;
      objects_.erase(it);
    }
    stats_.segments = objects_.size();
  }
  space_.free(freed);
  if (!first_error.ok()) {
    return make_error("wal: deleting WAL objects: " + first_error.error().message, first_error.error().code);
  }
  return Status::OK();
}

void ObjectWal::close() {
  {
    std::lock_guard lk(mu_);
    if (stopping_ && !flusher_.joinable() && workers_.empty()) return;
    stopping_ = true;
  }
  flusher_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  {
    std::lock_guard lk(mu_);
    stopped_ = true;
    workers_stop_ = true;
  }
  worker_cv_.notify_all();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
  workers_.clear();
  space_.refuse(make_error("wal: closed", kErrKafkaStorageError));
  const ObjectWalStats st = object_stats();
  log::info(
      "wal: object WAL closed: {} PUTs ({} bytes), {} failed, {} timed out, {} records failed, {} deleted",
      st.puts, st.put_bytes, st.put_failures, st.put_timeouts, st.failed_records, st.deletes);
}

WalStats ObjectWal::stats() {
  std::lock_guard lk(mu_);
  WalStats s = stats_;
  s.used_bytes = space_.used();
  return s;
}

uint64_t ObjectWal::active_segment() {
  std::lock_guard lk(mu_);
  return open_.seq;
}

ObjectWalStats ObjectWal::object_stats() {
  std::lock_guard lk(mu_);
  return ostats_;
}

std::vector<uint64_t> ObjectWal::held_objects() {
  std::lock_guard lk(mu_);
  std::vector<uint64_t> out;
  for (auto& [seq, held] : objects_) out.push_back(seq);
  return out;
}

}  // namespace carelog::storage
