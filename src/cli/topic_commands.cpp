// `carelog topic ...`: create, list, describe, delete, add-partitions, alter-config.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>

#include "cli/admin.h"
#include "cli/commands.h"
#include "cli/http_get.h"
#include "cli/prometheus_text.h"
#include "protocol/error_codes.h"
#include "protocol/messages/describe_configs.h"

namespace carelog::cli {

namespace {

using protocol::ErrorCode;
using protocol::to_int;

// Prints results (stdout) and failures (stderr); exit code 1 if any failed.
int report(CommandContext& ctx, std::string_view done, const std::vector<OperationView>& ops) {
  ctx.out << render_operations(done, ops, ctx.options.output);
  int code = kExitOk;
  for (const auto& op : ops) {
    if (op.ok()) continue;
    ctx.err << format_error(make_error(
                   fmt::format(
                       "topic '{}'{}", op.topic,
                       op.error_message && !op.error_message->empty() ? ": " + *op.error_message : ""),
                   op.error_code))
            << "\n";
    code = kExitError;
  }
  return code;
}

void ignore_error(std::vector<OperationView>& ops, ErrorCode code) {
  for (auto& op : ops) {
    if (op.error_code == to_int(code)) op.ignored = true;
  }
}

struct CreateArgs {
  std::string name;
  int32_t partitions = -1;
  int16_t replication_factor = -1;
  std::vector<std::string> configs;
  bool if_not_exists = false;
};

int run_create(CommandContext& ctx, const CreateArgs& a) {
  NewTopic nt{a.name, a.partitions, a.replication_factor, {}};
  for (const auto& kv : a.configs) {
    auto parsed = parse_key_value(kv);
    if (!parsed.ok()) return ctx.usage("--config: " + parsed.error().message);
    nt.configs.push_back(std::move(parsed.value()));
  }
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto ops = create_topics(**client, {nt}, ctx.options.timeout_ms);
  if (!ops.ok()) return ctx.fail(ops.error());
  if (a.if_not_exists) ignore_error(*ops, ErrorCode::kTopicAlreadyExists);
  return report(ctx, "Created topic", *ops);
}

int run_list(CommandContext& ctx, bool exclude_internal) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto md = fetch_metadata(**client, {});
  if (!md.ok()) return ctx.fail(md.error());
  std::vector<std::string> names;
  for (const auto& t : md->topics) {
    if (exclude_internal && t.internal) continue;
    names.push_back(t.name);
  }
  ctx.out << render_topic_list(names, ctx.options.output);
  return kExitOk;
}

bool compacted(const TopicView& t) {
  for (const auto& c : t.configs)
    if (c.name == "cleanup.policy" && c.value && c.value->find("compact") != std::string::npos) return true;
  return false;
}

// The broker's admin.http.listener (empty when it has none), by DescribeConfigs.
Result<std::string> operator_listener(KafkaClient& client, const ClusterView& cluster) {
  if (cluster.brokers.empty()) return std::string();
  protocol::DescribeConfigsRequest req;
  auto& r = req.resources.emplace_back();
  r.resource_type = 4;  // broker
  r.resource_name = std::to_string(cluster.brokers.front().id);
  r.configuration_keys = std::vector<std::string>{"admin.http.listener"};
  auto resp = client.send<protocol::DescribeConfigsResponse>(req);
  if (!resp.ok()) return resp.take_error();
  for (const auto& res : resp->results)
    for (const auto& c : res.configs)
      if (c.name == "admin.http.listener" && c.value) {
        std::string v = *c.value;
        if (v.rfind("0.0.0.0:", 0) == 0) v = "127.0.0.1:" + v.substr(8);
        return v;
      }
  return std::string();
}

// Label value of `key` in a sample's label text (topic="t",partition="0").
std::string label_of(const std::string& labels, const std::string& key) {
  const std::string needle = key + "=\"";
  auto at = labels.find(needle);
  if (at == std::string::npos) return {};
  at += needle.size();
  auto end = labels.find('"', at);
  return end == std::string::npos ? std::string() : labels.substr(at, end - at);
}

// Fills PartitionView::compaction of compacted topics from the operator
// endpoint's carelog_log_compaction_partition_* samples.
Status fetch_compaction(const std::string& url, std::vector<TopicView>& topics, int timeout_ms) {
  auto r = http_get(url, "/metrics", timeout_ms);
  if (!r.ok()) return r.error();
  if (r->status != 200) return make_error(fmt::format("GET {}: HTTP {}", url, r->status));
  auto samples = parse_prometheus_text(r->body);
  if (!samples.ok()) return samples.error();
  std::map<std::pair<std::string, int32_t>, CompactionView> by_partition;
  for (const auto& s : samples->samples) {
    if (s.name.rfind("carelog_log_compaction_partition_", 0) != 0) continue;
    const std::string topic = label_of(s.labels, "topic");
    const std::string part = label_of(s.labels, "partition");
    if (topic.empty() || part.empty()) continue;
    auto& v = by_partition[{topic, std::stoi(part)}];
    if (s.name == "carelog_log_compaction_partition_dirty_ratio") v.dirty_ratio = s.value;
    if (s.name == "carelog_log_compaction_partition_last_pass_timestamp_ms")
      v.last_compaction_ms = static_cast<int64_t>(s.value);
    if (s.name == "carelog_log_compaction_partition_reclaimed_bytes_total")
      v.bytes_reclaimed = static_cast<uint64_t>(s.value);
    if (s.name == "carelog_log_compaction_partition_passes_total") v.passes = static_cast<uint64_t>(s.value);
  }
  for (auto& t : topics) {
    if (!compacted(t)) continue;
    for (auto& p : t.partitions) {
      auto it = by_partition.find({t.name, p.partition});
      // Not looked at yet (nothing uploaded): nothing dirty, no pass.
      p.compaction = it == by_partition.end() ? CompactionView{} : it->second;
    }
  }
  return Status::OK();
}

int run_describe(CommandContext& ctx, const std::vector<std::string>& names, bool all_configs,
                 bool exclude_internal, const std::string& admin_url) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto md = fetch_metadata(**client, names);
  if (!md.ok()) return ctx.fail(md.error());
  std::vector<TopicView> topics;
  for (auto& t : md->topics) {
    if (exclude_internal && t.internal) continue;
    topics.push_back(std::move(t));
  }
  std::vector<OperationView> failures = md->failures;
  Status st = fetch_topic_configs(**client, topics, failures);
  if (!st.ok()) return ctx.fail(st.error());
  if (std::any_of(topics.begin(), topics.end(), compacted)) {
    // Compaction state lives on the broker's operator endpoint.
    std::string url = admin_url;
    if (url.empty()) {
      auto found = operator_listener(**client, md->cluster);
      if (found.ok()) url = *found;
    }
    if (!url.empty()) {
      Status cs = fetch_compaction(url, topics, ctx.options.timeout_ms);
      if (!cs.ok() && !admin_url.empty()) return ctx.fail(cs.error());
      if (!cs.ok()) ctx.err << "warning: no compaction state: " << cs.error().message << "\n";
    }
  }
  ctx.out << render_topics(topics, all_configs, ctx.options.output);
  int code = kExitOk;
  for (const auto& f : failures) {
    ctx.fail(make_error(fmt::format("topic '{}'{}", f.topic, f.error_message ? ": " + *f.error_message : ""),
                        f.error_code));
    code = kExitError;
  }
  return code;
}

int run_delete(CommandContext& ctx, const std::vector<std::string>& names, bool if_exists) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto ops = delete_topics(**client, names, ctx.options.timeout_ms);
  if (!ops.ok()) return ctx.fail(ops.error());
  if (if_exists) ignore_error(*ops, ErrorCode::kUnknownTopicOrPartition);
  return report(ctx, "Deleted topic", *ops);
}

int run_add_partitions(CommandContext& ctx, const std::string& name, int32_t count) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto ops = create_partitions(**client, name, count, ctx.options.timeout_ms);
  if (!ops.ok()) return ctx.fail(ops.error());
  return report(ctx, fmt::format("Set partition count to {} for topic", count), *ops);
}

int run_alter_config(CommandContext& ctx, const std::string& name, const std::vector<std::string>& set,
                     const std::vector<std::string>& remove) {
  if (set.empty() && remove.empty()) return ctx.usage("alter-config needs at least one --set or --delete");
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& kv : set) {
    auto parsed = parse_key_value(kv);
    if (!parsed.ok()) return ctx.usage("--set: " + parsed.error().message);
    pairs.push_back(std::move(parsed.value()));
  }
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto ops = alter_topic_configs(**client, name, pairs, remove);
  if (!ops.ok()) return ctx.fail(ops.error());
  return report(ctx, "Altered configs of topic", *ops);
}

}  // namespace

void add_topic_commands(CLI::App& parent, CommandContext& ctx, Action* action) {
  CLI::App* topic = parent.add_subcommand("topic", "Create, list, describe, alter and delete topics");
  topic->require_subcommand(1);

  auto create_args = std::make_shared<CreateArgs>();
  CLI::App* create = topic->add_subcommand("create", "Create a topic");
  create->add_option("name", create_args->name, "Topic name")->required();
  create
      ->add_option("--partitions,-p", create_args->partitions,
                   "Partition count (default: broker's num.partitions)")
      ->check(CLI::Range(1, 1000000));
  create
      ->add_option("--replication-factor,-r", create_args->replication_factor,
                   "Replication factor (default: broker's default.replication.factor)")
      ->check(CLI::Range(1, 32767));
  create->add_option("--config,-c", create_args->configs, "Topic config override key=value (repeatable)")
      ->allow_extra_args(false);
  create->add_flag("--if-not-exists", create_args->if_not_exists, "Succeed if the topic already exists");
  create->callback([&ctx, action, create_args] {
    *action = [&ctx, create_args] { return run_create(ctx, *create_args); };
  });

  auto exclude_internal = std::make_shared<bool>(false);
  CLI::App* list = topic->add_subcommand("list", "List topic names");
  list->add_flag("--exclude-internal", *exclude_internal, "Hide internal topics");
  list->callback([&ctx, action, exclude_internal] {
    *action = [&ctx, exclude_internal] { return run_list(ctx, *exclude_internal); };
  });

  struct DescribeArgs {
    std::vector<std::string> names;
    bool all_configs = false;
    bool exclude_internal = false;
    std::string admin_url;
  };
  auto describe_args = std::make_shared<DescribeArgs>();
  CLI::App* describe =
      topic->add_subcommand("describe", "Describe topics (all topics when no name is given)");
  describe->add_option("names", describe_args->names, "Topic names");
  describe->add_flag("--all-configs", describe_args->all_configs, "Show every config, not only overrides");
  describe->add_flag("--exclude-internal", describe_args->exclude_internal, "Hide internal topics");
  describe->add_option(
      "--admin-url", describe_args->admin_url,
      "Operator endpoint for compacted topics' dirty ratio, last compaction and bytes reclaimed "
      "(default: the broker's admin.http.listener)");
  describe->callback([&ctx, action, describe_args] {
    *action = [&ctx, describe_args] {
      return run_describe(ctx, describe_args->names, describe_args->all_configs,
                          describe_args->exclude_internal, describe_args->admin_url);
    };
  });

  struct DeleteArgs {
    std::vector<std::string> names;
    bool if_exists = false;
  };
  auto delete_args = std::make_shared<DeleteArgs>();
  CLI::App* del = topic->add_subcommand("delete", "Delete topics");
  del->add_option("names", delete_args->names, "Topic names")->required();
  del->add_flag("--if-exists", delete_args->if_exists, "Succeed for topics that do not exist");
  del->callback([&ctx, action, delete_args] {
    *action = [&ctx, delete_args] { return run_delete(ctx, delete_args->names, delete_args->if_exists); };
  });

  struct AddPartitionsArgs {
    std::string name;
    int32_t count = 0;
  };
  auto add_args = std::make_shared<AddPartitionsArgs>();
  CLI::App* add = topic->add_subcommand("add-partitions", "Increase a topic's partition count");
  add->add_option("name", add_args->name, "Topic name")->required();
  add->add_option("--partitions,-p", add_args->count, "New total partition count")
      ->required()
      ->check(CLI::Range(1, 1000000));
  add->callback([&ctx, action, add_args] {
    *action = [&ctx, add_args] { return run_add_partitions(ctx, add_args->name, add_args->count); };
  });

  struct AlterArgs {
    std::string name;
    std::vector<std::string> set;
    std::vector<std::string> remove;
  };
  auto alter_args = std::make_shared<AlterArgs>();
  CLI::App* alter = topic->add_subcommand("alter-config", "Set or delete topic config overrides");
  alter->add_option("name", alter_args->name, "Topic name")->required();
  alter->add_option("--set,-s", alter_args->set, "key=value to set (repeatable)")->allow_extra_args(false);
  alter->add_option("--delete,-d", alter_args->remove, "Config key to reset to its default (repeatable)")
      ->allow_extra_args(false);
  alter->callback([&ctx, action, alter_args] {
    *action = [&ctx, alter_args] {
      return run_alter_config(ctx, alter_args->name, alter_args->set, alter_args->remove);
    };
  });
}

}  // namespace carelog::cli
