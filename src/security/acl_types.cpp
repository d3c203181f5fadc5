#include "security/acl_types.h"

#include <array>
#include <cctype>

#include "security/principal.h"

namespace carelog::security {
namespace {

constexpr int32_t kInvalidRequest = 42;

constexpr std::array<std::string_view, 8> kResourceNames = {
    "UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER"};
constexpr std::array<std::string_view, 5> kPatternNames = {"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"};
constexpr std::array<std::string_view, 15> kOperationNames = {"UNKNOWN",
                                                              "ANY",
                                                              "ALL",
                                                              "READ",
                                                              "WRITE",
                                                              "CREATE",
                                                              "DELETE",
                                                              "ALTER",
                                                              "DESCRIBE",
                                                              "CLUSTER_ACTION",
                                                              "DESCRIBE_CONFIGS",
                                                              "ALTER_CONFIGS",
                                                              "IDEMPOTENT_WRITE",
                                                              "CREATE_TOKENS",
                                                              "DESCRIBE_TOKENS"};
constexpr std::array<std::string_view, 4> kPermissionNames = {"UNKNOWN", "ANY", "DENY", "ALLOW"};

template <size_t N>
std::string_view name_of(const std::array<std::string_view, N>& names, int8_t code) {
  return code >= 0 && static_cast<size_t>(code) < N ? names[code] : names[0];
}

// Upper case without '-' and '_', so "idempotent-write", "IdempotentWrite"
// and "IDEMPOTENT_WRITE" compare equal.
std::string fold(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '-' && c != '_') out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

template <typename E, size_t N>
std::optional<E> parse_name(const std::array<std::string_view, N>& names, std::string_view s) {
  const std::string wanted = fold(s);
  for (size_t i = 1; i < N; ++i)  // UNKNOWN is never a valid input
    if (fold(names[i]) == wanted) return static_cast<E>(i);
  return std::nullopt;
}

Error invalid(std::string message) { return Error{kInvalidRequest, std::move(message)}; }

bool has_wildcard_or_equal(const std::optional<std::string>& want, const std::string& have) {
  return !want || *want == have;
}

bool resource_matches(const AclBindingFilter& f, const AclBinding& b) {
  if (f.resource_type != ResourceType::kAny && f.resource_type != b.resource_type) return false;
  switch (f.pattern_type) {
    case PatternType::kAny:
      return has_wildcard_or_equal(f.resource_name, b.resource_name);
    case PatternType::kMatch:
      if (!f.resource_name) return true;
      if (b.pattern_type == PatternType::kLiteral)
        return b.resource_name == *f.resource_name || b.resource_name == kWildcard;
      return b.pattern_type == PatternType::kPrefixed && f.resource_name->starts_with(b.resource_name);
    default:
      return f.pattern_type == b.pattern_type && has_wildcard_or_equal(f.resource_name, b.resource_name);
  }
}

}  // namespace

std::string_view to_string(ResourceType t) { return name_of(kResourceNames, static_cast<int8_t>(t)); }
std::string_view to_string(PatternType t) { return name_of(kPatternNames, static_cast<int8_t>(t)); }
std::string_view to_string(AclOperation op) { return name_of(kOperationNames, static_cast<int8_t>(op)); }
std::string_view to_string(PermissionType p) { return name_of(kPermissionNames, static_cast<int8_t>(p)); }

std::optional<ResourceType> parse_resource_type(std::string_view s) {
  return parse_name<ResourceType>(kResourceNames, s);
}
std::optional<PatternType> parse_pattern_type(std::string_view s) {
  return parse_name<PatternType>(kPatternNames, s);
}
std::optional<AclOperation> parse_operation(std::string_view s) {
  return parse_name<AclOperation>(kOperationNames, s);
}
std::optional<PermissionType> parse_permission(std::string_view s) {
  return parse_name<PermissionType>(kPermissionNames, s);
}

Status validate_binding(const AclBinding& b) {
  const auto type = static_cast<int8_t>(b.resource_type);
  if (type < static_cast<int8_t>(ResourceType::kTopic) || type > static_cast<int8_t>(ResourceType::kUser))
    return invalid("Invalid resourceType " + std::to_string(type));
  if (b.pattern_type != PatternType::kLiteral && b.pattern_type != PatternType::kPrefixed)
    return invalid("Invalid patternType " + std::to_string(static_cast<int>(b.pattern_type)));
  const auto op = static_cast<int8_t>(b.operation);
  if (op < static_cast<int8_t>(AclOperation::kAll) || op > static_cast<int8_t>(AclOperation::kDescribeTokens))
    return invalid("Invalid operation " + std::to_string(op));
  if (b.permission != PermissionType::kAllow && b.permission != PermissionType::kDeny)
    return invalid("Invalid permissionType " + std::to_string(static_cast<int>(b.permission)));
  if (b.resource_name.empty()) return invalid("Resource name should not be empty");
  if (b.resource_type == ResourceType::kCluster &&
      (b.resource_name != kClusterResourceName || b.pattern_type != PatternType::kLiteral))
    return invalid("The only valid name for the CLUSTER resource is kafka-cluster (LITERAL)");
  Principal p;
  if (!parse_principal(b.principal, p))
    return invalid("Could not parse principal from `" + b.principal + "`");
  if (b.host.empty()) return invalid("Invalid host: empty");
  return Status::OK();
}

Status validate_filter(const AclBindingFilter& f) {
  if (f.resource_type == ResourceType::kUnknown || f.pattern_type == PatternType::kUnknown ||
      f.operation == AclOperation::kUnknown || f.permission == PermissionType::kUnknown)
    return invalid("The filter contains UNKNOWN elements");
  const auto type = static_cast<int8_t>(f.resource_type);
  const auto pattern = static_cast<int8_t>(f.pattern_type);
  const auto op = static_cast<int8_t>(f.operation);
  const auto perm = static_cast<int8_t>(f.permission);
  if (type < 0 || type > static_cast<int8_t>(ResourceType::kUser) || pattern < 0 ||
      pattern > static_cast<int8_t>(PatternType::kPrefixed) || op < 0 ||
      op > static_cast<int8_t>(AclOperation::kDescribeTokens) || perm < 0 ||
      perm > static_cast<int8_t>(PermissionType::kAllow))
    return invalid("The filter contains UNKNOWN elements");
  return Status::OK();
}

bool filter_matches(const AclBindingFilter& f, const AclBinding& b) {
  if (!resource_matches(f, b)) return false;
  if (!has_wildcard_or_equal(f.principal, b.principal)) return false;
  if (!has_wildcard_or_equal(f.host, b.host)) return false;
  if (f.operation != AclOperation::kAny && f.operation != b.operation) return false;
  return f.permission == PermissionType::kAny || f.permission == b.permission;
}

metadata::AclRecord to_record(const AclBinding& b) {
  return metadata::AclRecord{static_cast<int8_t>(b.resource_type),
                             b.resource_name,
                             static_cast<int8_t>(b.pattern_type),
                             b.principal,
                             b.host,
                             static_cast<int8_t>(b.operation),
                             static_cast<int8_t>(b.permission)};
}

AclBinding from_record(const metadata::AclRecord& r) {
  return AclBinding{static_cast<ResourceType>(r.resource_type),
                    r.resource_name,
                    static_cast<PatternType>(r.pattern_type),
                    r.principal,
                    r.host,
                    static_cast<AclOperation>(r.operation),
                    static_cast<PermissionType>(r.permission_type)};
}

}  // namespace carelog::security
