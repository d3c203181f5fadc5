#include "server/audit_events.h"

#include "audit/audit_config.h"
#include "common/log.h"
#include "config/topic_config.h"
#include "protocol/error_codes.h"
#include "protocol/messages/delete_records.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/produce.h"
#include "record/batch.h"
#include "server/governance_hooks.h"

namespace carelog::server {
namespace {

using protocol::ErrorCode;

bool access_audited(const BrokerContext& broker, const TopicInfo& topic) {
  auto it = topic.overrides.find("carelog.audit.access");
  return (it != topic.overrides.end() && it->second == "true") ||
         governance_forces_access_audit(broker, topic);
}

Error refuse(ErrorCode code, std::string message) {
  return make_error(std::move(message), static_cast<int16_t>(code));
}

// Base and last offset of the batches in `records` (-1 when unknown).
std::pair<int64_t, int64_t> offset_range(const protocol::Records& records) {
  int64_t first = -1, last = -1;
  for (const SharedBytes& chunk : records.chunks) {
    size_t pos = 0;
    while (pos + record::kBatchHeaderSize <= chunk.size()) {
      auto h = record::parse_header(chunk.span().subspan(pos));
      if (!h.ok() || h->batch_length <= 0) break;
      if (first < 0) first = h->base_offset;
      last = h->last_offset();
      pos += h->total_size();
    }
  }
  return {first, last};
}

void data_access(RequestContext& ctx, std::string_view api, audit::Action action, const TopicInfo& topic,
                 int32_t partition, int16_t error, int64_t first, int64_t last, int64_t bytes) {
  audit::AuditEvent e = audit_event_for(ctx, audit::Category::kDataAccess, api, action);
  set_audit_outcome(e, error);
  e.resource_type = "topic";
  e.resource_name = topic.name;
  e.partition = partition;
  e.first_offset = first;
  e.last_offset = last;
  e.bytes = bytes;
  ctx.broker.audit->record(std::move(e));
}

}  // namespace

audit::AuditEvent audit_event_for(const RequestContext& ctx, audit::Category category, std::string_view api,
                                  audit::Action action) {
  audit::AuditEvent e;
  e.category = category;
  e.api = std::string(api);
  e.action = action;
  e.principal = ctx.session.principal.to_string();
  e.client_id = ctx.client_id.value_or("");
  e.client_address = ctx.session.peer.empty() ? ctx.peer : ctx.session.peer;
  e.listener = ctx.session.listener_name;
  return e;
}

void set_audit_outcome(audit::AuditEvent& event, int16_t error_code) {
  if (error_code == 0) {
    event.outcome = audit::Outcome::kSuccess;
    event.outcome_detail.clear();
    return;
  }
  auto code = static_cast<ErrorCode>(error_code);
  switch (code) {
    case ErrorCode::kTopicAuthorizationFailed:
    case ErrorCode::kGroupAuthorizationFailed:
    case ErrorCode::kClusterAuthorizationFailed:
    case ErrorCode::kTransactionalIdAuthorizationFailed:
    case ErrorCode::kDelegationTokenAuthorizationFailed:
    case ErrorCode::kSaslAuthenticationFailed:
      event.outcome = audit::Outcome::kSeriousFailure;
      break;
    default:
      event.outcome = audit::Outcome::kMinorFailure;
  }
  event.outcome_detail = protocol::is_known_error(error_code) ? std::string(protocol::error_name(code))
                                                              : "ERROR_" + std::to_string(error_code);
}

void audit_admin(RequestContext& ctx, std::string_view api, audit::Action action,
                 std::string_view resource_type, std::string_view name, int16_t error_code) {
  if (!ctx.broker.audit) return;
  audit::AuditEvent e = audit_event_for(ctx, audit::Category::kAdmin, api, action);
  set_audit_outcome(e, error_code);
  e.resource_type = std::string(resource_type);
  e.resource_name = std::string(name);
  ctx.broker.audit->record(std::move(e));
}

void audit_produce(RequestContext& ctx, const protocol::ProduceRequest& req,
                   const protocol::ProduceResponse& resp) {
  if (!ctx.broker.audit) return;
  for (size_t t = 0; t < req.topic_data.size() && t < resp.responses.size(); ++t) {
    const auto& in = req.topic_data[t];
    auto topic = ctx.broker.topics->find(in.name);
    if (!topic || !access_audited(ctx.broker, *topic)) continue;
    const auto& outs = resp.responses[t].partition_responses;
    for (size_t p = 0; p < in.partition_data.size() && p < outs.size(); ++p) {
      const auto& pd = in.partition_data[p];
      const auto& out = outs[p];
      int64_t bytes = pd.records ? static_cast<int64_t>(pd.records->size()) : 0;
      int64_t first = -1, last = -1;
      if (out.error_code == 0 && out.base_offset >= 0 && pd.records) {
        auto [base, end] = offset_range(*pd.records);  // the client's batch: offsets relative to 0
        first = out.base_offset;
        last = out.base_offset + (end - base);
      }
      data_access(ctx, "Produce", audit::Action::kCreate, *topic, pd.index, out.error_code, first, last,
                  bytes);
    }
  }
}

void audit_fetch(RequestContext& ctx, const protocol::FetchResponse& resp) {
  if (!ctx.broker.audit) return;
  for (const auto& t : resp.responses) {
    auto topic = t.topic.empty() ? ctx.broker.topics->find(t.topic_id) : ctx.broker.topics->find(t.topic);
    if (!topic || !access_audited(ctx.broker, *topic) || is_audit_topic(ctx, topic->name)) continue;
    for (const auto& p : t.partitions) {
      int64_t bytes = p.records ? static_cast<int64_t>(p.records->size()) : 0;
      if (p.error_code == 0 && bytes == 0) continue;  // nothing was disclosed
      auto [first, last] = p.records ? offset_range(*p.records) : std::pair<int64_t, int64_t>{-1, -1};
      data_access(ctx, "Fetch", audit::Action::kRead, *topic, p.partition_index, p.error_code, first, last,
                  bytes);
    }
  }
}

void audit_delete_records(RequestContext& ctx, const protocol::DeleteRecordsResponse& resp) {
  if (!ctx.broker.audit) return;
  for (const auto& t : resp.topics) {
    for (const auto& p : t.partitions) {
      audit::AuditEvent e =
          audit_event_for(ctx, audit::Category::kAdmin, "DeleteRecords", audit::Action::kDelete);
      set_audit_outcome(e, p.error_code);
      e.resource_type = "topic";
      e.resource_name = t.name;
      e.partition = p.partition_index;
      ctx.broker.audit->record(std::move(e));
    }
  }
}

Result<std::unique_ptr<audit::AuditLog>> start_audit_log(TopicRegistry& topics, partition::LogManager& logs,
                                                         const config::BrokerConfig& config,
                                                         const std::string& cluster_id) {
  const audit::AuditConfig ac = audit::audit_config(config);
  if (!ac.enable) return std::unique_ptr<audit::AuditLog>();
  auto topic = topics.find(ac.topic_name);
  if (!topic) {
    // An explicit retention.ms, so later changes of the broker default
    // (log.retention.*) cannot shorten the audit topic's retention.
    auto [ms, bytes] =
        audit::clamp_audit_retention(ac, config::effective_topic_settings(config, {}).retention_ms, -1);
    metadata::ConfigMap configs{{"retention.ms", std::to_string(ms)},
                                {"retention.bytes", std::to_string(bytes)}};
    auto created = topics.create(ac.topic_name, ac.topic_partitions, 1, configs, false);
    if (!created.ok())
      return make_error("cannot create the audit topic " + ac.topic_name + ": " + created.error().message);
    topic = *created;
    log::info("created audit topic {} with {} partition(s), retention.ms={}", ac.topic_name,
              ac.topic_partitions, ms);
  }
  std::vector<std::shared_ptr<partition::PartitionLog>> partitions;
  for (int32_t p = 0; p < topic->partitions; ++p) partitions.push_back(logs.get(topic->id, p));
  audit::AuditLogOptions options;
  options.observer = audit::Observer{config.node_id, cluster_id};
  options.topic_name = ac.topic_name;
  options.queue_capacity = static_cast<size_t>(ac.queue_events);
  auto opened = audit::AuditLog::open(std::move(options), std::move(partitions));
  if (!opened.ok()) return make_error("audit log: " + opened.error().message);
  return std::move(*opened);
}

bool is_audit_topic(const RequestContext& ctx, std::string_view topic) {
  if (topic.size() < 2 || topic[0] != '_' || topic[1] != '_' || !ctx.broker.config) return false;
  auto it = ctx.broker.config->raw.find("audit.topic.name");
  return it != ctx.broker.config->raw.end() && it->second == topic;
}

Status check_audit_topic_deletable(const RequestContext& ctx, std::string_view topic) {
  if (!is_audit_topic(ctx, topic)) return Status::OK();
  return refuse(ErrorCode::kTopicDeletionDisabled,
                "The audit topic " + std::string(topic) +
                    " cannot be deleted (change audit.topic.name in the broker's server.properties first)");
}

Status check_audit_topic_writable(const RequestContext& ctx, std::string_view topic) {
  if (!is_audit_topic(ctx, topic)) return Status::OK();
  return refuse(ErrorCode::kInvalidTopicException,
                "Cannot append to the audit topic " + std::string(topic) + ": only the broker writes it");
}

Status check_audit_topic_truncatable(const RequestContext& ctx, std::string_view topic) {
  if (!is_audit_topic(ctx, topic)) return Status::OK();
  return refuse(ErrorCode::kPolicyViolation,
                "Records of the audit topic " + std::string(topic) + " cannot be deleted");
}

Status check_audit_topic_configs(const RequestContext& ctx, std::string_view topic,
                                 const metadata::ConfigMap& configs) {
  if (!is_audit_topic(ctx, topic)) return Status::OK();
  auto settings = config::effective_topic_settings(*ctx.broker.config, configs);
  return audit::check_audit_retention(audit::audit_config(*ctx.broker.config), settings.retention_ms,
                                      settings.retention_bytes);
}

}  // namespace carelog::server
