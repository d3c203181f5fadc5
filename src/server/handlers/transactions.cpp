// Transaction APIs: InitProducerId (with a transactional id),
// AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn,
// DescribeTransactions, ListTransactions and DescribeProducers. The rules
// live in txn::TxnCoordinator (docs/transactions.md); these handlers check
// ACLs and topics and translate between wire versions and the coordinator.
// Start lambdas capture coroutine locals by reference (g++ 12 co_await rule,
// see groups.cpp).
#include <regex>

#include "common/clock.h"
#include "common/log.h"
#include "group/coordinator.h"
#include "protocol/messages/add_offsets_to_txn.h"
#include "protocol/messages/add_partitions_to_txn.h"
#include "protocol/messages/describe_producers.h"
#include "protocol/messages/describe_transactions.h"
#include "protocol/messages/end_txn.h"
#include "protocol/messages/init_producer_id.h"
#include "protocol/messages/list_transactions.h"
#include "protocol/messages/txn_offset_commit.h"
#include "server/async.h"
#include "server/authorize.h"
#include "server/governance_hooks.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"
#include "txn/coordinator.h"

namespace carelog::server {
namespace {

using protocol::ErrorCode;
using security::AclOperation;
using security::ResourceType;

// PRODUCER_FENCED exists from these versions on; older clients get
// INVALID_PRODUCER_EPOCH, as Kafka answers them.
int16_t fenced_for_version(int16_t error, int16_t version, int16_t first_version_with_fenced) {
  if (error == code(ErrorCode::kProducerFenced) && version < first_version_with_fenced)
    return code(ErrorCode::kInvalidProducerEpoch);
  return error;
}

bool txn_id_allowed(RequestContext& ctx, AclOperation op, const std::string& id) {
  return authorize(ctx, op, ResourceType::kTransactionalId, id);
}

// AddPartitionsToTxn for one transaction: topic checks, then the
// coordinator. Kafka's order: authorization failures and unknown topics
// fail the request, the other partitions get OPERATION_NOT_ATTEMPTED.
std::vector<protocol::AddPartitionsToTxnResponse::AddPartitionsToTxnTopicResult> add_partitions_one(
    RequestContext& ctx, const std::string& id, int64_t producer_id, int16_t epoch, bool verify_only,
    const std::vector<protocol::AddPartitionsToTxnRequest::AddPartitionsToTxnTopic>& topics,
    int16_t request_error) {
  using TopicResult = protocol::AddPartitionsToTxnResponse::AddPartitionsToTxnTopicResult;
  std::map<txn::TopicPartition, int16_t> errors;
  bool any_error = request_error != 0;
  for (const auto& t : topics) {
    int16_t e = request_error;
    if (!e) e = topic_auth_error(ctx, AclOperation::kWrite, t.name);
    auto topic = ctx.broker.topics->find(t.name);
    for (int32_t p : t.partitions) {
      int16_t pe = e;
      if (!pe && (!topic || p < 0 || p >= topic->partitions)) pe = code(ErrorCode::kUnknownTopicOrPartition);
      errors[{t.name, p}] = pe;
      if (pe) any_error = true;
    }
  }
  std::vector<txn::TopicPartition> parts;
  for (auto& [tp, e] : errors) parts.push_back(tp);
  auto* tc = ctx.broker.txns;
  if (any_error) {
    for (auto& [tp, e] : errors)
      if (!e) e = code(ErrorCode::kOperationNotAttempted);
  } else if (!tc) {
    for (auto& [tp, e] : errors) e = code(ErrorCode::kCoordinatorNotAvailable);
  } else if (verify_only) {
    for (auto& [tp, e] : errors) e = tc->verify_partition(id, producer_id, epoch, tp);
  } else {
    int16_t e = tc->add_partitions(id, producer_id, epoch, parts);
    for (auto& [tp, pe] : errors) pe = e;
  }
  std::vector<TopicResult> out;
  for (const auto& [tp, e] : errors) {
    if (out.empty() || out.back().name != tp.topic) out.emplace_back().name = tp.topic;
    auto& r = out.back().results_by_partition.emplace_back();
    r.partition_index = tp.partition;
    r.partition_error_code = e;
  }
  return out;
}

}  // namespace

asio::awaitable<protocol::InitProducerIdResponse> handle_transactional_init_producer_id(
    RequestContext& ctx, protocol::InitProducerIdRequest& req) {
  protocol::InitProducerIdResponse resp;
  resp.producer_id = -1;
  resp.producer_epoch = -1;
  const std::string& id = *req.transactional_id;
  if (!txn_id_allowed(ctx, AclOperation::kWrite, id)) {
    resp.error_code = code(ErrorCode::kTransactionalIdAuthorizationFailed);
    co_return resp;
  }
  auto* tc = ctx.broker.txns;
  if (!tc) {
    resp.error_code = code(ErrorCode::kCoordinatorNotAvailable);
    co_return resp;
  }
  txn::InitResult r = co_await await_callback<txn::InitResult>([tc, &req](auto done) {
    tc->init_producer_id(*req.transactional_id, req.transaction_timeout_ms, req.producer_id,
                         req.producer_epoch, done);
  });
  resp.error_code = fenced_for_version(r.error, ctx.api_version, 4);
  if (r.error == 0) {
    resp.producer_id = r.producer_id;
    resp.producer_epoch = r.producer_epoch;
  }
  co_return resp;
}

asio::awaitable<protocol::AddPartitionsToTxnResponse> handle_add_partitions_to_txn(
    RequestContext& ctx, protocol::AddPartitionsToTxnRequest& req) {
  protocol::AddPartitionsToTxnResponse resp;
  if (ctx.api_version <= 3) {
    int16_t e = txn_id_allowed(ctx, AclOperation::kWrite, req.v3_and_below_transactional_id)
                    ? 0
                    : code(ErrorCode::kTransactionalIdAuthorizationFailed);
    resp.results_by_topic_v3_and_below =
        add_partitions_one(ctx, req.v3_and_below_transactional_id, req.v3_and_below_producer_id,
                           req.v3_and_below_producer_epoch, false, req.v3_and_below_topics, e);
    for (auto& t : resp.results_by_topic_v3_and_below)
      for (auto& p : t.results_by_partition)
        p.partition_error_code = fenced_for_version(p.partition_error_code, ctx.api_version, 2);
    co_return resp;
  }
  // v4+: brokers only (CLUSTER_ACTION), several transactions per request.
  if (!authorize_cluster(ctx, AclOperation::kClusterAction)) {
    resp.error_code = code(ErrorCode::kClusterAuthorizationFailed);
    co_return resp;
  }
  for (const auto& t : req.transactions) {
    auto& out = resp.results_by_transaction.emplace_back();
    out.transactional_id = t.transactional_id;
    out.topic_results = add_partitions_one(ctx, t.transactional_id, t.producer_id, t.producer_epoch,
                                           t.verify_only, t.topics, 0);
  }
  co_return resp;
}

asio::awaitable<protocol::AddOffsetsToTxnResponse> handle_add_offsets_to_txn(
    RequestContext& ctx, protocol::AddOffsetsToTxnRequest& req) {
  protocol::AddOffsetsToTxnResponse resp;
  auto* tc = ctx.broker.txns;
  if (!txn_id_allowed(ctx, AclOperation::kWrite, req.transactional_id)) {
    resp.error_code = code(ErrorCode::kTransactionalIdAuthorizationFailed);
  } else if (int16_t e = group_auth_error(ctx, AclOperation::kRead, req.group_id)) {
    resp.error_code = e;
  } else if (!tc) {
    resp.error_code = code(ErrorCode::kCoordinatorNotAvailable);
  } else {
    resp.error_code = fenced_for_version(
        tc->add_offsets(req.transactional_id, req.producer_id, req.producer_epoch, req.group_id),
        ctx.api_version, 2);
  }
  co_return resp;
}

asio::awaitable<protocol::TxnOffsetCommitResponse> handle_txn_offset_commit(
    RequestContext& ctx, protocol::TxnOffsetCommitRequest& req) {
  protocol::TxnOffsetCommitResponse resp;
  auto* tc = ctx.broker.txns;
  int16_t request_error = 0;
  if (!txn_id_allowed(ctx, AclOperation::kWrite, req.transactional_id))
    request_error = code(ErrorCode::kTransactionalIdAuthorizationFailed);
  else if (int16_t e = group_auth_error(ctx, AclOperation::kRead, req.group_id))
    request_error = e;
  else if (!tc)
    request_error = code(ErrorCode::kCoordinatorNotAvailable);
  else
    request_error = ctx.broker.groups->validate_transactional_commit(req.group_id, req.generation_id,
                                                                     req.member_id, req.group_instance_id);
  std::vector<txn::PendingOffset> staged;
  std::vector<protocol::TxnOffsetCommitResponse::TxnOffsetCommitResponsePartition*> staged_out;
  resp.topics.reserve(req.topics.size());  // staged_out points into it
  for (const auto& t : req.topics) {
    auto& topic_out = resp.topics.emplace_back();
    topic_out.name = t.name;
    topic_out.partitions.reserve(t.partitions.size());
    int16_t topic_error = request_error;
    if (!topic_error) topic_error = topic_auth_error(ctx, AclOperation::kRead, t.name);
    if (!topic_error) topic_error = governance_offsets_error(ctx, "TxnOffsetCommit", req.group_id, t.name);
    auto topic = ctx.broker.topics->find(t.name);
    for (const auto& p : t.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = p.partition_index;
      out.error_code = topic_error;
      if (!out.error_code && (!topic || p.partition_index < 0 || p.partition_index >= topic->partitions))
        out.error_code = code(ErrorCode::kUnknownTopicOrPartition);
      if (out.error_code) continue;
      staged.push_back(txn::PendingOffset{req.group_id, t.name, p.partition_index, p.committed_offset,
                                          p.committed_leader_epoch, p.committed_metadata});
      staged_out.push_back(&out);
    }
  }
  if (!staged.empty()) {
    int16_t e =
        tc->stage_offsets(req.transactional_id, req.producer_id, req.producer_epoch, req.group_id, staged);
    for (auto* out : staged_out) out->error_code = e;
  }
  co_return resp;
}

asio::awaitable<protocol::EndTxnResponse> handle_end_txn(RequestContext& ctx, protocol::EndTxnRequest& req) {
  protocol::EndTxnResponse resp;
  resp.producer_id = -1;
  resp.producer_epoch = -1;
  auto* tc = ctx.broker.txns;
  if (!txn_id_allowed(ctx, AclOperation::kWrite, req.transactional_id)) {
    resp.error_code = code(ErrorCode::kTransactionalIdAuthorizationFailed);
    co_return resp;
  }
  if (!tc) {
    resp.error_code = code(ErrorCode::kCoordinatorNotAvailable);
    co_return resp;
  }
  const bool bump = ctx.api_version >= 5;
  txn::EndResult r = co_await await_callback<txn::EndResult>([tc, &req, bump](auto done) {
    tc->end_txn(req.transactional_id, req.producer_id, req.producer_epoch, req.committed, bump, done);
  });
  resp.error_code = fenced_for_version(r.error, ctx.api_version, 2);
  if (bump && r.error == 0) {
    resp.producer_id = r.producer_id;
    resp.producer_epoch = r.producer_epoch;
  }
  co_return resp;
}

asio::awaitable<protocol::DescribeTransactionsResponse> handle_describe_transactions(
    RequestContext& ctx, protocol::DescribeTransactionsRequest& req) {
  protocol::DescribeTransactionsResponse resp;
  auto* tc = ctx.broker.txns;
  for (const auto& id : req.transactional_ids) {
    auto& out = resp.transaction_states.emplace_back();
    out.transactional_id = id;
    out.transaction_state = "";
    out.producer_id = -1;
    out.producer_epoch = -1;
    out.transaction_start_time_ms = -1;
    if (!txn_id_allowed(ctx, AclOperation::kDescribe, id)) {
      out.error_code = code(ErrorCode::kTransactionalIdAuthorizationFailed);
      continue;
    }
    auto m = tc ? tc->describe(id) : std::nullopt;
    if (!tc) {
      out.error_code = code(ErrorCode::kCoordinatorNotAvailable);
      continue;
    }
    if (!m || m->state == txn::TxnState::kDead) {
      out.error_code = code(ErrorCode::kTransactionalIdNotFound);
      continue;
    }
    out.error_code = 0;
    out.transaction_state = std::string(txn::state_name(m->state));
    out.transaction_timeout_ms = m->timeout_ms;
    out.transaction_start_time_ms = m->start_ms;
    out.producer_id = m->producer_id;
    out.producer_epoch = m->producer_epoch;
    for (const auto& tp : m->partitions) {
      // Kafka lists only partitions of topics the caller may describe.
      if (topic_auth_error(ctx, AclOperation::kDescribe, tp.topic)) continue;
      if (out.topics.empty() || out.topics.back().topic != tp.topic)
        out.topics.emplace_back().topic = tp.topic;
      out.topics.back().partitions.push_back(tp.partition);
    }
  }
  co_return resp;
}

asio::awaitable<protocol::ListTransactionsResponse> handle_list_transactions(
    RequestContext& ctx, protocol::ListTransactionsRequest& req) {
  protocol::ListTransactionsResponse resp;
  resp.error_code = 0;
  auto* tc = ctx.broker.txns;
  if (!tc) {
    resp.error_code = code(ErrorCode::kCoordinatorNotAvailable);
    co_return resp;
  }
  std::vector<txn::TxnState> states;
  for (const auto& s : req.state_filters) {
    if (auto st = txn::parse_state(s))
      states.push_back(*st);
    else
      resp.unknown_state_filters.push_back(s);
  }
  std::optional<std::regex> pattern;
  if (req.transactional_id_pattern && !req.transactional_id_pattern->empty()) {
    try {
      pattern.emplace(*req.transactional_id_pattern);
    } catch (const std::regex_error&) {
      resp.error_code = code(ErrorCode::kInvalidRegularExpression);
      co_return resp;
    }
  }
  const int64_t now = wall_clock_ms();
  // Unknown state filters match nothing (Kafka answers an empty list).
  if (!resp.unknown_state_filters.empty() && states.empty()) co_return resp;
  for (const auto& m : tc->list()) {
    if (m.state == txn::TxnState::kDead) continue;
    if (!states.empty() && std::find(states.begin(), states.end(), m.state) == states.end()) continue;
    if (!req.producer_id_filters.empty() &&
        std::find(req.producer_id_filters.begin(), req.producer_id_filters.end(), m.producer_id) ==
            req.producer_id_filters.end())
      continue;
    if (req.duration_filter >= 0 && (m.start_ms < 0 || now - m.start_ms < req.duration_filter)) continue;
    if (pattern && !std::regex_match(m.transactional_id, *pattern)) continue;
    if (!authorize(ctx, AclOperation::kDescribe, ResourceType::kTransactionalId, m.transactional_id, false))
      continue;
    auto& out = resp.transaction_states.emplace_back();
    out.transactional_id = m.transactional_id;
    out.producer_id = m.producer_id;
    out.transaction_state = std::string(txn::state_name(m.state));
  }
  co_return resp;
}

asio::awaitable<protocol::DescribeProducersResponse> handle_describe_producers(
    RequestContext& ctx, protocol::DescribeProducersRequest& req) {
  protocol::DescribeProducersResponse resp;
  for (const auto& t : req.topics) {
    auto& topic_out = resp.topics.emplace_back();
    topic_out.name = t.name;
    auto topic = ctx.broker.topics->find(t.name);
    const int16_t auth_error = topic_auth_error(ctx, AclOperation::kRead, t.name);
    for (int32_t p : t.partition_indexes) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = p;
      auto [log, error] = auth_error ? ServingLog{nullptr, auth_error} : serving_log(ctx, topic.get(), p);
      out.error_code = error;
      if (!log) continue;
      for (const auto& ap : log->active_producers()) {
        auto& s = out.active_producers.emplace_back();
        s.producer_id = ap.producer_id;
        s.producer_epoch = ap.epoch;
        s.last_sequence = ap.last_sequence;
        s.last_timestamp = ap.last_timestamp;
        s.coordinator_epoch = ap.txn_start_offset >= 0 ? 0 : -1;
        s.current_txn_start_offset = ap.txn_start_offset;
      }
    }
  }
  co_return resp;
}

}  // namespace carelog::server
