// Broker configuration: the registry of accepted keys, loading from a
// server.properties file plus `--override key=value` arguments, and the
// DescribeConfigs view of the BROKER resource.
//
// Key names are Kafka's wherever Kafka has one. Carelog-only keys:
//   data.dir, wal.dir, wal.capacity.bytes, wal.segment.bytes, wal.max.wait.ms,
//   cache.log.bytes, cache.block.bytes, metadata.store, object.store, log.level.
//
// Aliases and precedence:
//   * broker.id is an alias of node.id; setting both to different values fails.
//   * log.dirs / log.dir (Kafka's data directories) are accepted as aliases of
//     data.dir when data.dir is not set: log.dirs wins over log.dir, and it
//     must name exactly one directory (Carelog has a single data directory).
//   * retention: log.retention.ms, else log.retention.minutes, else
//     log.retention.hours (168); a negative result means unlimited (-1).
//   * segment roll: log.roll.ms, else log.roll.hours (168).
//   * --override beats the file; a repeated key in the file: last wins.
//
// Derived defaults: advertised.listeners = listeners (an empty host becomes
// this machine's hostname; 0.0.0.0 is refused, as in Kafka), wal.dir =
// <data.dir>/wal, metadata.store = sqlite://<abs data.dir>/metadata.db,
// object.store = file://<abs data.dir>/objects, num.io.threads and
// num.network.threads = number of cores.
//
// Listeners: NAME://host:port[,...]; NAME's security protocol comes from
// listener.security.protocol.map (Kafka's default map): PLAINTEXT, SSL,
// SASL_PLAINTEXT or SASL_SSL (the ssl.* and sasl.* keys, docs/security.md). Listeners named in
// controller.listener.names (KRaft controller listeners) are skipped with a
// warning, so KRaft-style files can be reused.
//
// Accepted but ignored (logged warning, value unused) because they configure
// machinery Carelog does not have: num.recovery.threads.per.data.dir,
// process.roles, inter.broker.listener.name, num.replica.fetchers,
// offsets.topic.replication.factor, offsets.topic.num.partitions,
// transaction.state.log.replication.factor, transaction.state.log.min.isr,
// transaction.state.log.num.partitions,
// socket.send.buffer.bytes, socket.receive.buffer.bytes,
// log.message.timestamp.difference.max.ms (removed in Kafka 4.0), log.cleaner.enable,
// auto.leader.rebalance.enable,
// group.coordinator.rebalance.protocols, and every key starting with
// zookeeper., controller. (except controller.listener.names),
// log.cleaner., confluent.metrics. or metric.reporters.
// Broker keys that are topic-config synonyms (every one Kafka 4.4 has: log.segment.bytes, log.roll.*,
// log.cleaner.*.ms, log.flush.*, log.index.*, log.cleanup.policy, min.insync.replicas,
// unclean.leader.election.enable, compression.type, log.message.timestamp.before/after.max.ms ...) are
// registered so DescribeConfigs reports them; Carelog's storage does not use segments.
//
// Threading: BrokerConfig is a plain value; build it once at start-up and
// share it read-only (or rebuild with with_dynamic_configs).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config_def.h"

namespace carelog::config {

enum class SecurityProtocol : int16_t { kPlaintext = 0, kSsl = 1, kSaslPlaintext = 2, kSaslSsl = 3 };

struct Listener {
  std::string name;  // e.g. "PLAINTEXT"
  std::string host;  // empty = all interfaces (listeners only)
  uint16_t port = 0;
  SecurityProtocol protocol = SecurityProtocol::kPlaintext;
};

struct BrokerConfig {
  std::vector<Listener> listeners;
  std::vector<Listener> advertised_listeners;
  int32_t node_id = 1;
  int32_t num_partitions = 1;
  int16_t default_replication_factor = 1;
  bool auto_create_topics_enable = true;
  int32_t message_max_bytes = 1048588;
  int64_t log_retention_ms = 604800000;  // -1 = unlimited
  int64_t log_retention_bytes = -1;
  bool log_append_time = false;  // log.message.timestamp.type == LogAppendTime
  int32_t offsets_retention_minutes = 10080;
  int32_t group_initial_rebalance_delay_ms = 3000;
  int32_t group_min_session_timeout_ms = 6000;
  int32_t group_max_session_timeout_ms = 1800000;
  int32_t socket_request_max_bytes = 104857600;
  int32_t num_io_threads = 1;
  int32_t num_network_threads = 1;
  bool delete_topic_enable = true;
  std::string data_dir;  // absolute, normalised
  std::string wal_dir;   // absolute, normalised
  int64_t wal_capacity_bytes = 2LL << 30;
  int64_t wal_segment_bytes = 64LL << 20;
  int64_t wal_max_wait_ms = 5000;
  int64_t cache_log_bytes = 256LL << 20;
  int64_t cache_block_bytes = 256LL << 20;
  int64_t upload_object_bytes = 16LL << 20;
  int64_t upload_interval_ms = 2000;
  int64_t compaction_interval_ms = 60000;
  int64_t compaction_small_object_bytes = 4LL << 20;
  int64_t compaction_target_object_bytes = 64LL << 20;
  int64_t compaction_partition_split_bytes = 8LL << 20;
  int64_t producer_id_expiration_ms = 86400000;
  int64_t object_delete_delay_ms = 60000;
  int64_t object_orphan_min_age_ms = 600000;
  int64_t log_retention_check_interval_ms = 300000;
  std::string metadata_store;
  std::string object_store;
  // s3.* (used for object.store=s3://...; see docs/s3.md). Empty strings
  // mean "use the AWS default" (environment, credentials file).
  std::string s3_endpoint;
  std::string s3_region;
  bool s3_path_style = false;
  std::string s3_access_key_id;      // secret: never log
  std::string s3_secret_access_key;  // secret: never log
  std::string s3_ca_file;
  int32_t s3_max_connections = 16;
  int64_t s3_multipart_threshold_bytes = 16LL << 20;
  int64_t s3_multipart_part_bytes = 8LL << 20;
  int32_t s3_max_attempts = 6;
  int32_t s3_retry_backoff_ms = 100;
  int32_t s3_retry_backoff_max_ms = 5000;
  std::string log_level = "info";

  // Every registered key -> resolved value (normalised text; absent when the
  // value is null, e.g. log.retention.ms when unset).
  ConfigMap raw;
  // Keys set in the file or by --override (normalised): STATIC_BROKER_CONFIG.
  ConfigMap static_settings;
  // Dynamic (stored) broker configs applied by with_dynamic_configs.
  ConfigMap dynamic_settings;
};

// All registered broker keys, in documentation order.
const std::vector<ConfigDef>& broker_config_defs();
const ConfigDef* find_broker_config_def(std::string_view name);

// True for keys accepted for compatibility and ignored (see header comment).
bool is_ignored_broker_key(std::string_view name);

// Loads the broker configuration. `overrides` are "key=value" strings as
// given to --override. Errors (code 40) name the key and, for file entries,
// "<file>:<line>".
Result<BrokerConfig> load_broker_config(std::optional<std::string> file,
                                        const std::vector<std::string>& overrides);

// Validates a dynamic broker config update (IncrementalAlterConfigs on
// BROKER): unknown key, a key that is not dynamically updatable, or an
// invalid value -> code 40.
Status validate_dynamic_broker_config(std::string_view key, std::string_view value);

// Returns `base` with dynamic broker configs (from the metadata store)
// layered over its static settings; the typed fields follow.
Result<BrokerConfig> with_dynamic_configs(const BrokerConfig& base, const ConfigMap& dynamic);

// DescribeConfigs for the BROKER resource: one entry per registered key,
// sorted by name. Source: DYNAMIC_BROKER_CONFIG (from dynamic_settings),
// STATIC_BROKER_CONFIG (file/--override), else DEFAULT_CONFIG.
std::vector<ResolvedConfig> describe_broker_config(const BrokerConfig& config);

// cluster.enable, or by default: on for a postgresql:// metadata.store.
bool cluster_enabled(const BrokerConfig& config);
// Whether the broker keeps its WAL in object storage: wal.type=object, or
// cluster mode unless wal.type=file is set explicitly (docs/cluster.md).
bool object_wal_enabled(const BrokerConfig& config);

}  // namespace carelog::config
