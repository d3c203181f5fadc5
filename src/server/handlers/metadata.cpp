// Metadata: brokers, cluster id, controller and topic/partition layout.
//
// Carelog is one logical replica per partition: a single broker leads every
// partition; in cluster mode each partition's leader is the live broker
// holding its leadership row (replicas and ISR are just the leader; a
// partition whose leader is not live yet reports LEADER_NOT_AVAILABLE).
#include "protocol/messages/metadata.h"

#include "common/log.h"
#include "server/authorize.h"
#include "server/consumer_offsets_topic.h"
#include "server/handlers/cluster_view.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"
#include "server/handlers/topic_defaults.h"

namespace carelog::server {
namespace {

void describe_topic(RequestContext& ctx, const TopicInfo& topic,
                    protocol::MetadataResponse::MetadataResponseTopic& out, bool include_ops) {
  const int32_t node = ctx.broker.options.node_id;
  out.error_code = 0;
  out.name = topic.name;
  out.topic_id = topic.id;
  out.is_internal = topic.is_internal;
  out.topic_authorized_operations =
      include_ops ? topic_operations(ctx, topic.name) : kAuthorizedOperationsOmitted;
  out.partitions.reserve(static_cast<size_t>(topic.partitions));
  for (int32_t p = 0; p < topic.partitions; ++p) {
    protocol::MetadataResponse::MetadataResponsePartition part;
    part.error_code = 0;
    part.partition_index = p;
    part.leader_id = node;
    auto log = ctx.broker.logs->get(topic.id, p);
    part.leader_epoch = log ? log->leader_epoch() : 0;
    if (ctx.broker.cluster && !log) {
      auto leader = ctx.broker.cluster->leader_of(metadata::PartitionKey{topic.id, p});
      if (leader && leader->leader_id != node) {
        part.leader_id = leader->leader_id;
        part.leader_epoch = leader->leader_epoch;
      } else {
        part.error_code = code(protocol::ErrorCode::kLeaderNotAvailable);
        part.leader_id = -1;
        part.leader_epoch = leader ? leader->leader_epoch : -1;
        out.partitions.push_back(std::move(part));
        continue;
      }
    }
    part.replica_nodes = {part.leader_id};
    part.isr_nodes = {part.leader_id};
    out.partitions.push_back(std::move(part));
  }
}

}  // namespace

asio::awaitable<protocol::MetadataResponse> handle_metadata(RequestContext& ctx,
                                                            protocol::MetadataRequest& req) {
  protocol::MetadataResponse resp;
  for (auto& b : visible_brokers(ctx)) {
    protocol::MetadataResponse::MetadataResponseBroker broker;
    broker.node_id = b.node_id;
    broker.host = std::move(b.host);
    broker.port = b.port;
    broker.rack = std::move(b.rack);
    resp.brokers.push_back(std::move(broker));
  }
  resp.cluster_id = ctx.broker.cluster_id;
  resp.controller_id = controller_node(ctx);
  resp.cluster_authorized_operations =
      req.include_cluster_authorized_operations ? cluster_operations(ctx) : kAuthorizedOperationsOmitted;
  const bool include_ops = req.include_topic_authorized_operations;

  // v0 uses an empty list for "all topics"; v1+ uses null.
  const bool all_topics = !req.topics.has_value() || (ctx.api_version == 0 && req.topics->empty());
  if (all_topics) {
    for (const auto& t : ctx.broker.topics->list()) {
      if (!authorize(ctx, security::AclOperation::kDescribe, security::ResourceType::kTopic, t->name, false))
        continue;
      protocol::MetadataResponse::MetadataResponseTopic out;
      describe_topic(ctx, *t, out, include_ops);
      resp.topics.push_back(std::move(out));
    }
    co_return resp;
  }

  // Auto-creation: v4+ carries the client's wish; v0-3 always allow it.
  const bool client_allows = ctx.api_version < 4 || req.allow_auto_topic_creation;
  for (const auto& wanted : *req.topics) {
    protocol::MetadataResponse::MetadataResponseTopic out;
    std::shared_ptr<const TopicInfo> topic;
    if (wanted.name.has_value()) {
      topic = ctx.broker.topics->find(*wanted.name);
      out.name = wanted.name;
    } else if (!wanted.topic_id.is_zero()) {
      topic = ctx.broker.topics->find(wanted.topic_id);
      out.topic_id = wanted.topic_id;
    }
    const std::string* auth_name = wanted.name.has_value() ? &*wanted.name : topic ? &topic->name : nullptr;
    bool denied = auth_name && !authorize(ctx, security::AclOperation::kDescribe,
                                          security::ResourceType::kTopic, *auth_name);
    const bool auto_create = !topic && wanted.name.has_value() && client_allows && auto_create_enabled(ctx);
    if (!denied && auto_create && !authorize_cluster(ctx, security::AclOperation::kCreate, false))
      denied = !authorize(ctx, security::AclOperation::kCreate, security::ResourceType::kTopic, *wanted.name);
    if (denied) {
      out.error_code = code(protocol::ErrorCode::kTopicAuthorizationFailed);
      out.topic_authorized_operations = kAuthorizedOperationsOmitted;
      resp.topics.push_back(std::move(out));
      continue;
    }
    if (auto_create) {
      // The offsets topic is created with its own layout, never with defaults.
      auto created = *wanted.name == kConsumerOffsetsTopic && consumer_offsets_topic()
                         ? consumer_offsets_topic()->ensure()
                         : create_topic_with_defaults(ctx, *wanted.name);
      if (created.ok()) {
        topic = *created;
      } else {
        out.error_code = static_cast<int16_t>(created.error().code);
        out.topic_authorized_operations = kAuthorizedOperationsOmitted;
        resp.topics.push_back(std::move(out));
        continue;
      }
    }
    if (!topic) {
      out.error_code = wanted.name.has_value() ? code(protocol::ErrorCode::kUnknownTopicOrPartition)
                                               : code(protocol::ErrorCode::kUnknownTopicId);
      out.topic_authorized_operations = kAuthorizedOperationsOmitted;
      resp.topics.push_back(std::move(out));
      continue;
    }
    describe_topic(ctx, *topic, out, include_ops);
    resp.topics.push_back(std::move(out));
  }
  co_return resp;
}

}  // namespace carelog::server
