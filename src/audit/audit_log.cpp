#include "audit/audit_log.h"

#include <fmt/format.h>

#include <algorithm>
#include <future>

#include "audit/batch_encoder.h"
#include "common/clock.h"
#include "common/log.h"
#include "record/records.h"

namespace carelog::audit {
namespace {

// Attempts per batch once shutdown has begun (before that, retries go on).
constexpr int kShutdownAttempts = 5;

// The chain state after the last record of `log` (genesis when empty).
Result<ChainState> recover_chain(partition::PartitionLog& log, size_t index) {
  ChainState state;
  const int64_t hw = log.high_watermark();
  if (hw <= log.log_start_offset()) return state;
  partition::ReadRequest rr;
  rr.offset = hw - 1;
  rr.max_bytes = 1 << 20;
  rr.min_one_message = true;
  rr.max_offset = hw;
  partition::ReadResult read = log.read(rr);
  if (read.error != partition::LogError::kNone) {
    return make_error(fmt::format("cannot read the last record of audit partition {} (error code {})", index,
                                  static_cast<int>(read.error)));
  }
  std::string last;
  int64_t last_offset = -1;
  for (const SharedBytes& batch : read.batches) {
    auto decoded = record::decode_batch(batch);
    if (!decoded.ok()) {
      return make_error(
          fmt::format("audit partition {}: undecodable batch: {}", index, decoded.error().message));
    }
    for (const auto& r : decoded->records) {
      int64_t off = decoded->offset_of(r);
      if (off < hw && off > last_offset && r.value) {
        last_offset = off;
        last.assign(r.value->data(), r.value->size());
      }
    }
  }
  if (last_offset < 0) return state;
  auto link = parse_link(last);
  if (!link.ok()) {
    // Link to the bytes anyway; `carelog audit verify` reports the bad record.
    log::error("audit partition {}: last record (offset {}) has no valid chain fields: {}", index,
               last_offset, link.error().message);
    state.advance(last, 0);
    return state;
  }
  state.advance(last, link->seq);
  return state;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::open(
    AuditLogOptions options, std::vector<std::shared_ptr<partition::PartitionLog>> partitions) {
  if (partitions.empty()) return make_error("the audit topic has no partitions");
  for (const auto& p : partitions)
    if (!p) return make_error("an audit partition is not available on this broker");
  std::vector<ChainState> chains;
  for (size_t i = 0; i < partitions.size(); ++i) {
    auto st = recover_chain(*partitions[i], i);
    if (!st.ok()) return st.take_error();
    chains.push_back(std::move(*st));
  }
  if (!options.now_ms) options.now_ms = wall_clock_ms;
  options.queue_capacity = std::max<size_t>(options.queue_capacity, 1);
  options.max_batch_records = std::max<size_t>(options.max_batch_records, 1);
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(options), std::move(partitions)));
  log->chains_ = chains;
  log->chains_snapshot_ = std::move(chains);
  log->writer_ = std::thread([raw = log.get()] { raw->run(); });
  return log;
}

AuditLog::AuditLog(AuditLogOptions options, std::vector<std::shared_ptr<partition::PartitionLog>> partitions)
    : options_(std::move(options)), partitions_(std::move(partitions)) {}

AuditLog::~AuditLog() { shutdown(); }

void AuditLog::record(AuditEvent event) {
  const int64_t now = options_.now_ms();
  uint64_t dropped = 0;
  {
    std::lock_guard lk(mu_);
    if (queue_.size() < options_.queue_capacity && !stopping_) {
      queue_.push_back(Queued{std::move(event), now});
      ++enqueued_total_;
      ++stats_.recorded;
    } else {
      ++dropped_unreported_;
      dropped = ++stats_.dropped;
    }
  }
  if (dropped == 0) {
    wake_.notify_one();
    return;
  }
  if (dropped == 1 || dropped % 1000 == 0) {
    log::error(
        "audit: {} event(s) dropped so far: the audit queue ({} events) is full or the writer stopped; "
        "the next audit record reports the count",
        dropped, options_.queue_capacity);
  }
  wake_.notify_one();
}

bool AuditLog::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  const uint64_t target = enqueued_total_;
  return progress_.wait_for(lk, timeout, [&] { return completed_total_ >= target; });
}

void AuditLog::shutdown() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
}

AuditLogStats AuditLog::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

ChainState AuditLog::chain(size_t p) const {
  std::lock_guard lk(mu_);
  return p < chains_snapshot_.size() ? chains_snapshot_[p] : ChainState{};
}

size_t AuditLog::partition_for(const AuditEvent& e) const {
  if (partitions_.size() == 1) return 0;
  return std::hash<std::string>{}(e.resource_type + "/" + e.resource_name) % partitions_.size();
}

void AuditLog::run() {
  const size_t max_take = options_.max_batch_records * 4;
  for (;;) {
    std::vector<Queued> taken;
    uint64_t dropped = 0;
    size_t from_queue = 0;
    {
      std::unique_lock lk(mu_);
      wake_.wait(lk, [&] { return stopping_ || !queue_.empty() || dropped_unreported_ > 0; });
      if (queue_.empty() && dropped_unreported_ == 0) break;  // stopping with nothing left
      from_queue = std::min(queue_.size(), max_take);
      taken.reserve(from_queue + 1);
      dropped = std::exchange(dropped_unreported_, 0);
      if (dropped > 0) {
        AuditEvent e;
        e.category = Category::kAdmin;
        e.api = "AuditEventsDropped";
        e.action = Action::kExecute;
        e.outcome = Outcome::kSeriousFailure;
        e.outcome_detail = fmt::format("{} audit event(s) dropped: the audit queue was full", dropped);
        e.principal = "User:carelogd";
        e.resource_type = "topic";
        e.resource_name = options_.topic_name;
        taken.push_back(Queued{std::move(e), options_.now_ms()});
      }
      for (size_t i = 0; i < from_queue; ++i) {
        taken.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<std::vector<Queued>> per(partitions_.size());
    for (auto& q : taken) per[partition_for(q.event)].push_back(std::move(q));
    uint64_t written = 0;
    for (size_t p = 0; p < per.size(); ++p) {
      if (!per[p].empty()) written += write_partition(p, per[p]);
    }
    {
      std::lock_guard lk(mu_);
      const uint64_t total = taken.size();
      stats_.written += written;
      stats_.lost += total - written;
      completed_total_ += from_queue;
      chains_snapshot_ = chains_;
    }
    progress_.notify_all();
  }
  progress_.notify_all();
}

size_t AuditLog::write_partition(size_t p, std::vector<Queued>& events) {
  size_t written = 0;
  size_t i = 0;
  int failures = 0;
  while (i < events.size()) {
    ChainState next = chains_[p];
    std::vector<PlainRecord> records;
    size_t bytes = 0;
    size_t j = i;
    while (j < events.size() && records.size() < options_.max_batch_records &&
           (records.empty() || bytes < options_.max_batch_bytes)) {
      const Queued& q = events[j];
      std::string value = encode_event(q.event, q.recorded_ms, options_.observer, next.next_seq, next.prev);
      next.advance(value, next.next_seq);
      bytes += value.size();
      records.push_back(
          PlainRecord{std::string(category_code(q.event.category)), std::move(value), q.recorded_ms});
      ++j;
    }
    const std::vector<uint8_t> batch = encode_batch(records);
    int attempts = 0;
    for (;;) {
      partition::AppendResult r = append_and_wait(p, batch);
      if (r.error == partition::LogError::kNone) {
        chains_[p] = next;
        written += records.size();
        break;
      }
      bool stopping;
      {
        std::lock_guard lk(mu_);
        ++stats_.append_errors;
        stopping = stopping_;
      }
      ++attempts;
      if (failures++ % 50 == 0) {
        log::error("audit: appending {} record(s) to audit partition {} failed (error code {}: {}); retrying",
                   records.size(), p, static_cast<int>(r.error), r.error_message);
      }
      if (stopping && attempts >= kShutdownAttempts) {
        log::error("audit: giving up on {} audit record(s) for partition {} at shutdown", events.size() - i,
                   p);
        return written;
      }
      std::this_thread::sleep_for(options_.retry_backoff);
    }
    i = j;
  }
  return written;
}

partition::AppendResult AuditLog::append_and_wait(size_t p, std::vector<uint8_t> batch) {
  std::promise<partition::AppendResult> promise;
  auto result = promise.get_future();
  partition::AppendRequest request{SharedBytes::from_vector(std::move(batch)),
                                   partition::TimestampType::kCreateTime};
  auto* target = &promise;
  partitions_[p]->append(std::move(request),
                         [target](partition::AppendResult r) { target->set_value(std::move(r)); });
  return result.get();
}

}  // namespace carelog::audit
