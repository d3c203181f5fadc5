#include "server/txn_hooks.h"

#include <atomic>
#include <chrono>
#include <mutex>

#include "common/clock.h"
#include "common/log.h"
#include "group/coordinator.h"
#include "record/control.h"

namespace carelog::server {
namespace {

// Counts completions down; the last one reports the first failure.
struct Countdown {
  std::atomic<size_t> remaining;
  std::mutex mu;
  Status first = Status::OK();
  std::function<void(Status)> done;

  void finish(Status st) {
    if (!st.ok()) {
      std::lock_guard lk(mu);
      if (first.ok()) first = std::move(st);
    }
    if (remaining.fetch_sub(1) != 1) return;
    Status result = Status::OK();
    {
      std::lock_guard lk(mu);
      result = first;
    }
    done(result);
  }
};

}  // namespace

txn::TxnHooks make_txn_hooks(BrokerContext& ctx) {
  txn::TxnHooks h;
  BrokerContext* c = &ctx;
  h.allocate_producer_id = [c]() { return c->producer_ids->next(); };
  h.write_markers = [c](int64_t producer_id, int16_t epoch, bool commit,
                        std::vector<txn::TopicPartition> parts, std::function<void(Status)> done) {
    auto cd = std::make_shared<Countdown>();
    cd->remaining = parts.size() + 1;
    cd->done = std::move(done);
    const auto type = commit ? record::ControlType::kCommit : record::ControlType::kAbort;
    const int64_t now = wall_clock_ms();
    for (const auto& tp : parts) {
      auto topic = c->topics->find(tp.topic);
      auto log = topic ? c->logs->get(topic->id, tp.partition) : nullptr;
      if (!log && c->cluster && topic && tp.partition >= 0 && tp.partition < topic->partitions) {
        // Cluster mode: another broker leads the partition, and markers are
        // not sent across brokers yet (docs/cluster.md). The transaction
        // stays in Prepare* and is retried, rather than being reported
        // complete without its marker.
        cd->finish(
            make_error("marker to " + tp.topic + "-" + std::to_string(tp.partition) +
                       ": partition led by another broker (markers across brokers are not written yet)"));
        continue;
      }
      if (!log) {  // deleted meanwhile: nothing left to mark
        cd->finish(Status::OK());
        continue;
      }
      partition::AppendRequest req;
      req.batches = SharedBytes::from_vector(record::make_control_batch(producer_id, epoch, type, 0, now));
      req.timestamp_type = topic->timestamp_type;
      log->append(std::move(req), [cd, tp](partition::AppendResult r) {
        using partition::LogError;
        // A newer epoch in the partition: this marker is obsolete (a retry
        // after the producer moved on); a deleted partition needs none.
        if (r.error == LogError::kNone || r.error == LogError::kInvalidProducerEpoch ||
            r.error == LogError::kUnknownTopicOrPartition) {
          cd->finish(Status::OK());
        } else {
          cd->finish(make_error(
              "marker to " + tp.topic + "-" + std::to_string(tp.partition) + ": " + r.error_message,
              static_cast<int32_t>(r.error)));
        }
      });
    }
    cd->finish(Status::OK());
  };
  h.commit_offsets = [c](std::vector<txn::PendingOffset> offsets, std::function<void(Status)> done) {
    // Grouped by consumer group, one commit each.
    std::map<std::string, std::vector<group::OffsetCommitEntry>> by_group;
    for (auto& o : offsets)
      by_group[o.group].push_back(
          group::OffsetCommitEntry{o.topic, o.partition, o.offset, o.leader_epoch, o.metadata});
    auto cd = std::make_shared<Countdown>();
    cd->remaining = by_group.size() + 1;
    cd->done = std::move(done);
    for (auto& [g, entries] : by_group) {
      c->groups->commit_transactional_offsets(g, std::move(entries), [cd](std::vector<int16_t> errors) {
        for (int16_t e : errors) {
          // A deleted topic's offset is dropped; anything else is retried.
          if (e != 0 && e != 3) return cd->finish(make_error("offset commit failed", e));
        }
        cd->finish(Status::OK());
      });
    }
    cd->finish(Status::OK());
  };
  return h;
}

}  // namespace carelog::server
