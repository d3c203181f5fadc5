// WriteTxnMarkers: an admin closes a partition's transaction directly
// (`kafka-transactions.sh abort`, Admin.abortTransaction). Carelog's own
// coordinator writes its markers in-process (server/txn_hooks.cpp), so this
// API only serves operators resolving a hanging transaction. Kafka's rules:
// CLUSTER_ACTION on the cluster, per-partition UNKNOWN_TOPIC_OR_PARTITION,
// and the partition refuses a marker older than its producer's epoch
// (INVALID_PRODUCER_EPOCH).
#include <atomic>
#include <chrono>

#include "common/clock.h"
#include "protocol/messages/write_txn_markers.h"
#include "record/control.h"
#include "server/async.h"
#include "server/authorize.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"

namespace carelog::server {

asio::awaitable<protocol::WriteTxnMarkersResponse> handle_write_txn_markers(
    RequestContext& ctx, protocol::WriteTxnMarkersRequest& req) {
  using protocol::ErrorCode;
  using PartitionResult = protocol::WriteTxnMarkersResponse::WritableTxnMarkerPartitionResult;
  protocol::WriteTxnMarkersResponse resp;
  const bool allowed = authorize_cluster(ctx, security::AclOperation::kClusterAction);
  const int64_t now = wall_clock_ms();
  struct Job {
    std::shared_ptr<partition::PartitionLog> log;
    std::vector<uint8_t> batch;
    partition::TimestampType timestamp_type;
    PartitionResult* out;
  };
  std::vector<Job> jobs;
  // Results are sized first so the pointers in `jobs` stay valid.
  for (const auto& m : req.markers) {
    auto& mo = resp.markers.emplace_back();
    mo.producer_id = m.producer_id;
    for (const auto& t : m.topics) {
      auto& to = mo.topics.emplace_back();
      to.name = t.name;
      to.partitions.resize(t.partition_indexes.size());
    }
  }
  for (size_t mi = 0; mi < req.markers.size(); ++mi) {
    const auto& m = req.markers[mi];
    const auto type = m.transaction_result ? record::ControlType::kCommit : record::ControlType::kAbort;
    for (size_t ti = 0; ti < m.topics.size(); ++ti) {
      const auto& t = m.topics[ti];
      auto topic = ctx.broker.topics->find(t.name);
      for (size_t pi = 0; pi < t.partition_indexes.size(); ++pi) {
        PartitionResult& out = resp.markers[mi].topics[ti].partitions[pi];
        out.partition_index = t.partition_indexes[pi];
        if (!allowed) {
          out.error_code = code(ErrorCode::kClusterAuthorizationFailed);
          continue;
        }
        auto [log, error] = serving_log(ctx, topic.get(), out.partition_index);
        out.error_code = error;
        if (!log) continue;
        jobs.push_back(
            Job{std::move(log),
                record::make_control_batch(m.producer_id, m.producer_epoch, type, m.coordinator_epoch, now),
                topic->timestamp_type, &out});
      }
    }
  }
  if (jobs.empty()) co_return resp;
  co_await await_callback<bool>([&jobs](auto done) {
    auto remaining = std::make_shared<std::atomic<size_t>>(jobs.size());
    for (auto& j : jobs) {
      partition::AppendRequest a;
      a.batches = SharedBytes::from_vector(std::move(j.batch));
      a.timestamp_type = j.timestamp_type;
      PartitionResult* out = j.out;
      j.log->append(std::move(a), [out, remaining, done](partition::AppendResult r) mutable {
        out->error_code = static_cast<int16_t>(r.error);
        if (remaining->fetch_sub(1, std::memory_order_acq_rel) == 1) done(true);
      });
    }
  });
  co_return resp;
}

}  // namespace carelog::server
