// DescribeAcls, CreateAcls and DeleteAcls, as Kafka answers them:
// SECURITY_DISABLED without an authorizer, CLUSTER_AUTHORIZATION_FAILED
// without DESCRIBE (describe) or ALTER (create, delete) on the cluster,
// INVALID_REQUEST for a malformed binding or filter. Changes are written to
// the metadata store before they take effect.
#include "audit/audit_sink.h"
#include "common/log.h"
#include "protocol/messages/create_acls.h"
#include "protocol/messages/delete_acls.h"
#include "protocol/messages/describe_acls.h"
#include "security/authorizer.h"
#include "server/authorize.h"
#include "server/governance_hooks.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"

namespace carelog::server {
namespace {

using protocol::ErrorCode;
using security::AclBinding;
using security::AclBindingFilter;
using security::AclOperation;
using security::PatternType;
using security::PermissionType;
using security::ResourceType;

constexpr const char* kNoAuthorizer = "No Authorizer is configured.";

AclBindingFilter make_filter(int8_t type, const std::optional<std::string>& name, int8_t pattern,
                             const std::optional<std::string>& principal,
                             const std::optional<std::string>& host, int8_t op, int8_t perm) {
  return AclBindingFilter{static_cast<ResourceType>(type),
                          name,
                          static_cast<PatternType>(pattern),
                          principal,
                          host,
                          static_cast<AclOperation>(op),
                          static_cast<PermissionType>(perm)};
}

// "TOPIC:LITERAL:orders User:alice@* ALLOW READ": what the audit stream
// records for an ACL change.
std::string describe_binding(const AclBinding& b) {
  return std::string(security::to_string(b.resource_type)) + ":" +
         std::string(security::to_string(b.pattern_type)) + ":" + b.resource_name + " " + b.principal + "@" +
         b.host + " " + std::string(security::to_string(b.permission)) + " " +
         std::string(security::to_string(b.operation));
}

void audit_change(RequestContext& ctx, const char* api, audit::Action action, const AclBinding& b) {
  if (!ctx.broker.audit) return;
  audit::AuditEvent e;
  e.category = audit::Category::kAdmin;
  e.api = api;
  e.action = action;
  e.principal = ctx.session.principal.to_string();
  e.client_id = ctx.client_id.value_or("");
  e.client_address = ctx.peer;
  e.listener = ctx.session.listener_name;
  e.resource_type = "acl";
  e.resource_name = describe_binding(b);
  ctx.broker.audit->record(std::move(e));
}

}  // namespace

asio::awaitable<protocol::DescribeAclsResponse> handle_describe_acls(RequestContext& ctx,
                                                                     protocol::DescribeAclsRequest& req) {
  protocol::DescribeAclsResponse resp;
  if (!authorization_enabled(ctx)) {
    resp.error_code = code(ErrorCode::kSecurityDisabled);
    resp.error_message = kNoAuthorizer;
    co_return resp;
  }
  if (!authorize_cluster(ctx, AclOperation::kDescribe)) {
    resp.error_code = code(ErrorCode::kClusterAuthorizationFailed);
    co_return resp;
  }
  AclBindingFilter filter =
      make_filter(req.resource_type_filter, req.resource_name_filter, req.pattern_type_filter,
                  req.principal_filter, req.host_filter, req.operation, req.permission_type);
  if (Status st = security::validate_filter(filter); !st.ok()) {
    resp.error_code = code(ErrorCode::kInvalidRequest);
    resp.error_message = st.error().message;
    co_return resp;
  }
  resp.error_code = 0;
  // One resource entry per (type, name, pattern), in first-seen order.
  for (const AclBinding& b : ctx.broker.authorizer->describe_acls(filter)) {
    auto it = std::find_if(resp.resources.begin(), resp.resources.end(), [&](const auto& r) {
      return r.resource_type == static_cast<int8_t>(b.resource_type) && r.resource_name == b.resource_name &&
             r.pattern_type == static_cast<int8_t>(b.pattern_type);
    });
    if (it == resp.resources.end()) {
      it = resp.resources.emplace(resp.resources.end());
      it->resource_type = static_cast<int8_t>(b.resource_type);
      it->resource_name = b.resource_name;
      it->pattern_type = static_cast<int8_t>(b.pattern_type);
    }
    auto& acl = it->acls.emplace_back();
    acl.principal = b.principal;
    acl.host = b.host;
    acl.operation = static_cast<int8_t>(b.operation);
    acl.permission_type = static_cast<int8_t>(b.permission);
  }
  co_return resp;
}

asio::awaitable<protocol::CreateAclsResponse> handle_create_acls(RequestContext& ctx,
                                                                 protocol::CreateAclsRequest& req) {
  protocol::CreateAclsResponse resp;
  auto fail_all = [&](ErrorCode c, const char* message) {
    for (size_t i = 0; i < req.creations.size(); ++i) {
      auto& r = resp.results.emplace_back();
      r.error_code = code(c);
      if (message) r.error_message = message;
    }
  };
  if (!authorization_enabled(ctx)) {
    fail_all(ErrorCode::kSecurityDisabled, kNoAuthorizer);
    co_return resp;
  }
  if (!authorize_cluster(ctx, AclOperation::kAlter)) {
    fail_all(ErrorCode::kClusterAuthorizationFailed, nullptr);
    co_return resp;
  }
  std::vector<AclBinding> bindings;
  for (const auto& c : req.creations) {
    bindings.push_back(AclBinding{static_cast<ResourceType>(c.resource_type), c.resource_name,
                                  static_cast<PatternType>(c.resource_pattern_type), c.principal, c.host,
                                  static_cast<AclOperation>(c.operation),
                                  static_cast<PermissionType>(c.permission_type)});
  }
  // Bindings the governance policy refuses are not created; the others are.
  std::vector<Status> results(bindings.size());
  std::vector<AclBinding> permitted;
  std::vector<size_t> slots;
  for (size_t i = 0; i < bindings.size(); ++i) {
    results[i] = governance_check_acl(ctx, bindings[i]);
    if (results[i].ok()) {
      permitted.push_back(bindings[i]);
      slots.push_back(i);
    }
  }
  std::vector<Status> created = ctx.broker.authorizer->create_acls(permitted);
  for (size_t j = 0; j < created.size() && j < slots.size(); ++j) results[slots[j]] = created[j];
  for (size_t i = 0; i < results.size(); ++i) {
    auto& r = resp.results.emplace_back();
    if (results[i].ok()) {
      r.error_code = 0;
      audit_change(ctx, "CreateAcls", audit::Action::kCreate, bindings[i]);
    } else {
      r.error_code = static_cast<int16_t>(results[i].error().code);
      r.error_message = results[i].error().message;
    }
  }
  co_return resp;
}

asio::awaitable<protocol::DeleteAclsResponse> handle_delete_acls(RequestContext& ctx,
                                                                 protocol::DeleteAclsRequest& req) {
  protocol::DeleteAclsResponse resp;
  auto fail_all = [&](int16_t c, std::optional<std::string> message) {
    resp.filter_results.clear();
    for (size_t i = 0; i < req.filters.size(); ++i) {
      auto& r = resp.filter_results.emplace_back();
      r.error_code = c;
      r.error_message = message;
    }
  };
  if (!authorization_enabled(ctx)) {
    fail_all(code(ErrorCode::kSecurityDisabled), kNoAuthorizer);
    co_return resp;
  }
  if (!authorize_cluster(ctx, AclOperation::kAlter)) {
    fail_all(code(ErrorCode::kClusterAuthorizationFailed), std::nullopt);
    co_return resp;
  }
  // Invalid filters get INVALID_REQUEST; the valid ones are applied together.
  std::vector<AclBindingFilter> valid;
  std::vector<size_t> valid_index;
  resp.filter_results.resize(req.filters.size());
  for (size_t i = 0; i < req.filters.size(); ++i) {
    const auto& f = req.filters[i];
    AclBindingFilter filter =
        make_filter(f.resource_type_filter, f.resource_name_filter, f.pattern_type_filter, f.principal_filter,
                    f.host_filter, f.operation, f.permission_type);
    if (Status st = security::validate_filter(filter); !st.ok()) {
      resp.filter_results[i].error_code = code(ErrorCode::kInvalidRequest);
      resp.filter_results[i].error_message = st.error().message;
      continue;
    }
    valid.push_back(std::move(filter));
    valid_index.push_back(i);
  }
  auto deleted = ctx.broker.authorizer->delete_acls(valid);
  if (!deleted.ok()) {
    log::error("DeleteAcls: could not persist the change: {}", deleted.error().message);
    for (size_t i : valid_index) {
      resp.filter_results[i].error_code = static_cast<int16_t>(deleted.error().code);
      resp.filter_results[i].error_message = deleted.error().message;
    }
    co_return resp;
  }
  for (size_t k = 0; k < valid_index.size(); ++k) {
    auto& out = resp.filter_results[valid_index[k]];
    out.error_code = 0;
    for (const AclBinding& b : (*deleted)[k]) {
      audit_change(ctx, "DeleteAcls", audit::Action::kDelete, b);
      auto& m = out.matching_acls.emplace_back();
      m.error_code = 0;
      m.resource_type = static_cast<int8_t>(b.resource_type);
      m.resource_name = b.resource_name;
      m.pattern_type = static_cast<int8_t>(b.pattern_type);
      m.principal = b.principal;
      m.host = b.host;
      m.operation = static_cast<int8_t>(b.operation);
      m.permission_type = static_cast<int8_t>(b.permission);
    }
  }
  co_return resp;
}

}  // namespace carelog::server
