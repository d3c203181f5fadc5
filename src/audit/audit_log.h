// AuditLog: the AuditSink that appends hash-chained FHIR AuditEvent JSON
// records to the internal audit topic through the normal PartitionLog
// interface (same WAL + object storage durability as user data).
//
// record() is non-blocking: it stamps the event with the current time and
// puts it on a bounded in-memory queue. One background writer thread drains
// the queue, routes each event to an audit partition (hash of the resource
// name, so events about one resource stay in order), encodes the JSON values
// with each partition's chain state, packs them into uncompressed v2 batches
// and appends them, waiting for durability before advancing the chain.
//
// When the queue is full, record() drops the event rather than block a
// network thread: the drop is counted (stats().dropped), logged as an error
// (first drop and then every 1000th), and the next batch the writer
// appends starts with an "AuditEventsDropped" event carrying the count, so
// the loss itself is part of the tamper-evident stream. A failed append is
// retried (with backoff) without advancing the chain, so there is never a
// hole in the chain; while it keeps failing, new events fill the queue and
// are dropped as above.
//
// Chain continuity across restarts: open() reads the last record of each
// audit partition (seq and exact value bytes) before accepting events.
//
// Ownership: holds shared references to the audit partitions' logs.
// Threading: record(), flush() and stats() are thread-safe; shutdown() is
// called once by the broker (the destructor calls it too).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_sink.h"
#include "audit/event_json.h"
#include "audit/hash_chain.h"
#include "common/result.h"
#include "partition/partition_log.h"

namespace carelog::audit {

struct AuditLogOptions {
  Observer observer;
  std::string topic_name = "__carelog_audit";  // named in AuditEventsDropped events
  size_t queue_capacity = 65536;
  // Bounds on one appended batch.
  size_t max_batch_records = 1000;
  size_t max_batch_bytes = 512 * 1024;
  // Pause between retries of a failed append.
  std::chrono::milliseconds retry_backoff{200};
  // Clock for `recorded` (tests inject one).
  std::function<int64_t()> now_ms;
};

struct AuditLogStats {
  uint64_t recorded = 0;       // accepted by record()
  uint64_t dropped = 0;        // refused by record() because the queue was full
  uint64_t written = 0;        // durable in the audit topic
  uint64_t append_errors = 0;  // failed appends (each retried)
  uint64_t lost = 0;           // given up at shutdown after failed retries
};

class AuditLog : public AuditSink {
 public:
  // `partitions[i]` is audit partition i (at least one). Reads each
  // partition's last record to continue its chain, then starts the writer.
  static Result<std::unique_ptr<AuditLog>> open(
      AuditLogOptions options, std::vector<std::shared_ptr<partition::PartitionLog>> partitions);
  ~AuditLog() override;

  void record(AuditEvent event) override;

  // Waits until every event recorded before the call is durable (or lost),
  // up to `timeout`; false on timeout.
  bool flush(std::chrono::milliseconds timeout);
  // Writes what is queued (bounded retries), then stops the writer.
  void shutdown();

  AuditLogStats stats() const;
  // The chain state of partition `p` (what the next record links to).
  ChainState chain(size_t p) const;

 private:
  struct Queued {
    AuditEvent event;
    int64_t recorded_ms;
  };
  AuditLog(AuditLogOptions options, std::vector<std::shared_ptr<partition::PartitionLog>> partitions);
  void run();
  size_t partition_for(const AuditEvent& e) const;
  // Appends `events` to partition `p`; retries until success or (when
  // stopping) the retry budget is spent. Returns the number made durable.
  size_t write_partition(size_t p, std::vector<Queued>& events);
  partition::AppendResult append_and_wait(size_t p, std::vector<uint8_t> batch);

  const AuditLogOptions options_;
  const std::vector<std::shared_ptr<partition::PartitionLog>> partitions_;
  std::vector<ChainState> chains_;  // writer thread only (after open)

  mutable std::mutex mu_;
  std::condition_variable wake_;      // writer waits for events / stop
  std::condition_variable progress_;  // flush() waits for completed_
  std::deque<Queued> queue_;
  uint64_t dropped_unreported_ = 0;
  uint64_t enqueued_total_ = 0;   // events accepted so far
  uint64_t completed_total_ = 0;  // of those, written or lost
  AuditLogStats stats_;
  bool stopping_ = false;
  std::vector<ChainState> chains_snapshot_;  // copy of chains_ under mu_, for chain()
  std::thread writer_;
};

}  // namespace carelog::audit
