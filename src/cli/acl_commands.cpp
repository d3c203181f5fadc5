// `carelog acl add|list|remove`: Kafka ACLs over CreateAcls, DescribeAcls
// and DeleteAcls, with flags in the spirit of kafka-acls.sh:
//
//   carelog acl add --allow-principal User:alice --operation Read --operation Describe
//       --topic orders [--resource-pattern-type prefixed] [--host 10.0.0.5]
//   carelog acl list [--topic orders] [--principal User:alice]
//   carelog acl remove --allow-principal User:alice --operation Read --topic orders
//
// `remove` without principals removes every ACL of the named resources; it
// needs at least one resource flag so nothing is removed by accident.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "protocol/messages/create_acls.h"
#include "protocol/messages/delete_acls.h"
#include "protocol/messages/describe_acls.h"
#include "security/acl_types.h"

namespace carelog::cli {
namespace {

using json = nlohmann::json;
using security::AclOperation;
using security::PatternType;
using security::PermissionType;
using security::ResourceType;

struct AclFlags {
  std::vector<std::string> allow_principals;
  std::vector<std::string> deny_principals;
  std::vector<std::string> principals;  // list filter
  std::vector<std::string> operations;
  std::vector<std::string> topics;
  std::vector<std::string> groups;
  std::vector<std::string> transactional_ids;
  bool cluster = false;
  std::string pattern_type;  // empty: literal for add/remove, any for list
  std::string host = "*";
};

struct Resource {
  ResourceType type;
  std::string name;
};

std::vector<Resource> resources_of(const AclFlags& f) {
  std::vector<Resource> out;
  for (const auto& t : f.topics) out.push_back({ResourceType::kTopic, t});
  for (const auto& g : f.groups) out.push_back({ResourceType::kGroup, g});
  for (const auto& x : f.transactional_ids) out.push_back({ResourceType::kTransactionalId, x});
  if (f.cluster) out.push_back({ResourceType::kCluster, std::string(security::kClusterResourceName)});
  return out;
}

Result<PatternType> pattern_of(const AclFlags& f, PatternType fallback) {
  if (f.pattern_type.empty()) return fallback;
  auto p = security::parse_pattern_type(f.pattern_type);
  if (!p) return make_error("unknown --resource-pattern-type '" + f.pattern_type + "'");
  return *p;
}

// --operation values; `fallback` when none is given.
Result<std::vector<AclOperation>> operations_of(const AclFlags& f, std::optional<AclOperation> fallback) {
  std::vector<AclOperation> out;
  for (const auto& o : f.operations) {
    auto op = security::parse_operation(o);
    if (!op) return make_error("unknown --operation '" + o + "'");
    out.push_back(*op);
  }
  if (out.empty() && fallback) out.push_back(*fallback);
  if (out.empty()) return make_error("at least one --operation is required");
  return out;
}

// (principal, permission) pairs from --allow-principal / --deny-principal.
std::vector<std::pair<std::string, PermissionType>> principals_of(const AclFlags& f) {
  std::vector<std::pair<std::string, PermissionType>> out;
  for (const auto& p : f.allow_principals) out.emplace_back(p, PermissionType::kAllow);
  for (const auto& p : f.deny_principals) out.emplace_back(p, PermissionType::kDeny);
  return out;
}

int run_add(CommandContext& ctx, const AclFlags& f) {
  auto resources = resources_of(f);
  auto principals = principals_of(f);
  if (resources.empty())
    return ctx.usage("give a resource: --topic, --group, --transactional-id or --cluster");
  if (principals.empty()) return ctx.usage("give --allow-principal or --deny-principal");
  auto pattern = pattern_of(f, PatternType::kLiteral);
  if (!pattern.ok()) return ctx.usage(pattern.error().message);
  auto ops = operations_of(f, std::nullopt);
  if (!ops.ok()) return ctx.usage(ops.error().message);
  protocol::CreateAclsRequest req;
  for (const auto& r : resources)
    for (const auto& [principal, perm] : principals)
      for (AclOperation op : *ops) {
        auto& c = req.creations.emplace_back();
        c.resource_type = static_cast<int8_t>(r.type);
        c.resource_name = r.name;
        c.resource_pattern_type =
            static_cast<int8_t>(r.type == ResourceType::kCluster ? PatternType::kLiteral : *pattern);
        c.principal = principal;
        c.host = f.host;
        c.operation = static_cast<int8_t>(op);
        c.permission_type = static_cast<int8_t>(perm);
      }
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto resp = (*client)->send<protocol::CreateAclsResponse>(req);
  if (!resp.ok()) return ctx.fail(resp.error());
  int rc = kExitOk;
  for (size_t i = 0; i < resp->results.size() && i < req.creations.size(); ++i) {
    const auto& r = resp->results[i];
    const auto& c = req.creations[i];
    if (r.error_code != 0) {
      rc = ctx.fail(make_error(
          fmt::format("adding {} {} on {} '{}'", c.principal,
                      security::to_string(static_cast<AclOperation>(c.operation)),
                      security::to_string(static_cast<ResourceType>(c.resource_type)), c.resource_name) +
              (r.error_message ? ": " + *r.error_message : ""),
          r.error_code));
    }
  }
  if (rc == kExitOk) ctx.out << fmt::format("Added {} ACL(s).\n", req.creations.size());
  return rc;
}

struct AclRow {
  int8_t resource_type, pattern_type, operation, permission;
  std::string name, principal, host;
};

void print_rows(CommandContext& ctx, const std::vector<AclRow>& rows) {
  auto name = [](auto v) { return std::string(security::to_string(v)); };
  if (ctx.options.output == OutputFormat::kJson) {
    json arr = json::array();
    for (const auto& r : rows)
      arr.push_back({{"resource_type", name(static_cast<ResourceType>(r.resource_type))},
                     {"resource_name", r.name},
                     {"pattern_type", name(static_cast<PatternType>(r.pattern_type))},
                     {"principal", r.principal},
                     {"host", r.host},
                     {"operation", name(static_cast<AclOperation>(r.operation))},
                     {"permission", name(static_cast<PermissionType>(r.permission))}});
    ctx.out << arr.dump(2) << "\n";
    return;
  }
  if (rows.empty()) {
    ctx.out << "No ACLs.\n";
    return;
  }
  std::vector<std::vector<std::string>> table;
  for (const auto& r : rows)
    table.push_back({name(static_cast<ResourceType>(r.resource_type)), r.name,
                     name(static_cast<PatternType>(r.pattern_type)), r.principal, r.host,
                     name(static_cast<AclOperation>(r.operation)),
                     name(static_cast<PermissionType>(r.permission))});
  ctx.out << format_table(
      {"RESOURCE-TYPE", "NAME", "PATTERN", "PRINCIPAL", "HOST", "OPERATION", "PERMISSION"}, table);
}

int run_list(CommandContext& ctx, const AclFlags& f) {
  auto pattern = pattern_of(f, PatternType::kAny);
  if (!pattern.ok()) return ctx.usage(pattern.error().message);
  auto resources = resources_of(f);
  std::vector<std::optional<Resource>> wanted(resources.begin(), resources.end());
  if (wanted.empty()) wanted.push_back(std::nullopt);
  std::vector<std::optional<std::string>> principals(f.principals.begin(), f.principals.end());
  if (principals.empty()) principals.push_back(std::nullopt);
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  std::vector<AclRow> rows;
  for (const auto& r : wanted)
    for (const auto& principal : principals) {
      protocol::DescribeAclsRequest req;
      req.resource_type_filter = static_cast<int8_t>(r ? r->type : ResourceType::kAny);
      if (r) req.resource_name_filter = r->name;
      req.pattern_type_filter = static_cast<int8_t>(*pattern);
      req.principal_filter = principal;
      req.operation = static_cast<int8_t>(AclOperation::kAny);
      req.permission_type = static_cast<int8_t>(PermissionType::kAny);
      auto resp = (*client)->send<protocol::DescribeAclsResponse>(req);
      if (!resp.ok()) return ctx.fail(resp.error());
      if (resp->error_code != 0)
        return ctx.fail(make_error(resp->error_message.value_or("DescribeAcls failed"), resp->error_code));
      for (const auto& res : resp->resources)
        for (const auto& a : res.acls)
          rows.push_back(AclRow{res.resource_type, res.pattern_type, a.operation, a.permission_type,
                                res.resource_name, a.principal, a.host});
    }
  print_rows(ctx, rows);
  return kExitOk;
}

int run_remove(CommandContext& ctx, const AclFlags& f) {
  auto resources = resources_of(f);
  if (resources.empty())
    return ctx.usage("give a resource: --topic, --group, --transactional-id or --cluster");
  auto pattern = pattern_of(f, PatternType::kLiteral);
  if (!pattern.ok()) return ctx.usage(pattern.error().message);
  auto ops = operations_of(f, AclOperation::kAny);
  if (!ops.ok()) return ctx.usage(ops.error().message);
  std::vector<std::pair<std::optional<std::string>, PermissionType>> principals;
  for (auto& [p, perm] : principals_of(f)) principals.emplace_back(p, perm);
  if (principals.empty()) principals.emplace_back(std::nullopt, PermissionType::kAny);
  protocol::DeleteAclsRequest req;
  for (const auto& r : resources)
    for (const auto& [principal, perm] : principals)
      for (AclOperation op : *ops) {
        auto& flt = req.filters.emplace_back();
        flt.resource_type_filter = static_cast<int8_t>(r.type);
        flt.resource_name_filter = r.name;
        flt.pattern_type_filter =
            static_cast<int8_t>(r.type == ResourceType::kCluster ? PatternType::kLiteral : *pattern);
        flt.principal_filter = principal;
        if (principal) flt.host_filter = f.host;
        flt.operation = static_cast<int8_t>(op);
        flt.permission_type = static_cast<int8_t>(perm);
      }
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto resp = (*client)->send<protocol::DeleteAclsResponse>(req);
  if (!resp.ok()) return ctx.fail(resp.error());
  std::vector<AclRow> removed;
  for (const auto& fr : resp->filter_results) {
    if (fr.error_code != 0)
      return ctx.fail(make_error(fr.error_message.value_or("DeleteAcls failed"), fr.error_code));
    for (const auto& m : fr.matching_acls)
      removed.push_back(AclRow{m.resource_type, m.pattern_type, m.operation, m.permission_type,
                               m.resource_name, m.principal, m.host});
  }
  if (ctx.options.output == OutputFormat::kText)
    ctx.out << fmt::format("Removed {} ACL(s).\n", removed.size());
  if (ctx.options.output == OutputFormat::kJson || !removed.empty()) print_rows(ctx, removed);
  return kExitOk;
}

void add_resource_flags(CLI::App* cmd, AclFlags& f) {
  cmd->add_option("--topic", f.topics, "Topic name (repeatable; '*' = every topic)");
  cmd->add_option("--group", f.groups, "Consumer group id (repeatable; '*' = every group)");
  cmd->add_option("--transactional-id", f.transactional_ids, "Transactional id (repeatable)");
  cmd->add_flag("--cluster", f.cluster, "The cluster resource");
  cmd->add_option("--resource-pattern-type", f.pattern_type,
                  "literal or prefixed (list and remove also take any and match)");
}

void add_entry_flags(CLI::App* cmd, AclFlags& f) {
  cmd->add_option("--allow-principal", f.allow_principals,
                  "Principal to allow, e.g. User:alice (repeatable)");
  cmd->add_option("--deny-principal", f.deny_principals, "Principal to deny (repeatable)");
  cmd->add_option("--operation", f.operations,
                  "Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, "
                  "AlterConfigs, IdempotentWrite or All (repeatable)");
  cmd->add_option("--host", f.host, "Client IP the ACL applies to (default '*': any)");
}

}  // namespace

void add_acl_commands(CLI::App& parent, CommandContext& ctx, Action* action) {
  CLI::App* acl = parent.add_subcommand("acl", "Kafka ACLs: add, list, remove");
  acl->require_subcommand(1);

  auto add_flags = std::make_shared<AclFlags>();
  CLI::App* add = acl->add_subcommand("add", "Add ALLOW/DENY ACLs for principals on resources");
  add_resource_flags(add, *add_flags);
  add_entry_flags(add, *add_flags);
  add->callback(
      [&ctx, action, add_flags] { *action = [&ctx, add_flags] { return run_add(ctx, *add_flags); }; });

  auto list_flags = std::make_shared<AclFlags>();
  CLI::App* list = acl->add_subcommand("list", "List ACLs (all, or those on the given resources)");
  add_resource_flags(list, *list_flags);
  list->add_option("--principal", list_flags->principals, "Only ACLs of this principal (repeatable)");
  list->callback(
      [&ctx, action, list_flags] { *action = [&ctx, list_flags] { return run_list(ctx, *list_flags); }; });

  auto remove_flags = std::make_shared<AclFlags>();
  CLI::App* remove = acl->add_subcommand("remove", "Remove ACLs matching the flags");
  add_resource_flags(remove, *remove_flags);
  add_entry_flags(remove, *remove_flags);
  remove->callback([&ctx, action, remove_flags] {
    *action = [&ctx, remove_flags] { return run_remove(ctx, *remove_flags); };
  });
}

}  // namespace carelog::cli
