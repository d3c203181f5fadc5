// `carelog boundary`: the plane map of a broker (cli/boundary.h, docs/boundary.md).
//
//   carelog boundary --config server.properties [--override k=v ...]   offline, from the file
//   carelog -b HOST:PORT boundary                                     online, from a running broker
//
// Online it reads the broker's effective configuration with DescribeConfigs
// (BROKER resource; secrets come back hidden, only whether they are set),
// the advertised brokers with DescribeCluster, the ACLs with DescribeAcls,
// and probes the operator endpoint's GET /health. Offline it parses the file
// exactly as carelogd does and reads the ACLs from the metadata store the
// file names, if that database exists (never creating it). Both read which
// topics are classified ephi (online: the topic catalog; offline: the store).
//
// --format text|json|markdown (default: the global --output). --fail-on
// warn|error: exit 1 when a finding of that severity or worse exists.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>

#include "cli/admin.h"
#include "cli/boundary.h"
#include "cli/catalog.h"
#include "cli/commands.h"
#include "cli/http_get.h"
#include "protocol/error_codes.h"
#include "protocol/messages/describe_acls.h"
#include "protocol/messages/describe_configs.h"

namespace carelog::cli {
namespace {

using namespace boundary;

struct BoundaryOptions {
  std::string config_file;
  std::vector<std::string> overrides;
  std::string admin_url;  // online: override admin.http.listener for the probe
  std::string format;
  std::string fail_on;
};

constexpr int8_t kBrokerResource = 4;
constexpr int8_t kDefaultSource = 5;

// The metadata store named by `uri` if it is an existing SQLite file (never created here), else null.
std::unique_ptr<metadata::MetadataStore> existing_store(const std::string& uri) {
  if (uri.rfind("sqlite://", 0) != 0 || !std::filesystem::exists(uri.substr(9))) return nullptr;
  auto md = metadata::open_metadata_store(uri);
  return md.ok() ? std::move(*md) : nullptr;
}

// Topics the store holds with carelog.classification=ephi, sorted.
std::optional<std::vector<std::string>> stored_ephi_topics(metadata::MetadataStore& md) {
  auto topics = md.list_topics();
  if (!topics.ok()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& t : *topics) {
    auto it = t.configs.find("carelog.classification");
    if (it != t.configs.end() && it->second == "ephi") out.push_back(t.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The same from a running broker's topic catalog (DescribeConfigs of every topic).
std::optional<std::vector<std::string>> online_ephi_topics(CommandContext& ctx) {
  CatalogOptions options;
  options.live = false;
  auto catalog = read_catalog(ctx, {}, options);
  if (!catalog.ok()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& t : *catalog) {
    auto it = t.catalog.find("carelog.classification");
    if (it != t.catalog.end() && it->second == "ephi") out.push_back(t.name);
  }
  return out;
}

Result<std::vector<metadata::AclRecord>> online_acls(KafkaClient& client) {
  protocol::DescribeAclsRequest req;
  req.resource_type_filter = 1;  // ANY
  req.pattern_type_filter = 1;   // ANY
  req.operation = 1;             // ANY
  req.permission_type = 1;       // ANY
  auto resp = client.send<protocol::DescribeAclsResponse>(req);
  if (!resp.ok()) return resp.take_error();
  if (resp->error_code != 0)
    return make_error(resp->error_message.value_or("DescribeAcls failed"), resp->error_code);
  std::vector<metadata::AclRecord> out;
  for (const auto& r : resp->resources)
    for (const auto& a : r.acls)
      out.push_back({r.resource_type, r.resource_name, r.pattern_type, a.principal, a.host, a.operation,
                     a.permission_type});
  return out;
}

// The broker's settings as `--override` strings, from DescribeConfigs.
Result<std::vector<std::string>> online_settings(KafkaClient& client, int32_t broker_id,
                                                 std::vector<std::string>* hidden_set) {
  protocol::DescribeConfigsRequest req;
  auto& r = req.resources.emplace_back();
  r.resource_type = kBrokerResource;
  r.resource_name = std::to_string(broker_id);
  r.configuration_keys = std::nullopt;
  auto resp = client.send<protocol::DescribeConfigsResponse>(req);
  if (!resp.ok()) return resp.take_error();
  if (resp->results.empty()) return make_error("DescribeConfigs returned no result for the broker");
  const auto& result = resp->results.front();
  if (result.error_code != 0)
    return make_error(
        fmt::format("DescribeConfigs of broker {}: {}", broker_id, result.error_message.value_or("")),
        result.error_code);
  std::vector<std::string> out;
  for (const auto& c : result.configs) {
    if (c.is_sensitive) {
      if (c.config_source != kDefaultSource && c.config_source != -1) hidden_set->push_back(c.name);
      continue;
    }
    // Only keys this build knows: a newer broker may report more.
    if (!c.value || !config::find_broker_config_def(c.name)) continue;
    // Defaults come back from parsing anyway; leaving them out keeps what
    // the broker was given apart (e.g. wal.type unset in cluster mode means
    // the object WAL, an explicit wal.type=file does not).
    if (c.config_source == kDefaultSource) continue;
    out.push_back(c.name + "=" + *c.value);
  }
  return out;
}

// Probes GET /health on the operator endpoint; a wildcard host is probed on loopback.
bool probe_operator(const std::string& listener, int timeout_ms) {
  std::string target = listener;
  if (target.rfind("0.0.0.0:", 0) == 0) target = "127.0.0.1:" + target.substr(8);
  if (target.rfind("[::]:", 0) == 0) target = "[::1]:" + target.substr(5);
  if (!target.empty() && target[0] == ':') target = "127.0.0.1" + target;
  auto r = http_get(target, "/health", timeout_ms);
  return r.ok() && (r->status == 200 || r->status == 503);
}

int finish(CommandContext& ctx, const BoundaryOptions& o, const std::vector<Report>& reports) {
  std::string format = o.format;
  if (format.empty()) format = ctx.options.output == OutputFormat::kJson ? "json" : "text";
  // JSON stays one document: a single broker's report is an object, a
  // cluster's reports (one per broker) an array of them.
  const bool json_array = format == "json" && reports.size() > 1;
  if (json_array) ctx.out << "[\n";
  for (size_t i = 0; i < reports.size(); ++i) {
    if (i > 0) ctx.out << (json_array ? ",\n" : "\n");
    if (format == "json")
      ctx.out << render_json(reports[i]);
    else if (format == "markdown")
      ctx.out << render_markdown(reports[i]);
    else
      ctx.out << render_text(reports[i]);
  }
  if (json_array) ctx.out << "]\n";
  if (o.fail_on.empty()) return kExitOk;
  Severity threshold = o.fail_on == "warn" ? Severity::kWarn : Severity::kError;
  for (const auto& r : reports) {
    if (r.worst() >= threshold) {
      size_t n = r.count(Severity::kError) + (threshold == Severity::kWarn ? r.count(Severity::kWarn) : 0);
      ctx.err << fmt::format("boundary: {} finding(s) at or above '{}' in {}\n", n, o.fail_on, r.source);
      return kExitError;
    }
  }
  return kExitOk;
}

int run_offline(CommandContext& ctx, const BoundaryOptions& o) {
  auto cfg = config::load_broker_config(o.config_file, o.overrides);
  if (!cfg.ok()) return ctx.usage(cfg.error().message);
  Observed obs;
  obs.source = o.config_file;
  if (auto md = existing_store(cfg->metadata_store)) {
    if (auto acls = md->list_acls(); acls.ok()) obs.acls = std::move(*acls);
    obs.ephi_topics = stored_ephi_topics(*md);
  }
  return finish(ctx, o, {analyze(*cfg, obs)});
}

int run_online(CommandContext& ctx, const BoundaryOptions& o) {
  auto bootstrap = ctx.client();
  if (!bootstrap.ok()) return ctx.fail(bootstrap.error());
  auto cluster = describe_cluster(**bootstrap);
  if (!cluster.ok()) return ctx.fail(cluster.error());
  // Topics are the cluster's, not one broker's: read them once.
  const auto ephi = online_ephi_topics(ctx);
  std::vector<Report> reports;
  for (const auto& b : cluster->brokers) {
    std::string addr =
        fmt::format("{}:{}", b.host.find(':') != std::string::npos ? "[" + b.host + "]" : b.host, b.port);
    Result<KafkaClient*> client = cluster->brokers.size() == 1 ? bootstrap : ctx.client_for(b);
    if (!client.ok()) return ctx.fail(client.error());
    Observed obs;
    obs.source = fmt::format("broker {} at {} (online)", b.id, addr);
    auto settings = online_settings(**client, b.id, &obs.hidden_keys_set);
    if (!settings.ok()) return ctx.fail(settings.error());
    auto cfg = config::load_broker_config(std::nullopt, *settings);
    if (!cfg.ok())
      return ctx.fail(make_error("the broker's configuration does not parse here: " + cfg.error().message));
    for (const auto& other : cluster->brokers)
      obs.advertised_brokers.emplace_back(other.id, fmt::format("{}:{}", other.host, other.port));
    auto acls = online_acls(**client);
    if (acls.ok()) obs.acls = std::move(*acls);
    obs.ephi_topics = ephi;
    std::string op = o.admin_url.empty() ? cfg->raw["admin.http.listener"] : o.admin_url;
    if (!op.empty()) obs.operator_endpoint_answered = probe_operator(op, ctx.options.timeout_ms);
    reports.push_back(analyze(*cfg, obs));
  }
  return finish(ctx, o, reports);
}

}  // namespace

void add_boundary_command(CLI::App& parent, CommandContext& ctx, Action* action) {
  auto o = std::make_shared<BoundaryOptions>();
  CLI::App* cmd = parent.add_subcommand(
      "boundary", "Map where every plane of a broker lives and flag paths that leave private address space");
  cmd->add_option("--config", o->config_file,
                  "Offline: a server.properties file (else: the running broker at -b)");
  cmd->add_option("--override", o->overrides, "Offline: key=value, as carelogd --override");
  cmd->add_option("--admin-url", o->admin_url,
                  "Online: operator endpoint to probe (default admin.http.listener)");
  cmd->add_option("--format", o->format, "text, json or markdown (default: the global --output)")
      ->check(CLI::IsMember({"text", "json", "markdown"}));
  cmd->add_option("--fail-on", o->fail_on, "Exit 1 on a finding of this severity or worse: warn or error")
      ->check(CLI::IsMember({"warn", "error"}));
  cmd->callback([&ctx, action, o] {
    *action = [&ctx, o] { return o->config_file.empty() ? run_online(ctx, *o) : run_offline(ctx, *o); };
  });
}

}  // namespace carelog::cli
