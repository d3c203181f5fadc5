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
    // Kafka's order: name, existence, configs, then partitions and
    // replication factor (so CreateTopics for an existing topic answers
    // TOPIC_ALREADY_EXISTS whatever else the request gets wrong).
    if (auto st = validate_topic_name(t.name); !st.ok()) {
      fail(st.error().code, st.error().message);
      continue;
    }
    if (auto st = ctx.broker.topics->check_name_collision(t.name); !st.ok()) {
      fail(st.error().code, st.error().message);
      continue;
    }
    if (ctx.broker.topics->find(t.name)) {
      fail(code(protocol::ErrorCode::kTopicAlreadyExists), "Topic '" + t.name + "' already exists.");
      continue;
    }
    metadata::ConfigMap configs;
    std::string null_configs;
    for (const auto& c : t.configs) {
      if (!c.value.has_value())
        null_configs += (null_configs.empty() ? "" : ",") + c.name;
      else
        configs[c.name] = *c.value;
    }
    if (!null_configs.empty()) {
      fail(code(protocol::ErrorCode::kInvalidConfig),
           "Null value not supported for topic configs: " + null_configs);
      continue;
    }
    if (auto st = validate_topic_configs(ctx, configs); !st.ok()) {
      fail(st.error().code, st.error().message);
      continue;
    }
    if (auto st = governance_check_topic(ctx, t.name, configs, nullptr); !st.ok()) {
      fail(st.error().code, st.error().message);
      continue;
    }
    int32_t partitions = t.num_partitions;
    int16_t rf = t.replication_factor;
    if (!t.assignments.empty()) {
      if (rf != -1) {
        fail(code(protocol::ErrorCode::kInvalidRequest),
             "A manual partition assignment was given, so the replication factor must be -1.");
        continue;
      }
      if (partitions != -1) {
        fail(code(protocol::ErrorCode::kInvalidRequest),
             "A manual partition assignment was given, so the number of partitions must be -1.");
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
    } else if (rf < -1 || rf == 0) {
      fail(code(protocol::ErrorCode::kInvalidReplicationFactor),
           "Replication factor must be larger than 0, or -1 for the broker default.");
      continue;
    } else if (partitions < -1 || partitions == 0) {
      fail(code(protocol::ErrorCode::kInvalidPartitions),
           "Number of partitions must be larger than 0, or -1 for the broker default.");
      continue;
    }
    if (partitions == -1) partitions = opts.num_partitions;
    if (rf == -1) rf = opts.default_replication_factor;

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
  // Kafka's order: deletion disabled answers every entry, then duplicates,
  // then each entry's own checks.
  std::vector<std::string> names;
  std::vector<std::string> ids;
  for (const auto& w : wanted) {
    if (w.name.has_value()) names.push_back(*w.name);
    if (!w.id.is_zero()) ids.push_back(w.id.to_string());
  }
  const auto dup_names = duplicates_of(names);
  const auto dup_ids = duplicates_of(ids);
  for (const auto& w : wanted) {
    auto& out = resp.responses.emplace_back();
    out.name = w.name;
    out.topic_id = w.id;
    std::shared_ptr<const TopicInfo> topic;
    if (!ctx.broker.options.delete_topic_enable) {
      out.error_code = ctx.api_version < 3 ? code(protocol::ErrorCode::kInvalidRequest)
                                           : code(protocol::ErrorCode::kTopicDeletionDisabled);
      out.error_message = "Topic deletion is disabled.";
      continue;
    }
    if ((w.name.has_value() && dup_names.count(*w.name)) ||
        (!w.id.is_zero() && dup_ids.count(w.id.to_string()))) {
      out.error_code = code(protocol::ErrorCode::kInvalidRequest);
      out.error_message = w.name.has_value() ? "Duplicate topic name." : "Duplicate topic id.";
      continue;
    }
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
    // Kafka's order: the count must grow, then the assignments must fit it.
    if (auto st = TopicRegistry::check_partition_count(*topic, t.count); !st.ok()) {
      out.error_code = static_cast<int16_t>(st.error().code);
      out.error_message = st.error().message;
      continue;
    }
    if (t.assignments.has_value()) {
      if (static_cast<int32_t>(t.assignments->size()) != t.count - topic->partitions) {
        out.error_code = code(protocol::ErrorCode::kInvalidReplicaAssignment);
        out.error_message = "Attempted to add " + std::to_string(t.count - topic->partitions) +
                            " additional partition(s), but " + std::to_string(t.assignments->size()) +
                            " assignment(s) were specified.";
        continue;
      }
      bool valid = true;
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
