#include "server/authorize.h"

#include "audit/audit_sink.h"
#include "protocol/api_table.h"
#include "security/authorizer.h"

namespace carelog::server {
namespace {

using security::AclOperation;
using security::ResourceType;

audit::Action action_of(AclOperation op) {
  switch (op) {
    case AclOperation::kRead:
    case AclOperation::kDescribe:
    case AclOperation::kDescribeConfigs:
      return audit::Action::kRead;
    case AclOperation::kCreate:
      return audit::Action::kCreate;
    case AclOperation::kDelete:
      return audit::Action::kDelete;
    case AclOperation::kWrite:
    case AclOperation::kAlter:
    case AclOperation::kAlterConfigs:
    case AclOperation::kIdempotentWrite:
      return audit::Action::kUpdate;
    default:
      return audit::Action::kExecute;
  }
}

// The audit stream's resource type names.
const char* audit_type(ResourceType type) {
  switch (type) {
    case ResourceType::kTopic:
      return "topic";
    case ResourceType::kGroup:
      return "group";
    case ResourceType::kCluster:
      return "cluster";
    case ResourceType::kTransactionalId:
      return "transactional-id";
    case ResourceType::kDelegationToken:
      return "delegation-token";
    case ResourceType::kUser:
      return "user";
    default:
      return "unknown";
  }
}

void record_denial(RequestContext& ctx, AclOperation op, ResourceType type, std::string_view name) {
  audit::AuditSink* sink = ctx.broker.audit;
  if (!sink) return;
  audit::AuditEvent e;
  e.category = audit::Category::kAuthorization;
  const protocol::ApiSpec* api = protocol::find_api(ctx.api_key);
  e.api = api ? std::string(api->name) : std::to_string(ctx.api_key);
  e.action = action_of(op);
  e.outcome = audit::Outcome::kMinorFailure;
  e.outcome_detail = "denied " + std::string(security::to_string(op));
  e.principal = ctx.session.principal.to_string();
  e.client_id = ctx.client_id.value_or("");
  e.client_address = ctx.peer;
  e.listener = ctx.session.listener_name;
  e.resource_type = audit_type(type);
  e.resource_name = std::string(name);
  sink->record(std::move(e));
}

}  // namespace

bool authorize(RequestContext& ctx, AclOperation op, ResourceType type, std::string_view name,
               bool audit_denial) {
  const security::Authorizer* authz = ctx.broker.authorizer;
  if (!authz) return true;
  if (authz->authorize(ctx.session.principal, ctx.session.client_host, op, type, name)) return true;
  if (audit_denial) record_denial(ctx, op, type, name);
  return false;
}

bool authorize_any(RequestContext& ctx, AclOperation op, ResourceType type) {
  const security::Authorizer* authz = ctx.broker.authorizer;
  if (!authz) return true;
  if (authz->authorize_any(ctx.session.principal, ctx.session.client_host, op, type)) return true;
  record_denial(ctx, op, type, "*");
  return false;
}

int16_t topic_auth_error(RequestContext& ctx, AclOperation op, std::string_view topic) {
  return authorize(ctx, op, ResourceType::kTopic, topic) ? 0 : 29;  // TOPIC_AUTHORIZATION_FAILED
}

int16_t group_auth_error(RequestContext& ctx, AclOperation op, std::string_view group) {
  return authorize(ctx, op, ResourceType::kGroup, group) ? 0 : 30;  // GROUP_AUTHORIZATION_FAILED
}

int32_t authorized_operations(RequestContext& ctx, ResourceType type, std::string_view name,
                              std::initializer_list<AclOperation> ops) {
  int32_t bits = 0;
  for (AclOperation op : ops)
    if (authorize(ctx, op, type, name, /*audit_denial=*/false)) bits |= 1 << static_cast<int>(op);
  return bits;
}

int32_t topic_operations(RequestContext& ctx, std::string_view topic) {
  using Op = AclOperation;
  return authorized_operations(ctx, ResourceType::kTopic, topic,
                               {Op::kRead, Op::kWrite, Op::kCreate, Op::kDelete, Op::kAlter, Op::kDescribe,
                                Op::kDescribeConfigs, Op::kAlterConfigs});
}

int32_t cluster_operations(RequestContext& ctx) {
  using Op = AclOperation;
  return authorized_operations(ctx, ResourceType::kCluster, security::kClusterResourceName,
                               {Op::kCreate, Op::kAlter, Op::kDescribe, Op::kClusterAction,
                                Op::kDescribeConfigs, Op::kAlterConfigs, Op::kIdempotentWrite});
}

int32_t group_operations(RequestContext& ctx, std::string_view group) {
  using Op = AclOperation;
  return authorized_operations(ctx, ResourceType::kGroup, group, {Op::kRead, Op::kDelete, Op::kDescribe});
}

int16_t config_auth_error(RequestContext& ctx, int8_t config_resource_type, std::string_view name,
                          AclOperation op) {
  constexpr int8_t kTopic = 2, kBroker = 4, kBrokerLogger = 8;
  if (config_resource_type == kTopic) return topic_auth_error(ctx, op, name);
  if (config_resource_type == kBroker || config_resource_type == kBrokerLogger)
    return authorize_cluster(ctx, op) ? 0 : 31;  // CLUSTER_AUTHORIZATION_FAILED
  return 0;
}

int16_t coordinator_key_auth_error(RequestContext& ctx, int8_t key_type, std::string_view key) {
  if (key_type == 0) return group_auth_error(ctx, AclOperation::kDescribe, key);
  if (key_type == 1)
    return authorize(ctx, AclOperation::kDescribe, ResourceType::kTransactionalId, key)
               ? 0
               : 53;  // TRANSACTIONAL_ID_AUTHORIZATION_FAILED
  return 0;
}

}  // namespace carelog::server
