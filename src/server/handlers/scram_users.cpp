// DescribeUserScramCredentials and AlterUserScramCredentials: SCRAM users as
// Kafka's admin tools manage them (kafka-configs --entity-type users).
//
// Semantics follow Kafka's controller: a user named twice in one request
// (in any mix of deletions and upsertions) gets DUPLICATE_RESOURCE and none
// of its changes apply; every other valid change is written in one metadata
// transaction. Results carry one row per user.
#include <map>
#include <set>

#include "audit/audit_sink.h"
#include "common/log.h"
#include "protocol/messages/alter_user_scram_credentials.h"
#include "protocol/messages/describe_user_scram_credentials.h"
#include "security/scram.h"
#include "server/authorize.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"

namespace carelog::server {
namespace {

using protocol::ErrorCode;

constexpr const char* kAlteredTwice = "A user credential cannot be altered twice in the same request";

void audit_user_change(RequestContext& ctx, const std::string& user, audit::Action action, int16_t error,
                       const std::string& detail) {
  if (!ctx.broker.audit) return;
  audit::AuditEvent e;
  e.category = audit::Category::kAdmin;
  e.api = "AlterUserScramCredentials";
  e.action = action;
  e.outcome = error == 0 ? audit::Outcome::kSuccess : audit::Outcome::kMinorFailure;
  e.outcome_detail = error == 0 ? std::string() : detail;
  e.principal = ctx.session.principal.to_string();
  e.client_id = ctx.client_id.value_or("");
  e.client_address = ctx.peer;
  e.listener = ctx.session.listener_name;
  e.resource_type = "user";
  e.resource_name = user;
  ctx.broker.audit->record(std::move(e));
}

// The alterations of one request after validation, keyed by user.
struct AlterPlan {
  std::map<std::string, std::pair<std::string, int8_t>> deletions;
  std::map<std::string, metadata::ScramCredentialRecord> upserts;
  std::map<std::string, Error> errors;
  std::vector<std::string> order;  // users in order of first appearance

  void note(const std::string& user) {
    if (!deletions.count(user) && !upserts.count(user) && !errors.count(user)) order.push_back(user);
  }
  // True when `user` is already planned (then it becomes a duplicate error).
  bool take_duplicate(const std::string& user) {
    if (deletions.erase(user) + upserts.erase(user) == 0) return false;
    errors[user] = Error{static_cast<int32_t>(ErrorCode::kDuplicateResource), kAlteredTwice};
    return true;
  }
};

Status validate_deletion(metadata::MetadataStore& store, const std::string& user, int8_t mechanism) {
  if (user.empty())
    return Error{static_cast<int32_t>(ErrorCode::kUnacceptableCredential), "Username must not be empty"};
  if (security::scram_mechanism_from_code(mechanism) == security::ScramMechanism::kUnknown) {
    return Error{static_cast<int32_t>(ErrorCode::kUnsupportedSaslMechanism), "Unknown SCRAM mechanism"};
  }
  auto existing = store.scram_credential(user, mechanism);
  if (!existing.ok()) return existing.take_error();
  if (!existing->has_value()) {
    return Error{static_cast<int32_t>(ErrorCode::kResourceNotFound),
                 "Attempt to delete a user credential that does not exist"};
  }
  return Status::OK();
}

AlterPlan plan_alterations(metadata::MetadataStore& store,
                           const protocol::AlterUserScramCredentialsRequest& req) {
  AlterPlan plan;
  for (const auto& d : req.deletions) {
    plan.note(d.name);
    if (plan.errors.count(d.name) || plan.take_duplicate(d.name)) continue;
    Status st = validate_deletion(store, d.name, d.mechanism);
    if (st.ok()) {
      plan.deletions[d.name] = {d.name, d.mechanism};
    } else {
      plan.errors[d.name] = st.error();
    }
  }
  for (const auto& u : req.upsertions) {
    plan.note(u.name);
    if (plan.errors.count(u.name) || plan.take_duplicate(u.name)) continue;
    auto cred = security::make_scram_credential(u.name, u.mechanism, u.iterations, u.salt.span(),
                                                u.salted_password.span());
    if (cred.ok()) {
      plan.upserts[u.name] = std::move(*cred);
    } else {
      plan.errors[u.name] = cred.take_error();
    }
  }
  return plan;
}

}  // namespace

asio::awaitable<protocol::DescribeUserScramCredentialsResponse> handle_describe_user_scram_credentials(
    RequestContext& ctx, protocol::DescribeUserScramCredentialsRequest& req) {
  protocol::DescribeUserScramCredentialsResponse resp;
  if (!authorize_cluster(ctx, security::AclOperation::kDescribe)) {
    resp.error_code = code(ErrorCode::kClusterAuthorizationFailed);
    co_return resp;
  }
  auto all = ctx.broker.metadata->scram_credentials();
  if (!all.ok()) {
    log::error("describing SCRAM credentials failed: {}", all.error().message);
    resp.error_code = code(ErrorCode::kKafkaStorageError);
    resp.error_message = "Could not read SCRAM credentials from the metadata store";
    co_return resp;
  }
  std::map<std::string, std::vector<protocol::DescribeUserScramCredentialsResponse::CredentialInfo>> by_user;
  for (const auto& c : *all) {
    auto& info = by_user[c.user].emplace_back();
    info.mechanism = c.mechanism;
    info.iterations = c.iterations;
  }
  if (!req.users.has_value() || req.users->empty()) {
    for (auto& [user, infos] : by_user) {
      auto& r = resp.results.emplace_back();
      r.user = user;
      r.credential_infos = std::move(infos);
    }
    co_return resp;
  }
  std::map<std::string, int> seen;
  for (const auto& u : *req.users) ++seen[u.name];
  std::set<std::string> answered;
  for (const auto& u : *req.users) {
    if (!answered.insert(u.name).second) continue;
    auto& r = resp.results.emplace_back();
    r.user = u.name;
    if (seen[u.name] > 1) {
      r.error_code = code(ErrorCode::kDuplicateResource);
      r.error_message =
          "Cannot describe SCRAM credentials for the same user twice in a single request: " + u.name;
      continue;
    }
    auto it = by_user.find(u.name);
    if (it == by_user.end()) {
      r.error_code = code(ErrorCode::kResourceNotFound);
      r.error_message = "Attempt to describe a user credential that does not exist: " + u.name;
      continue;
    }
    r.credential_infos = it->second;
  }
  co_return resp;
}

asio::awaitable<protocol::AlterUserScramCredentialsResponse> handle_alter_user_scram_credentials(
    RequestContext& ctx, protocol::AlterUserScramCredentialsRequest& req) {
  protocol::AlterUserScramCredentialsResponse resp;
  if (!authorize_cluster(ctx, security::AclOperation::kAlter)) {
    // As Kafka: every user named in the request gets the error.
    std::set<std::string> users;
    auto deny = [&](const std::string& user) {
      if (!users.insert(user).second) return;
      auto& r = resp.results.emplace_back();
      r.user = user;
      r.error_code = code(ErrorCode::kClusterAuthorizationFailed);
    };
    for (const auto& d : req.deletions) deny(d.name);
    for (const auto& u : req.upsertions) deny(u.name);
    co_return resp;
  }
  AlterPlan plan = plan_alterations(*ctx.broker.metadata, req);

  std::vector<std::pair<std::string, int8_t>> deletions;
  std::vector<metadata::ScramCredentialRecord> upserts;
  for (const auto& [user, d] : plan.deletions) deletions.push_back(d);
  for (const auto& [user, c] : plan.upserts) upserts.push_back(c);
  Status written = Status::OK();
  if (!deletions.empty() || !upserts.empty()) {
    written = ctx.broker.metadata->alter_scram_credentials(deletions, upserts);
    if (!written.ok()) log::error("altering SCRAM credentials failed: {}", written.error().message);
  }
  for (const auto& user : plan.order) {
    auto& r = resp.results.emplace_back();
    r.user = user;
    audit::Action action = plan.deletions.count(user) ? audit::Action::kDelete : audit::Action::kUpdate;
    if (auto e = plan.errors.find(user); e != plan.errors.end()) {
      r.error_code = static_cast<int16_t>(e->second.code);
      r.error_message = e->second.message;
    } else if (!written.ok()) {
      // A deletion that raced with another one is still "not found"; any
      // other failure is the metadata store's.
      const bool not_found = written.error().code == static_cast<int32_t>(ErrorCode::kResourceNotFound);
      r.error_code = not_found ? code(ErrorCode::kResourceNotFound) : code(ErrorCode::kKafkaStorageError);
      r.error_message = not_found ? written.error().message : "Could not write SCRAM credentials";
    }
    audit_user_change(ctx, user, action, r.error_code, r.error_message.value_or(""));
    if (r.error_code == 0)
      log::info("SCRAM credentials of user '{}' changed by {}", user, ctx.session.principal.to_string());
  }
  co_return resp;
}

}  // namespace carelog::server
