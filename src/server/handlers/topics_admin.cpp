// CreateTopics, DeleteTopics and CreatePartitions.
#include <set>

#include "protocol/messages/create_partitions.h"
#include "protocol/messages/create_topics.h"
#include "protocol/messages/delete_topics.h"
#include "server/audit_events.h"
#include "server/authorize.h"
#include "server/governance_hooks.h"
#include "server/handlers/common.h"
#include "server/handlers/config_support.h"
#include "server/handlers/handlers.h"

namespace carelog::server {
namespace {

std::set<std::string> duplicates_of(const std::vector<std::string>& names) {
  std::set<std::string> seen, dup;
  for (const auto& n : names)
    if (!seen.insert(n).second) dup.insert(n);
  return dup;
}

}  // namespace

asio::awaitable<protocol::CreateTopicsResponse> handle_create_topics(RequestContext& ctx,
                                                                     protocol::CreateTopicsRequest& req) {
  protocol::CreateTopicsResponse resp;
  std::vector<std::string> names;
  for (const auto& t : req.topics) names.push_back(t.name);
  const auto dup = duplicates_of(names);
  const auto& opts = ctx.broker.options;

  for (const auto& t : req.topics) {
    auto& out = resp.topics.emplace_back();
    out.name = t.name;
    out.num_partitions = -1;
    out.replication_factor = -1;
    auto fail = [&out](int32_t code_value, std::string message) {
      out.error_code = static_cast<int16_t>(code_value);
      out.error_message = std::move(message);
    };
    if (dup.count(t.name)) {
      fail(code(protocol::ErrorCode::kInvalidRequest),
           "Create topics request contains multiple entries for topic " + t.name);
      continue;
    }
    if (!authorize_cluster(ctx, security::AclOperation::kCreate, false) &&
        !authorize(ctx, security::AclOperation::kCreate, security::ResourceType::kTopic, t.name)) {
      fail(code(protocol::ErrorCode::kTopicAuthorizationFailed), "Authorization failed.");
      continue;
    }
    int32_t partitions = t.num_partitions;
    int16_t rf = t.replication_factor;
    if (!t.assignments.empty()) {
      if (partitions != -1 || rf != -1) {
        fail(code(protocol::ErrorCode::kInvalidRequest),
             "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used "
             "at "
             "the same time.");
        continue;
      }
      bool valid = true;
      for (size_t i = 0; i < t.assignments.size(); ++i) {
        const auto& a = t.assignments[i];
        if (a.partition_index != static_cast<int32_t>(i) || a.broker_ids.size() != 1 ||
            a.broker_ids[0] != opts.node_id) {
          valid = false;
        }
      }
      if (!valid) {
        fail(code(protocol::ErrorCode::kInvalidReplicaAssignment),
             "Replica assignments must name partitions 0..n-1, each on broker " +
                 std::to_string(opts.node_id));
        continue;
      }
      partitions = static_cast<int32_t>(t.assignments.size());
      rf = 1;
    }
    if (partitions == -1) partitions = opts.num_partitions;
    if (rf == -1) rf = opts.default_replication_factor;

    metadata::ConfigMap configs;
    bool config_ok = true;
    for (const auto& c : t.configs) {
      if (!c.value.has_value()) {
        fail(code(protocol::ErrorCode::kInvalidConfig),
             "Null value not supported for topic configs: " + c.name);
        config_ok = false;
        break;
      }
      configs[c.name] = *c.value;
    }
    if (!config_ok) continue;
    if (auto st = validate_topic_configs(ctx, configs); !st.ok()) {
      fail(st.error().code, st.error().message);
      continue;
    }
    if (auto st = governance_check_topic(ctx, t.name, configs, nullptr); !st.ok()) {
      fail(st.error().code, st.error().message);
      continue;
    }
    auto created = ctx.broker.topics->create(t.name, partitions, rf, configs, req.validate_only);
    if (!created.ok()) {
      fail(created.error().code, created.error().message);
      continue;
    }
    out.error_code = 0;
    out.topic_id = req.validate_only ? Uuid{} : (*created)->id;
    out.num_partitions = partitions;
    out.replication_factor = rf;
    if (ctx.api_version >= 5) {
      out.configs.emplace();
      for (const auto& e : resolve_topic_configs(ctx, configs)) {
        auto& c = out.configs->emplace_back();
        c.name = e.name;
        c.value = e.value;
        c.read_only = e.read_only;
        c.config_source = e.source;
        c.is_sensitive = e.is_sensitive;
      }
    }
  }
  if (!req.validate_only)
    for (const auto& t : resp.topics)
      audit_admin(ctx, "CreateTopics", audit::Action::kCreate, "topic", t.name, t.error_code);
  co_return resp;
}

asio::awaitable<protocol::DeleteTopicsResponse> handle_delete_topics(RequestContext& ctx,
                                                                     protocol::DeleteTopicsRequest& req) {
  protocol::DeleteTopicsResponse resp;
  struct Wanted {
    std::optional<std::string> name;
    Uuid id;
  };
  std::vector<Wanted> wanted;
  if (ctx.api_version >= 6) {
    for (const auto& t : req.topics) wanted.push_back(Wanted{t.name, t.topic_id});
  } else {
    for (const auto& n : req.topic_names) wanted.push_back(Wanted{n, Uuid{}});
  }
  for (const auto& w : wanted) {
    auto& out = resp.responses.emplace_back();
    out.name = w.name;
    out.topic_id = w.id;
    std::shared_ptr<const TopicInfo> topic;
    if (w.name.has_value() && !w.id.is_zero()) {
      out.error_code = code(protocol::ErrorCode::kInvalidRequest);
      out.error_message = "Only one of topic name or topic id may be set";
      continue;
    }
    if (w.name.has_value()) out.error_code = topic_auth_error(ctx, security::AclOperation::kDelete, *w.name);
    if (out.error_code != 0) continue;
    topic = w.name.has_value() ? ctx.broker.topics->find(*w.name) : ctx.broker.topics->find(w.id);
    if (!topic) {
      out.error_code = w.name.has_value() ? code(protocol::ErrorCode::kUnknownTopicOrPartition)
                                          : code(protocol::ErrorCode::kUnknownTopicId);
      continue;
    }
    if (!w.name.has_value()) {
      if (!authorize(ctx, security::AclOperation::kDescribe, security::ResourceType::kTopic, topic->name,
                     false)) {
        out.error_code = code(protocol::ErrorCode::kUnknownTopicId);
        continue;
      }
      out.error_code = topic_auth_error(ctx, security::AclOperation::kDelete, topic->name);
      if (out.error_code != 0) continue;
    }
    out.name = topic->name;
    out.topic_id = topic->id;
    if (auto st = check_audit_topic_deletable(ctx, topic->name); !st.ok()) {
      out.error_code = static_cast<int16_t>(st.error().code);
      out.error_message = st.error().message;
      continue;
    }
    if (!ctx.broker.options.delete_topic_enable) {
      out.error_code = code(protocol::ErrorCode::kTopicDeletionDisabled);
      continue;
    }
    auto st = ctx.broker.topics->remove(topic->id);
    out.error_code = st.ok() ? 0 : static_cast<int16_t>(st.error().code);
    if (!st.ok()) out.error_message = st.error().message;
  }
  for (const auto& r : resp.responses)
    audit_admin(ctx, "DeleteTopics", audit::Action::kDelete, "topic", r.name.value_or(r.topic_id.to_string()),
                r.error_code);
  co_return resp;
}

asio::awaitable<protocol::CreatePartitionsResponse> handle_create_partitions(
    RequestContext& ctx, protocol::CreatePartitionsRequest& req) {
  protocol::CreatePartitionsResponse resp;
  std::vector<std::string> names;
  for (const auto& t : req.topics) names.push_back(t.name);
  const auto dup = duplicates_of(names);
  for (const auto& t : req.topics) {
    auto& out = resp.results.emplace_back();
    out.name = t.name;
    if (dup.count(t.name)) {
      out.error_code = code(protocol::ErrorCode::kInvalidRequest);
      out.error_message = "Duplicate topic in request.";
      continue;
    }
    out.error_code = topic_auth_error(ctx, security::AclOperation::kAlter, t.name);
    if (out.error_code != 0) continue;
    auto topic = ctx.broker.topics->find(t.name);
    if (!topic) {
      out.error_code = code(protocol::ErrorCode::kUnknownTopicOrPartition);
      out.error_message = "The topic '" + t.name + "' does not exist.";
      continue;
    }
    if (t.assignments.has_value()) {
      bool valid = static_cast<int32_t>(t.assignments->size()) == t.count - topic->partitions;
      for (const auto& a : *t.assignments) {
        if (a.broker_ids.size() != 1 || a.broker_ids[0] != ctx.broker.options.node_id) valid = false;
      }
      if (!valid) {
        out.error_code = code(protocol::ErrorCode::kInvalidReplicaAssignment);
        out.error_message = "Each new partition must be assigned to broker " +
                            std::to_string(ctx.broker.options.node_id) + " only.";
        continue;
      }
    }
    auto st = ctx.broker.topics->set_partition_count(topic->id, t.count, req.validate_only);
    out.error_code = st.ok() ? 0 : static_cast<int16_t>(st.error().code);
    if (!st.ok()) out.error_message = st.error().message;
  }
  if (!req.validate_only)
    for (const auto& r : resp.results)
      audit_admin(ctx, "CreatePartitions", audit::Action::kUpdate, "topic", r.name, r.error_code);
  co_return resp;
}

}  // namespace carelog::server
