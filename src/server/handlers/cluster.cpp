// DescribeCluster, InitProducerId and OffsetForLeaderEpoch.
#include "common/log.h"
#include "protocol/messages/describe_cluster.h"
#include "protocol/messages/init_producer_id.h"
#include "protocol/messages/offset_for_leader_epoch.h"
#include "server/authorize.h"
#include "server/handlers/cluster_view.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"
#include "server/handlers/topic_defaults.h"

namespace carelog::server {

asio::awaitable<protocol::DescribeClusterResponse> handle_describe_cluster(
    RequestContext& ctx, protocol::DescribeClusterRequest& req) {
  protocol::DescribeClusterResponse resp;
  resp.error_code = 0;
  resp.cluster_id = ctx.broker.cluster_id;
  resp.controller_id = controller_node(ctx);
  resp.endpoint_type = 1;  // brokers
  if (ctx.api_version >= 1 && req.endpoint_type != 1) {
    // Carelog has no separate controller endpoints.
    resp.error_code = code(protocol::ErrorCode::kUnsupportedEndpointType);
    resp.error_message = "only broker endpoints (endpoint_type 1) are available";
    co_return resp;
  }
  for (auto& v : visible_brokers(ctx)) {
    auto& b = resp.brokers.emplace_back();
    b.broker_id = v.node_id;
    b.host = std::move(v.host);
    b.port = v.port;
    b.rack = std::move(v.rack);
  }
  resp.cluster_authorized_operations =
      req.include_cluster_authorized_operations ? cluster_operations(ctx) : kAuthorizedOperationsOmitted;
  co_return resp;
}

asio::awaitable<protocol::InitProducerIdResponse> handle_init_producer_id(
    RequestContext& ctx, protocol::InitProducerIdRequest& req) {
  protocol::InitProducerIdResponse resp;
  resp.producer_id = -1;
  resp.producer_epoch = -1;
  if (req.transactional_id.has_value()) co_return co_await handle_transactional_init_producer_id(ctx, req);
  if (!authorize_cluster(ctx, security::AclOperation::kIdempotentWrite, false) &&
      !authorize_any(ctx, security::AclOperation::kWrite, security::ResourceType::kTopic)) {
    resp.error_code = code(protocol::ErrorCode::kClusterAuthorizationFailed);
    co_return resp;
  }
  if (req.producer_id >= 0) {
    // KIP-360: an idempotent producer may bump its own epoch to recover from
    // errors; without a transaction coordinator we hand out a new id instead,
    // which resets sequence numbers just as an epoch bump would.
  }
  auto id = ctx.broker.producer_ids->next();
  if (!id.ok()) {
    log::error("producer id allocation failed: {}", id.error().message);
    resp.error_code = code(protocol::ErrorCode::kCoordinatorNotAvailable);
    co_return resp;
  }
  resp.error_code = 0;
  resp.producer_id = *id;
  resp.producer_epoch = 0;
  co_return resp;
}

asio::awaitable<protocol::OffsetForLeaderEpochResponse> handle_offset_for_leader_epoch(
    RequestContext& ctx, protocol::OffsetForLeaderEpochRequest& req) {
  protocol::OffsetForLeaderEpochResponse resp;
  for (const auto& t : req.topics) {
    auto& topic_out = resp.topics.emplace_back();
    topic_out.topic = t.topic;
    auto topic = ctx.broker.topics->find(t.topic);
    const int16_t auth_error = topic_auth_error(ctx, security::AclOperation::kDescribe, t.topic);
    for (const auto& p : t.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition = p.partition;
      out.leader_epoch = -1;
      out.end_offset = -1;
      auto [log, error] = auth_error ? ServingLog{nullptr, auth_error}
                                     : serving_log(ctx, topic.get(), p.partition, p.current_leader_epoch);
      out.error_code = error;
      if (!log) continue;
      const int32_t epoch = log->leader_epoch();
      // One leader epoch per partition so far: every epoch up to the current
      // one ends at the log end offset.
      if (p.leader_epoch > epoch) {
        out.leader_epoch = -1;
        out.end_offset = -1;
      } else {
        out.leader_epoch = epoch;
        out.end_offset = log->high_watermark();
      }
    }
  }
  co_return resp;
}

}  // namespace carelog::server
