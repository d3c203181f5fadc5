// Policy checks: pure functions over a Policy, a topic's catalog and the
// facts the caller supplies (effective retention, principal, transport).
// Admin checks (create, alter, ACLs, `carelog policy check`) return every
// violation with the rule that decided it; the data-path check
// (check_access) returns a small Decision without allocating.
//
// Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "governance/catalog.h"
#include "governance/policy.h"
#include "security/acl_types.h"

namespace carelog::governance {

enum class Mode { kOff, kWarn, kEnforce };
std::optional<Mode> parse_mode(std::string_view s);
std::string_view to_string(Mode m);

enum class Verdict { kAllow, kWarn, kRefuse };

// A broken rule: `rule` is its path in the policy document ("required",
// "rules.ephi.secure_transport", "retention_classes.short.retention_ms",
// "namespaces.clinical.", "catalog.carelog.sunset"), `message` what a
// developer reads.
struct Violation {
  std::string rule;
  std::string message;
};

// What CreateTopics / AlterConfigs / policy check know of a topic.
struct TopicFacts {
  std::string_view name;
  const std::map<std::string, std::string>* configs = nullptr;  // overrides
  int64_t retention_ms = -1;                                    // effective (-1 unlimited)
  int64_t retention_bytes = -1;                                 // effective (-1 unlimited)
  bool compaction = false;                                      // cleanup.policy contains compact
  bool deletion = true;                                         // cleanup.policy contains delete
};

// Every violation of `policy` by a topic with these configs. `before` is
// null for a create (every required key is checked, and the namespace's
// creators); for an alter it is the previous overrides, and only required
// keys the change removes are violations (topics created before the policy
// can still be altered). `principal` (empty: unknown) makes the change.
std::vector<Violation> check_topic(const Policy& policy, const TopicFacts& topic,
                                   const std::map<std::string, std::string>* before,
                                   std::string_view principal);

// What `carelog policy check` requires of a replay topic
// (carelog.action.path=replay), whose consumers re-read its history from
// the log start: a retention class that states how far back that history
// goes; time-based retention (retention.bytes drops history when volume
// grows, unless the class itself bounds bytes); and, when nothing deletes
// by age or size, a log start still at offset 0 (`log_starts`: partition ->
// log start offset; a later start means DeleteRecords or an earlier
// retention removed history a replay expects). Rules: "replay.retention_class",
// "replay.retention_bytes", "replay.history". Reading the log start is the
// caller's (cli/replay_probe.h: "replay.readable").
std::vector<Violation> check_replay_topic(const Policy& policy, const TopicFacts& topic,
                                          const std::map<int32_t, int64_t>& log_starts);

// An ACL binding that grants User:* (ALLOW) on a topic whose classification
// demands explicit ACLs. `classification_of` returns a topic's
// classification (empty: none); `topics` are the existing topic names the
// binding's pattern is matched against (a LITERAL "*" or a PREFIXED name
// matches several).
std::optional<Violation> check_acl(const Policy& policy, const security::AclBinding& binding,
                                   const std::vector<std::string>& topics,
                                   const std::function<std::string(const std::string&)>& classification_of);

// The data path.
enum class Operation { kProduce, kFetch };
enum class Rule : uint8_t { kNone, kSunset, kSecureTransport, kExplicitAcls, kApprovedConsumers };

struct Access {
  std::string_view principal;     // "User:alice"
  bool secure_transport = false;  // SSL or SASL_SSL listener
  bool authenticated = false;     // principal other than User:ANONYMOUS
  std::string_view listener;      // for messages
};

struct Decision {
  Verdict verdict = Verdict::kAllow;
  Rule rule = Rule::kNone;
  bool deprecated = false;  // allowed or not, the topic is deprecated: log and audit
};

// Facts check_access asks for only when a rule needs them (so ungoverned
// topics cost nothing): does an ACL binding apply to the topic; is the
// principal admitted through an approved consumer group.
struct AccessHooks {
  std::function<bool()> has_topic_acls;
  std::function<bool()> admitted_by_group;
};

Decision check_access(Mode mode, const Policy& policy, Operation op, const TopicCatalog* catalog,
                      const Access& access, int64_t now_ms, const AccessHooks& hooks);

// "rules.ephi.secure_transport" for a decision on a topic of `catalog`.
std::string rule_path(const Decision& d, const TopicCatalog& catalog);
// The message a refused (or warned) client and the audit stream get.
std::string explain(const Decision& d, std::string_view topic, const TopicCatalog& catalog,
                    const Access& access, const Policy& policy);

}  // namespace carelog::governance
