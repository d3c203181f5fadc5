// Governance policy: the data a platform team writes in
// governance.policy.file (JSON, schema in docs/governance.md and
// docs/formats/governance-policy.md): classifications, retention classes,
// namespace bindings and per-classification rules.
//
// Plain immutable values once parsed; any number of threads may read one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace carelog::governance {

inline constexpr int kPolicySchemaVersion = 1;

struct Bounds {
  std::optional<int64_t> min;  // -1 (unlimited) is above every max
  std::optional<int64_t> max;
};

struct RetentionClass {
  std::string name;
  Bounds retention_ms;
  Bounds retention_bytes;
  bool compaction = true;  // cleanup.policy may contain "compact"
};

// Topics whose name starts with `prefix` belong to `owner`: their
// carelog.owner must be `owner`, and when `principals` is not empty only
// those principals may create them.
struct NamespaceBinding {
  std::string prefix;
  std::string owner;
  std::vector<std::string> principals;
};

// What a classification demands of its topics.
struct ClassificationRule {
  std::vector<std::string> required;     // catalog keys required on create, beyond the global ones
  bool secure_transport = false;         // produce/fetch only on SSL/SASL_SSL with an authenticated principal
  bool explicit_acls = false;            // an authorizer with bindings on the topic; no User:* bindings
  bool audit_access = false;             // carelog.audit.access forced on
  bool approved_consumers_only = false;  // fetch/join only by carelog.consumers.approved
  std::vector<std::string> retention_classes;  // allowed classes; empty = any
};

struct Policy {
  int version = kPolicySchemaVersion;
  std::string source = "built-in";  // the file it came from, for messages
  std::vector<std::string> classifications;
  std::vector<std::string> required;  // catalog keys every create needs
  std::vector<RetentionClass> retention_classes;
  std::vector<NamespaceBinding> namespaces;  // longest prefix wins
  std::map<std::string, ClassificationRule, std::less<>> rules;

  bool has_classification(std::string_view c) const;
  const RetentionClass* retention_class(std::string_view name) const;
  const ClassificationRule* rule(std::string_view classification) const;
  const NamespaceBinding* namespace_of(std::string_view topic) const;
};

// The policy in force without governance.policy.file: the default
// classification list and the ePHI rules (secure transport, explicit ACLs,
// access audit, approved consumers only); nothing is required on create.
Policy default_policy();

// Parses and validates a policy document. Unknown keys, unknown catalog keys
// in "required", rules for undeclared classifications, inverted bounds and a
// version other than 1 are errors; the message says where.
Result<Policy> parse_policy(std::string_view json, std::string source);

// Reads and parses a file.
Result<Policy> load_policy_file(const std::string& path);

// The policy as JSON in the same schema (parse_policy(to_json(p)) == p).
std::string policy_to_json(const Policy& p);

}  // namespace carelog::governance
