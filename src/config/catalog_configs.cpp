// The topic catalog's keys (carelog.*, docs/governance.md) as ordinary topic
// configs: kafka-configs, AdminClient and Terraform providers set them, and
// DescribeConfigs shows them with their sources. Syntax is checked here
// (INVALID_CONFIG); what the policy allows (which classifications, which
// retention classes, who owns a namespace) is checked by the governance
// module on CreateTopics and AlterConfigs (POLICY_VIOLATION).
#include <cctype>
#include <string>

#include "config/topic_config.h"
#include "governance/catalog.h"

namespace carelog::config {
namespace {

std::optional<std::string> not_empty(std::string_view v) {
  if (v.empty()) return "must not be empty (delete the config to unset it)";
  return std::nullopt;
}

// Classification and retention class names: what a policy file can name.
std::optional<std::string> name_token(std::string_view v) {
  if (v.empty()) return "must not be empty (delete the config to unset it)";
  for (char c : v)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return "'" + std::string(v) + "' may hold only letters, digits, '.', '-' and '_'";
  return std::nullopt;
}

std::optional<std::string> catalog_time(std::string_view v) {
  if (governance::parse_catalog_time(v)) return std::nullopt;
  return "'" + std::string(v) + "' is not a date (YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SSZ in UTC)";
}

std::optional<std::string> approved_list(std::string_view v) {
  auto parsed = governance::parse_approved(v);
  if (!parsed.ok()) return parsed.error().message;
  return std::nullopt;
}

}  // namespace

std::vector<TopicConfigDef> catalog_topic_config_defs() {
  using T = ConfigType;
  auto custom = [](std::optional<std::string> (*fn)(std::string_view)) {
    Validator v;
    v.custom = fn;
    return v;
  };
  Validator action;
  action.choices = {"critical", "replay"};
  Validator latency_range;
  latency_range.min = 0;
  return {
      {{governance::kOwner, T::kString, std::nullopt, custom(not_empty),
        "Catalog: the domain team that owns the topic.", true},
       {}},
      {{governance::kSchemaOwner, T::kString, std::nullopt, custom(not_empty),
        "Catalog: who owns the schema of the topic's records.", true},
       {}},
      {{governance::kClassification, T::kString, std::nullopt, custom(name_token),
        "Catalog: data classification, one of the policy's classifications (default list: public, internal, "
        "confidential, ephi, deidentified, research, audit, operational).",
        true},
       {}},
      {{governance::kRetentionClass, T::kString, std::nullopt, custom(name_token),
        "Catalog: a retention class of the policy; retention.ms/retention.bytes must stay within its bounds.",
        true},
       {}},
      {{governance::kAccessGroup, T::kString, std::nullopt, custom(not_empty),
        "Catalog: the access group (directory group or role) that grants access to the topic.", true},
       {}},
      {{governance::kConsumersApproved, T::kList, std::nullopt, custom(approved_list),
        "Catalog: approved consumers: principals (User:name) and consumer group ids (group:name or a bare "
        "name); a trailing * makes a prefix.",
        true},
       {}},
      {{governance::kActionPath, T::kString, std::nullopt, action,
        "Catalog: critical (the action path: latency matters) or replay (analytics and replay).", true},
       {}},
      {{governance::kLatencyAlertMs, T::kLong, "250", latency_range,
        "Critical topics (carelog.action.path=critical): a produce acknowledged later than this many ms "
        "raises a latency alert (metric, log, audit event).",
        true},
       {}},
      {{governance::kDeprecatedSince, T::kString, std::nullopt, custom(catalog_time),
        "Catalog: date (YYYY-MM-DD, UTC) from which producers and consumers are logged and audited as using "
        "a "
        "deprecated topic.",
        true},
       {}},
      {{governance::kReplacedBy, T::kString, std::nullopt, custom(not_empty),
        "Catalog: the topic that replaces this one.", true},
       {}},
      {{governance::kSunset, T::kString, std::nullopt, custom(catalog_time),
        "Catalog: date (YYYY-MM-DD, UTC) from which produce is refused.", true},
       {}},
  };
}

}  // namespace carelog::config
