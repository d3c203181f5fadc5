// Topic-level configs: definitions, validation (CreateTopics/AlterConfigs)
// and resolution against the broker config (DescribeConfigs on TOPIC).
//
// The table (topic_config.cpp) has two sections:
//   * every topic config Apache Kafka 4.4 defines, with Kafka's type,
//     default, validation and broker-level synonyms (highest precedence
//     first, e.g. retention.ms <- log.retention.ms, log.retention.minutes
//     (x60000), log.retention.hours (x3600000)). Keys that mean nothing in a
//     diskless broker carry a `no_effect` reason: they are validated, stored
//     and reported, and change nothing (docs/compatibility.md lists them).
//   * Carelog's own carelog.* keys.
//
// Refused values (INVALID_CONFIG with a message saying why):
// remote.storage.enable=true (as a Kafka broker without tiered storage).
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "config/broker_config.h"
#include "config/config_def.h"

namespace carelog::config {

struct BrokerSynonym {
  std::string_view name;
  int64_t multiplier = 1;  // broker value * multiplier = topic value (negative -> -1)
};

struct TopicConfigDef {
  ConfigDef def;
  std::vector<BrokerSynonym> synonyms;
  // Empty when Carelog applies the key; otherwise why it has no effect.
  std::string_view no_effect;
};

// Kafka's keys first (sorted by name), then the carelog.* keys.
const std::vector<TopicConfigDef>& topic_config_defs();
// The carelog.* catalog keys (catalog_configs.cpp), part of topic_config_defs().
std::vector<TopicConfigDef> catalog_topic_config_defs();
const TopicConfigDef* find_topic_config_def(std::string_view name);

// Code 40 (INVALID_CONFIG) for an unknown key or an invalid value; the
// message names the key.
Status validate_topic_config(std::string_view key, std::string_view value);
// Validates a whole set as Kafka does: unknown names first, then each value,
// then rules across keys (min.compaction.lag.ms <= max.compaction.lag.ms).
// Returns the normalised map.
Result<ConfigMap> normalize_topic_configs(const ConfigMap& configs);

// DescribeConfigs for a TOPIC resource: one entry per supported key, sorted
// by name. `overrides` are the topic's stored configs (DYNAMIC_TOPIC_CONFIG);
// otherwise the value comes from the first broker synonym that has one
// (DYNAMIC_BROKER_CONFIG from broker.dynamic_settings, STATIC_BROKER_CONFIG,
// DEFAULT_CONFIG), converted to the topic key's unit. Stored overrides of
// keys no longer defined are skipped.
std::vector<ResolvedConfig> resolve_topic_config(const BrokerConfig& broker, const ConfigMap& overrides);

// The effective values the data path needs, from the same resolution.
struct TopicSettings {
  int64_t retention_ms = 604800000;  // -1 = unlimited
  int64_t retention_bytes = -1;      // negative = unlimited
  int32_t max_message_bytes = 1048588;
  bool log_append_time = false;
  std::string compression_type = "producer";
  // cleanup.policy contains compact, and the cleaner's settings
  // (docs/compaction.md).
  bool compact = false;
  int64_t min_compaction_lag_ms = 0;
  int64_t max_compaction_lag_ms = INT64_MAX;
  int64_t delete_retention_ms = 86400000;
  double min_cleanable_dirty_ratio = 0.5;
};
TopicSettings effective_topic_settings(const BrokerConfig& broker, const ConfigMap& overrides);

}  // namespace carelog::config
