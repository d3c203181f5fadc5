#include "server/governance_hooks.h"

#include <fmt/core.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "common/clock.h"
#include "common/log.h"
#include "config/topic_config.h"
#include "governance/consumer_subscription.h"
#include "governance/governance.h"
#include "protocol/messages/join_group.h"
#include "security/authorizer.h"
#include "server/audit_events.h"
#include "server/listener.h"

namespace carelog::server {
namespace {

using governance::Governance;
using governance::Verdict;

constexpr int16_t kTopicAuthorizationFailed = 29;
constexpr int16_t kGroupAuthorizationFailed = 30;
constexpr int16_t kPolicyViolation = 44;
constexpr int64_t kNoteIntervalMs = 60000;

Governance* active(const BrokerContext& b) {
  Governance* g = b.governance;
  return g && g->mode() != governance::Mode::kOff ? g : nullptr;
}

// "User:alice" without allocating once the thread's buffer has grown.
std::string_view principal_text(const RequestContext& ctx) {
  thread_local std::string buf;
  const auto& p = ctx.session.principal;
  buf.assign(p.type);
  buf += ':';
  buf += p.name;
  return buf;
}

// One audit event for a governance decision; `code` is the Kafka error
// the client got (0 when allowed).
void audit_decision(RequestContext& ctx, audit::Category category, std::string_view api, audit::Action action,
                    std::string_view resource_type, std::string_view name, Verdict verdict, int16_t code,
                    const std::string& rule, const std::string& message) {
  if (!ctx.broker.audit) return;
  audit::AuditEvent e = audit_event_for(ctx, category, api, action);
  set_audit_outcome(e, code);
  const char* what = verdict == Verdict::kRefuse ? "refused" : verdict == Verdict::kWarn ? "warned" : "noted";
  e.outcome_detail = fmt::format("{}{}governance {} by {}: {}", e.outcome_detail,
                                 e.outcome_detail.empty() ? "" : ": ", what, rule, message);
  e.resource_type = std::string(resource_type);
  e.resource_name = std::string(name);
  ctx.broker.audit->record(std::move(e));
}

// Warnings and deprecation notes: once a minute per key.
bool note_due(Governance& g, std::string_view principal, std::string_view topic, std::string_view op,
              const std::string& rule) {
  return g.should_log(fmt::format("{}|{}|{}|{}", principal, topic, op, rule), wall_clock_ms(),
                      kNoteIntervalMs);
}

// What the audit stream and the log say about latency alerts.
constexpr std::string_view kLatencyRule = "carelog.latency.alert.ms";

bool has_explicit_acls(const BrokerContext& b, const std::string& topic) {
  if (!b.authorizer) return false;
  bool found = false;
  auto snapshot = b.authorizer->snapshot();
  snapshot->for_each_applicable(security::ResourceType::kTopic, topic, [&](const auto& entries) {
    for (const auto& e : entries)
      if (e.principal != security::kWildcardPrincipal) found = true;
  });
  return found;
}

std::string joined(const std::vector<governance::Violation>& v, const governance::Policy& p) {
  std::string out;
  for (const auto& x : v)
    out += fmt::format("{}Governance policy {} ({} v{}): {}", out.empty() ? "" : "; ", x.rule, p.source,
                       p.version, x.message);
  return out;
}

std::string rules_of(const std::vector<governance::Violation>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ",") + x.rule;
  return out;
}

}  // namespace

int16_t governance_access_error(RequestContext& ctx, const TopicInfo& topic, governance::Operation op,
                                std::string* message) {
  const governance::TopicCatalog* catalog = topic.catalog.get();
  if (!catalog) return 0;
  Governance* g = active(ctx.broker);
  if (!g) return 0;
  const governance::Policy& policy = g->policy();
  governance::Access access;
  access.principal = principal_text(ctx);
  access.secure_transport = uses_tls(ctx.session.protocol);
  access.authenticated = !ctx.session.principal.is_anonymous();
  access.listener = ctx.session.listener_name;
  const int64_t now = wall_clock_ms();
  governance::AccessHooks hooks{[&] { return has_explicit_acls(ctx.broker, topic.name); },
                                [&] { return g->admitted(access.principal, *catalog, now); }};
  const governance::Decision d = governance::check_access(g->mode(), policy, op, catalog, access, now, hooks);
  if (d.verdict == Verdict::kAllow && !d.deprecated) return 0;

  const bool produce = op == governance::Operation::kProduce;
  const std::string_view op_name = produce ? "Produce" : "Fetch";
  const std::string rule = governance::rule_path(d, *catalog);
  g->count(d.verdict);
  if (d.verdict == Verdict::kRefuse) {
    std::string why = governance::explain(d, topic.name, *catalog, access, policy);
    log::debug("{} {} refused: {}", op_name, topic.name, why);
    audit_decision(ctx, audit::Category::kAuthorization, op_name,
                   produce ? audit::Action::kCreate : audit::Action::kRead, "topic", topic.name, d.verdict,
                   kTopicAuthorizationFailed, rule, why);
    if (message) *message = std::move(why);
    return kTopicAuthorizationFailed;
  }
  if (note_due(*g, access.principal, topic.name, op_name, rule)) {
    std::string why = governance::explain(d, topic.name, *catalog, access, policy);
    log::warn("governance {}: {} by {} allowed: {}", d.verdict == Verdict::kWarn ? "warning" : "note",
              op_name, access.principal, why);
    audit_decision(ctx, audit::Category::kAuthorization, op_name,
                   produce ? audit::Action::kCreate : audit::Action::kRead, "topic", topic.name, d.verdict, 0,
                   rule, why);
  }
  return 0;
}

Status governance_check_topic(RequestContext& ctx, std::string_view name, const metadata::ConfigMap& configs,
                              const metadata::ConfigMap* before) {
  Governance* g = active(ctx.broker);
  if (!g) return Status::OK();
  const governance::Policy& policy = g->policy();
  const config::TopicSettings s = config::effective_topic_settings(*ctx.broker.config, configs);
  std::string cleanup;
  if (auto it = configs.find("cleanup.policy"); it != configs.end())
    cleanup = it->second;
  else if (auto b = ctx.broker.config->raw.find("log.cleanup.policy"); b != ctx.broker.config->raw.end())
    cleanup = b->second;
  governance::TopicFacts facts{name, &configs, s.retention_ms, s.retention_bytes,
                               cleanup.find("compact") != std::string::npos};
  const auto violations = governance::check_topic(policy, facts, before, principal_text(ctx));
  if (violations.empty()) return Status::OK();
  const std::string message = joined(violations, policy);
  const bool refuse = g->mode() == governance::Mode::kEnforce;
  const Verdict verdict = refuse ? Verdict::kRefuse : Verdict::kWarn;
  g->count(verdict);
  const char* api = before ? "AlterConfigs" : "CreateTopics";
  audit_decision(ctx, audit::Category::kAdmin, api, before ? audit::Action::kUpdate : audit::Action::kCreate,
                 "topic", name, verdict, refuse ? kPolicyViolation : 0, rules_of(violations), message);
  if (!refuse) {
    log::warn("governance warning: {} {} by {} allowed: {}", api, name, principal_text(ctx), message);
    return Status::OK();
  }
  return make_error(message, kPolicyViolation);
}

namespace {

// Why `group` (run by the request's principal) may not consume `name`, or
// nullopt: the topic's classification admits only approved consumers and
// neither the group nor the principal is in carelog.consumers.approved.
// `*group_approved` says whether the group itself is (JoinGroup admits the
// principal then).
std::optional<std::pair<std::string, std::string>> approval_refusal(
    RequestContext& ctx, const governance::Policy& policy, std::string_view name, std::string_view group,
    const std::string& principal, bool* group_approved) {
  auto topic = ctx.broker.topics->find(std::string(name));
  const governance::TopicCatalog* c = topic ? topic->catalog.get() : nullptr;
  const governance::ClassificationRule* rule =
      c && !c->classification.empty() ? policy.rule(c->classification) : nullptr;
  if (!rule || !rule->approved_consumers_only) return std::nullopt;
  if (c->approves_group(std::string(group))) {
    if (group_approved) *group_approved = true;
    return std::nullopt;
  }
  if (c->approves_principal(principal)) return std::nullopt;
  std::string rule_name = "rules." + c->classification + ".approved_consumers_only";
  std::string why = fmt::format(
      "Governance policy {} ({} v{}): topic {} is classified {}: consumer group {} is not approved "
      "(carelog.consumers.approved), nor is {}",
      rule_name, policy.source, policy.version, name, c->classification, group, principal);
  return std::make_pair(std::move(rule_name), std::move(why));
}

}  // namespace

int16_t governance_join_error(RequestContext& ctx, const protocol::JoinGroupRequest& req) {
  Governance* g = active(ctx.broker);
  if (!g || req.protocol_type != "consumer") return 0;
  std::vector<std::string> topics;
  for (const auto& p : req.protocols) {
    auto parsed = governance::parse_subscription_topics(p.metadata.span());
    if (parsed.ok()) topics.insert(topics.end(), parsed->begin(), parsed->end());
  }
  const governance::Policy& policy = g->policy();
  const std::string principal(principal_text(ctx));
  bool admit = false;
  for (const auto& name : topics) {
    auto refusal = approval_refusal(ctx, policy, name, req.group_id, principal, &admit);
    if (!refusal) continue;
    const auto& [rule_name, why] = *refusal;
    const bool refuse = g->mode() == governance::Mode::kEnforce;
    g->count(refuse ? Verdict::kRefuse : Verdict::kWarn);
    audit_decision(ctx, audit::Category::kAuthorization, "JoinGroup", audit::Action::kRead, "group",
                   req.group_id, refuse ? Verdict::kRefuse : Verdict::kWarn,
                   refuse ? kGroupAuthorizationFailed : 0, rule_name, why);
    if (refuse) {
      log::info("JoinGroup {} by {} refused: {}", req.group_id, principal, why);
      return kGroupAuthorizationFailed;
    }
    log::warn("governance warning: JoinGroup {} by {} allowed: {}", req.group_id, principal, why);
  }
  if (admit) {
    const int64_t ttl = std::max<int64_t>(2 * static_cast<int64_t>(req.session_timeout_ms), 30000);
    g->admit(principal, req.group_id, wall_clock_ms(), ttl);
  }
  return 0;
}

int16_t governance_offsets_error(RequestContext& ctx, std::string_view api, std::string_view group,
                                 std::string_view topic) {
  Governance* g = active(ctx.broker);
  if (!g) return 0;
  const governance::Policy& policy = g->policy();
  const std::string principal(principal_text(ctx));
  auto refusal = approval_refusal(ctx, policy, topic, group, principal, nullptr);
  if (!refusal) return 0;
  const auto& [rule_name, why] = *refusal;
  const bool refuse = g->mode() == governance::Mode::kEnforce;
  g->count(refuse ? Verdict::kRefuse : Verdict::kWarn);
  const audit::Action action = api == "OffsetCommit" ? audit::Action::kUpdate : audit::Action::kRead;
  audit_decision(ctx, audit::Category::kAuthorization, api, action, "topic", topic,
                 refuse ? Verdict::kRefuse : Verdict::kWarn, refuse ? kTopicAuthorizationFailed : 0,
                 rule_name, why);
  if (refuse) {
    log::info("{} of group {} on {} by {} refused: {}", api, group, topic, principal, why);
    return kTopicAuthorizationFailed;
  }
  log::warn("governance warning: {} of group {} on {} by {} allowed: {}", api, group, topic, principal, why);
  return 0;
}

void governance_heartbeat(RequestContext& ctx, std::string_view group) {
  if (Governance* g = active(ctx.broker)) g->refresh(principal_text(ctx), group, wall_clock_ms());
}

void governance_leave(RequestContext& ctx, std::string_view group) {
  if (Governance* g = active(ctx.broker)) g->revoke(principal_text(ctx), group);
}

Status governance_check_acl(RequestContext& ctx, const security::AclBinding& binding) {
  Governance* g = active(ctx.broker);
  if (!g || binding.principal != security::kWildcardPrincipal) return Status::OK();
  std::vector<std::string> names;
  for (const auto& t : ctx.broker.topics->list()) names.push_back(t->name);
  auto classification_of = [&](const std::string& name) {
    auto t = ctx.broker.topics->find(name);
    return t && t->catalog ? t->catalog->classification : std::string();
  };
  const governance::Policy& policy = g->policy();
  auto v = governance::check_acl(policy, binding, names, classification_of);
  if (!v) return Status::OK();
  const std::string message =
      fmt::format("Governance policy {} ({} v{}): {}", v->rule, policy.source, policy.version, v->message);
  const bool refuse = g->mode() == governance::Mode::kEnforce;
  g->count(refuse ? Verdict::kRefuse : Verdict::kWarn);
  audit_decision(ctx, audit::Category::kAdmin, "CreateAcls", audit::Action::kCreate, "acl",
                 binding.resource_name, refuse ? Verdict::kRefuse : Verdict::kWarn,
                 refuse ? kPolicyViolation : 0, v->rule, message);
  if (!refuse) {
    log::warn("governance warning: CreateAcls by {} allowed: {}", principal_text(ctx), message);
    return Status::OK();
  }
  return make_error(message, kPolicyViolation);
}

bool governance_forces_access_audit(const BrokerContext& broker, const TopicInfo& topic) {
  Governance* g = active(broker);
  if (!g || !topic.catalog || topic.catalog->classification.empty()) return false;
  const governance::ClassificationRule* rule = g->policy().rule(topic.catalog->classification);
  return rule && rule->audit_access;
}

void governance_produce_latency(RequestContext& ctx, const TopicInfo& topic, int64_t latency_us) {
  Governance* g = ctx.broker.governance;
  if (!g || topic.latency_alert_ms < 0 || latency_us <= topic.latency_alert_ms * 1000) return;
  const int64_t latency_ms = latency_us / 1000;
  const uint64_t n = g->record_latency_alert(topic.name, latency_ms, topic.latency_alert_ms, wall_clock_ms(),
                                             kNoteIntervalMs);
  if (n == 0) return;
  const std::string message = fmt::format(
      "critical topic: produce acknowledged after {:.1f} ms, over {}={} ({} alert(s) since the last report)",
      static_cast<double>(latency_us) / 1000.0, kLatencyRule, topic.latency_alert_ms, n);
  log::warn("governance: latency alert on {}: {}", topic.name, message);
  audit_decision(ctx, audit::Category::kDataAccess, "Produce", audit::Action::kCreate, "topic", topic.name,
                 Verdict::kWarn, 0, std::string(kLatencyRule), message);
}

}  // namespace carelog::server
