// The topic catalog: carelog.* topic configs that say who owns a topic,
// what it holds and who may read it, parsed once per topic change into a
// TopicCatalog the produce and fetch checks read without parsing.
//
// Plain immutable values; any number of threads may read one.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace carelog::governance {

inline constexpr std::string_view kOwner = "carelog.owner";
inline constexpr std::string_view kSchemaOwner = "carelog.schema.owner";
inline constexpr std::string_view kClassification = "carelog.classification";
inline constexpr std::string_view kRetentionClass = "carelog.retention.class";
inline constexpr std::string_view kAccessGroup = "carelog.access.group";
inline constexpr std::string_view kConsumersApproved = "carelog.consumers.approved";
inline constexpr std::string_view kActionPath = "carelog.action.path";
inline constexpr std::string_view kDeprecatedSince = "carelog.deprecated.since";
inline constexpr std::string_view kReplacedBy = "carelog.replaced.by";
inline constexpr std::string_view kSunset = "carelog.sunset";
inline constexpr std::string_view kAuditAccess = "carelog.audit.access";
// Critical topics (carelog.action.path=critical): a produce acknowledged
// later than this many ms raises a latency alert (docs/governance.md).
inline constexpr std::string_view kLatencyAlertMs = "carelog.latency.alert.ms";
inline constexpr int64_t kDefaultLatencyAlertMs = 250;
// The alert threshold of a topic with these configs, or -1 when the topic
// is not on the critical action path.
int64_t latency_alert_ms(const std::map<std::string, std::string>& configs);

// Every catalog key, in documentation order (carelog.audit.access is not
// one: it belongs to the audit stream, though policies may force it).
const std::vector<std::string_view>& catalog_keys();
bool is_catalog_key(std::string_view key);

// "2027-01-31" (00:00 UTC that day) or "2027-01-31T12:00:00Z" -> ms since
// the epoch; nullopt for anything else.
std::optional<int64_t> parse_catalog_time(std::string_view text);

// An entry of carelog.consumers.approved: "User:name" is a principal,
// "group:name" or a bare name a consumer group id; a trailing '*' makes it
// a prefix.
struct ApprovedEntry {
  bool principal = false;
  bool prefix = false;
  std::string value;  // without "group:" and without the trailing '*'
  bool matches(std::string_view candidate) const;
};
// Parses the comma-separated list; error message names the bad entry.
Result<std::vector<ApprovedEntry>> parse_approved(std::string_view list);

struct TopicCatalog {
  std::string classification;  // empty when unclassified
  std::vector<ApprovedEntry> approved;
  bool has_approved_principals = false;
  bool has_approved_groups = false;
  std::optional<int64_t> deprecated_since_ms;
  std::optional<int64_t> sunset_ms;
  std::string replaced_by;

  bool approves_principal(std::string_view principal) const;
  bool approves_group(std::string_view group) const;
};

// Null when the configs carry nothing the data path checks (no
// classification, no approvals, no deprecation): such topics cost the
// produce and fetch checks one pointer test.
std::shared_ptr<const TopicCatalog> make_catalog(const std::map<std::string, std::string>& configs);

}  // namespace carelog::governance
