// `carelog policy check`: every violation of the governance policy in the
// current cluster (docs/governance.md): topics that break it (missing
// required catalog keys, unknown classifications, retention outside its
// class, namespace owners, forced access audit), ACLs that give topics of
// an explicit-ACL classification to User:*, such topics without an
// authorizer, and plaintext listeners that would expose them when the
// broker does not enforce, and replay topics whose history a replay from
// the log start would not see (governance::check_replay_topic, plus the
// batch at each partition's log start read through Fetch: cli/replay_probe.h).
// Exits 1 when any exists, so CI can run it.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/catalog.h"
#include "cli/commands.h"
#include "cli/replay_probe.h"
#include "config/config_def.h"
#include "governance/checks.h"
#include "governance/policy.h"
#include "protocol/messages/describe_acls.h"

namespace carelog::cli {
namespace {

using json = nlohmann::json;

struct Found {
  std::string resource;
  governance::Violation violation;
};

int64_t number(const std::map<std::string, std::string>& m, const char* key, int64_t dflt) {
  auto it = m.find(key);
  if (it == m.end()) return dflt;
  try {
    return std::stoll(it->second);
  } catch (...) {
    return dflt;
  }
}

// Listener name -> security protocol, from listeners and
// listener.security.protocol.map.
std::map<std::string, std::string> listener_protocols(const std::map<std::string, std::string>& broker) {
  std::map<std::string, std::string> map;
  if (auto it = broker.find("listener.security.protocol.map"); it != broker.end())
    for (const auto& entry : config::split_list(it->second)) {
      auto colon = entry.find(':');
      if (colon != std::string::npos) map[entry.substr(0, colon)] = entry.substr(colon + 1);
    }
  std::map<std::string, std::string> out;
  if (auto it = broker.find("listeners"); it != broker.end())
    for (const auto& l : config::split_list(it->second)) {
      const std::string name = l.substr(0, l.find("://"));
      auto p = map.find(name);
      out[name] = p != map.end() ? p->second : name;
    }
  return out;
}

struct PolicyFlags {
  std::string policy_file;
  bool skip_replay_read = false;
};

bool is_replay_topic(const CatalogEntry& e) {
  auto it = e.catalog.find(std::string(governance::kActionPath));
  return it != e.catalog.end() && it->second == "replay";
}

// The replay rules for one replay topic: configuration and log starts
// (governance::check_replay_topic), and unless skipped, whether each
// partition's batch at the log start can be read. Adds to `found`; returns
// the partitions read.
Result<int> check_replay(CommandContext& ctx, const governance::Policy& policy,
                         const governance::TopicFacts& facts, bool read, std::vector<Found>& found) {
  const std::string topic(facts.name);
  auto probes = probe_replay_start(ctx, topic, read);
  if (!probes.ok()) return probes.take_error();
  std::map<int32_t, int64_t> log_starts;
  for (const auto& p : *probes)
    if (p.log_start >= 0) log_starts[p.partition] = p.log_start;
  for (auto& v : governance::check_replay_topic(policy, facts, log_starts))
    found.push_back({"topic " + topic, std::move(v)});
  int read_count = 0;
  for (const auto& p : *probes) {
    if (p.first_offset) ++read_count;
    if (!p.problem.empty())
      found.push_back(
          {fmt::format("partition {}-{}", topic, p.partition),
           {"replay.readable", fmt::format("replay topic {} partition {} cannot be replayed from "
                                           "its log start {}: {} (carelog replay-check {} names the object)",
                                           topic, p.partition, p.log_start, p.problem, topic)}});
  }
  return read_count;
}

int run_check(CommandContext& ctx, const PolicyFlags& f) {
  auto broker = read_broker_config(ctx);
  if (!broker.ok()) return ctx.fail(broker.error());
  const std::string mode = broker->count("governance.mode") ? broker->at("governance.mode") : "unknown";
  std::string file = f.policy_file;
  if (file.empty() && broker->count("governance.policy.file")) file = broker->at("governance.policy.file");
  governance::Policy policy = governance::default_policy();
  if (!file.empty()) {
    auto loaded = governance::load_policy_file(file);
    if (!loaded.ok())
      return ctx.fail(make_error(
          loaded.error().message +
          (f.policy_file.empty() ? " (the broker's governance.policy.file; pass --policy FILE)" : "")));
    policy = std::move(*loaded);
  }
  auto entries = read_catalog(ctx, {}, CatalogOptions{false, 0});
  if (!entries.ok()) return ctx.fail(entries.error());

  std::vector<Found> found;
  std::map<std::string, std::string> classification;
  std::vector<std::string> names;
  std::vector<std::string> explicit_topics;  // classification demands explicit ACLs
  std::vector<std::string> secure_topics;    // classification demands secure transport
  int replay_topics = 0, replay_partitions_read = 0;
  for (const auto& e : *entries) {
    names.push_back(e.name);
    std::map<std::string, std::string> configs = e.overrides;
    configs.insert(e.catalog.begin(), e.catalog.end());
    const std::string cls =
        e.catalog.count("carelog.classification") ? e.catalog.at("carelog.classification") : "";
    classification[e.name] = cls;
    auto cleanup = e.effective.count("cleanup.policy") ? e.effective.at("cleanup.policy") : "delete";
    governance::TopicFacts facts{e.name,
                                 &configs,
                                 number(e.effective, "retention.ms", -1),
                                 number(e.effective, "retention.bytes", -1),
                                 cleanup.find("compact") != std::string::npos,
                                 cleanup.find("delete") != std::string::npos};
    for (auto& v : governance::check_topic(policy, facts, nullptr, ""))
      found.push_back({"topic " + e.name, v});
    if (is_replay_topic(e)) {
      auto read = check_replay(ctx, policy, facts, !f.skip_replay_read, found);
      if (!read.ok()) return ctx.fail(read.error());
      ++replay_topics;
      replay_partitions_read += *read;
    }
    if (const auto* rule = cls.empty() ? nullptr : policy.rule(cls)) {
      if (rule->explicit_acls) explicit_topics.push_back(e.name);
      if (rule->secure_transport) secure_topics.push_back(e.name);
    }
  }

  // ACLs.
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  protocol::DescribeAclsRequest req;
  req.resource_type_filter = static_cast<int8_t>(security::ResourceType::kAny);
  req.pattern_type_filter = static_cast<int8_t>(security::PatternType::kAny);
  req.operation = static_cast<int8_t>(security::AclOperation::kAny);
  req.permission_type = static_cast<int8_t>(security::PermissionType::kAny);
  auto acls = (*client)->send<protocol::DescribeAclsResponse>(req);
  if (!acls.ok()) return ctx.fail(acls.error());
  constexpr int16_t kSecurityDisabled = 54;
  auto cls_of = [&](const std::string& t) {
    return classification.count(t) ? classification[t] : std::string();
  };
  if (acls->error_code == kSecurityDisabled) {
    for (const auto& t : explicit_topics)
      found.push_back({"topic " + t,
                       {"rules." + cls_of(t) + ".explicit_acls",
                        fmt::format("topic {} is classified {} but the broker has no authorizer "
                                    "(authorizer.class.name): no ACL names its clients",
                                    t, cls_of(t))}});
  } else if (acls->error_code != 0) {
    return ctx.fail(make_error(acls->error_message.value_or("DescribeAcls failed"), acls->error_code));
  } else {
    std::set<std::string> covered;  // topics some non-wildcard binding applies to
    for (const auto& res : acls->resources)
      for (const auto& a : res.acls) {
        security::AclBinding b{static_cast<security::ResourceType>(res.resource_type),
                               res.resource_name,
                               static_cast<security::PatternType>(res.pattern_type),
                               a.principal,
                               a.host,
                               static_cast<security::AclOperation>(a.operation),
                               static_cast<security::PermissionType>(a.permission_type)};
        if (auto v = governance::check_acl(policy, b, names, cls_of))
          found.push_back({fmt::format("acl {} {} on {} {}", b.principal, security::to_string(b.operation),
                                       security::to_string(b.pattern_type), b.resource_name),
                           *v});
        if (b.resource_type == security::ResourceType::kTopic && b.principal != security::kWildcardPrincipal)
          for (const auto& t : explicit_topics)
            if ((b.pattern_type == security::PatternType::kLiteral &&
                 (b.resource_name == t || b.resource_name == "*")) ||
                (b.pattern_type == security::PatternType::kPrefixed && t.rfind(b.resource_name, 0) == 0))
              covered.insert(t);
      }
    for (const auto& t : explicit_topics)
      if (!covered.count(t))
        found.push_back(
            {"topic " + t,
             {"rules." + cls_of(t) + ".explicit_acls",
              fmt::format("topic {} is classified {} and no ACL names its clients{}", t, cls_of(t),
                          broker->count("allow.everyone.if.no.acl.found") &&
                                  broker->at("allow.everyone.if.no.acl.found") == "true"
                              ? " (allow.everyone.if.no.acl.found=true lets everyone in)"
                              : "")}});
  }

  // Listeners that would serve secure-transport topics in the clear.
  if (mode != "enforce" && !secure_topics.empty())
    for (const auto& [name, protocol] : listener_protocols(*broker))
      if (protocol == "PLAINTEXT" || protocol == "SASL_PLAINTEXT")
        for (const auto& t : secure_topics)
          found.push_back(
              {"listener " + name,
               {"rules." + cls_of(t) + ".secure_transport",
                fmt::format("listener {} ({}) would expose topic {} (classified {}): governance.mode={} "
                            "does not refuse it",
                            name, protocol, t, cls_of(t), mode)}});

  if (ctx.options.output == OutputFormat::kJson) {
    json arr = json::array();
    for (const auto& x : found)
      arr.push_back({{"resource", x.resource}, {"rule", x.violation.rule}, {"message", x.violation.message}});
    ctx.out << json{{"policy", policy.source},
                    {"version", policy.version},
                    {"mode", mode},
                    {"replay_topics", replay_topics},
                    {"replay_partitions_read", replay_partitions_read},
                    {"violations", arr}}
                   .dump(2)
            << "\n";
  } else if (found.empty()) {
    ctx.out << fmt::format("No violations of {} (v{}, governance.mode={}).\n", policy.source, policy.version,
                           mode);
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& x : found) rows.push_back({x.resource, x.violation.rule, x.violation.message});
    ctx.out << format_table({"RESOURCE", "RULE", "VIOLATION"}, rows);
    ctx.out << fmt::format("{} violation(s) of {} (v{}, governance.mode={}).\n", found.size(), policy.source,
                           policy.version, mode);
  }
  if (ctx.options.output != OutputFormat::kJson && replay_topics > 0)
    ctx.out << fmt::format("Replay topics: {} checked, {} partition(s) read from the log start{}.\n",
                           replay_topics, replay_partitions_read,
                           f.skip_replay_read ? " (reads skipped: --skip-replay-read)" : "");
  return found.empty() ? kExitOk : kExitError;
}

}  // namespace

void add_policy_commands(CLI::App& parent, CommandContext& ctx, Action* action) {
  CLI::App* policy = parent.add_subcommand("policy", "The governance policy: check the cluster against it");
  policy->require_subcommand(1);
  auto flags = std::make_shared<PolicyFlags>();
  CLI::App* check =
      policy->add_subcommand("check", "List every violation in the cluster; exit 1 when any exists");
  check->add_option(
      "--policy", flags->policy_file,
      "Policy file to check against (default: the broker's governance.policy.file, read locally, "
      "or the built-in policy)");
  check->add_flag("--skip-replay-read", flags->skip_replay_read,
                  "Do not read each replay topic's log start (configuration and log-start rules still run)");
  check->callback([&ctx, action, flags] { *action = [&ctx, flags] { return run_check(ctx, *flags); }; });
}

}  // namespace carelog::cli
