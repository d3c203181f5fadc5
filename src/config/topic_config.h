// Topic-level configs: definitions, validation (CreateTopics/AlterConfigs)
// and resolution against the broker config (DescribeConfigs on TOPIC).
//
// Supported keys, with their broker-level synonyms (highest precedence
// first): cleanup.policy <- log.cleanup.policy; compression.type <-
// compression.type; max.message.bytes <- message.max.bytes;
// message.timestamp.type <- log.message.timestamp.type;
// message.timestamp.difference.max.ms <- log.message.timestamp.difference.max.ms;
// min.insync.replicas <- min.insync.replicas; retention.bytes <-
// log.retention.bytes; retention.ms <- log.retention.ms,
// log.retention.minutes (x60000), log.retention.hours (x3600000);
// segment.bytes <- log.segment.bytes; segment.ms <- log.roll.ms,
// log.roll.hours (x3600000); unclean.leader.election.enable <- same name.
//
// cleanup.policy=compact is rejected (INVALID_CONFIG) until compaction exists.
// Pure functions; thread-safe.
#pragma once

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
};

const std::vector<TopicConfigDef>& topic_config_defs();
// The carelog.* catalog keys (catalog_configs.cpp), part of topic_config_defs().
std::vector<TopicConfigDef> catalog_topic_config_defs();
const TopicConfigDef* find_topic_config_def(std::string_view name);

// Code 40 (INVALID_CONFIG) for an unknown key or an invalid value; the
// message names the key.
Status validate_topic_config(std::string_view key, std::string_view value);
// Validates every entry; returns the normalised map.
Result<ConfigMap> normalize_topic_configs(const ConfigMap& configs);

// DescribeConfigs for a TOPIC resource: one entry per supported key, sorted
// by name. `overrides` are the topic's stored configs (DYNAMIC_TOPIC_CONFIG);
// otherwise the value comes from the first broker synonym that has one
// (DYNAMIC_BROKER_CONFIG from broker.dynamic_settings, STATIC_BROKER_CONFIG,
// DEFAULT_CONFIG), converted to the topic key's unit.
std::vector<ResolvedConfig> resolve_topic_config(const BrokerConfig& broker, const ConfigMap& overrides);

// The effective values the data path needs, from the same resolution.
struct TopicSettings {
  int64_t retention_ms = 604800000;  // -1 = unlimited
  int64_t retention_bytes = -1;      // -1 = unlimited
  int32_t max_message_bytes = 1048588;
  bool log_append_time = false;
  int64_t message_timestamp_difference_max_ms = INT64_MAX;
  std::string compression_type = "producer";
};
TopicSettings effective_topic_settings(const BrokerConfig& broker, const ConfigMap& overrides);

}  // namespace carelog::config
