// `carelog catalog list|show|export|import`: the topic catalog (carelog.*
// topic configs, docs/governance.md) with live figures, as a table, JSON or
// Markdown. `export --format json` writes what `import` reads, so a catalog
// moves to a fresh cluster unchanged (topics, partitions, catalog keys and
// config overrides).
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "cli/admin.h"
#include "cli/catalog.h"
#include "cli/commands.h"
#include "cli/group_offsets.h"
#include "governance/catalog.h"
#include "protocol/messages/describe_configs.h"
#include "protocol/messages/describe_log_dirs.h"
#include "protocol/messages/list_groups.h"

namespace carelog::cli {

using json = nlohmann::json;

namespace {

constexpr int kCatalogFormatVersion = 1;

// Sum of log end offsets and of messages held, per topic.
struct OffsetTotals {
  int64_t end = 0;
  int64_t held = 0;
  std::map<int32_t, int64_t> end_by_partition;
};

Result<OffsetTotals> offsets_of(CommandContext& ctx, KafkaClient& client, const std::string& topic) {
  auto connect = [&ctx](const BrokerView& b) { return ctx.client_for(fmt::format("{}:{}", b.host, b.port)); };
  auto offs = list_offsets(client, topic, connect);
  if (!offs.ok()) return offs.take_error();
  OffsetTotals t;
  for (const auto& p : *offs) {
    if (p.error_code != 0) continue;
    t.end += p.latest;
    t.held += std::max<int64_t>(p.latest - p.earliest, 0);
    t.end_by_partition[p.partition] = p.latest;
  }
  return t;
}

// Bytes stored per topic: DescribeLogDirs (all topics) from every broker
// DescribeCluster lists, each answering for the partitions it holds. Topics
// are missing when a broker does not serve DescribeLogDirs or the CLI may
// not DESCRIBE the cluster; the catalog then shows no bytes for them.
std::map<std::string, int64_t> topic_bytes(CommandContext& ctx, KafkaClient& bootstrap) {
  std::map<std::string, int64_t> out;
  auto cluster = describe_cluster(bootstrap);
  if (!cluster.ok()) return out;
  for (const auto& b : cluster->brokers) {
    auto client = cluster->brokers.size() == 1 ? Result<KafkaClient*>(&bootstrap) : ctx.client_for(b);
    if (!client.ok()) continue;
    protocol::DescribeLogDirsRequest req;
    req.topics = std::nullopt;  // every topic
    auto resp = (*client)->send<protocol::DescribeLogDirsResponse>(req);
    if (!resp.ok() || resp->error_code != 0) continue;
    for (const auto& dir : resp->results) {
      if (dir.error_code != 0) continue;
      for (const auto& t : dir.topics)
        for (const auto& p : t.partitions) out[t.name] += p.partition_size;
    }
  }
  return out;
}

}  // namespace

Result<std::vector<CatalogEntry>> read_catalog(CommandContext& ctx, const std::vector<std::string>& names,
                                               const CatalogOptions& options) {
  auto client = ctx.client();
  if (!client.ok()) return client.take_error();
  auto md = fetch_metadata(**client, names);
  if (!md.ok()) return md.take_error();
  if (!md->failures.empty())
    return make_error(fmt::format("topic '{}'", md->failures.front().topic), md->failures.front().error_code);
  std::vector<TopicView> topics;
  for (auto& t : md->topics)
    if (!t.internal) topics.push_back(std::move(t));
  std::vector<OperationView> failures;
  CARELOG_RETURN_IF_ERROR(fetch_topic_configs(**client, topics, failures));
  if (!failures.empty())
    return make_error(fmt::format("configs of topic '{}'", failures.front().topic),
                      failures.front().error_code);
  std::vector<CatalogEntry> out;
  for (const auto& t : topics) {
    CatalogEntry e;
    e.name = t.name;
    e.partitions = static_cast<int32_t>(t.partitions.size());
    e.replication_factor = static_cast<int16_t>(t.replication_factor());
    for (const auto& c : t.configs) {
      if (c.value) e.effective[c.name] = *c.value;
      if (!c.value || c.source != static_cast<int8_t>(ConfigSource::kDynamicTopic)) continue;
      (governance::is_catalog_key(c.name) ? e.catalog : e.overrides)[c.name] = *c.value;
    }
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  if (!options.live) return out;

  const auto bytes = topic_bytes(ctx, **client);
  std::map<std::string, OffsetTotals> first;
  for (auto& e : out) {
    if (auto it = bytes.find(e.name); it != bytes.end()) e.bytes = it->second;
    auto t = offsets_of(ctx, **client, e.name);
    if (!t.ok()) continue;
    e.messages = t->held;
    first[e.name] = std::move(*t);
  }
  if (options.rate_ms > 0) {
    const auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(options.rate_ms));
    for (auto& e : out) {
      auto t = offsets_of(ctx, **client, e.name);
      auto it = first.find(e.name);
      if (!t.ok() || it == first.end()) continue;
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      e.messages_per_second = static_cast<double>(t->end - it->second.end) / secs;
    }
  }
  // Consumer groups with committed offsets on each topic, and their lag.
  protocol::ListGroupsRequest lreq;
  auto groups = (*client)->send<protocol::ListGroupsResponse>(lreq);
  if (!groups.ok()) return groups.take_error();
  std::map<std::string, CatalogEntry*> by_name;
  for (auto& e : out) by_name[e.name] = &e;
  std::vector<std::string> group_ids;
  for (const auto& g : groups->groups) group_ids.push_back(g.group_id);
  std::sort(group_ids.begin(), group_ids.end());
  for (const auto& g : group_ids) {
    auto c = group_coordinator(ctx, g);
    if (!c.ok()) continue;
    auto committed = fetch_committed(**c, g);
    if (!committed.ok()) continue;
    std::map<std::string, int64_t> lag;
    for (const auto& o : *committed) {
      auto it = first.find(o.topic);
      if (o.error_code != 0 || o.offset < 0 || it == first.end() || !by_name.count(o.topic)) continue;
      auto end = it->second.end_by_partition.find(o.partition);
      lag[o.topic] +=
          end == it->second.end_by_partition.end() ? 0 : std::max<int64_t>(end->second - o.offset, 0);
    }
    for (const auto& [topic, l] : lag) by_name[topic]->groups.push_back(GroupLag{g, l});
  }
  return out;
}

Result<std::map<std::string, std::string>> read_broker_config(CommandContext& ctx) {
  auto client = ctx.client();
  if (!client.ok()) return client.take_error();
  auto md = fetch_metadata(**client, {"__carelog_no_such_topic__"});
  if (!md.ok()) return md.take_error();
  if (md->cluster.brokers.empty()) return make_error("the cluster reports no broker");
  protocol::DescribeConfigsRequest req;
  auto& r = req.resources.emplace_back();
  r.resource_type = 4;  // BROKER
  r.resource_name = std::to_string(md->cluster.brokers.front().id);
  r.configuration_keys = std::nullopt;
  auto resp = (*client)->send<protocol::DescribeConfigsResponse>(req);
  if (!resp.ok()) return resp.take_error();
  if (resp->results.empty()) return make_error("DescribeConfigs returned no broker result");
  const auto& res = resp->results.front();
  if (res.error_code != 0) return make_error(res.error_message.value_or("broker configs"), res.error_code);
  std::map<std::string, std::string> out;
  for (const auto& c : res.configs)
    if (c.value) out[c.name] = *c.value;
  return out;
}

namespace {

std::string cell(const std::map<std::string, std::string>& m, std::string_view key) {
  auto it = m.find(std::string(key));
  return it == m.end() ? "-" : it->second;
}

std::string groups_text(const CatalogEntry& e) {
  std::string s;
  for (const auto& g : e.groups) s += fmt::format("{}{} (lag {})", s.empty() ? "" : ", ", g.group, g.lag);
  return s.empty() ? "-" : s;
}

std::string opt_text(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }

std::string rate_text(const CatalogEntry& e) {
  return e.messages_per_second ? fmt::format("{:.1f}", *e.messages_per_second) : "-";
}

json entry_json(const CatalogEntry& e) {
  json j = {{"name", e.name},
            {"partitions", e.partitions},
            {"replication_factor", e.replication_factor},
            {"catalog", e.catalog},
            {"configs", e.overrides}};
  json live = json::object();
  live["bytes"] = e.bytes ? json(*e.bytes) : json(nullptr);
  live["messages"] = e.messages ? json(*e.messages) : json(nullptr);
  live["messages_per_second"] = e.messages_per_second ? json(*e.messages_per_second) : json(nullptr);
  live["consumer_groups"] = json::array();
  for (const auto& g : e.groups) live["consumer_groups"].push_back({{"group", g.group}, {"lag", g.lag}});
  j["live"] = live;
  return j;
}

std::string markdown(const std::vector<CatalogEntry>& entries) {
  std::string s =
      "| Topic | Owner | Schema owner | Classification | Retention class | Access group | Approved consumers "
      "| "
      "Action path | Deprecated since | Replaced by | Sunset | Partitions | Bytes | Messages | Msg/s | "
      "Consumer "
      "groups (lag) "
      "|\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  auto esc = [](std::string v) {
    std::string o;
    for (char c : v) o += c == '|' ? std::string("\\|") : std::string(1, c);
    return o;
  };
  for (const auto& e : entries) {
    s += "| " + esc(e.name);
    for (auto key : governance::catalog_keys()) s += " | " + esc(cell(e.catalog, key));
    s += fmt::format(" | {} | {} | {} | {} | {} |\n", e.partitions, opt_text(e.bytes), opt_text(e.messages),
                     rate_text(e), esc(groups_text(e)));
  }
  return s;
}

std::string table(const std::vector<CatalogEntry>& entries) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : entries)
    rows.push_back({e.name, cell(e.catalog, governance::kOwner), cell(e.catalog, governance::kClassification),
                    cell(e.catalog, governance::kRetentionClass), cell(e.catalog, governance::kActionPath),
                    cell(e.catalog, governance::kSunset), std::to_string(e.partitions), opt_text(e.bytes),
                    opt_text(e.messages), rate_text(e), groups_text(e)});
  if (rows.empty()) return "No topics.\n";
  return format_table({"TOPIC", "OWNER", "CLASSIFICATION", "RETENTION-CLASS", "ACTION-PATH", "SUNSET",
                       "PARTITIONS", "BYTES", "MESSAGES", "MSG/S", "CONSUMER-GROUPS (LAG)"},
                      rows);
}

struct CatalogFlags {
  std::string format;  // table, json, markdown; empty: the global -o
  int rate_ms = 0;
  std::vector<std::string> topics;
  std::string file;
};

Result<std::string> format_of(const CommandContext& ctx, const CatalogFlags& f) {
  std::string fmt =
      f.format.empty() ? (ctx.options.output == OutputFormat::kJson ? "json" : "table") : f.format;
  if (fmt != "table" && fmt != "json" && fmt != "markdown")
    return make_error("--format must be table, json or markdown");
  return fmt;
}

std::string export_json(const std::vector<CatalogEntry>& entries) {
  json topics = json::array();
  for (const auto& e : entries) topics.push_back(entry_json(e));
  return json{{"version", kCatalogFormatVersion}, {"topics", topics}}.dump(2) + "\n";
}

int run_list(CommandContext& ctx, const CatalogFlags& f, bool exporting) {
  auto format = format_of(ctx, f);
  if (!format.ok()) return ctx.usage(format.error().message);
  if (exporting && *format == "table") *format = "json";
  auto entries = read_catalog(ctx, f.topics, CatalogOptions{true, f.rate_ms});
  if (!entries.ok()) return ctx.fail(entries.error());
  if (*format == "json")
    ctx.out << export_json(*entries);
  else if (*format == "markdown")
    ctx.out << markdown(*entries);
  else
    ctx.out << table(*entries);
  return kExitOk;
}

int run_show(CommandContext& ctx, const CatalogFlags& f) {
  auto format = format_of(ctx, f);
  if (!format.ok()) return ctx.usage(format.error().message);
  auto entries = read_catalog(ctx, f.topics, CatalogOptions{true, f.rate_ms});
  if (!entries.ok()) return ctx.fail(entries.error());
  if (entries->empty()) return ctx.fail(make_error(fmt::format("topic '{}'", f.topics.front()), 3));
  const CatalogEntry& e = entries->front();
  if (*format == "json") {
    ctx.out << entry_json(e).dump(2) << "\n";
  } else if (*format == "markdown") {
    ctx.out << markdown(*entries);
  } else {
    std::vector<std::vector<std::string>> rows{{"topic", e.name},
                                               {"partitions", std::to_string(e.partitions)}};
    for (auto key : governance::catalog_keys()) rows.push_back({std::string(key), cell(e.catalog, key)});
    for (const auto& [k, v] : e.overrides) rows.push_back({k, v});
    rows.push_back({"bytes", opt_text(e.bytes)});
    rows.push_back({"messages", opt_text(e.messages)});
    rows.push_back({"messages/s", rate_text(e)});
    rows.push_back({"consumer groups (lag)", groups_text(e)});
    ctx.out << format_table({"KEY", "VALUE"}, rows);
  }
  return kExitOk;
}

// Creates missing topics with their partitions, catalog keys and overrides;
// existing topics get their catalog keys and overrides set.
int run_import(CommandContext& ctx, const CatalogFlags& f) {
  std::ifstream in(f.file);
  if (!in) return ctx.usage("cannot read " + f.file);
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception& e) {
    return ctx.usage(f.file + ": not valid JSON: " + e.what());
  }
  if (!doc.is_object() || doc.value("version", 0) != kCatalogFormatVersion || !doc.contains("topics") ||
      !doc["topics"].is_array())
    return ctx.usage(f.file + ": not a catalog export (version 1 with a topics array)");
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto existing = fetch_metadata(**client, {});
  if (!existing.ok()) return ctx.fail(existing.error());
  std::set<std::string> present;
  for (const auto& t : existing->topics) present.insert(t.name);
  std::vector<OperationView> ops;
  try {
    for (const auto& t : doc["topics"]) {
      const std::string name = t.at("name").get<std::string>();
      std::vector<std::pair<std::string, std::string>> configs;
      for (const char* section : {"catalog", "configs"})
        if (t.contains(section))
          for (const auto& [k, v] : t[section].items()) configs.emplace_back(k, v.get<std::string>());
      if (present.count(name)) {
        auto r = alter_topic_configs(**client, name, configs, {});
        if (!r.ok()) return ctx.fail(r.error());
        ops.insert(ops.end(), r->begin(), r->end());
        continue;
      }
      NewTopic nt;
      nt.name = name;
      nt.partitions = t.value("partitions", -1);
      nt.replication_factor = static_cast<int16_t>(t.value("replication_factor", -1));
      nt.configs = configs;
      auto r = create_topics(**client, {nt}, ctx.options.timeout_ms);
      if (!r.ok()) return ctx.fail(r.error());
      ops.insert(ops.end(), r->begin(), r->end());
    }
  } catch (const json::exception& e) {
    return ctx.usage(f.file + ": " + e.what());
  }
  ctx.out << render_operations("Imported topic", ops, ctx.options.output);
  int rc = kExitOk;
  for (const auto& op : ops)
    if (!op.ok())
      rc = ctx.fail(
          make_error(fmt::format("topic '{}': {}", op.topic, op.error_message.value_or("")), op.error_code));
  return rc;
}

}  // namespace

void add_catalog_commands(CLI::App& parent, CommandContext& ctx, Action* action) {
  CLI::App* cat =
      parent.add_subcommand("catalog", "The topic catalog: owners, classification, consumers, live figures");
  cat->require_subcommand(1);
  auto flags = std::make_shared<CatalogFlags>();
  auto common = [&flags](CLI::App* c) {
    c->add_option("--format", flags->format,
                  "table, json or markdown (default: table, or json with -o json)");
    c->add_option("--rate-ms", flags->rate_ms,
                  "Measure the message rate over this many ms (default: not measured)");
  };
  CLI::App* list = cat->add_subcommand("list", "One row per topic");
  common(list);
  list->callback([&ctx, action, flags] { *action = [&ctx, flags] { return run_list(ctx, *flags, false); }; });
  CLI::App* show = cat->add_subcommand("show", "Every catalog key and live figure of one topic");
  common(show);
  show->add_option("topic", flags->topics, "Topic")->required()->expected(1);
  show->callback([&ctx, action, flags] { *action = [&ctx, flags] { return run_show(ctx, *flags); }; });
  CLI::App* exp =
      cat->add_subcommand("export", "The whole catalog as JSON (default; what import reads) or Markdown");
  common(exp);
  exp->callback([&ctx, action, flags] { *action = [&ctx, flags] { return run_list(ctx, *flags, true); }; });
  CLI::App* imp =
      cat->add_subcommand("import", "Create (or update) topics and catalog keys from a JSON export");
  imp->add_option("file", flags->file, "JSON written by `carelog catalog export`")->required();
  imp->callback([&ctx, action, flags] { *action = [&ctx, flags] { return run_import(ctx, *flags); }; });
}

}  // namespace carelog::cli
