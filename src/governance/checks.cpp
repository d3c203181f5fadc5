#include "governance/checks.h"

#include <fmt/core.h>

#include <algorithm>

namespace carelog::governance {
namespace {

const std::string* get(const TopicFacts& t, std::string_view key) {
  if (!t.configs) return nullptr;
  auto it = t.configs->find(std::string(key));
  return it == t.configs->end() || it->second.empty() ? nullptr : &it->second;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string show(int64_t v) { return v < 0 ? "unlimited (-1)" : std::to_string(v); }

// -1 is unlimited: larger than any bound.
bool within(int64_t v, const Bounds& b) {
  const int64_t eff = v < 0 ? INT64_MAX : v;
  if (b.min && eff < (*b.min < 0 ? INT64_MAX : *b.min)) return false;
  if (b.max && *b.max >= 0 && eff > *b.max) return false;
  return true;
}

std::string bounds_text(const Bounds& b) {
  return fmt::format("[{}, {}]", b.min ? show(*b.min) : "-", b.max ? show(*b.max) : "-");
}

void check_retention(const Policy& p, const TopicFacts& t, const std::string& cls_name,
                     std::vector<Violation>& out) {
  const RetentionClass* rc = p.retention_class(cls_name);
  if (!rc) {
    std::string known;
    for (const auto& c : p.retention_classes) known += (known.empty() ? "" : ", ") + c.name;
    out.push_back(
        {"retention_classes", fmt::format("carelog.retention.class={} is not a retention class of the "
                                          "policy (known: {})",
                                          cls_name, known.empty() ? "none" : known)});
    return;
  }
  const std::string base = "retention_classes." + rc->name;
  if (!within(t.retention_ms, rc->retention_ms))
    out.push_back(
        {base + ".retention_ms", fmt::format("retention.ms={} is outside retention class {}'s bounds {}",
                                             show(t.retention_ms), rc->name, bounds_text(rc->retention_ms))});
  if (!within(t.retention_bytes, rc->retention_bytes))
    out.push_back({base + ".retention_bytes",
                   fmt::format("retention.bytes={} is outside retention class {}'s bounds {}",
                               show(t.retention_bytes), rc->name, bounds_text(rc->retention_bytes))});
  if (t.compaction && !rc->compaction)
    out.push_back({base + ".compaction",
                   fmt::format("cleanup.policy=compact is not allowed in retention class {}", rc->name)});
}

}  // namespace

std::vector<Violation> check_replay_topic(const Policy& p, const TopicFacts& t,
                                          const std::map<int32_t, int64_t>& log_starts) {
  std::vector<Violation> out;
  const std::string* rc_name = get(t, kRetentionClass);
  const RetentionClass* rc = rc_name ? p.retention_class(*rc_name) : nullptr;
  if (!rc_name)
    out.push_back({"replay.retention_class",
                   fmt::format("replay topic {} has no {}: nothing states how far back it can be replayed",
                               t.name, kRetentionClass)});
  const bool class_bounds_bytes = rc && (rc->retention_bytes.min || rc->retention_bytes.max);
  if (t.deletion && t.retention_bytes >= 0 && !class_bounds_bytes)
    out.push_back({"replay.retention_bytes",
                   fmt::format("replay topic {} has retention.bytes={}: size-based retention shortens the "
                               "replay window when volume grows (bound it by retention.ms, or let its "
                               "retention class bound bytes)",
                               t.name, t.retention_bytes)});
  const bool keeps_all = !t.deletion || (t.retention_ms < 0 && t.retention_bytes < 0);
  if (keeps_all)
    for (const auto& [partition, start] : log_starts)
      if (start > 0)
        out.push_back({"replay.history",
                       fmt::format("replay topic {} partition {} starts at offset {} although its retention "
                                   "keeps everything: offsets 0..{} were deleted (DeleteRecords or an "
                                   "earlier retention) and a replay no longer sees them",
                                   t.name, partition, start, start - 1)});
  return out;
}

std::optional<Mode> parse_mode(std::string_view s) {
  if (s == "off") return Mode::kOff;
  if (s == "warn") return Mode::kWarn;
  if (s == "enforce") return Mode::kEnforce;
  return std::nullopt;
}

std::string_view to_string(Mode m) {
  switch (m) {
    case Mode::kOff:
      return "off";
    case Mode::kWarn:
      return "warn";
    case Mode::kEnforce:
      return "enforce";
  }
  return "?";
}

std::vector<Violation> check_topic(const Policy& p, const TopicFacts& t,
                                   const std::map<std::string, std::string>* before,
                                   std::string_view principal) {
  std::vector<Violation> out;
  const bool creating = before == nullptr;
  const std::string* cls = get(t, kClassification);
  const ClassificationRule* rule = cls ? p.rule(*cls) : nullptr;
  // On alter, only keys the change removes.
  auto missing = [&](const std::string& key) {
    if (get(t, key)) return false;
    if (creating) return true;
    auto it = before->find(key);
    return it != before->end() && !it->second.empty();
  };
  for (const auto& key : p.required)
    if (missing(key))
      out.push_back({"required",
                     fmt::format("topic {} needs {} (the policy requires it on every topic)", t.name, key)});
  if (rule)
    for (const auto& key : rule->required)
      if (missing(key) && std::find(p.required.begin(), p.required.end(), key) == p.required.end())
        out.push_back({"rules." + *cls + ".required",
                       fmt::format("topic {} is classified {} and needs {}", t.name, *cls, key)});
  if (cls && !p.has_classification(*cls))
    out.push_back({"classifications", fmt::format("carelog.classification={} is not one of [{}]", *cls,
                                                  join(p.classifications))});
  if (const std::string* rc = get(t, kRetentionClass)) {
    check_retention(p, t, *rc, out);
    if (rule && !rule->retention_classes.empty() &&
        std::find(rule->retention_classes.begin(), rule->retention_classes.end(), *rc) ==
            rule->retention_classes.end())
      out.push_back({"rules." + *cls + ".retention_classes",
                     fmt::format("topic classified {} must use a retention class of [{}], not {}", *cls,
                                 join(rule->retention_classes), *rc)});
  }
  if (rule && rule->audit_access) {
    const std::string* a = get(t, kAuditAccess);
    if (a && *a == "false")
      out.push_back({"rules." + *cls + ".audit_access",
                     fmt::format("topic classified {} must keep carelog.audit.access=true", *cls)});
  }
  if (const NamespaceBinding* ns = p.namespace_of(t.name)) {
    const std::string* owner = get(t, kOwner);
    if (!owner || *owner != ns->owner)
      out.push_back({"namespaces." + ns->prefix,
                     fmt::format("topics named {}* belong to {}: carelog.owner must be {} (is {})",
                                 ns->prefix, ns->owner, ns->owner, owner ? *owner : "unset")});
    if (creating && !principal.empty() && !ns->principals.empty() &&
        std::find(ns->principals.begin(), ns->principals.end(), principal) == ns->principals.end())
      out.push_back({"namespaces." + ns->prefix,
                     fmt::format("{} may not create topics named {}* (namespace of {}; allowed: {})",
                                 principal, ns->prefix, ns->owner, join(ns->principals))});
  }
  if (const std::string* v = get(t, kSunset); v && !parse_catalog_time(*v))
    out.push_back({"catalog.carelog.sunset", "carelog.sunset=" + *v + " is not a date"});
  return out;
}

std::optional<Violation> check_acl(const Policy& p, const security::AclBinding& b,
                                   const std::vector<std::string>& topics,
                                   const std::function<std::string(const std::string&)>& classification_of) {
  using security::PatternType;
  if (b.resource_type != security::ResourceType::kTopic || b.permission != security::PermissionType::kAllow ||
      b.principal != security::kWildcardPrincipal)
    return std::nullopt;
  auto applies = [&](const std::string& topic) {
    if (b.pattern_type == PatternType::kLiteral) return b.resource_name == "*" || b.resource_name == topic;
    if (b.pattern_type == PatternType::kPrefixed)
      return topic.compare(0, b.resource_name.size(), b.resource_name) == 0;
    return false;
  };
  for (const auto& topic : topics) {
    if (!applies(topic)) continue;
    const std::string cls = classification_of(topic);
    const ClassificationRule* rule = cls.empty() ? nullptr : p.rule(cls);
    if (rule && rule->explicit_acls)
      return Violation{
          "rules." + cls + ".explicit_acls",
          fmt::format("topic {} is classified {}: ACLs must name principals, not User:* ({} {} on {} {})",
                      topic, cls, security::to_string(b.permission), security::to_string(b.operation),
                      security::to_string(b.pattern_type), b.resource_name)};
  }
  return std::nullopt;
}

Decision check_access(Mode mode, const Policy& p, Operation op, const TopicCatalog* c, const Access& a,
                      int64_t now_ms, const AccessHooks& hooks) {
  Decision d;
  if (mode == Mode::kOff || !c) return d;
  d.deprecated = c->deprecated_since_ms && now_ms >= *c->deprecated_since_ms;
  Rule broken = Rule::kNone;
  if (op == Operation::kProduce && c->sunset_ms && now_ms >= *c->sunset_ms) broken = Rule::kSunset;
  const ClassificationRule* rule = c->classification.empty() ? nullptr : p.rule(c->classification);
  if (broken == Rule::kNone && rule) {
    if (rule->secure_transport && !(a.secure_transport && a.authenticated))
      broken = Rule::kSecureTransport;
    else if (rule->explicit_acls && !(hooks.has_topic_acls && hooks.has_topic_acls()))
      broken = Rule::kExplicitAcls;
    else if (op == Operation::kFetch && rule->approved_consumers_only &&
             !c->approves_principal(a.principal) &&
             !(c->has_approved_groups && hooks.admitted_by_group && hooks.admitted_by_group()))
      broken = Rule::kApprovedConsumers;
  }
  if (broken != Rule::kNone) {
    d.rule = broken;
    d.verdict = mode == Mode::kEnforce ? Verdict::kRefuse : Verdict::kWarn;
  }
  return d;
}

std::string rule_path(const Decision& d, const TopicCatalog& c) {
  switch (d.rule) {
    case Rule::kNone:
      return d.deprecated ? "catalog.carelog.deprecated.since" : "";
    case Rule::kSunset:
      return "catalog.carelog.sunset";
    case Rule::kSecureTransport:
      return "rules." + c.classification + ".secure_transport";
    case Rule::kExplicitAcls:
      return "rules." + c.classification + ".explicit_acls";
    case Rule::kApprovedConsumers:
      return "rules." + c.classification + ".approved_consumers_only";
  }
  return "";
}

std::string explain(const Decision& d, std::string_view topic, const TopicCatalog& c, const Access& a,
                    const Policy& p) {
  std::string why;
  switch (d.rule) {
    case Rule::kNone:
      why = fmt::format("topic {} is deprecated{}", topic,
                        c.replaced_by.empty() ? std::string() : "; use " + c.replaced_by + " instead");
      break;
    case Rule::kSunset:
      why = fmt::format("topic {} passed its sunset date (carelog.sunset): produce is refused{}", topic,
                        c.replaced_by.empty() ? std::string() : "; produce to " + c.replaced_by + " instead");
      break;
    case Rule::kSecureTransport:
      why = fmt::format(
          "topic {} is classified {}: produce and fetch need a TLS or SASL_SSL listener and an authenticated "
          "principal (this connection: listener {}, {})",
          topic, c.classification, a.listener, a.principal);
      break;
    case Rule::kExplicitAcls:
      why = fmt::format(
          "topic {} is classified {}: it is served only with ACLs naming its clients (enable the "
          "authorizer and add ACLs for the topic)",
          topic, c.classification);
      break;
    case Rule::kApprovedConsumers:
      why = fmt::format(
          "topic {} is classified {}: {} is not an approved consumer (carelog.consumers.approved) and "
          "is not in an approved consumer group",
          topic, c.classification, a.principal);
      break;
  }
  return fmt::format("Governance policy {} ({} v{}): {}", rule_path(d, c), p.source, p.version, why);
}

}  // namespace carelog::governance
