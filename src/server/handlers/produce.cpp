// Produce: validate each partition's batch, append it to the partition log
// and answer once every append is durable (acks=1 and acks=all are both
// answered after the WAL fsync; acks=0 gets no response at all).
//
// All appends of one request are started before the first suspension, so
// pipelined requests on a connection reach each partition in request order
// (idempotent producers rely on that) and share WAL group commits.
#include "protocol/messages/produce.h"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <utility>

#include "common/log.h"
#include "record/batch.h"
#include "server/async.h"
#include "server/audit_events.h"
#include "server/authorize.h"
#include "server/consumer_offsets_topic.h"
#include "server/governance_hooks.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"
#include "server/handlers/produce_compacted.h"
#include "server/handlers/produce_validation.h"
#include "txn/coordinator.h"

namespace carelog::server {
namespace {

using PartitionResponse = protocol::ProduceResponse::PartitionProduceResponse;

struct Pending {
  PartitionResponse* out;
  std::shared_ptr<partition::PartitionLog> log;
  partition::AppendRequest request;
};

void fill_error(PartitionResponse& out, int16_t error, std::string message = {}) {
  out.error_code = error;
  out.base_offset = -1;
  out.log_append_time_ms = -1;
  out.log_start_offset = -1;
  if (!message.empty()) out.error_message = std::move(message);
}

// Transactional produce rules: control batches come only from the
// coordinator; a transactional batch needs the request's transactional id
// and (KIP-890 part 1) a partition the coordinator has in the producer's
// ongoing transaction.
int16_t check_transactional(RequestContext& ctx, const protocol::ProduceRequest& req,
                            const std::string& topic, int32_t partition, const record::BatchHeader& h,
                            std::string* message) {
  if (h.control()) {
    *message = "control batches are written by the transaction coordinator only";
    return code(protocol::ErrorCode::kInvalidRecord);
  }
  if (!h.transactional()) return 0;
  if (!req.transactional_id.has_value()) {
    *message = "transactional batch without a transactional id";
    return code(protocol::ErrorCode::kInvalidRecord);
  }
  if (h.producer_id < 0) {
    *message = "transactional batch without a producer id";
    return code(protocol::ErrorCode::kInvalidRecord);
  }
  if (!ctx.broker.txns) return code(protocol::ErrorCode::kCoordinatorNotAvailable);
  return ctx.broker.txns->verify_partition(*req.transactional_id, h.producer_id, h.producer_epoch,
                                           txn::TopicPartition{topic, partition});
}

}  // namespace

asio::awaitable<protocol::ProduceResponse> handle_produce(RequestContext& ctx,
                                                          protocol::ProduceRequest& req) {
  const auto received = std::chrono::steady_clock::now();
  protocol::ProduceResponse resp;
  const bool acks_valid = req.acks == 0 || req.acks == 1 || req.acks == -1;
  std::vector<Pending> pending;
  // Dead-letter appends (docs/validation.md): their responses live here and
  // are folded into the partition's once everything completed.
  struct DeadLetter {
    PartitionResponse* source;
    std::shared_ptr<const TopicInfo> topic;
    ValidationOutcome outcome;
  };
  std::deque<DeadLetter> dead_letters;
  std::deque<PartitionResponse> dlq_responses;

  // WRITE on the transactional id, once per request.
  const int16_t txn_auth_error =
      req.transactional_id.has_value() &&
              !authorize(ctx, security::AclOperation::kWrite, security::ResourceType::kTransactionalId,
                         *req.transactional_id)
          ? code(protocol::ErrorCode::kTransactionalIdAuthorizationFailed)
          : 0;
  std::string error_message;
  // Critical topics of this request and their response slots (latency alerts).
  std::vector<std::pair<std::shared_ptr<const TopicInfo>, size_t>> critical;

  resp.responses.reserve(req.topic_data.size());
  for (auto& topic_data : req.topic_data) {
    auto& topic_out = resp.responses.emplace_back();
    topic_out.name = topic_data.name;
    topic_out.partition_responses.reserve(topic_data.partition_data.size());
    auto topic = ctx.broker.topics->find(topic_data.name);
    if (topic && topic->latency_alert_ms >= 0) critical.emplace_back(topic, resp.responses.size() - 1);
    std::string policy_message;
    int16_t auth_error = topic_auth_error(ctx, security::AclOperation::kWrite, topic_data.name);
    if (!auth_error && topic)
      auth_error = governance_access_error(ctx, *topic, governance::Operation::kProduce, &policy_message);
    for (auto& pd : topic_data.partition_data) {
      auto& out = topic_out.partition_responses.emplace_back();
      out.index = pd.index;
      if (!acks_valid) {
        fill_error(out, code(protocol::ErrorCode::kInvalidRequiredAcks));
        continue;
      }
      if (auth_error) {
        fill_error(out, auth_error, policy_message);
        continue;
      }
      if (txn_auth_error) {
        fill_error(out, txn_auth_error);
        continue;
      }
      if (topic_data.name == kConsumerOffsetsTopic) {  // as Kafka: only the coordinator writes it
        fill_error(out, code(protocol::ErrorCode::kInvalidTopicException),
                   "Cannot append to internal topic " + topic_data.name);
        continue;
      }
      if (auto st = check_audit_topic_writable(ctx, topic_data.name); !st.ok()) {
        fill_error(out, static_cast<int16_t>(st.error().code), st.error().message);
        continue;
      }
      auto [log, error] = serving_log(ctx, topic.get(), pd.index);
      if (!log) {
        fill_error(out, error);
        continue;
      }
      if (!pd.records.has_value() || pd.records->size() == 0) {
        fill_error(out, code(protocol::ErrorCode::kInvalidRecord), "produce request carries no records");
        continue;
      }
      SharedBytes data = pd.records->flatten();
      auto batches = record::validate_batches(data, topic->max_message_bytes);
      if (!batches.ok()) {
        fill_error(out, static_cast<int16_t>(batches.error().code), batches.error().message);
        log::debug("rejected produce to {}-{} from {}: {}", topic->name, pd.index, ctx.peer,
                   batches.error().message);
        continue;
      }
      if (batches->size() != 1) {
        fill_error(out, code(protocol::ErrorCode::kInvalidRecord),
                   "produce requests must carry exactly one record batch per partition");
        continue;
      }
      if (int16_t e = check_transactional(ctx, req, topic_data.name, pd.index, batches->front().header,
                                          &error_message)) {
        fill_error(out, e, std::exchange(error_message, {}));
        continue;
      }
      if (auto keyless = check_compacted_keys(*topic, pd.index, batches->front())) {
        fill_error(out, keyless->error, std::move(keyless->message));
        for (auto& [index, message] : keyless->record_errors) {
          auto& re = out.record_errors.emplace_back();
          re.batch_index = index;
          re.batch_index_error_message = std::move(message);
        }
        continue;
      }
      if (topic->validation) {
        auto v = validate_produce_batch(ctx, *topic, pd.index, batches->front());
        if (v.error) {
          fill_error(out, v.error, std::move(v.message));
          for (auto& e : v.record_errors) {
            auto& re = out.record_errors.emplace_back();
            re.batch_index = e.index;
            re.batch_index_error_message = std::move(e.message);
          }
          continue;
        }
        if (v.replacement) data = std::move(*v.replacement);
        if (v.dlq_log) {
          auto& dl = dead_letters.emplace_back(DeadLetter{&out, topic, std::move(v)});
          pending.push_back(Pending{&dlq_responses.emplace_back(), dl.outcome.dlq_log,
                                    partition::AppendRequest{dl.outcome.dlq_batch, topic->timestamp_type}});
        }
      }
      pending.push_back(
          Pending{&out, std::move(log), partition::AppendRequest{std::move(data), topic->timestamp_type}});
    }
  }

  if (req.acks == 0) ctx.no_response = true;
  if (pending.empty()) {
    audit_produce(ctx, req, resp);
    co_return resp;
  }

  // Start every append now; resume once all have completed.
  co_await await_callback<bool>([&pending](auto done) {
    auto remaining = std::make_shared<std::atomic<size_t>>(pending.size());
    for (auto& p : pending) {
      PartitionResponse* out = p.out;
      p.log->append(std::move(p.request), [out, remaining, done](partition::AppendResult r) mutable {
        // Each callback writes only its own slot; the last one resumes the
        // coroutine (the atomic decrement orders the writes before it).
        out->error_code = static_cast<int16_t>(r.error);
        out->base_offset = r.error == partition::LogError::kNone ? r.base_offset : -1;
        out->log_append_time_ms = r.log_append_time;
        out->log_start_offset = r.log_start_offset;
        if (!r.error_message.empty()) out->error_message = r.error_message;
        for (auto& [index, message] : r.record_errors) {
          auto& e = out->record_errors.emplace_back();
          e.batch_index = index;
          if (!message.empty()) e.batch_index_error_message = message;
        }
        if (remaining->fetch_sub(1, std::memory_order_acq_rel) == 1) done(true);
      });
    }
  });
  // Cluster mode: a broker whose lease ran out while the write was in
  // flight acknowledges nothing (another broker may lead the partition by
  // now and recover, or not, what was written); the client retries there.
  if (ctx.broker.cluster && !ctx.broker.cluster->lease_valid()) {
    for (auto& p : pending)
      if (p.out->error_code == 0)
        fill_error(*p.out, code(protocol::ErrorCode::kNotLeaderOrFollower), "this broker's lease expired");
  }
  for (size_t i = 0; i < dead_letters.size(); ++i) {
    DeadLetter& dl = dead_letters[i];
    const PartitionResponse& dlq = dlq_responses[i];
    audit_dead_letter(ctx, *dl.topic, dl.source->index, dl.outcome, dlq.error_code, dlq.base_offset);
    if (dlq.error_code != 0 && dl.source->error_code == 0)
      fill_error(*dl.source, dlq.error_code,
                 fmt::format("dead-letter append to {} failed", dl.outcome.dlq_topic));
  }
  if (!critical.empty()) {
    const int64_t latency_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - received)
            .count();
    for (const auto& [topic, slot] : critical) {
      const auto& parts = resp.responses[slot].partition_responses;
      if (std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.error_code == 0; }))
        governance_produce_latency(ctx, *topic, latency_us);
    }
  }
  audit_produce(ctx, req, resp);
  co_return resp;
}

}  // namespace carelog::server
