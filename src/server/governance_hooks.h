// Governance on the request path (docs/governance.md): one call per check
// so each handler gets one or two lines. Every function is a no-op when the
// broker has no governance (BrokerContext::governance null) or
// governance.mode=off.
//
// Decisions go to the audit stream with the rule that decided them:
// refusals always; warnings (mode warn) and uses of deprecated topics at most
// once a minute per principal, topic, operation and rule, so a busy client in
// warn mode cannot flood the stream.
//
// Threading: runs on the connection's thread. The produce/fetch check
// (governance_access_error) costs one pointer test for topics without a
// catalog; for the others it reads the thread's cached policy snapshot and
// the topic's precomputed catalog, with no lock and no allocation unless
// it refuses, warns or needs a group admission.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "governance/checks.h"
#include "metadata/metadata_store.h"
#include "security/acl_types.h"
#include "server/request_context.h"

namespace carelog::protocol {
struct JoinGroupRequest;
}

namespace carelog::server {

// Produce and Fetch: 0, or TOPIC_AUTHORIZATION_FAILED (29) in enforce mode,
// with the policy's explanation in `*message` when non-null.
int16_t governance_access_error(RequestContext& ctx, const TopicInfo& topic, governance::Operation op,
                                std::string* message);

// CreateTopics (`before` null) and (Incremental)AlterConfigs (`before` the
// current overrides): POLICY_VIOLATION (44) naming every broken rule in
// enforce mode; warnings are logged and audited.
Status governance_check_topic(RequestContext& ctx, std::string_view name, const metadata::ConfigMap& configs,
                              const metadata::ConfigMap* before);

// JoinGroup: GROUP_AUTHORIZATION_FAILED (30) when the consumer subscribes to
// a topic whose classification admits only approved consumers and neither
// the group nor the principal is approved; admits the principal when the
// group is. Heartbeat refreshes the admission, LeaveGroup ends it.
int16_t governance_join_error(RequestContext& ctx, const protocol::JoinGroupRequest& req);
void governance_heartbeat(RequestContext& ctx, std::string_view group);

// OffsetCommit and OffsetFetch (`api` names which, for the audit): the same
// approval per topic, without the principal shortcut of a live admission: 0,
// or TOPIC_AUTHORIZATION_FAILED (29) for that topic's partitions in enforce
// mode, so an unapproved group can neither store nor read progress on it.
int16_t governance_offsets_error(RequestContext& ctx, std::string_view api, std::string_view group,
                                 std::string_view topic);
void governance_leave(RequestContext& ctx, std::string_view group);

// CreateAcls: POLICY_VIOLATION (44) for an ALLOW User:* binding on a topic
// whose classification demands explicit ACLs (enforce mode).
Status governance_check_acl(RequestContext& ctx, const security::AclBinding& binding);

// carelog.audit.access forced on by the topic's classification.
bool governance_forces_access_audit(const BrokerContext& broker, const TopicInfo& topic);

// Critical topics (TopicInfo::latency_alert_ms >= 0): a produce acknowledged
// `latency_us` after the request arrived, later than carelog.latency.alert.ms,
// is a latency alert: counted for /metrics, and logged and audited at most
// once a minute per topic (with the count since the last report). Any
// governance.mode, off included: an alert refuses nothing.
void governance_produce_latency(RequestContext& ctx, const TopicInfo& topic, int64_t latency_us);

}  // namespace carelog::server
