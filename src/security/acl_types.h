// Kafka's ACL model: resource types, pattern types, operations, permission
// types (all with Kafka's wire codes), bindings and binding filters, plus the
// validation and filter matching the ACL APIs need.
//
// Plain values; no state, no threading concerns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "metadata/metadata_store.h"

namespace carelog::security {

enum class ResourceType : int8_t {
  kUnknown = 0,
  kAny = 1,
  kTopic = 2,
  kGroup = 3,
  kCluster = 4,
  kTransactionalId = 5,
  kDelegationToken = 6,
  kUser = 7,
};

enum class PatternType : int8_t { kUnknown = 0, kAny = 1, kMatch = 2, kLiteral = 3, kPrefixed = 4 };

enum class AclOperation : int8_t {
  kUnknown = 0,
  kAny = 1,
  kAll = 2,
  kRead = 3,
  kWrite = 4,
  kCreate = 5,
  kDelete = 6,
  kAlter = 7,
  kDescribe = 8,
  kClusterAction = 9,
  kDescribeConfigs = 10,
  kAlterConfigs = 11,
  kIdempotentWrite = 12,
  kCreateTokens = 13,
  kDescribeTokens = 14,
};

enum class PermissionType : int8_t { kUnknown = 0, kAny = 1, kDeny = 2, kAllow = 3 };

// The only name a CLUSTER resource has in Kafka.
inline constexpr std::string_view kClusterResourceName = "kafka-cluster";
// A literal resource name or principal name that matches every name.
inline constexpr std::string_view kWildcard = "*";
inline constexpr std::string_view kWildcardPrincipal = "User:*";

// Kafka's upper-case names ("TOPIC", "PREFIXED", "DESCRIBE_CONFIGS", "ALLOW").
std::string_view to_string(ResourceType t);
std::string_view to_string(PatternType t);
std::string_view to_string(AclOperation op);
std::string_view to_string(PermissionType p);
// Case-insensitive; accepts '-' or '_' between words (kafka-acls spells
// "IdempotentWrite", "DescribeConfigs" too). nullopt when unknown.
std::optional<ResourceType> parse_resource_type(std::string_view s);
std::optional<PatternType> parse_pattern_type(std::string_view s);
std::optional<AclOperation> parse_operation(std::string_view s);
std::optional<PermissionType> parse_permission(std::string_view s);

// One ACL: "principal is ALLOWed/DENYed `operation` on resources matching
// (resource_type, resource_name, pattern_type) from `host`".
struct AclBinding {
  ResourceType resource_type = ResourceType::kUnknown;
  std::string resource_name;
  PatternType pattern_type = PatternType::kLiteral;
  std::string principal;  // "User:alice" or "User:*"
  std::string host = "*";
  AclOperation operation = AclOperation::kUnknown;
  PermissionType permission = PermissionType::kUnknown;
  friend bool operator==(const AclBinding&, const AclBinding&) = default;
};

// DescribeAcls / DeleteAcls filter. Null strings match anything; ANY enum
// values match anything; pattern MATCH matches the bindings that would apply
// to the named resource (literal equal or "*", prefixes of it).
struct AclBindingFilter {
  ResourceType resource_type = ResourceType::kAny;
  std::optional<std::string> resource_name;
  PatternType pattern_type = PatternType::kAny;
  std::optional<std::string> principal;
  std::optional<std::string> host;
  AclOperation operation = AclOperation::kAny;
  PermissionType permission = PermissionType::kAny;
};

// CreateAcls checks, as Kafka: concrete enum values (no UNKNOWN/ANY/MATCH),
// a non-empty name ("kafka-cluster" for CLUSTER), a "Type:Name" principal,
// a non-empty host. Error code 42 (INVALID_REQUEST) with Kafka-like text.
Status validate_binding(const AclBinding& b);
// DescribeAcls / DeleteAcls checks: no UNKNOWN value anywhere (code 42).
Status validate_filter(const AclBindingFilter& f);
bool filter_matches(const AclBindingFilter& f, const AclBinding& b);

// Conversion to and from the metadata store's row.
metadata::AclRecord to_record(const AclBinding& b);
AclBinding from_record(const metadata::AclRecord& r);

}  // namespace carelog::security
