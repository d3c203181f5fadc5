// `carelog replay-check TOPIC...`: re-reads topics' history from object
// storage and checks it (cli/replay_check.h, docs/replay-check.md).
//
//   carelog replay-check orders --data-dir ./carelog-data
//   carelog replay-check orders --config server.properties --online -b 127.0.0.1:9092
//   carelog replay-check orders --report before.json ... ; later: --compare before.json
//
// Reads the object index and the objects directly (like `carelog audit
// verify`), so it sees a deleted object, a corrupted byte or a hole in the
// index that a Kafka client could only meet as a fetch error; with --online
// it also asks the broker (ListOffsets) for each partition's log start and
// high watermark, so a truncated WAL shows as acknowledged offsets that are
// nowhere. Exit codes: 0 verdict OK, 1 problems found (or an error), 2 usage.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/admin.h"
#include "cli/commands.h"
#include "cli/replay_check.h"
#include "cli/replay_group.h"
#include "config/broker_config.h"
#include "config/object_store_options.h"

namespace carelog::cli {
namespace {

struct ReplayOptions {
  std::vector<std::string> topics;
  std::string config_file;
  std::vector<std::string> overrides;
  std::string data_dir = "./carelog-data";
  std::string metadata_store;
  std::string object_store;
  std::string wal_dir;  // "" = <data-dir>/wal or the config's wal.dir; "none" = skip
  std::string audit_topic = "__carelog_audit";
  std::optional<int64_t> from_offset;
  std::optional<int64_t> from_timestamp;
  bool online = false;
  bool object_wal = false;
  bool no_validate = false;
  std::string compare;
  std::string report;
  std::string format;
  std::string group;
  bool commit = false;
  int group_timeout_ms = 60000;
};

// --group: what group G received against what storage holds, per partition.
void judge_group(replay::Report& report, const replay::GroupRun& run, const std::string& group) {
  for (auto& p : report.partitions) {
    auto add = [&](std::string kind, std::string message) {
      p.problems.push_back({std::move(kind), std::move(message)});
    };
    auto it = run.partitions.find(p.partition);
    bool reached =
        std::find(run.not_reached.begin(), run.not_reached.end(), p.partition) == run.not_reached.end();
    int64_t hw = p.high_watermark.value_or(0);
    if (it == run.partitions.end()) {
      if (!reached)
        add("group-short",
            fmt::format("group {} received nothing of partition {} (high watermark {}) in time: is "
                        "another member of the group holding it?",
                        group, p.partition, hw));
      else if (hw > 0)
        p.explained.push_back(fmt::format("group {} was already at the high watermark {}", group, hw));
      continue;
    }
    const replay::GroupPartition& g = it->second;
    for (const auto& x : g.problems) add("group-gap", fmt::format("group {}: {}", group, x));
    if (!reached)
      add("group-short",
          fmt::format("group {} received offsets {}..{} but not up to the high watermark {} in time", group,
                      g.first, g.last, hw));
    if (!p.compare_digest) {
      add("group-mismatch",
          fmt::format("offsets {}..{} that group {} received could not be read whole from storage", g.first,
                      g.last, group));
    } else if (*p.compare_digest != g.digest) {
      add("group-mismatch",
          fmt::format("group {} received offsets {}..{} but not as stored (digest {} vs {})", group, g.first,
                      g.last, g.digest.substr(0, 16), p.compare_digest->substr(0, 16)));
    } else if (g.problems.empty() && reached) {
      p.explained.push_back(fmt::format(
          "group {} received offsets {}..{} ({} records) exactly as stored, from {}", group, g.first, g.last,
          g.records, g.first > p.start ? "its committed offset" : "the log start"));
    }
  }
}

Result<std::string> slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int run_replay(CommandContext& ctx, const ReplayOptions& o) {
  if (o.from_offset && o.from_timestamp) return ctx.usage("give --from-offset or --from-timestamp, not both");
  if (!o.group.empty() && !o.compare.empty()) return ctx.usage("give --group or --compare, not both");
  if (!o.group.empty() && (o.from_offset || o.from_timestamp))
    return ctx.usage(
        "--group starts at the group's committed offsets; --from-offset/--from-timestamp do not apply");
  const bool online = o.online || !o.group.empty();
  std::string md_uri, obj_uri, wal_dir = o.wal_dir;
  objstore::S3Options s3;
  bool object_wal = o.object_wal;
  if (!o.config_file.empty()) {
    auto cfg = config::load_broker_config(o.config_file, o.overrides);
    if (!cfg.ok()) return ctx.usage(cfg.error().message);
    md_uri = cfg->metadata_store;
    obj_uri = cfg->object_store;
    s3 = config::s3_options(*cfg);
    object_wal = config::object_wal_enabled(*cfg);
    if (wal_dir.empty()) wal_dir = object_wal ? "none" : cfg->wal_dir;
  } else {
    md_uri = o.metadata_store.empty() ? "sqlite://" + o.data_dir + "/metadata.db" : o.metadata_store;
    obj_uri = o.object_store.empty() ? "file://" + o.data_dir + "/objects" : o.object_store;
    if (wal_dir.empty()) wal_dir = o.data_dir + "/wal";
  }
  if (wal_dir == "none") wal_dir.clear();
  if (md_uri.rfind("sqlite://", 0) == 0 && !std::filesystem::exists(md_uri.substr(9)))
    return ctx.fail(
        make_error("no metadata store at " + md_uri.substr(9) + " (give --data-dir or --config)"));
  auto md = metadata::open_metadata_store(md_uri);
  if (!md.ok()) return ctx.fail(md.error());
  auto store = objstore::open_object_store(obj_uri, s3);
  if (!store.ok()) return ctx.fail(store.error());
  std::optional<std::string> previous;
  if (!o.compare.empty()) {
    auto text = slurp(o.compare);
    if (!text.ok()) return ctx.usage(text.error().message);
    previous = std::move(*text);
  }

  std::vector<replay::Report> reports;
  for (const auto& topic : o.topics) {
    replay::Options opt;
    opt.topic = topic;
    opt.from_offset = o.from_offset;
    opt.from_timestamp_ms = o.from_timestamp;
    opt.wal_dir = wal_dir;
    opt.audit_topic = topic == o.audit_topic;
    opt.object_wal = object_wal;
    opt.validate = !o.no_validate;
    if (online) {
      auto client = ctx.client();
      if (!client.ok()) return ctx.fail(client.error());
      auto connect = [&ctx](const BrokerView& b) { return ctx.client_for(b); };
      auto parts = list_offsets(**client, topic, connect);
      if (!parts.ok()) return ctx.fail(parts.error());
      for (const auto& p : *parts) {
        if (p.error_code != 0)
          return ctx.fail(
              make_error(fmt::format("ListOffsets of {} partition {}", topic, p.partition), p.error_code));
        opt.high_watermarks[p.partition] = p.latest;
        opt.log_start_offsets[p.partition] = p.earliest;
      }
    }
    if (previous) {
      auto ranges = replay::compare_ranges(*previous, topic);
      if (!ranges.ok()) return ctx.usage(o.compare + ": " + ranges.error().message);
      opt.compare_ranges = std::move(*ranges);
    }
    std::optional<replay::GroupRun> run;
    if (!o.group.empty()) {
      auto r = replay::consume_as_group(ctx.options.bootstrap, o.group, topic, opt.high_watermarks, o.commit,
                                        o.group_timeout_ms, ctx.options.security.properties);
      if (!r.ok()) return ctx.fail(r.error());
      for (const auto& [p, g] : r->partitions) opt.compare_ranges[p] = {g.first, g.last};
      run = std::move(*r);
    }
    auto report = replay::check_topic(**md, **store, opt);
    if (!report.ok()) return ctx.fail(report.error());
    if (run) judge_group(*report, *run, o.group);
    if (previous) {
      Status st = replay::compare(*report, *previous);
      if (!st.ok()) return ctx.usage(o.compare + ": " + st.error().message);
    }
    reports.push_back(std::move(*report));
  }
  std::string json = replay::render_json(reports);
  if (!o.report.empty()) {
    std::ofstream f(o.report);
    f << json;
    if (!f) return ctx.fail(make_error("cannot write " + o.report));
  }
  std::string format = o.format;
  if (format.empty()) format = ctx.options.output == OutputFormat::kJson ? "json" : "text";
  ctx.out << (format == "json" ? json : replay::render_text(reports));
  bool ok = std::all_of(reports.begin(), reports.end(), [](const replay::Report& r) { return r.ok(); });
  return ok ? kExitOk : kExitError;
}

}  // namespace

void add_replay_check_command(CLI::App& parent, CommandContext& ctx, Action* action) {
  auto o = std::make_shared<ReplayOptions>();
  CLI::App* cmd = parent.add_subcommand(
      "replay-check",
      "Re-read topics' history from object storage and verify it (acceptance test for replay)");
  cmd->add_option("topics", o->topics, "Topic names")->required();
  cmd->add_option("--config", o->config_file,
                  "The broker's server.properties: metadata.store, object.store (with s3.*), wal.dir");
  cmd->add_option("--override", o->overrides, "key=value over --config, as carelogd --override");
  cmd->add_option("--data-dir", o->data_dir,
                  "Without --config: the broker's data.dir (default ./carelog-data)");
  cmd->add_option("--metadata-store", o->metadata_store,
                  "Metadata store URI (default sqlite://<data-dir>/metadata.db)");
  cmd->add_option("--object-store", o->object_store, "Object store URI (default file://<data-dir>/objects)");
  cmd->add_option("--wal-dir", o->wal_dir,
                  "File WAL to read the un-uploaded tail from (default <data-dir>/wal; none)");
  cmd->add_flag("--object-wal", o->object_wal,
                "The broker runs wal.type=object (or in a cluster): read the un-uploaded tail from the WAL "
                "objects under wal/ (implied by --config)");
  cmd->add_flag("--no-validate", o->no_validate,
                "Do not check records against the topic's carelog.{key,value}.validation");
  cmd->add_option("--audit-topic", o->audit_topic, "Topic whose hash chain is verified (audit.topic.name)");
  cmd->add_option("--from-offset", o->from_offset, "Check from this offset (default: the log start)");
  cmd->add_option("--from-timestamp", o->from_timestamp,
                  "Check from the first record at or after this time (ms)");
  cmd->add_flag("--online", o->online,
                "Ask the broker at --bootstrap-server for log start and high watermark (ListOffsets)");
  cmd->add_option("--compare", o->compare, "An earlier --report: flag offsets gone or changed since");
  cmd->add_option("--report", o->report, "Write the JSON report here (for a later --compare)");
  cmd->add_option(
      "--group", o->group,
      "Also consume as consumer group G (librdkafka, from its committed offsets) and check it received "
      "exactly the stored log up to the high watermarks");
  cmd->add_flag("--commit", o->commit,
                "With --group: commit the group's offsets at the end (default: leave them)");
  cmd->add_option("--group-timeout-ms", o->group_timeout_ms,
                  "With --group: how long to consume (default 60000)")
      ->check(CLI::Range(1000, 3600 * 1000));
  cmd->add_option("--format", o->format, "text or json (default: the global --output)")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->callback([&ctx, action, o] { *action = [&ctx, o] { return run_replay(ctx, *o); }; });
}

}  // namespace carelog::cli
