// Output of the `carelog` CLI: plain views of what the broker returned, and
// their text (modelled on kafka-topics.sh / rpk) and JSON renderings.
//
// Everything here is pure (no I/O), so the formats are unit-tested directly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/kafka_client.h"

namespace carelog::cli {

enum class OutputFormat { kText, kJson };

// A compacted partition's cleaner state, from the operator endpoint's
// /metrics (carelog_log_compaction_partition_*).
struct CompactionView {
  double dirty_ratio = 0;
  int64_t last_compaction_ms = -1;  // -1: no pass since the broker started
  uint64_t bytes_reclaimed = 0;
  uint64_t passes = 0;
};

struct PartitionView {
  int32_t partition = 0;
  int16_t error_code = 0;
  int32_t leader = -1;
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline;
  std::optional<CompactionView> compaction;  // compacted topics, when the operator endpoint answered
};

// Kafka's DescribeConfigs config_source values.
enum class ConfigSource : int8_t {
  kUnknown = 0,
  kDynamicTopic = 1,
  kDynamicBroker = 2,
  kDynamicDefaultBroker = 3,
  kStaticBroker = 4,
  kDefault = 5,
  kDynamicBrokerLogger = 6,
};
std::string_view config_source_name(int8_t source);

struct ConfigView {
  std::string name;
  std::optional<std::string> value;
  int8_t source = 0;
  bool read_only = false;
  bool sensitive = false;
  // Whether it differs from the default (anything but DEFAULT_CONFIG).
  bool is_override() const { return source != static_cast<int8_t>(ConfigSource::kDefault); }
};

struct TopicView {
  std::string name;
  std::string topic_id;  // base64; empty when the broker did not send one
  bool internal = false;
  std::vector<PartitionView> partitions;  // sorted by partition
  std::vector<ConfigView> configs;        // sorted by name
  int replication_factor() const;
};

struct BrokerView {
  int32_t id = 0;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
};

struct ClusterView {
  std::string cluster_id;
  int32_t controller_id = -1;
  std::vector<BrokerView> brokers;  // sorted by id
};

struct ApiVersionView {
  ApiVersionRange broker;
  int16_t used = -1;  // version the CLI would use, -1 if none
};

struct PartitionOffsetsView {
  int32_t partition = 0;
  int16_t error_code = 0;
  int64_t earliest = -1;
  int64_t latest = -1;
};

// Outcome of one topic in a create/delete/alter request.
struct OperationView {
  std::string topic;
  int16_t error_code = 0;
  std::optional<std::string> error_message;
  bool ignored = false;  // an error the user asked to ignore (--if-exists ...)
  bool ok() const { return error_code == 0 || ignored; }
};

// Columns separated by at least two spaces, left-aligned, one line per row.
std::string format_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows);
// "1,2,3" (kafka-topics style node lists).
std::string join_ints(const std::vector<int32_t>& v);
// "NAME: message" (or just NAME) for an error code.
std::string describe_error(int16_t code, const std::optional<std::string>& message);

std::string render_topic_list(const std::vector<std::string>& topics, OutputFormat fmt);
std::string render_topics(const std::vector<TopicView>& topics, bool all_configs, OutputFormat fmt);
std::string render_cluster(const ClusterView& cluster, const std::vector<ApiVersionView>* apis,
                           OutputFormat fmt);
std::string render_offsets(const std::string& topic, const std::vector<PartitionOffsetsView>& parts,
                           OutputFormat fmt);
// `done` is the past-tense text verb ("Created topic").
std::string render_operations(std::string_view done, const std::vector<OperationView>& ops, OutputFormat fmt);

}  // namespace carelog::cli
