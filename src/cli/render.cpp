#include "cli/render.h"

#include <fmt/core.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "cli/api_names.h"
#include "protocol/error_codes.h"

namespace carelog::cli {

namespace {

using nlohmann::json;

// 2026-12-03T17:40:05Z
std::string utc_time_ms(int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string error_name_of(int16_t code) {
  return std::string(protocol::error_name(static_cast<protocol::ErrorCode>(code)));
}

json error_json(int16_t code) { return code == 0 ? json(nullptr) : json(error_name_of(code)); }

json optional_json(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

std::string dump(const json& j) { return j.dump(2) + "\n"; }

std::string node_or_none(int32_t id) { return id < 0 ? "none" : std::to_string(id); }

std::string config_value_text(const ConfigView& c) {
  if (c.sensitive) return "<sensitive>";
  return c.value ? *c.value : "null";
}

std::string configs_text(const TopicView& t, bool all_configs) {
  std::string out;
  for (const auto& c : t.configs) {
    if (!all_configs && !c.is_override()) continue;
    if (!out.empty()) out += ",";
    out += c.name + "=" + config_value_text(c);
  }
  return out;
}

}  // namespace

std::string_view config_source_name(int8_t source) {
  switch (static_cast<ConfigSource>(source)) {
    case ConfigSource::kDynamicTopic:
      return "DYNAMIC_TOPIC_CONFIG";
    case ConfigSource::kDynamicBroker:
      return "DYNAMIC_BROKER_CONFIG";
    case ConfigSource::kDynamicDefaultBroker:
      return "DYNAMIC_DEFAULT_BROKER_CONFIG";
    case ConfigSource::kStaticBroker:
      return "STATIC_BROKER_CONFIG";
    case ConfigSource::kDefault:
      return "DEFAULT_CONFIG";
    case ConfigSource::kDynamicBrokerLogger:
      return "DYNAMIC_BROKER_LOGGER_CONFIG";
    default:
      return "UNKNOWN";
  }
}

int TopicView::replication_factor() const {
  return partitions.empty() ? 0 : static_cast<int>(partitions.front().replicas.size());
}

std::string format_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(headers.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  };
  measure(headers);
  for (const auto& r : rows) measure(r);
  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < width.size(); ++i) {
      std::string cell = i < row.size() ? row[i] : "";
      line += cell;
      if (i + 1 < width.size()) line += std::string(width[i] - cell.size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  emit(headers);
  for (const auto& r : rows) emit(r);
  return out;
}

std::string join_ints(const std::vector<int32_t>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(v[i]);
  }
  return out;
}

std::string describe_error(int16_t code, const std::optional<std::string>& message) {
  std::string out = error_name_of(code);
  if (message && !message->empty()) out += ": " + *message;
  return out;
}

std::string render_topic_list(const std::vector<std::string>& topics, OutputFormat fmt) {
  if (fmt == OutputFormat::kJson) return dump(json(topics));
  std::string out;
  for (const auto& t : topics) out += t + "\n";
  return out;
}

std::string render_topics(const std::vector<TopicView>& topics, bool all_configs, OutputFormat fmt) {
  if (fmt == OutputFormat::kJson) {
    json arr = json::array();
    for (const auto& t : topics) {
      json parts = json::array();
      for (const auto& p : t.partitions) {
        parts.push_back(
            {{"partition", p.partition},
             {"error", error_json(p.error_code)},
             {"leader", p.leader},
             {"leader_epoch", p.leader_epoch},
             {"replicas", p.replicas},
             {"isr", p.isr},
             {"offline_replicas", p.offline},
             {"compaction", p.compaction ? json{{"dirty_ratio", p.compaction->dirty_ratio},
                                                {"last_compaction_ms", p.compaction->last_compaction_ms},
                                                {"bytes_reclaimed", p.compaction->bytes_reclaimed},
                                                {"passes", p.compaction->passes}}
                                         : json(nullptr)}});
      }
      json configs = json::array();
      for (const auto& c : t.configs) {
        if (!all_configs && !c.is_override()) continue;
        configs.push_back({{"name", c.name},
                           {"value", c.sensitive ? json(nullptr) : optional_json(c.value)},
                           {"source", config_source_name(c.source)},
                           {"read_only", c.read_only},
                           {"sensitive", c.sensitive}});
      }
      arr.push_back({{"name", t.name},
                     {"topic_id", t.topic_id},
                     {"internal", t.internal},
                     {"partition_count", t.partitions.size()},
                     {"replication_factor", t.replication_factor()},
                     {"configs", configs},
                     {"partitions", parts}});
    }
    return dump(arr);
  }
  std::string out;
  for (const auto& t : topics) {
    out += fmt::format("Topic: {}\tTopicId: {}\tPartitionCount: {}\tReplicationFactor: {}\tConfigs: {}\n",
                       t.name, t.topic_id.empty() ? "none" : t.topic_id, t.partitions.size(),
                       t.replication_factor(), configs_text(t, all_configs));
    for (const auto& p : t.partitions) {
      out += fmt::format("\tTopic: {}\tPartition: {}\tLeader: {}\tReplicas: {}\tIsr: {}", t.name, p.partition,
                         node_or_none(p.leader), join_ints(p.replicas), join_ints(p.isr));
      if (!p.offline.empty()) out += "\tOffline: " + join_ints(p.offline);
      if (p.compaction) {
        out += fmt::format(
            "\tDirtyRatio: {:.2f}\tLastCompaction: {}\tBytesReclaimed: {}", p.compaction->dirty_ratio,
            p.compaction->last_compaction_ms < 0 ? std::string("never")
                                                 : utc_time_ms(p.compaction->last_compaction_ms),
            p.compaction->bytes_reclaimed);
      }
      if (p.error_code != 0) out += "\tError: " + error_name_of(p.error_code);
      out += "\n";
    }
  }
  return out;
}

std::string render_cluster(const ClusterView& cluster, const std::vector<ApiVersionView>* apis,
                           OutputFormat fmt) {
  if (fmt == OutputFormat::kJson) {
    json brokers = json::array();
    for (const auto& b : cluster.brokers) {
      brokers.push_back({{"id", b.id}, {"host", b.host}, {"port", b.port}, {"rack", optional_json(b.rack)}});
    }
    json j = {
        {"cluster_id", cluster.cluster_id}, {"controller_id", cluster.controller_id}, {"brokers", brokers}};
    if (apis != nullptr) {
      json list = json::array();
      for (const auto& a : *apis) {
        std::string_view name = kafka_api_name(a.broker.api_key);
        list.push_back({{"api_key", a.broker.api_key},
                        {"name", name.empty() ? json(nullptr) : json(std::string(name))},
                        {"min_version", a.broker.min_version},
                        {"max_version", a.broker.max_version},
                        {"used_version", a.used < 0 ? json(nullptr) : json(a.used)}});
      }
      j["api_versions"] = list;
    }
    return dump(j);
  }
  std::string out = fmt::format("Cluster ID: {}\nController: {}\n\nBROKERS\n", cluster.cluster_id,
                                node_or_none(cluster.controller_id));
  std::vector<std::vector<std::string>> rows;
  for (const auto& b : cluster.brokers) {
    std::string id = std::to_string(b.id) + (b.id == cluster.controller_id ? "*" : "");
    rows.push_back({id, b.host, std::to_string(b.port), b.rack.value_or("-")});
  }
  out += format_table({"ID", "HOST", "PORT", "RACK"}, rows);
  if (apis != nullptr) {
    rows.clear();
    for (const auto& a : *apis) {
      std::string_view name = kafka_api_name(a.broker.api_key);
      rows.push_back({std::to_string(a.broker.api_key), name.empty() ? "-" : std::string(name),
                      std::to_string(a.broker.min_version), std::to_string(a.broker.max_version),
                      a.used < 0 ? "-" : std::to_string(a.used)});
    }
    out += "\nAPI VERSIONS\n" + format_table({"KEY", "NAME", "MIN", "MAX", "USED"}, rows);
  }
  return out;
}

std::string render_offsets(const std::string& topic, const std::vector<PartitionOffsetsView>& parts,
                           OutputFormat fmt) {
  if (fmt == OutputFormat::kJson) {
    json arr = json::array();
    for (const auto& p : parts) {
      arr.push_back({{"partition", p.partition},
                     {"error", error_json(p.error_code)},
                     {"earliest", p.earliest},
                     {"latest", p.latest}});
    }
    return dump(json{{"topic", topic}, {"partitions", arr}});
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : parts) {
    if (p.error_code != 0) {
      rows.push_back({topic, std::to_string(p.partition), "-", "-", error_name_of(p.error_code)});
    } else {
      rows.push_back(
          {topic, std::to_string(p.partition), std::to_string(p.earliest), std::to_string(p.latest), ""});
    }
  }
  return format_table({"TOPIC", "PARTITION", "EARLIEST", "LATEST", "ERROR"}, rows);
}

std::string render_operations(std::string_view done, const std::vector<OperationView>& ops,
                              OutputFormat fmt) {
  if (fmt == OutputFormat::kJson) {
    json arr = json::array();
    for (const auto& op : ops) {
      arr.push_back({{"topic", op.topic},
                     {"ok", op.ok()},
                     {"error", error_json(op.error_code)},
                     {"message", optional_json(op.error_message)},
                     {"ignored", op.ignored}});
    }
    return dump(arr);
  }
  std::string out;
  for (const auto& op : ops) {
    if (op.error_code == 0) out += fmt::format("{} {}.\n", done, op.topic);
  }
  return out;
}

}  // namespace carelog::cli
