// `carelog group list|describe|reset-offsets|delete`: consumer groups, in the
// spirit of kafka-consumer-groups.sh. `describe` shows members and, per
// partition with a committed offset, the log end offset and the lag.
// `reset-offsets` is a dry run unless --execute is given (like Kafka's tool),
// and only works on an Empty group (the broker refuses otherwise).
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/admin.h"
#include "cli/commands.h"
#include "cli/group_offsets.h"
#include "protocol/error_codes.h"
#include "protocol/messages/delete_groups.h"
#include "protocol/messages/describe_groups.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/list_groups.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/offset_fetch.h"

namespace carelog::cli {

using namespace carelog::protocol;

// The group's coordinator connection (FindCoordinator, key type 0).
Result<KafkaClient*> group_coordinator(CommandContext& ctx, const std::string& group) {
  auto client = ctx.client();
  if (!client.ok()) return client.take_error();
  FindCoordinatorRequest req;
  auto v = (*client)->version_for(FindCoordinatorRequest::kApiKey);
  if (!v.ok()) return v.take_error();
  req.key = group;
  req.key_type = 0;
  req.coordinator_keys = {group};
  auto resp = (*client)->send<FindCoordinatorResponse>(req, *v);
  if (!resp.ok()) return resp.take_error();
  std::string host = resp->host;
  int32_t port = resp->port;
  int16_t err = resp->error_code;
  if (*v >= 4 && !resp->coordinators.empty()) {
    host = resp->coordinators[0].host;
    port = resp->coordinators[0].port;
    err = resp->coordinators[0].error_code;
  }
  if (err != 0) return make_error(fmt::format("finding the coordinator of group '{}'", group), err);
  std::string addr = host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                                         : fmt::format("{}:{}", host, port);
  if (addr == ctx.bootstrap_address()) return *client;
  return ctx.client_for(addr);
}

// Committed offsets of `group`; all of them when `topics` is empty.
Result<std::vector<CommittedView>> fetch_committed(KafkaClient& c, const std::string& group) {
  auto v = c.version_for(OffsetFetchRequest::kApiKey);
  if (!v.ok()) return v.take_error();
  OffsetFetchRequest req;
  std::vector<CommittedView> out;
  if (*v >= 8) {
    auto& g = req.groups.emplace_back();
    g.group_id = group;
    auto resp = c.send<OffsetFetchResponse>(req, *v);
    if (!resp.ok()) return resp.take_error();
    for (const auto& rg : resp->groups) {
      if (rg.error_code != 0) return make_error(fmt::format("group '{}'", group), rg.error_code);
      for (const auto& t : rg.topics)
        for (const auto& p : t.partitions)
          out.push_back({t.name, p.partition_index, p.committed_offset, p.error_code});
    }
  } else {
    req.group_id = group;
    req.topics.reset();  // null: every committed offset (v2+)
    auto resp = c.send<OffsetFetchResponse>(req, *v);
    if (!resp.ok()) return resp.take_error();
    if (resp->error_code != 0) return make_error(fmt::format("group '{}'", group), resp->error_code);
    for (const auto& t : resp->topics)
      for (const auto& p : t.partitions)
        out.push_back({t.name, p.partition_index, p.committed_offset, p.error_code});
  }
  return out;
}

namespace {

using json = nlohmann::json;

// Consumer-protocol assignment: int16 version, [topic, [partition]], user data.
std::map<std::string, std::vector<int32_t>> parse_assignment(const SharedBytes& b) {
  std::map<std::string, std::vector<int32_t>> out;
  const uint8_t* p = b.data();
  size_t n = b.size(), pos = 0;
  auto i16 = [&](int32_t* v) {
    if (pos + 2 > n) return false;
    *v = static_cast<int16_t>((p[pos] << 8) | p[pos + 1]);
    pos += 2;
    return true;
  };
  auto i32 = [&](int32_t* v) {
    if (pos + 4 > n) return false;
    *v = static_cast<int32_t>((uint32_t(p[pos]) << 24) | (uint32_t(p[pos + 1]) << 16) |
                              (uint32_t(p[pos + 2]) << 8) | uint32_t(p[pos + 3]));
    pos += 4;
    return true;
  };
  int32_t version = 0, topics = 0;
  if (!i16(&version) || !i32(&topics) || topics < 0) return {};
  for (int32_t t = 0; t < topics; ++t) {
    int32_t len = 0, count = 0;
    if (!i16(&len) || len < 0 || pos + static_cast<size_t>(len) > n) return {};
    std::string name(reinterpret_cast<const char*>(p + pos), static_cast<size_t>(len));
    pos += static_cast<size_t>(len);
    if (!i32(&count) || count < 0) return {};
    for (int32_t i = 0; i < count; ++i) {
      int32_t part = 0;
      if (!i32(&part)) return {};
      out[name].push_back(part);
    }
  }
  return out;
}

int run_list(CommandContext& ctx) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  ListGroupsRequest req;
  auto resp = (*client)->send<ListGroupsResponse>(req);
  if (!resp.ok()) return ctx.fail(resp.error());
  if (resp->error_code != 0) return ctx.fail(make_error("ListGroups failed", resp->error_code));
  auto groups = resp->groups;
  std::sort(groups.begin(), groups.end(),
            [](const auto& a, const auto& b) { return a.group_id < b.group_id; });
  if (ctx.options.output == OutputFormat::kJson) {
    json arr = json::array();
    for (const auto& g : groups)
      arr.push_back({{"group", g.group_id}, {"state", g.group_state}, {"protocol_type", g.protocol_type}});
    ctx.out << arr.dump(2) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : groups)
    rows.push_back({g.group_id, g.group_state.empty() ? "-" : g.group_state,
                    g.protocol_type.empty() ? "-" : g.protocol_type});
  if (rows.empty()) {
    ctx.out << "No groups.\n";
    return kExitOk;
  }
  ctx.out << format_table({"GROUP", "STATE", "PROTOCOL-TYPE"}, rows);
  return kExitOk;
}

int run_describe(CommandContext& ctx, const std::string& group) {
  auto c = group_coordinator(ctx, group);
  if (!c.ok()) return ctx.fail(c.error());
  DescribeGroupsRequest dreq;
  dreq.groups = {group};
  auto d = (*c)->send<DescribeGroupsResponse>(dreq);
  if (!d.ok()) return ctx.fail(d.error());
  if (d->groups.empty()) return ctx.fail(make_error("DescribeGroups returned no group"));
  const auto& g = d->groups.front();
  if (g.error_code != 0) return ctx.fail(make_error(fmt::format("group '{}'", group), g.error_code));
  auto committed = fetch_committed(**c, group);
  if (!committed.ok()) return ctx.fail(committed.error());

  // Owner of each assigned partition (consumer protocol only).
  std::map<std::pair<std::string, int32_t>, std::string> owner;
  if (g.protocol_type == "consumer")
    for (const auto& m : g.members)
      for (const auto& [topic, parts] : parse_assignment(m.member_assignment))
        for (int32_t p : parts) owner[{topic, p}] = m.member_id;
  std::set<std::string> topics;
  for (const auto& o : *committed) topics.insert(o.topic);
  for (const auto& [tp, m] : owner) topics.insert(tp.first);
  auto connect = [&ctx](const BrokerView& b) { return ctx.client_for(fmt::format("{}:{}", b.host, b.port)); };
  std::map<std::pair<std::string, int32_t>, int64_t> log_end;
  for (const auto& t : topics) {
    auto offs = list_offsets(**c, t, connect);
    if (!offs.ok()) continue;  // a deleted topic: no log end offset
    for (const auto& p : *offs)
      if (p.error_code == 0) log_end[{t, p.partition}] = p.latest;
  }
  std::map<std::pair<std::string, int32_t>, int64_t> current;
  for (const auto& o : *committed)
    if (o.error_code == 0 && o.offset >= 0) current[{o.topic, o.partition}] = o.offset;
  std::set<std::pair<std::string, int32_t>> keys;
  for (const auto& [k, v] : current) keys.insert(k);
  for (const auto& [k, v] : owner) keys.insert(k);

  json jparts = json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : keys) {
    auto cur = current.find(k);
    auto end = log_end.find(k);
    auto own = owner.find(k);
    std::optional<int64_t> lag;
    if (cur != current.end() && end != log_end.end()) lag = std::max<int64_t>(end->second - cur->second, 0);
    rows.push_back({k.first, std::to_string(k.second),
                    cur != current.end() ? std::to_string(cur->second) : "-",
                    end != log_end.end() ? std::to_string(end->second) : "-",
                    lag ? std::to_string(*lag) : "-", own != owner.end() ? own->second : "-"});
    json jp = {{"topic", k.first}, {"partition", k.second}};
    jp["current_offset"] = cur != current.end() ? json(cur->second) : json(nullptr);
    jp["log_end_offset"] = end != log_end.end() ? json(end->second) : json(nullptr);
    jp["lag"] = lag ? json(*lag) : json(nullptr);
    jp["consumer_id"] = own != owner.end() ? json(own->second) : json(nullptr);
    jparts.push_back(jp);
  }
  if (ctx.options.output == OutputFormat::kJson) {
    json members = json::array();
    for (const auto& m : g.members)
      members.push_back(
          {{"member_id", m.member_id},
           {"group_instance_id", m.group_instance_id ? json(*m.group_instance_id) : json(nullptr)},
           {"client_id", m.client_id},
           {"host", m.client_host}});
    json out = {{"group", g.group_id},         {"state", g.group_state}, {"protocol_type", g.protocol_type},
                {"protocol", g.protocol_data}, {"members", members},     {"partitions", jparts}};
    ctx.out << out.dump(2) << "\n";
    return kExitOk;
  }
  ctx.out << fmt::format("Group: {}  State: {}  Protocol: {}{}  Members: {}\n\n", g.group_id, g.group_state,
                         g.protocol_type.empty() ? "-" : g.protocol_type,
                         g.protocol_data.empty() ? "" : "/" + g.protocol_data, g.members.size());
  if (!g.members.empty()) {
    std::vector<std::vector<std::string>> mrows;
    for (const auto& m : g.members)
      mrows.push_back({m.member_id, m.group_instance_id.value_or("-"), m.client_id, m.client_host});
    ctx.out << format_table({"MEMBER-ID", "INSTANCE-ID", "CLIENT-ID", "HOST"}, mrows) << "\n";
  }
  ctx.out << format_table({"TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID"},
                          rows);
  return kExitOk;
}

struct ResetSpec {
  std::string group;
  std::string topic;
  bool to_earliest = false;
  bool to_latest = false;
  std::optional<int64_t> to_offset;
  bool execute = false;
};

int run_reset(CommandContext& ctx, const ResetSpec& spec) {
  const int modes = int(spec.to_earliest) + int(spec.to_latest) + int(spec.to_offset.has_value());
  if (modes != 1) return ctx.usage("give exactly one of --to-earliest, --to-latest, --to-offset");
  auto c = group_coordinator(ctx, spec.group);
  if (!c.ok()) return ctx.fail(c.error());
  auto connect = [&ctx](const BrokerView& b) { return ctx.client_for(fmt::format("{}:{}", b.host, b.port)); };
  auto offs = list_offsets(**c, spec.topic, connect);
  if (!offs.ok()) return ctx.fail(offs.error());
  OffsetCommitRequest req;
  req.group_id = spec.group;
  req.generation_id = -1;  // a "simple" commit: allowed while the group is Empty
  auto& t = req.topics.emplace_back();
  t.name = spec.topic;
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : *offs) {
    if (p.error_code != 0)
      return ctx.fail(make_error(fmt::format("partition {}", p.partition), p.error_code));
    int64_t target = spec.to_earliest ? p.earliest : spec.to_latest ? p.latest : *spec.to_offset;
    target = std::clamp(target, p.earliest, p.latest);  // as Kafka's tool does
    auto& part = t.partitions.emplace_back();
    part.partition_index = p.partition;
    part.committed_offset = target;
    part.committed_metadata = "";
    rows.push_back({spec.topic, std::to_string(p.partition), std::to_string(target)});
  }
  if (spec.execute) {
    auto resp = (*c)->send<OffsetCommitResponse>(req);
    if (!resp.ok()) return ctx.fail(resp.error());
    for (const auto& rt : resp->topics)
      for (const auto& rp : rt.partitions)
        if (rp.error_code != 0)
          return ctx.fail(
              make_error(fmt::format("committing {}-{}", rt.name, rp.partition_index), rp.error_code));
  }
  if (ctx.options.output == OutputFormat::kJson) {
    json arr = json::array();
    for (const auto& r : rows)
      arr.push_back({{"topic", r[0]}, {"partition", std::stoi(r[1])}, {"new_offset", std::stoll(r[2])}});
    ctx.out << json{{"group", spec.group}, {"executed", spec.execute}, {"partitions", arr}}.dump(2) << "\n";
    return kExitOk;
  }
  ctx.out << format_table({"TOPIC", "PARTITION", "NEW-OFFSET"}, rows);
  if (!spec.execute) ctx.out << "(dry run: add --execute to commit these offsets)\n";
  return kExitOk;
}

int run_delete(CommandContext& ctx, const std::vector<std::string>& groups) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  DeleteGroupsRequest req;
  req.groups_names = groups;
  auto resp = (*client)->send<DeleteGroupsResponse>(req);
  if (!resp.ok()) return ctx.fail(resp.error());
  std::vector<OperationView> ops;
  for (const auto& r : resp->results)
    ops.push_back(OperationView{r.group_id, r.error_code, std::nullopt, false});
  ctx.out << render_operations("Deleted group", ops, ctx.options.output);
  int rc = kExitOk;
  for (const auto& op : ops)
    if (!op.ok()) rc = ctx.fail(make_error(fmt::format("group '{}'", op.topic), op.error_code));
  return rc;
}

}  // namespace

void add_group_commands(CLI::App& parent, CommandContext& ctx, Action* action) {
  CLI::App* group =
      parent.add_subcommand("group", "Consumer groups: list, describe (with lag), reset offsets, delete");
  group->require_subcommand(1);

  group->add_subcommand("list", "Groups with their state and protocol type")->callback([&ctx, action] {
    *action = [&ctx] { return run_list(ctx); };
  });

  auto name = std::make_shared<std::string>();
  CLI::App* describe =
      group->add_subcommand("describe", "Members, committed offsets, log end offsets and lag");
  describe->add_option("group", *name, "Group id")->required();
  describe->callback([&ctx, action, name] { *action = [&ctx, name] { return run_describe(ctx, *name); }; });

  auto spec = std::make_shared<ResetSpec>();
  auto offset = std::make_shared<int64_t>(-1);
  CLI::App* reset = group->add_subcommand("reset-offsets", "Set a group's committed offsets for a topic");
  reset->add_option("group", spec->group, "Group id")->required();
  reset->add_option("--topic", spec->topic, "Topic whose partitions are reset")->required();
  reset->add_flag("--to-earliest", spec->to_earliest, "Reset to each partition's earliest offset");
  reset->add_flag("--to-latest", spec->to_latest, "Reset to each partition's log end offset");
  CLI::Option* to_offset =
      reset->add_option("--to-offset", *offset, "Reset to this offset (clamped to the log)");
  reset->add_flag("--execute", spec->execute, "Commit the offsets (default: only show them)");
  reset->callback([&ctx, action, spec, offset, to_offset] {
    if (to_offset->count() > 0) spec->to_offset = *offset;
    *action = [&ctx, spec] { return run_reset(ctx, *spec); };
  });

  auto names = std::make_shared<std::vector<std::string>>();
  CLI::App* del = group->add_subcommand("delete", "Delete empty groups and their committed offsets");
  del->add_option("groups", *names, "Group ids")->required();
  del->callback([&ctx, action, names] { *action = [&ctx, names] { return run_delete(ctx, *names); }; });
}

}  // namespace carelog::cli
