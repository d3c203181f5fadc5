#include "security/authorizer.h"

#include <algorithm>

#include "common/log.h"

namespace carelog::security {
namespace {

constexpr int32_t kInvalidConfig = 40;

// "User:alice" == Principal{User, alice}, without building the string on
// the request path.
bool principal_equals(std::string_view text, const Principal& p) {
  return text.size() == p.type.size() + 1 + p.name.size() && text.starts_with(p.type) &&
         text[p.type.size()] == ':' && text.substr(p.type.size() + 1) == p.name;
}

bool entry_applies(const AclEntry& e, const Principal& p, std::string_view host) {
  return (e.principal == kWildcardPrincipal || principal_equals(e.principal, p)) &&
         (e.host == kWildcard || e.host == host);
}

// Whether an ALLOW of `granted` allows `wanted` (Kafka's implied operations).
bool allow_covers(AclOperation granted, AclOperation wanted) {
  if (granted == AclOperation::kAll || granted == wanted) return true;
  if (wanted == AclOperation::kDescribe)
    return granted == AclOperation::kRead || granted == AclOperation::kWrite ||
           granted == AclOperation::kDelete || granted == AclOperation::kAlter;
  if (wanted == AclOperation::kDescribeConfigs) return granted == AclOperation::kAlterConfigs;
  return false;
}

// A DENY of `denied` denies `wanted` only for that operation or ALL.
bool deny_covers(AclOperation denied, AclOperation wanted) {
  return denied == AclOperation::kAll || denied == wanted;
}

}  // namespace

Result<std::vector<std::string>> parse_super_users(std::string_view value) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t end = value.find(';', pos);
    if (end == std::string_view::npos) end = value.size();
    std::string_view item = value.substr(pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      Principal p;
      if (!parse_principal(item, p))
        return Error{kInvalidConfig, "super.users: '" + std::string(item) + "' is not a Type:Name principal"};
      out.emplace_back(item);
    }
    pos = end + 1;
  }
  return out;
}

Result<std::unique_ptr<Authorizer>> open_authorizer(std::string_view class_name, std::string_view super_users,
                                                    bool allow_everyone_if_no_acl_found,
                                                    metadata::MetadataStore& store) {
  if (class_name.empty()) return std::unique_ptr<Authorizer>();
  if (class_name != kStandardAuthorizerClass && class_name != kCarelogAuthorizerName)
    return Error{kInvalidConfig, "authorizer.class.name: '" + std::string(class_name) +
                                     "' is not supported (use carelog or " +
                                     std::string(kStandardAuthorizerClass) + ")"};
  auto supers = parse_super_users(super_users);
  if (!supers.ok()) return supers.take_error();
  auto authz =
      std::make_unique<Authorizer>(store, AuthorizerOptions{*supers, allow_everyone_if_no_acl_found});
  CARELOG_RETURN_IF_ERROR(authz->load());
  return authz;
}

Authorizer::Authorizer(metadata::MetadataStore& store, AuthorizerOptions options)
    : store_(store), options_(std::move(options)) {
  snapshot_.store(std::make_shared<const AclSnapshot>(std::vector<AclBinding>{}));
}

Status Authorizer::load() {
  std::lock_guard lock(write_mu_);
  auto rows = store_.list_acls();
  if (!rows.ok()) return rows.take_error();
  std::vector<AclBinding> bindings;
  for (const auto& r : *rows) {
    AclBinding b = from_record(r);
    if (Status st = validate_binding(b); !st.ok()) {
      log::warn("acls: skipping a stored ACL on {} '{}': {}", to_string(b.resource_type), b.resource_name,
                st.error().message);
      continue;
    }
    bindings.push_back(std::move(b));
  }
  log::info("acls: loaded {} ACL bindings", bindings.size());
  publish(std::move(bindings));
  return Status::OK();
}

void Authorizer::publish(std::vector<AclBinding> bindings) {
  snapshot_.store(std::make_shared<const AclSnapshot>(std::move(bindings)), std::memory_order_release);
}

bool Authorizer::is_super_user(const Principal& principal) const {
  return std::any_of(options_.super_users.begin(), options_.super_users.end(),
                     [&](const std::string& s) { return principal_equals(s, principal); });
}

bool Authorizer::authorize(const Principal& principal, std::string_view host, AclOperation op,
                           ResourceType type, std::string_view name) const {
  if (is_super_user(principal)) return true;
  auto snap = snapshot();
  bool any_binding = false;
  bool allowed = false;
  bool denied = false;
  snap->for_each_applicable(type, name, [&](const std::vector<AclEntry>& entries) {
    any_binding = any_binding || !entries.empty();
    for (const auto& e : entries) {
      if (!entry_applies(e, principal, host)) continue;
      if (e.permission == PermissionType::kDeny) {
        denied = denied || deny_covers(e.operation, op);
      } else if (e.permission == PermissionType::kAllow) {
        allowed = allowed || allow_covers(e.operation, op);
      }
    }
  });
  if (denied) return false;
  if (allowed) return true;
  return !any_binding && options_.allow_everyone_if_no_acl_found;
}

bool Authorizer::authorize_any(const Principal& principal, std::string_view host, AclOperation op,
                               ResourceType type) const {
  // As Kafka: a made-up name first, so super users and the
  // allow-everyone-if-no-ACL rule answer the same way as for a real resource.
  if (authorize(principal, host, op, type, "hardcode")) return true;
  auto snap = snapshot();
  std::vector<std::string_view> allow_literal, allow_prefixed, deny_literal, deny_prefixed;
  for (const auto& b : snap->bindings()) {
    if (b.resource_type != type) continue;
    if (b.operation != op && b.operation != AclOperation::kAll) continue;
    AclEntry e{b.principal, b.host, b.operation, b.permission};
    if (!entry_applies(e, principal, host)) continue;
    const bool literal = b.pattern_type == PatternType::kLiteral;
    if (b.permission == PermissionType::kDeny) {
      (literal ? deny_literal : deny_prefixed).push_back(b.resource_name);
    } else {
      (literal ? allow_literal : allow_prefixed).push_back(b.resource_name);
    }
  }
  auto contains = [](const std::vector<std::string_view>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  if (contains(deny_literal, kWildcard)) return false;
  auto denied_by_prefix = [&](std::string_view name) {
    return std::any_of(deny_prefixed.begin(), deny_prefixed.end(),
                       [&](std::string_view p) { return name.starts_with(p); });
  };
  for (std::string_view name : allow_literal)
    if (!contains(deny_literal, name) && !denied_by_prefix(name)) return true;
  for (std::string_view prefix : allow_prefixed)
    if (!denied_by_prefix(prefix)) return true;
  return false;
}

std::vector<Status> Authorizer::create_acls(const std::vector<AclBinding>& bindings) {
  std::vector<Status> results;
  std::vector<metadata::AclRecord> rows;
  std::vector<AclBinding> valid;
  for (const auto& b : bindings) {
    results.push_back(validate_binding(b));
    if (results.back().ok()) {
      rows.push_back(to_record(b));
      valid.push_back(b);
    }
  }
  if (valid.empty()) return results;
  std::lock_guard lock(write_mu_);
  Status st = store_.add_acls(rows);
  if (!st.ok()) {
    for (auto& r : results)
      if (r.ok()) r = st.error();
    return results;
  }
  std::vector<AclBinding> next = snapshot()->bindings();
  for (auto& b : valid)
    if (std::find(next.begin(), next.end(), b) == next.end()) next.push_back(std::move(b));
  publish(std::move(next));
  return results;
}

std::vector<AclBinding> Authorizer::describe_acls(const AclBindingFilter& filter) const {
  std::vector<AclBinding> out;
  for (const auto& b : snapshot()->bindings())
    if (filter_matches(filter, b)) out.push_back(b);
  return out;
}

Result<std::vector<std::vector<AclBinding>>> Authorizer::delete_acls(
    const std::vector<AclBindingFilter>& filters) {
  std::lock_guard lock(write_mu_);
  auto snap = snapshot();
  const std::vector<AclBinding>& current = snap->bindings();
  std::vector<std::vector<AclBinding>> matched(filters.size());
  std::vector<bool> removed(current.size(), false);
  for (size_t f = 0; f < filters.size(); ++f) {
    for (size_t i = 0; i < current.size(); ++i) {
      if (!filter_matches(filters[f], current[i])) continue;
      matched[f].push_back(current[i]);
      removed[i] = true;
    }
  }
  std::vector<metadata::AclRecord> rows;
  std::vector<AclBinding> next;
  for (size_t i = 0; i < current.size(); ++i) {
    if (removed[i]) {
      rows.push_back(to_record(current[i]));
    } else {
      next.push_back(current[i]);
    }
  }
  if (rows.empty()) return matched;
  CARELOG_RETURN_IF_ERROR(store_.remove_acls(rows));
  publish(std::move(next));
  return matched;
}

}  // namespace carelog::security
