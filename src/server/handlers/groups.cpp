// Consumer-group APIs: FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups, ListGroups,
// DeleteGroups and OffsetDelete. The rules live in group::GroupCoordinator;
// these handlers translate between wire versions and the coordinator.
// Waiting requests (JoinGroup, SyncGroup, OffsetCommit) suspend the
// coroutine on await_callback; no thread blocks. The start lambdas capture
// locals of the coroutine frame by reference: g++ 12 mis-destroys
// move-initialised captures of temporaries inside a co_await expression.
#include <map>

#include "common/log.h"
#include "group/coordinator.h"
#include "protocol/messages/delete_groups.h"
#include "protocol/messages/describe_groups.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/heartbeat.h"
#include "protocol/messages/join_group.h"
#include "protocol/messages/leave_group.h"
#include "protocol/messages/list_groups.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/offset_delete.h"
#include "protocol/messages/offset_fetch.h"
#include "protocol/messages/sync_group.h"
#include "server/async.h"
#include "server/audit_events.h"
#include "server/authorize.h"
#include "server/consumer_offsets_topic.h"
#include "server/coordinator_shards.h"
#include "server/governance_hooks.h"
#include "server/handlers/cluster_view.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"
#include "txn/coordinator.h"

namespace carelog::server {
namespace {

using protocol::ErrorCode;

// Kafka reports a member's host as "/<ip>".
std::string client_host(const std::string& peer) {
  auto colon = peer.rfind(':');
  return "/" + (colon == std::string::npos ? peer : peer.substr(0, colon));
}

// READ, DELETE and DESCRIBE (Kafka's AclOperation codes 3, 6, 8): all a
// group allows, as there are no ACLs yet.
constexpr int32_t kAllGroupOperations = (1 << 3) | (1 << 6) | (1 << 8);

group::GroupCoordinator* coordinator(RequestContext& ctx) { return ctx.broker.groups; }

// Cluster mode: NOT_COORDINATOR unless this broker coordinates the group
// (leads its __consumer_offsets partition), COORDINATOR_LOAD_IN_PROGRESS
// while it loads it. A single broker coordinates every group.
int16_t coordinator_error(std::string_view group_id) {
  auto* shards = coordinator_shards();
  return shards ? shards->error_for(group_id) : 0;
}

// Authorization first (as Kafka), then the coordinator check.
int16_t group_request_error(RequestContext& ctx, security::AclOperation op, std::string_view group_id) {
  if (int16_t e = group_auth_error(ctx, op, group_id)) return e;
  return coordinator_error(group_id);
}

// FindCoordinator's answer for one key.
struct CoordinatorAnswer {
  int16_t error = 0;
  int32_t node_id = -1;
  std::string host;
  int32_t port = -1;
};

CoordinatorAnswer find_one(RequestContext& ctx, int8_t key_type, const std::string& key) {
  CoordinatorAnswer a;
  // Transactional ids (key type 1) stay with the broker asked.
  auto* shards = coordinator_shards();
  if (!shards || key_type != 0) {
    a.node_id = ctx.broker.options.node_id;
    a.host = ctx.session.advertised_host;
    a.port = ctx.session.advertised_port;
    return a;
  }
  auto node = shards->coordinator_of(key);
  auto broker = node ? find_broker(ctx, *node) : std::nullopt;
  if (!broker) {
    a.error = code(ErrorCode::kCoordinatorNotAvailable);
    return a;
  }
  a.node_id = broker->node_id;
  a.host = broker->host;
  a.port = broker->port;
  return a;
}

}  // namespace

asio::awaitable<protocol::FindCoordinatorResponse> handle_find_coordinator(
    RequestContext& ctx, protocol::FindCoordinatorRequest& req) {
  // A single broker coordinates every group; in cluster mode a group's
  // coordinator is the leader of its __consumer_offsets partition
  // (COORDINATOR_NOT_AVAILABLE while it has none). Transactional ids
  // (key_type 1) get the broker asked.
  protocol::FindCoordinatorResponse resp;
  // Kafka creates its offsets topic on the first group coordinator lookup.
  if (req.key_type == 0 && consumer_offsets_topic()) {
    if (auto t = consumer_offsets_topic()->ensure(); !t.ok())
      log::warn("{}: {}", kConsumerOffsetsTopic, t.error().message);
  }
  const bool key_type_ok = req.key_type == 0 || req.key_type == 1;
  const int16_t err = key_type_ok ? 0 : code(ErrorCode::kInvalidRequest);
  auto answer = [&](const std::string& key) {
    CoordinatorAnswer a;
    a.error = err ? err : coordinator_key_auth_error(ctx, req.key_type, key);
    if (key_type_ok && !a.error) {
      a = find_one(ctx, req.key_type, key);
    } else if (key_type_ok) {
      a.node_id = ctx.broker.options.node_id;  // Kafka still names a node with an auth error
      a.host = ctx.session.advertised_host;
      a.port = ctx.session.advertised_port;
    }
    return a;
  };
  if (ctx.api_version >= 4) {
    for (const auto& key : req.coordinator_keys) {
      auto& c = resp.coordinators.emplace_back();
      const CoordinatorAnswer a = answer(key);
      c.key = key;
      c.error_code = a.error;
      c.node_id = a.node_id;
      c.host = a.host;
      c.port = a.port;
      if (!key_type_ok) c.error_message = "unknown coordinator key type";
    }
  } else {
    const CoordinatorAnswer a = answer(req.key);
    resp.error_code = a.error;
    resp.node_id = a.node_id;
    resp.host = a.host;
    resp.port = a.port;
    if (!key_type_ok) resp.error_message = "unknown coordinator key type";
  }
  co_return resp;
}

asio::awaitable<protocol::JoinGroupResponse> handle_join_group(RequestContext& ctx,
                                                               protocol::JoinGroupRequest& req) {
  int16_t join_error = group_request_error(ctx, security::AclOperation::kRead, req.group_id);
  if (!join_error) join_error = governance_join_error(ctx, req);
  if (int16_t e = join_error) {
    protocol::JoinGroupResponse denied;
    denied.error_code = e;
    denied.generation_id = -1;
    denied.member_id = req.member_id;
    co_return denied;
  }
  group::JoinRequest in;
  in.group_id = req.group_id;
  in.member_id = req.member_id;
  in.group_instance_id = req.group_instance_id;
  in.client_id = ctx.client_id.value_or("");
  in.client_host = client_host(ctx.peer);
  in.session_timeout_ms = req.session_timeout_ms;
  // v0 has no rebalance timeout: the session timeout serves as both.
  in.rebalance_timeout_ms = ctx.api_version >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms;
  in.protocol_type = req.protocol_type;
  for (auto& p : req.protocols) in.protocols.push_back(group::Protocol{p.name, p.metadata});
  in.require_known_member_id = ctx.api_version >= 4;
  in.supports_skip_assignment = ctx.api_version >= 9;
  auto* gc = coordinator(ctx);
  group::JoinResult r = co_await await_callback<group::JoinResult>(
      [gc, &in](auto done) { gc->join_group(std::move(in), done); });
  protocol::JoinGroupResponse resp;
  resp.error_code = r.error;
  resp.generation_id = r.generation_id;
  resp.protocol_type = r.error == 0 ? r.protocol_type : std::nullopt;
  resp.protocol_name = r.error == 0 ? r.protocol_name : std::nullopt;
  resp.leader = r.leader_id;
  resp.member_id = r.member_id;
  resp.skip_assignment = r.skip_assignment;
  for (auto& m : r.members) {
    auto& out = resp.members.emplace_back();
    out.member_id = m.member_id;
    out.group_instance_id = m.group_instance_id;
    out.metadata = m.metadata;
  }
  co_return resp;
}

asio::awaitable<protocol::SyncGroupResponse> handle_sync_group(RequestContext& ctx,
                                                               protocol::SyncGroupRequest& req) {
  if (int16_t e = group_request_error(ctx, security::AclOperation::kRead, req.group_id)) {
    protocol::SyncGroupResponse denied;
    denied.error_code = e;
    co_return denied;
  }
  group::SyncRequest in;
  in.group_id = req.group_id;
  in.generation_id = req.generation_id;
  in.member_id = req.member_id;
  in.group_instance_id = req.group_instance_id;
  in.protocol_type = req.protocol_type;
  in.protocol_name = req.protocol_name;
  for (auto& a : req.assignments) in.assignments.emplace_back(a.member_id, a.assignment);
  auto* gc = coordinator(ctx);
  group::SyncResult r = co_await await_callback<group::SyncResult>(
      [gc, &in](auto done) { gc->sync_group(std::move(in), done); });
  protocol::SyncGroupResponse resp;
  resp.error_code = r.error;
  resp.protocol_type = r.protocol_type;
  resp.protocol_name = r.protocol_name;
  resp.assignment = r.assignment;
  co_return resp;
}

asio::awaitable<protocol::HeartbeatResponse> handle_heartbeat(RequestContext& ctx,
                                                              protocol::HeartbeatRequest& req) {
  protocol::HeartbeatResponse resp;
  resp.error_code = group_request_error(ctx, security::AclOperation::kRead, req.group_id);
  if (resp.error_code != 0) co_return resp;
  resp.error_code = coordinator(ctx)->heartbeat(
      group::HeartbeatRequest{req.group_id, req.generation_id, req.member_id, req.group_instance_id});
  if (resp.error_code == 0) governance_heartbeat(ctx, req.group_id);
  co_return resp;
}

asio::awaitable<protocol::LeaveGroupResponse> handle_leave_group(RequestContext& ctx,
                                                                 protocol::LeaveGroupRequest& req) {
  if (int16_t e = group_request_error(ctx, security::AclOperation::kRead, req.group_id)) {
    protocol::LeaveGroupResponse denied;
    denied.error_code = e;
    co_return denied;
  }
  std::vector<group::LeavingMember> members;
  if (ctx.api_version < 3) {
    members.push_back(group::LeavingMember{req.member_id, std::nullopt});
  } else {
    for (auto& m : req.members) members.push_back(group::LeavingMember{m.member_id, m.group_instance_id});
  }
  auto r = coordinator(ctx)->leave_group(req.group_id, members);
  governance_leave(ctx, req.group_id);
  protocol::LeaveGroupResponse resp;
  resp.error_code = r.error;
  if (ctx.api_version < 3) {
    // One member: its outcome is the response's error.
    if (resp.error_code == 0 && !r.member_errors.empty()) resp.error_code = r.member_errors[0];
  } else if (r.error == 0) {
    for (size_t i = 0; i < members.size() && i < r.member_errors.size(); ++i) {
      auto& out = resp.members.emplace_back();
      out.member_id = members[i].member_id;
      out.group_instance_id = members[i].group_instance_id;
      out.error_code = r.member_errors[i];
    }
  }
  co_return resp;
}

asio::awaitable<protocol::OffsetCommitResponse> handle_offset_commit(RequestContext& ctx,
                                                                     protocol::OffsetCommitRequest& req) {
  group::CommitRequest in;
  in.group_id = req.group_id;
  in.generation_id = req.generation_id;
  in.member_id = req.member_id;
  in.group_instance_id = req.group_instance_id;
  const int16_t group_denied = group_request_error(ctx, security::AclOperation::kRead, req.group_id);
  std::vector<int16_t> topic_denied;  // per request topic
  for (const auto& t : req.topics) {
    topic_denied.push_back(group_denied ? group_denied
                                        : topic_auth_error(ctx, security::AclOperation::kRead, t.name));
    if (topic_denied.back() == 0)
      topic_denied.back() = governance_offsets_error(ctx, "OffsetCommit", req.group_id, t.name);
    if (topic_denied.back() != 0) continue;
    for (const auto& p : t.partitions)
      in.offsets.push_back(group::OffsetCommitEntry{t.name, p.partition_index, p.committed_offset,
                                                    p.committed_leader_epoch, p.committed_metadata});
  }
  auto* gc = coordinator(ctx);
  std::vector<int16_t> errors;
  if (!in.offsets.empty()) {
    errors = co_await await_callback<std::vector<int16_t>>(
        [gc, &in](auto done) { gc->commit_offsets(std::move(in), done); });
  }
  protocol::OffsetCommitResponse resp;
  size_t i = 0, ti = 0;
  for (const auto& t : req.topics) {
    auto& topic_out = resp.topics.emplace_back();
    topic_out.name = t.name;
    const int16_t denied = topic_denied[ti++];
    for (const auto& p : t.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = p.partition_index;
      if (denied) {
        out.error_code = denied;
        continue;
      }
      out.error_code = i < errors.size() ? errors[i] : code(ErrorCode::kUnknownServerError);
      ++i;
    }
  }
  co_return resp;
}

namespace {

template <typename TopicsIn>
std::optional<std::vector<group::PartitionRef>> fetch_partitions(const std::optional<TopicsIn>& topics) {
  if (!topics) return std::nullopt;
  std::vector<group::PartitionRef> parts;
  for (const auto& t : *topics)
    for (int32_t p : t.partition_indexes) parts.push_back(group::PartitionRef{t.name, p});
  return parts;
}

// Groups fetched offsets by topic, keeping first-seen topic order.
template <typename TopicOut>
void fill_topics(const group::FetchResult& r, std::vector<TopicOut>& out) {
  std::map<std::string, size_t> index;
  for (const auto& o : r.offsets) {
    auto [it, inserted] = index.try_emplace(o.topic, out.size());
    if (inserted) out.emplace_back().name = o.topic;
    auto& p = out[it->second].partitions.emplace_back();
    p.partition_index = o.partition;
    p.committed_offset = o.offset;
    p.committed_leader_epoch = o.leader_epoch;
    p.metadata = o.metadata;
    p.error_code = r.error != 0 ? r.error : o.error;
  }
}

}  // namespace

namespace {

void authorize_fetch(RequestContext& ctx, const std::string& group_id, bool all_topics,
                     group::FetchResult& r) {
  if (int16_t e = group_request_error(ctx, security::AclOperation::kDescribe, group_id)) {
    r.error = e;
    r.offsets.clear();
    return;
  }
  // Topic ACLs (when an authorizer runs) and governance approval: a topic
  // whose classification admits only approved consumers hides its offsets
  // from other groups (governance_offsets_error).
  const bool acls = authorization_enabled(ctx);
  std::map<std::string, bool> allowed;
  auto may_describe = [&](const std::string& topic) {
    auto [it, fresh] = allowed.try_emplace(topic, false);
    if (fresh)
      it->second = (!acls || authorize(ctx, security::AclOperation::kDescribe, security::ResourceType::kTopic,
                                       topic, /*audit_denial=*/!all_topics)) &&
                   governance_offsets_error(ctx, "OffsetFetch", group_id, topic) == 0;
    return it->second;
  };
  std::vector<group::FetchedOffset> kept;
  for (auto& o : r.offsets) {
    if (may_describe(o.topic)) {
      kept.push_back(std::move(o));
    } else if (!all_topics) {
      o.offset = -1;
      o.leader_epoch = -1;
      o.metadata = "";
      o.error = code(ErrorCode::kTopicAuthorizationFailed);
      kept.push_back(std::move(o));
    }
  }
  r.offsets = std::move(kept);
}

// require_stable (v7+): offsets a transaction staged and has not
// finished yet are UNSTABLE_OFFSET_COMMIT, which the client retries.
void mark_unstable(RequestContext& ctx, const std::string& group_id, group::FetchResult& r) {
  if (!ctx.broker.txns) return;
  for (auto& o : r.offsets) {
    if (o.error == 0 && ctx.broker.txns->has_pending_offsets(group_id, o.topic, o.partition)) {
      o.offset = -1;
      o.leader_epoch = -1;
      o.metadata = "";
      o.error = code(ErrorCode::kUnstableOffsetCommit);
    }
  }
}

}  // namespace

asio::awaitable<protocol::OffsetFetchResponse> handle_offset_fetch(RequestContext& ctx,
                                                                   protocol::OffsetFetchRequest& req) {
  auto* gc = coordinator(ctx);
  protocol::OffsetFetchResponse resp;
  if (ctx.api_version >= 8) {
    for (const auto& g : req.groups) {
      auto r = gc->fetch_offsets(g.group_id, fetch_partitions(g.topics));
      authorize_fetch(ctx, g.group_id, !g.topics.has_value(), r);
      if (req.require_stable) mark_unstable(ctx, g.group_id, r);
      auto& out = resp.groups.emplace_back();
      out.group_id = g.group_id;
      out.error_code = r.error;
      fill_topics(r, out.topics);
    }
    co_return resp;
  }
  auto r = gc->fetch_offsets(req.group_id, fetch_partitions(req.topics));
  authorize_fetch(ctx, req.group_id, !req.topics.has_value(), r);
  if (req.require_stable) mark_unstable(ctx, req.group_id, r);
  resp.error_code = r.error;
  fill_topics(r, resp.topics);
  co_return resp;
}

asio::awaitable<protocol::DescribeGroupsResponse> handle_describe_groups(
    RequestContext& ctx, protocol::DescribeGroupsRequest& req) {
  protocol::DescribeGroupsResponse resp;
  for (const auto& id : req.groups) {
    if (int16_t e = group_request_error(ctx, security::AclOperation::kDescribe, id)) {
      auto& out = resp.groups.emplace_back();
      out.error_code = e;
      out.group_id = id;
      out.authorized_operations = kAuthorizedOperationsOmitted;
      continue;
    }
    auto d = coordinator(ctx)->describe_group(id);
    auto& out = resp.groups.emplace_back();
    out.error_code = d.error;
    out.group_id = d.group_id;
    out.group_state = d.state;
    out.protocol_type = d.protocol_type;
    out.protocol_data = d.protocol_data;
    for (auto& m : d.members) {
      auto& mo = out.members.emplace_back();
      mo.member_id = m.member_id;
      mo.group_instance_id = m.group_instance_id;
      mo.client_id = m.client_id;
      mo.client_host = m.client_host;
      mo.member_metadata = m.metadata;
      mo.member_assignment = m.assignment;
    }
    out.authorized_operations =
        req.include_authorized_operations ? group_operations(ctx, id) : kAuthorizedOperationsOmitted;
  }
  co_return resp;
}

asio::awaitable<protocol::ListGroupsResponse> handle_list_groups(RequestContext& ctx,
                                                                 protocol::ListGroupsRequest& req) {
  protocol::ListGroupsResponse resp;
  resp.error_code = 0;
  const bool list_all = authorize_cluster(ctx, security::AclOperation::kDescribe, false);
  for (auto& g : coordinator(ctx)->list_groups(req.states_filter)) {
    if (coordinator_error(g.group_id) != 0) continue;  // coordinated elsewhere
    if (!list_all &&
        !authorize(ctx, security::AclOperation::kDescribe, security::ResourceType::kGroup, g.group_id, false))
      continue;
    auto& out = resp.groups.emplace_back();
    out.group_id = g.group_id;
    out.protocol_type = g.protocol_type;
    out.group_state = g.state;
  }
  co_return resp;
}

asio::awaitable<protocol::DeleteGroupsResponse> handle_delete_groups(RequestContext& ctx,
                                                                     protocol::DeleteGroupsRequest& req) {
  auto* gc = coordinator(ctx);
  std::vector<int16_t> denied;  // per requested group
  std::vector<std::string> ids;
  for (const auto& g : req.groups_names) {
    denied.push_back(group_request_error(ctx, security::AclOperation::kDelete, g));
    if (denied.back() == 0) ids.push_back(g);
  }
  std::vector<int16_t> errors;
  if (!ids.empty()) {
    errors = co_await await_callback<std::vector<int16_t>>(
        [gc, &ids](auto done) { gc->delete_groups(std::move(ids), done); });
  }
  protocol::DeleteGroupsResponse resp;
  size_t k = 0;  // next coordinator result
  for (size_t i = 0; i < req.groups_names.size(); ++i) {
    auto& out = resp.results.emplace_back();
    out.group_id = req.groups_names[i];
    out.error_code = denied[i]           ? denied[i]
                     : k < errors.size() ? errors[k++]
                                         : code(ErrorCode::kUnknownServerError);
    audit_admin(ctx, "DeleteGroups", audit::Action::kDelete, "group", out.group_id, out.error_code);
  }
  co_return resp;
}

namespace {
struct OffsetDeleteOutcome {
  int16_t group_error = 0;
  std::vector<int16_t> errors;
};
}  // namespace

asio::awaitable<protocol::OffsetDeleteResponse> handle_offset_delete(RequestContext& ctx,
                                                                     protocol::OffsetDeleteRequest& req) {
  if (int16_t e = group_request_error(ctx, security::AclOperation::kDelete, req.group_id)) {
    protocol::OffsetDeleteResponse denied;
    denied.error_code = e;
    co_return denied;
  }
  std::vector<group::PartitionRef> parts;
  std::vector<int16_t> topic_denied;  // per request topic
  for (const auto& t : req.topics) {
    topic_denied.push_back(topic_auth_error(ctx, security::AclOperation::kRead, t.name));
    if (topic_denied.back() != 0) continue;
    for (const auto& p : t.partitions) parts.push_back(group::PartitionRef{t.name, p.partition_index});
  }
  auto* gc = coordinator(ctx);
  OffsetDeleteOutcome r = co_await await_callback<OffsetDeleteOutcome>([gc, &req, &parts](auto done) {
    gc->delete_offsets(req.group_id, std::move(parts), [done](int16_t e, std::vector<int16_t> v) mutable {
      done(OffsetDeleteOutcome{e, std::move(v)});
    });
  });
  protocol::OffsetDeleteResponse resp;
  resp.error_code = r.group_error;
  audit_admin(ctx, "OffsetDelete", audit::Action::kDelete, "group", req.group_id, r.group_error);
  if (r.group_error != 0) co_return resp;  // Kafka omits partitions on a group-level error
  size_t i = 0, ti = 0;
  for (const auto& t : req.topics) {
    auto& topic_out = resp.topics.emplace_back();
    topic_out.name = t.name;
    const int16_t denied = topic_denied[ti++];
    for (const auto& p : t.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = p.partition_index;
      if (denied) {
        out.error_code = denied;
        continue;
      }
      out.error_code = i < r.errors.size() ? r.errors[i] : code(ErrorCode::kUnknownServerError);
      ++i;
    }
  }
  co_return resp;
}

}  // namespace carelog::server
