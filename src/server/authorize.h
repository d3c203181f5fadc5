// Authorization on the request path: one call per check, so each handler
// gets one or two lines. Every check is allowed when the broker runs
// without an authorizer (authorizer.class.name empty: today's behaviour).
//
// Denials are reported to the audit stream (BrokerContext::audit, when set)
// unless the caller passes audit_denial=false: that is for filtering, where
// Kafka does not log the denial either (Metadata's topic list, ListGroups).
//
// Threading: runs on the connection's thread; the authorizer it consults is
// lock-free for checks.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "security/acl_types.h"
#include "server/request_context.h"

namespace carelog::server {

inline bool authorization_enabled(const RequestContext& ctx) { return ctx.broker.authorizer != nullptr; }

bool authorize(RequestContext& ctx, security::AclOperation op, security::ResourceType type,
               std::string_view name, bool audit_denial = true);

inline bool authorize_cluster(RequestContext& ctx, security::AclOperation op, bool audit_denial = true) {
  return authorize(ctx, op, security::ResourceType::kCluster, security::kClusterResourceName, audit_denial);
}

// Kafka's authorizeByResourceType: `op` allowed on at least one resource of
// `type` (InitProducerId: WRITE on some topic).
bool authorize_any(RequestContext& ctx, security::AclOperation op, security::ResourceType type);

// TOPIC_AUTHORIZATION_FAILED (29) when `op` on the topic is denied, else 0.
int16_t topic_auth_error(RequestContext& ctx, security::AclOperation op, std::string_view topic);
// GROUP_AUTHORIZATION_FAILED (30) when `op` on the group is denied, else 0.
int16_t group_auth_error(RequestContext& ctx, security::AclOperation op, std::string_view group);

// Kafka's authorized-operations bit set (bit 1 << code for each of `ops`
// the principal may perform on the resource). Never audited.
int32_t authorized_operations(RequestContext& ctx, security::ResourceType type, std::string_view name,
                              std::initializer_list<security::AclOperation> ops);

// The operation sets Kafka reports per resource type (Metadata, DescribeCluster,
// DescribeGroups include_*_authorized_operations).
int32_t topic_operations(RequestContext& ctx, std::string_view topic);
int32_t cluster_operations(RequestContext& ctx);
int32_t group_operations(RequestContext& ctx, std::string_view group);

// Describe/AlterConfigs: `op` (DESCRIBE_CONFIGS or ALTER_CONFIGS) on a
// config resource (Kafka ConfigResource type: 2 topic, 4 broker, 8 broker
// logger). TOPIC_AUTHORIZATION_FAILED or CLUSTER_AUTHORIZATION_FAILED when
// denied; 0 when allowed or for other types (validated later).
int16_t config_auth_error(RequestContext& ctx, int8_t config_resource_type, std::string_view name,
                          security::AclOperation op);

// FindCoordinator: DESCRIBE on the group (key_type 0) or transactional id
// (key_type 1): GROUP_AUTHORIZATION_FAILED or
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED when denied, else 0.
int16_t coordinator_key_auth_error(RequestContext& ctx, int8_t key_type, std::string_view key);

}  // namespace carelog::server
