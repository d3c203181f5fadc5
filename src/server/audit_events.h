// Audit hooks for request handlers: one call per audited outcome, and the
// rules that protect the audit topic (docs/audit.md). Every function is a
// no-op or a cheap check when auditing is off (BrokerContext::audit null);
// the protection rules apply whenever a topic carries the audit topic's
// name, since its history must survive auditing being switched off.
//
// Events never carry record keys, values, headers or credentials: only who,
// from where, which API, which resource, offsets, sizes and the outcome.
//
// Threading: called on the connection's thread; AuditSink::record is
// thread-safe and never blocks.
#pragma once

#include <cstdint>
#include <string_view>

#include "audit/audit_log.h"
#include "audit/audit_sink.h"
#include "common/result.h"
#include "metadata/metadata_store.h"
#include "server/request_context.h"

namespace carelog::protocol {
struct ProduceRequest;
struct ProduceResponse;
struct FetchResponse;
struct DeleteRecordsResponse;
}  // namespace carelog::protocol

namespace carelog::server {

// An event with who/where (principal, client id, address, listener) filled
// in from the request; callers set the rest and pass it to ctx.broker.audit.
audit::AuditEvent audit_event_for(const RequestContext& ctx, audit::Category category, std::string_view api,
                                  audit::Action action);

// Sets outcome and outcome_detail from a Kafka error code: 0 -> success (0),
// authorization/authentication failures -> serious failure (8), any other
// error -> minor failure (4); the detail is the Kafka error name.
void set_audit_outcome(audit::AuditEvent& event, int16_t error_code);

// An admin change (or attempt) on one resource, e.g.
//   audit_admin(ctx, "CreateTopics", audit::Action::kCreate, "topic", name, out.error_code);
void audit_admin(RequestContext& ctx, std::string_view api, audit::Action action,
                 std::string_view resource_type, std::string_view name, int16_t error_code);

// Data access on topics with carelog.audit.access=true: one event per
// partition written (offsets from the response) or read (the batches
// returned; empty reads of a long poll are not events). Reads of the audit
// topic itself are never data-access events (they would feed themselves).
void audit_produce(RequestContext& ctx, const protocol::ProduceRequest& req,
                   const protocol::ProduceResponse& resp);
void audit_fetch(RequestContext& ctx, const protocol::FetchResponse& resp);

// DeleteRecords: one admin event per partition named (action D).
void audit_delete_records(RequestContext& ctx, const protocol::DeleteRecordsResponse& resp);

// Start-up: creates the audit topic when missing (audit.topic.partitions,
// retention.ms at least audit.retention.min.ms, retention.bytes -1) and
// opens the audit writer on its partitions. Null when audit.enable=false.
Result<std::unique_ptr<audit::AuditLog>> start_audit_log(TopicRegistry& topics, partition::LogManager& logs,
                                                         const config::BrokerConfig& config,
                                                         const std::string& cluster_id);

// --- protection of the audit topic ---
bool is_audit_topic(const RequestContext& ctx, std::string_view topic);
// DeleteTopics: TOPIC_DELETION_DISABLED (73).
Status check_audit_topic_deletable(const RequestContext& ctx, std::string_view topic);
// Produce from clients: INVALID_TOPIC_EXCEPTION (17), as Kafka answers for
// appends to internal topics. Only the broker's audit writer appends.
Status check_audit_topic_writable(const RequestContext& ctx, std::string_view topic);
// DeleteRecords: POLICY_VIOLATION (44).
Status check_audit_topic_truncatable(const RequestContext& ctx, std::string_view topic);
// (Incremental)AlterConfigs: the new override map's effective retention
// must respect audit.retention.min.ms (POLICY_VIOLATION, 44).
Status check_audit_topic_configs(const RequestContext& ctx, std::string_view topic,
                                 const metadata::ConfigMap& configs);

}  // namespace carelog::server
