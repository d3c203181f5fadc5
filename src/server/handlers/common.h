// Small helpers shared by the handler implementations.
#pragma once

#include <cstdint>
#include <memory>

#include "cluster/cluster.h"
#include "protocol/error_codes.h"
#include "server/request_context.h"

namespace carelog::server {

inline int16_t code(protocol::ErrorCode c) { return static_cast<int16_t>(c); }

// Kafka's "authorized operations not requested" sentinel.
constexpr int32_t kAuthorizedOperationsOmitted = INT32_MIN;

// Kafka's leader-epoch fencing for requests that carry current_leader_epoch:
// -1 means "unknown" and always passes; an older epoch is fenced, a newer one
// is unknown to this leader. Returns 0 when the request may proceed.
inline int16_t leader_epoch_error(int32_t requested, int32_t current) {
  if (requested < 0 || requested == current) return 0;
  return requested < current ? code(protocol::ErrorCode::kFencedLeaderEpoch)
                             : code(protocol::ErrorCode::kUnknownLeaderEpoch);
}

// The partition a per-partition request names, after Kafka's checks: an
// unknown topic (null `topic`) or partition -> UNKNOWN_TOPIC_OR_PARTITION,
// then leader-epoch fencing (current_leader_epoch -1 skips it). `log` is null
// exactly when `error` is set.
struct ServingLog {
  std::shared_ptr<partition::PartitionLog> log;
  int16_t error = 0;
};

// In cluster mode a partition of an existing topic that this broker does
// not lead (or any partition while its lease is not valid) gets
// NOT_LEADER_OR_FOLLOWER, so the client refreshes its metadata.
inline ServingLog serving_log(RequestContext& ctx, const TopicInfo* topic, int32_t partition,
                              int32_t current_leader_epoch = -1) {
  auto log = topic ? ctx.broker.logs->get(topic->id, partition) : nullptr;
  if (ctx.broker.cluster && topic && partition >= 0 && partition < topic->partitions &&
      (!log || !ctx.broker.cluster->lease_valid())) {
    // A client ahead of this broker's view names a newer epoch: UNKNOWN_LEADER_EPOCH.
    if (log && current_leader_epoch > log->leader_epoch())
      return {nullptr, code(protocol::ErrorCode::kUnknownLeaderEpoch)};
    return {nullptr, code(protocol::ErrorCode::kNotLeaderOrFollower)};
  }
  if (!log) return {nullptr, code(protocol::ErrorCode::kUnknownTopicOrPartition)};
  if (int16_t e = leader_epoch_error(current_leader_epoch, log->leader_epoch())) return {nullptr, e};
  return {std::move(log), 0};
}

}  // namespace carelog::server
